"""Orders: staff confirm accepted quotes into guaranteed budget, members invoice them, never
beyond what was ordered, and each issue releases the guarantee it covers."""

import datetime
from decimal import Decimal

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.core import mail
from django.urls import reverse

from audit.models import AuditEvent
from invoicing.errors import InvoicingError
from invoicing.models import Invoice
from invoicing.services.clients import create_client
from invoicing.services.drafts import LineInput, line_input_of, save_draft
from invoicing.services.issue import submit_invoice
from members.models import ActivityBalance, LedgerEntry, LedgerStage
from quotes import orders
from quotes.errors import QuotingError
from quotes.models import OrderInvoice, Quote, QuoteEvent
from tests.quotes.orders_helpers import NOW, TODAY, make_quote

D = Decimal


@pytest.fixture
def order_client(member):
    client, _created = create_client(
        owner=member.user,
        kind="company",
        name="Théâtre des Galeries SA",
        street="Galerie du Roi 32",
        postal_code="1000",
        city="Bruxelles",
        country="BE",
        email="compta@galeries.example",
        language="fr",
        vat_number="BE1000000021",
    )
    return client


@pytest.fixture
def staff_client(client, staff):
    TOTP.activate(staff, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    client.force_login(staff)
    return client


@pytest.fixture
def no_review(settings):
    settings.COOP_INVOICE_REVIEW_THRESHOLD = D("1000000")
    settings.COOP_INVOICE_REVIEW_NEW_CLIENTS = False


@pytest.fixture
def accepted(activity, order_client, member):
    # 10 h at 100.00 (21 %) + 4 h at 50.00 (6 %): 1,200.00 excl. VAT.
    return make_quote(
        activity=activity,
        client=order_client,
        user=member.user,
        lines=[("Scénographie", "10", "100.00", "21"), ("Montage", "4", "50.00", "6")],
        deposit_percent="30",
        schedule=[
            {"label": "Acompte", "percent": "30", "due": "order"},
            {"label": "Solde", "percent": "70", "due": "delivery"},
        ],
    )


@pytest.fixture
def confirmed(accepted, staff):
    return orders.confirm_order(staff_user=staff, quote=accepted, now=NOW)


def ledger(activity):
    return list(
        LedgerEntry.objects.filter(activity=activity)
        .order_by("created_at", "pk")
        .values_list("kind", "stage", "amount", "reference")
    )


def balance(activity):
    row = ActivityBalance.objects.get(activity=activity)
    return row.available, row.planned, row.guaranteed


def test_confirming_posts_the_order_as_guaranteed_budget(
    accepted, staff, member, activity, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        quote = orders.confirm_order(staff_user=staff, quote=accepted, now=NOW)
    assert quote.status == Quote.Status.CONFIRMED
    assert Quote.objects.get(pk=accepted.pk).status == "confirmed"
    assert ledger(activity) == [
        ("client_income", "guaranteed", D("1200.00"), accepted.number),
    ]
    assert balance(activity) == (D("0.00"), D("0.00"), D("1200.00"))
    event = QuoteEvent.objects.get(quote=accepted, kind="confirmed")
    assert (event.actor, event.details) == (staff, {"guaranteed": "1200.00", "version": 1})
    audit = AuditEvent.objects.get(action="confirmed")
    assert (audit.object_pk, audit.actor_id) == (str(accepted.pk), staff.pk)
    assert len(callbacks) == 1
    orders.notify_order_event_task(event.pk)
    orders.notify_order_event_task(event.pk)  # a redelivered task sends nothing more
    assert [message.to for message in mail.outbox] == [[member.user.email]]
    assert accepted.number in mail.outbox[0].subject
    assert "1,200.00" in mail.outbox[0].body or "1\xa0200,00" in mail.outbox[0].body


def test_an_order_is_confirmed_once_and_only_from_accepted(accepted, staff, activity):
    orders.confirm_order(staff_user=staff, quote=accepted, now=NOW)
    with pytest.raises(QuotingError) as raised:
        orders.confirm_order(staff_user=staff, quote=accepted, now=NOW)
    assert raised.value.code == "not_accepted"
    assert len(ledger(activity)) == 1


def test_staff_who_take_part_in_the_activity_cannot_confirm(accepted, member, activity):
    member.user.is_staff = True
    member.user.save(update_fields=["is_staff"])
    with pytest.raises(QuotingError) as raised:
        orders.confirm_order(staff_user=member.user, quote=accepted, now=NOW)
    assert raised.value.code == "own_order"
    assert Quote.objects.get(pk=accepted.pk).status == "accepted"
    assert ledger(activity) == []


def test_refusing_needs_a_reason_and_posts_nothing(
    accepted, staff, member, activity, django_capture_on_commit_callbacks
):
    with pytest.raises(QuotingError) as raised:
        orders.refuse_order(staff_user=staff, quote=accepted, reason="  ")
    assert raised.value.code == "reason"
    with django_capture_on_commit_callbacks(execute=False):
        orders.refuse_order(staff_user=staff, quote=accepted, reason="Client en faillite")
    assert Quote.objects.get(pk=accepted.pk).status == "refused"
    assert ledger(activity) == []
    event = QuoteEvent.objects.get(quote=accepted, kind="refused")
    assert event.details == {"reason": "Client en faillite"}
    orders.notify_order_event_task(event.pk)
    assert "Client en faillite" in mail.outbox[0].body


def test_deposit_invoice_is_prefilled_from_the_order(confirmed, member, order_client, activity):
    link = orders.create_order_invoice(
        user=member.user, quote=confirmed, part=OrderInvoice.Part.DEPOSIT, today=TODAY
    )
    invoice = link.invoice
    assert (link.part, link.amount_excl_vat, link.guarantee_released) == (
        "deposit",
        D("360.00"),
        D("0.00"),
    )
    assert (invoice.status, invoice.activity, invoice.client) == ("draft", activity, order_client)
    assert invoice.order_reference == "PO-4471"
    assert invoice.due_date == TODAY + datetime.timedelta(days=30)
    # 30 % of each VAT rate's part: 300.00 at 21 %, 60.00 at 6 %.
    assert [line.description for line in invoice.lines.order_by("position")] == [
        f"Deposit of 30 % on order {confirmed.number}: Scénographie du festival — VAT 21 %",
        f"Deposit of 30 % on order {confirmed.number}: Scénographie du festival — VAT 6 %",
    ]
    assert [(line.unit_price, line.vat_rate) for line in invoice.lines.order_by("position")] == [
        (D("300.00"), D("21.00")),
        (D("60.00"), D("6.00")),
    ]
    assert (invoice.total_excl_vat, invoice.total_vat) == (D("360.00"), D("66.60"))
    # A draft plans nothing and releases nothing.
    assert balance(activity) == (D("0.00"), D("0.00"), D("1200.00"))
    figures = orders.order_figures(confirmed)
    assert (figures.ordered, figures.invoiced, figures.in_draft, figures.remaining) == (
        D("1200.00"),
        D("0.00"),
        D("360.00"),
        D("840.00"),
    )


def test_issuing_releases_exactly_the_guarantee_it_covers(confirmed, member, activity, no_review):
    deposit = orders.create_order_invoice(
        user=member.user, quote=confirmed, part=OrderInvoice.Part.DEPOSIT, today=TODAY
    )
    submit_invoice(user=member.user, invoice=deposit.invoice, today=TODAY, now=NOW)
    issued = Invoice.objects.get(pk=deposit.invoice.pk)
    assert issued.status == "issued"
    assert ledger(activity) == [
        ("client_income", "guaranteed", D("1200.00"), confirmed.number),
        ("client_income", "planned", D("360.00"), issued.number),
        ("client_income", "guaranteed", D("-360.00"), confirmed.number),
    ]
    assert balance(activity) == (D("0.00"), D("360.00"), D("840.00"))
    deposit.refresh_from_db()
    assert (deposit.amount_excl_vat, deposit.guarantee_released) == (D("360.00"), D("360.00"))
    event = QuoteEvent.objects.get(quote=confirmed, kind="invoiced")
    assert event.details == {
        "invoice": issued.number,
        "amount_excl_vat": "360.00",
        "guarantee_released": "360.00",
    }

    rest = orders.create_order_invoice(
        user=member.user, quote=confirmed, part=OrderInvoice.Part.BALANCE, today=TODAY
    )
    assert rest.amount_excl_vat == D("840.00")
    submit_invoice(user=member.user, invoice=rest.invoice, today=TODAY, now=NOW)
    # Guaranteed and planned never count the same euro twice: all of it is planned now.
    assert balance(activity) == (D("0.00"), D("1200.00"), D("0.00"))
    figures = orders.order_figures(confirmed)
    assert (figures.invoiced, figures.remaining, figures.guaranteed) == (
        D("1200.00"),
        D("0.00"),
        D("0.00"),
    )
    with pytest.raises(QuotingError) as raised:
        orders.create_order_invoice(
            user=member.user, quote=confirmed, part=OrderInvoice.Part.BALANCE, today=TODAY
        )
    assert raised.value.code == "nothing_left"


def test_a_whole_order_in_one_invoice_copies_its_lines(
    activity, order_client, member, staff, no_review
):
    quote = make_quote(activity=activity, client=order_client, user=member.user)
    orders.confirm_order(staff_user=staff, quote=quote, now=NOW)
    link = orders.create_order_invoice(
        user=member.user, quote=quote, part=OrderInvoice.Part.BALANCE, today=TODAY
    )
    assert [
        (line.description, line.quantity, line.unit, line.unit_price)
        for line in link.invoice.lines.all()
    ] == [("Stage design", D("10.00"), "hour", D("100.00"))]


def test_invoicing_beyond_the_order_is_refused_and_nothing_is_written(
    confirmed, member, activity, no_review
):
    deposit = orders.create_order_invoice(
        user=member.user, quote=confirmed, part=OrderInvoice.Part.DEPOSIT, today=TODAY
    )
    balance_link = orders.create_order_invoice(
        user=member.user, quote=confirmed, part=OrderInvoice.Part.BALANCE, today=TODAY
    )
    invoices_before = Invoice.objects.count()
    # Nothing remains: a second deposit or balance, or a schedule part, is refused.
    for part, index in [("deposit", None), ("balance", None), ("instalment", 1)]:
        with pytest.raises(QuotingError):
            orders.create_order_invoice(
                user=member.user,
                quote=confirmed,
                part=part,
                today=TODAY,
                schedule_index=index,
            )
    assert Invoice.objects.count() == invoices_before
    assert OrderInvoice.objects.count() == 2

    # The member edits the deposit's draft upward: the save is refused and undone.
    lines = [line_input_of(line) for line in deposit.invoice.lines.order_by("position")]
    raised_lines = [
        LineInput(**{**line.__dict__, "unit_price": line.unit_price + D("10.00")}) for line in lines
    ]
    with pytest.raises(InvoicingError) as raised:
        save_draft(
            user=member.user,
            activity=activity,
            client=deposit.invoice.client,
            lines=raised_lines,
            today=TODAY,
            invoice=deposit.invoice,
            order_reference="PO-4471",
        )
    assert raised.value.code == "beyond_order"
    assert confirmed.number in raised.value.message
    invoice = Invoice.objects.get(pk=deposit.invoice.pk)
    assert invoice.total_excl_vat == D("360.00")
    assert [line.unit_price for line in invoice.lines.order_by("position")] == [
        D("300.00"),
        D("60.00"),
    ]

    # Lowering it is fine, and the order's figures follow the draft.
    lower = [LineInput(**{**lines[0].__dict__, "unit_price": D("200.00")}), lines[1]]
    save_draft(
        user=member.user,
        activity=activity,
        client=deposit.invoice.client,
        lines=lower,
        today=TODAY,
        invoice=deposit.invoice,
        order_reference="PO-4471",
    )
    deposit.refresh_from_db()
    assert deposit.amount_excl_vat == D("260.00")
    assert orders.order_figures(confirmed).remaining == D("100.00")

    # Issuing the balance still passes; nothing is released beyond the order.
    submit_invoice(user=member.user, invoice=balance_link.invoice, today=TODAY, now=NOW)
    assert balance(activity) == (D("0.00"), D("840.00"), D("360.00"))


def test_the_check_also_holds_at_issue(confirmed, member, activity, no_review):
    """A draft that passed when saved is checked again when issued: here the order's other
    invoice grew meanwhile (written past the services)."""
    deposit = orders.create_order_invoice(
        user=member.user, quote=confirmed, part=OrderInvoice.Part.DEPOSIT, today=TODAY
    )
    rest = orders.create_order_invoice(
        user=member.user, quote=confirmed, part=OrderInvoice.Part.BALANCE, today=TODAY
    )
    OrderInvoice.objects.filter(pk=deposit.pk).update(amount_excl_vat=D("400.00"))
    with pytest.raises(InvoicingError) as raised:
        submit_invoice(user=member.user, invoice=rest.invoice, today=TODAY, now=NOW)
    assert raised.value.code == "beyond_order"
    assert Invoice.objects.get(pk=rest.invoice.pk).status == "draft"
    assert balance(activity) == (D("0.00"), D("0.00"), D("1200.00"))


def test_schedule_parts_are_invoiced_once_each(confirmed, member):
    first = orders.create_order_invoice(
        user=member.user, quote=confirmed, part="instalment", schedule_index=0, today=TODAY
    )
    assert (first.label, first.amount_excl_vat) == ("1. Acompte", D("360.00"))
    with pytest.raises(QuotingError) as raised:
        orders.create_order_invoice(
            user=member.user, quote=confirmed, part="instalment", schedule_index=0, today=TODAY
        )
    assert raised.value.code == "instalment_invoiced"
    second = orders.create_order_invoice(
        user=member.user, quote=confirmed, part="instalment", schedule_index=1, today=TODAY
    )
    assert second.amount_excl_vat == D("840.00")
    with pytest.raises(QuotingError) as raised:
        orders.create_order_invoice(
            user=member.user, quote=confirmed, part="instalment", schedule_index=5, today=TODAY
        )
    assert raised.value.code == "schedule"


def test_an_unconfirmed_quote_cannot_be_invoiced(accepted, member):
    with pytest.raises(QuotingError) as raised:
        orders.create_order_invoice(user=member.user, quote=accepted, part="deposit", today=TODAY)
    assert raised.value.code == "not_confirmed"
    assert not Invoice.objects.exists()


def test_invoices_without_an_order_are_untouched_by_the_check(
    activity, order_client, member, no_review
):
    invoice = save_draft(
        user=member.user,
        activity=activity,
        client=order_client,
        lines=[LineInput("Design", D("1"), "piece", D("5000.00"))],
        buyer_reference="REF-1",
        today=TODAY,
    )
    submit_invoice(user=member.user, invoice=invoice, today=TODAY, now=NOW)
    assert Invoice.objects.get(pk=invoice.pk).status == "issued"
    assert balance(activity) == (D("0.00"), D("5000.00"), D("0.00"))


# The staff queue ------------------------------------------------------------------------------


def test_the_queue_lists_accepted_quotes_oldest_first_with_the_clients_standing(
    staff_client, member, activity, order_client
):
    older = make_quote(activity=activity, client=order_client, user=member.user)
    newer = make_quote(activity=activity, client=order_client, user=member.user)
    Quote.objects.filter(pk=older.pk).update(accepted_at=NOW - datetime.timedelta(days=5))
    sent = make_quote(
        activity=activity, client=order_client, user=member.user, status=Quote.Status.SENT
    )
    url = reverse("admin:quotes_quoteawaitingconfirmation_changelist")
    page = staff_client.get(url).content.decode()
    assert page.index(older.number) < page.index(newer.number)
    assert sent.number not in page
    change = staff_client.get(
        reverse("admin:quotes_quoteawaitingconfirmation_change", args=[older.pk])
    ).content.decode()
    assert "Open invoices of every member&#x27;s clients with this VAT number: 0" in change


def test_staff_confirm_from_the_queue_and_members_cannot(client, staff, member, accepted):
    url = reverse("admin:quotes_quoteawaitingconfirmation_changelist")
    client.force_login(member.user)
    response = client.post(url, {"action": "confirm", "_selected_action": [accepted.pk]})
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert Quote.objects.get(pk=accepted.pk).status == "accepted"

    TOTP.activate(staff, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    client.force_login(staff)
    response = client.post(url, {"action": "confirm", "_selected_action": [accepted.pk]})
    assert response.status_code == 302
    assert Quote.objects.get(pk=accepted.pk).status == "confirmed"
    assert ActivityBalance.objects.get(activity=accepted.activity).guaranteed == D("1200.00")


def test_refuse_from_the_change_page_with_a_reason(staff_client, accepted):
    url = reverse(
        "admin:quotes_quoteawaitingconfirmation_object_action", args=[accepted.pk, "refuse"]
    )
    staff_client.post(url, {"reason": ""})
    assert Quote.objects.get(pk=accepted.pk).status == "accepted"
    staff_client.post(url, {"reason": "Identité du client non vérifiée"})
    assert Quote.objects.get(pk=accepted.pk).status == "refused"
    assert not LedgerEntry.objects.filter(stage=LedgerStage.GUARANTEED).exists()
