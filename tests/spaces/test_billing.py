"""Prices by tier, approvals, cancellation fees, ledger effects and outside renters' invoices."""

import datetime
from decimal import Decimal

import pytest

from invoicing.models import Invoice
from members.models import LedgerEntry
from spaces.errors import BookingError
from spaces.models import Booking
from spaces.services import leasing, lifecycle, pricing, rules
from tests.conftest import NOW
from tests.spaces.conftest import DAY, at, make_room


def charges(activity) -> list[str]:
    return [
        str(entry.amount)
        for entry in LedgerEntry.objects.filter(activity=activity, kind="booking_charge").order_by(
            "pk"
        )
    ]


def book(actor, room, start, end, **kwargs):
    return lifecycle.book_room(
        actor=actor, room=room, start=start, end=end, title="Workshop", now=NOW, **kwargs
    )


@pytest.mark.parametrize(
    ("hours", "expected"),
    [(1, "12.00"), (3, "36.00"), (4, "40.00"), (5, "60.00"), (6, "70.00"), (10, "70.00")],
)
def test_member_price_takes_the_cheapest_applicable_rate(room, hours, expected):
    quote = pricing.quote(room=room, tier="member", start=at(DAY, 8), end=at(DAY, 8 + hours))
    assert str(quote.price_excl_vat) == expected
    assert quote.vat_amount == Decimal("0.00")


def test_external_price_carries_21_percent_vat(room):
    quote = pricing.quote(room=room, tier="external", start=at(DAY, 10), end=at(DAY, 13))
    assert (str(quote.price_excl_vat), str(quote.vat_amount), str(quote.price_incl_vat)) == (
        "75.00",
        "15.75",
        "90.75",
    )


def test_resident_of_the_site_pays_the_resident_price(member, activity, site, room, space_manager):
    atelier = make_room(site, name="Atelier 3", kind="atelier", is_bookable=False)
    leasing.create_lease(
        actor=space_manager, room=atelier, activity=activity, starts_on=datetime.date(2026, 1, 1)
    )
    booking = book(member.user, room, at(DAY, 10), at(DAY, 12), activity=activity)
    assert booking.tier == "resident"
    assert str(booking.price_excl_vat) == "18.00"


def test_room_without_a_price_for_the_tier(member, activity, room):
    room.prices.filter(tier="member").delete()
    with pytest.raises(BookingError) as caught:
        book(member.user, room, at(DAY, 10), at(DAY, 12), activity=activity)
    assert caught.value.code == "no_price"
    assert not Booking.objects.exists()


def test_tentative_request_is_charged_when_approved(member, activity, site, space_manager):
    room = make_room(site, name="Event hall", requires_approval=True)
    booking = book(member.user, room, at(DAY, 10), at(DAY, 12), activity=activity)
    assert booking.state == "tentative"
    assert charges(activity) == []

    with pytest.raises(BookingError):
        lifecycle.approve_booking(actor=member.user, booking=booking, now=NOW)
    lifecycle.approve_booking(actor=space_manager, booking=booking, now=NOW)

    booking.refresh_from_db()
    assert booking.state == "confirmed"
    assert charges(activity) == ["-24.00"]
    with pytest.raises(BookingError) as caught:
        lifecycle.approve_booking(actor=space_manager, booking=booking, now=NOW)
    assert caught.value.code == "not_tentative"
    assert charges(activity) == ["-24.00"]


def test_refused_request_frees_the_slot(
    member, activity, other_member, other_activity, site, space_manager
):
    room = make_room(site, name="Event hall", requires_approval=True)
    booking = book(member.user, room, at(DAY, 10), at(DAY, 12), activity=activity)
    with pytest.raises(BookingError):
        lifecycle.refuse_booking(actor=space_manager, booking=booking, reason=" ", now=NOW)
    lifecycle.refuse_booking(actor=space_manager, booking=booking, reason="Private event", now=NOW)
    booking.refresh_from_db()
    assert booking.state == "refused"
    assert charges(activity) == []
    other = book(other_member.user, room, at(DAY, 10), at(DAY, 12), activity=other_activity)
    assert other.state == "tentative"


def test_cancellation_with_notice_refunds_everything(member, activity, room):
    booking = book(member.user, room, at(DAY, 10), at(DAY, 12), activity=activity)
    lifecycle.cancel_booking(actor=member.user, booking=booking, now=NOW)
    booking.refresh_from_db()
    assert booking.state == "cancelled"
    assert booking.cancellation_fee == Decimal("0.00")
    assert charges(activity) == ["-24.00", "24.00"]
    # The slot is free again.
    assert book(member.user, room, at(DAY, 10), at(DAY, 12), activity=activity).pk


def test_late_cancellation_keeps_the_fee(member, activity, room):
    booking = book(member.user, room, at(DAY, 10), at(DAY, 12), activity=activity)
    late = at(DAY, 9) - datetime.timedelta(hours=20)
    lifecycle.cancel_booking(actor=member.user, booking=booking, now=late)
    booking.refresh_from_db()
    assert str(booking.cancellation_fee) == "12.00"
    assert str(booking.refunded_amount) == "12.00"
    assert charges(activity) == ["-24.00", "12.00"]


def test_manager_may_waive_the_fee_member_may_not(member, activity, room, space_manager):
    booking = book(member.user, room, at(DAY, 10), at(DAY, 12), activity=activity)
    late = at(DAY, 9)
    with pytest.raises(BookingError) as caught:
        lifecycle.cancel_booking(actor=member.user, booking=booking, waive_fee=True, now=late)
    assert caught.value.code == "forbidden"
    assert charges(activity) == ["-24.00"]
    lifecycle.cancel_booking(actor=space_manager, booking=booking, waive_fee=True, now=late)
    assert charges(activity) == ["-24.00", "24.00"]


def test_member_cannot_cancel_someone_elses_booking(member, activity, other_member, room):
    booking = book(member.user, room, at(DAY, 10), at(DAY, 12), activity=activity)
    with pytest.raises(BookingError) as caught:
        lifecycle.cancel_booking(actor=other_member.user, booking=booking, now=NOW)
    assert caught.value.code == "not_found"
    booking.refresh_from_db()
    assert booking.state == "confirmed"


def test_cancelled_booking_cannot_be_cancelled_again(member, activity, room):
    booking = book(member.user, room, at(DAY, 10), at(DAY, 12), activity=activity)
    lifecycle.cancel_booking(actor=member.user, booking=booking, now=NOW)
    with pytest.raises(BookingError) as caught:
        lifecycle.cancel_booking(actor=member.user, booking=booking, now=NOW)
    assert caught.value.code == "not_cancellable"
    assert charges(activity) == ["-24.00", "24.00"]


def test_outside_renter_is_invoiced_through_invoicing(
    space_manager, room, organisation, house_activity
):
    booking = book(
        space_manager,
        room,
        at(DAY, 10),
        at(DAY, 13),
        organisation=organisation,
        contact_name="Jan",
        contact_email="jan@kfda.example",
    )
    invoice = Invoice.objects.get(pk=booking.invoice_id)
    assert invoice.activity == house_activity
    assert invoice.client == organisation
    # A first invoice to a new client waits for staff review (invoicing's own rule).
    assert invoice.status == "pending_review"
    assert (str(invoice.total_excl_vat), str(invoice.total_vat)) == ("75.00", "15.75")
    assert str(booking.price_incl_vat) == "90.75"
    assert not LedgerEntry.objects.filter(kind="booking_charge").exists()


def test_outside_renter_cancellation_credits_an_issued_invoice(
    space_manager, staff, room, organisation, settings
):
    settings.COOP_INVOICE_REVIEW_NEW_CLIENTS = False
    booking = book(space_manager, room, at(DAY, 10), at(DAY, 13), organisation=organisation)
    invoice = Invoice.objects.get(pk=booking.invoice_id)
    assert invoice.status == "issued"
    lifecycle.cancel_booking(actor=space_manager, booking=booking, now=at(DAY, 8))
    credit = Invoice.objects.get(credited_invoice=invoice)
    assert credit.kind == "credit_note"
    assert str(credit.total_excl_vat) == "37.50"  # half the price back, the fee kept


def test_outside_renter_cancellation_withdraws_a_pending_invoice(space_manager, room, organisation):
    booking = book(space_manager, room, at(DAY, 10), at(DAY, 13), organisation=organisation)
    first = Invoice.objects.get(pk=booking.invoice_id)
    lifecycle.cancel_booking(actor=space_manager, booking=booking, now=at(DAY, 8))
    first.refresh_from_db()
    booking.refresh_from_db()
    assert first.status == "rejected"
    fee_invoice = Invoice.objects.get(pk=booking.invoice_id)
    assert str(fee_invoice.total_excl_vat) == "37.50"


def test_external_booking_needs_the_site_invoicing_activity(space_manager, room, organisation):
    room.site.income_activity = None
    room.site.save()
    with pytest.raises(BookingError) as caught:
        book(space_manager, room, at(DAY, 10), at(DAY, 13), organisation=organisation)
    assert caught.value.code == "no_income_activity"
    assert not Invoice.objects.exists()


def test_check_in_window_and_no_show(member, activity, room, space_manager):
    booking = book(member.user, room, at(DAY, 10), at(DAY, 12), activity=activity)
    with pytest.raises(BookingError) as caught:
        lifecycle.check_in_booking(actor=member.user, booking=booking, now=at(DAY, 9, 30))
    assert caught.value.code == "check_in_window"
    lifecycle.check_in_booking(actor=member.user, booking=booking, now=at(DAY, 9, 50))
    booking.refresh_from_db()
    assert booking.state == "checked_in"

    other = book(member.user, room, at(DAY, 14), at(DAY, 15), activity=activity)
    with pytest.raises(BookingError):
        lifecycle.mark_no_show(actor=space_manager, booking=other, now=at(DAY, 13))
    lifecycle.mark_no_show(actor=space_manager, booking=other, now=at(DAY, 14, 20))
    other.refresh_from_db()
    assert other.state == "no_show"
    # The price stays charged and the room is released.
    assert charges(activity) == ["-24.00", "-12.00"]
    assert rules.find_conflict(room, at(DAY, 14), at(DAY, 15)) is None
