"""Billing of bookings: charge a confirmed booking to its Activity's ledger or invoice the outside
organisation in the name of the site's income Activity, and on cancellation refund the ledger,
issue a credit note, or withdraw an invoice not yet issued and invoice only the late fee.
"""

import datetime
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from invoicing.errors import InvoicingError
from invoicing.models import Invoice
from members.models import Activity, LedgerEntryKind, LedgerStage, User
from members.services import post_ledger_entry
from spaces.errors import BookingError
from spaces.models import Booking, Site
from spaces.services.pricing import EXTERNAL_VAT_RATE
from spaces.services.times import format_local, site_zone


def _reference(booking: Booking) -> str:
    return f"BOOKING-{booking.pk}"


def _describe(booking: Booking) -> str:
    zone = site_zone(booking.room.site)
    return _("%(room)s, %(start)s–%(end)s: %(title)s") % {
        "room": booking.room.name,
        "start": format_local(booking.start, zone),
        "end": booking.end.astimezone(zone).strftime("%H:%M"),
        "title": booking.title,
    }


def _invoicing_user(site: Site) -> User:
    # Invoices are drawn up in the name of the site's Activity, as its owner would.
    activity = Activity.objects.select_related("owner__user").get(pk=site.income_activity_id)
    return activity.owner.user


def _charge(booking: Booking, *, actor: User, now: datetime.datetime) -> None:
    """Charge a confirmed booking: the Activity's ledger, or an invoice to the organisation."""
    from invoicing.services.drafts import LineInput, save_draft
    from invoicing.services.issue import submit_invoice

    if booking.charged_at is not None or booking.price_excl_vat == 0:
        return
    if booking.activity_id:
        post_ledger_entry(
            activity=booking.activity,
            kind=LedgerEntryKind.BOOKING_CHARGE,
            stage=LedgerStage.AVAILABLE,
            amount=-booking.price_excl_vat,
            reference=_reference(booking),
            description=_describe(booking),
            author=actor,
            source=booking,
            now=now,
        )
    else:
        site = booking.room.site
        drafter = _invoicing_user(site)
        today = timezone.localdate(now, site_zone(site))
        try:
            invoice = save_draft(
                user=drafter,
                activity=site.income_activity,
                client=booking.organisation,
                lines=[
                    LineInput(
                        description=_describe(booking)[:300],
                        quantity=Decimal("1"),
                        unit="piece",
                        unit_price=booking.price_excl_vat,
                        vat_rate=EXTERNAL_VAT_RATE,
                    )
                ],
                today=today,
                buyer_reference=_reference(booking),
                cooperative_process=True,
            )
            invoice = submit_invoice(user=drafter, invoice=invoice, today=today, now=now)
        except InvoicingError as error:
            raise BookingError(error.message, code=error.code) from error
        booking.invoice = invoice
    booking.charged_at = now
    booking.save(update_fields=["charged_at", "invoice"])


def _refund(booking: Booking, *, actor: User, now: datetime.datetime) -> None:
    from invoicing.services.credit import CreditLineInput, request_credit_note
    from invoicing.services.issue import reject_invoice

    refund = booking.refunded_amount
    if booking.activity_id:
        if refund > 0:
            post_ledger_entry(
                activity=booking.activity,
                kind=LedgerEntryKind.BOOKING_CHARGE,
                stage=LedgerStage.AVAILABLE,
                amount=refund,
                reference=_reference(booking),
                description=_("Refund on cancellation: %(booking)s")
                % {"booking": _describe(booking)},
                author=actor,
                source=booking,
                now=now,
            )
        return
    invoice = Invoice.objects.get(pk=booking.invoice_id)
    drafter = _invoicing_user(booking.room.site)
    try:
        if invoice.is_issued:
            if refund > 0:
                request_credit_note(
                    user=drafter,
                    invoice=invoice,
                    reason=_("Booking cancelled: %(booking)s") % {"booking": _describe(booking)},
                    lines=[
                        # The booking invoice's one line, credited by the refunded amount.
                        CreditLineInput(
                            position=1,
                            amount=refund,
                            description=_("Refund: %(booking)s")
                            % {"booking": _describe(booking)[:250]},
                        )
                    ],
                    now=now,
                )
            return
        # Not issued yet: withdraw it, and invoice only the fee.
        if invoice.status == Invoice.Status.PENDING_REVIEW:
            reject_invoice(
                staff_user=actor, invoice=invoice, reason=_("The booking was cancelled.")
            )
        elif invoice.is_editable:
            from invoicing.services.drafts import delete_draft

            delete_draft(invoice=invoice)
        booking.invoice = None
        booking.charged_at = None
        if booking.cancellation_fee > 0:
            _invoice_fee(booking, drafter=drafter, now=now)
    except InvoicingError as error:
        raise BookingError(error.message, code=error.code) from error


def _invoice_fee(booking: Booking, *, drafter: User, now: datetime.datetime) -> None:
    from invoicing.services.drafts import LineInput, save_draft
    from invoicing.services.issue import submit_invoice

    site = booking.room.site
    today = timezone.localdate(now, site_zone(site))
    invoice = save_draft(
        user=drafter,
        activity=site.income_activity,
        client=booking.organisation,
        lines=[
            LineInput(
                description=(
                    _("Late cancellation fee: %(booking)s") % {"booking": _describe(booking)}
                )[:300],
                quantity=Decimal("1"),
                unit="piece",
                unit_price=booking.cancellation_fee,
                vat_rate=EXTERNAL_VAT_RATE,
            )
        ],
        today=today,
        buyer_reference=_reference(booking),
        cooperative_process=True,
    )
    booking.invoice = submit_invoice(user=drafter, invoice=invoice, today=today, now=now)
    booking.charged_at = now
