# ruff: noqa: F811 (the fixtures imported are arguments of the tests)
"""An order grows through a new version confirmed again; a deposit never contradicts the
schedule and each step is invoiced once; credit notes give back to invoice and to guarantee;
staff confirmation checks VAT as an invoice's issue does."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from audit.models import AuditEvent
from invoicing.errors import InvoicingError
from invoicing.models import Invoice
from invoicing.services.clients import create_client
from invoicing.services.credit import CreditLineInput, request_credit_note
from invoicing.services.drafts import LineInput, line_input_of, save_draft
from invoicing.services.issue import approve_invoice, submit_invoice
from members.models import LedgerEntry
from quotes import orders, services
from quotes.errors import QuotingError
from quotes.models import OrderInvoice, Quote, QuoteEvent
from tests.quotes.conftest import send, terms
from tests.quotes.orders_helpers import NOW, TODAY, make_quote
from tests.quotes.test_orders import (  # noqa: F401 (fixtures)
    accepted,
    balance,
    confirmed,
    ledger,
    no_review,
    order_client,
)

D = Decimal


def issue(link, member):
    return submit_invoice(user=member.user, invoice=link.invoice, today=TODAY, now=NOW)


def amend(quote, member, staff, capture, *, lines):
    """Make, send, accept and confirm a new version of ``quote`` with ``lines``."""
    services.new_version(user=member.user, quote=quote)
    quote = Quote.objects.get(pk=quote.pk)
    version = quote.current_version
    services.save_draft(
        user=member.user,
        activity=quote.activity,
        client=quote.client,
        lines=lines,
        terms=terms(
            title=version.title,
            deposit_percent=version.deposit_percent,
            schedule=version.schedule,
        ),
        today=TODAY,
        quote=quote,
    )
    quote, token = send(Quote.objects.get(pk=quote.pk), member.user, capture=capture)
    link = services.find_link(token)
    services.accept_quote(
        link=link,
        name="Claire Dumont",
        conditions_accepted=True,
        po_number="PO-4471-B",
        ip="192.0.2.7",
        user_agent="test",
    )
    return Quote.objects.get(pk=quote.pk)


def lines_worth(amount: str) -> list[LineInput]:
    return [
        LineInput(description="Scénographie", quantity=D("1"), unit="piece", unit_price=D(amount))
    ]


def test_a_new_version_of_an_order_raises_what_may_be_invoiced(
    confirmed, member, staff, activity, no_review, django_capture_on_commit_callbacks
):
    deposit = orders.create_order_invoice(
        user=member.user, quote=confirmed, part="deposit", today=TODAY
    )
    issue(deposit, member)
    balance_link = orders.create_order_invoice(
        user=member.user, quote=confirmed, part="balance", today=TODAY
    )
    issue(balance_link, member)
    # Everything is invoiced: nothing more without a new version.
    with pytest.raises(QuotingError) as refused:
        orders.create_order_invoice(user=member.user, quote=confirmed, part="balance", today=TODAY)
    assert refused.value.code == "nothing_left"

    amended = amend(
        confirmed, member, staff, django_capture_on_commit_callbacks, lines=lines_worth("1500.00")
    )
    # Until staff confirm it, the order stays version 1's and still has its page.
    assert (amended.status, amended.ordered_version.version) == ("accepted", 1)
    assert orders.order_figures(amended).ordered == D("1200.00")
    orders.confirm_order(staff_user=staff, quote=amended, now=NOW)

    quote = Quote.objects.get(pk=confirmed.pk)
    assert (quote.status, quote.ordered_version.version) == ("confirmed", 2)
    figures = orders.order_figures(quote)
    assert (figures.ordered, figures.invoiced, figures.remaining) == (
        D("1500.00"),
        D("1200.00"),
        D("300.00"),
    )
    # The guarantee moves by the difference, one more append-only entry.
    assert ledger(activity)[-1] == ("client_income", "guaranteed", D("300.00"), quote.number)
    assert balance(activity) == (D("0.00"), D("1200.00"), D("300.00"))
    assert quote.guaranteed_excl_vat == D("300.00")
    event = QuoteEvent.objects.filter(quote=quote, kind="confirmed").latest("at", "pk")
    assert event.details == {
        "guaranteed": "300.00",
        "version": 2,
        "replaces": 1,
        "change": "300.00",
    }
    assert AuditEvent.objects.filter(action="confirmed", object_pk=str(quote.pk)).count() == 2

    more = orders.create_order_invoice(user=member.user, quote=quote, part="balance", today=TODAY)
    assert more.amount_excl_vat == D("300.00")
    assert more.invoice.order_reference == "PO-4471-B"
    issue(more, member)
    assert balance(activity) == (D("0.00"), D("1500.00"), D("0.00"))
    # Beyond the new total stays refused.
    with pytest.raises(QuotingError) as refused:
        orders.create_order_invoice(user=member.user, quote=quote, part="balance", today=TODAY)
    assert refused.value.code == "nothing_left"


def test_a_new_version_below_what_is_invoiced_is_not_confirmed(
    confirmed, member, staff, activity, no_review, django_capture_on_commit_callbacks
):
    deposit = orders.create_order_invoice(
        user=member.user, quote=confirmed, part="deposit", today=TODAY
    )
    issue(deposit, member)  # 360.00
    amended = amend(
        confirmed, member, staff, django_capture_on_commit_callbacks, lines=lines_worth("300.00")
    )
    before = ledger(activity)
    with pytest.raises(QuotingError) as refused:
        orders.confirm_order(staff_user=staff, quote=amended, now=NOW)
    assert refused.value.code == "below_invoiced"
    assert "less than the order's invoices" in refused.value.message
    quote = Quote.objects.get(pk=confirmed.pk)
    assert (quote.status, quote.ordered_version.version) == ("accepted", 1)
    assert ledger(activity) == before


def test_the_beyond_order_message_names_the_way_to_invoice_more(confirmed, member, activity):
    link = orders.create_order_invoice(
        user=member.user, quote=confirmed, part="deposit", today=TODAY
    )
    lines = [line_input_of(line) for line in link.invoice.lines.all()]
    lines[0] = LineInput(**{**lines[0].__dict__, "unit_price": D("5000.00")})
    with pytest.raises(InvoicingError) as refused:
        save_draft(
            user=member.user,
            activity=activity,
            client=confirmed.client,
            lines=lines,
            today=TODAY,
            invoice=link.invoice,
        )
    assert "new version of the quote, then staff confirm it" in refused.value.message


# Deposit and schedule


def test_a_deposit_that_contradicts_the_schedule_is_refused(member, activity, quote_client):
    schedule = [
        {"label": "Acompte", "percent": "30", "due": "order"},
        {"label": "Solde", "percent": "70", "due": "delivery"},
    ]
    late_first = [{**schedule[1], "percent": "30"}, {**schedule[0], "percent": "70"}]

    def draft(deposit, parts):
        return services.save_draft(
            user=member.user,
            activity=activity,
            client=quote_client,
            lines=lines_worth("1000.00"),
            terms=terms(deposit_percent=deposit, schedule=parts),
            today=TODAY,
        )

    with pytest.raises(QuotingError) as refused:
        draft(D("20"), schedule)
    assert (refused.value.code, refused.value.field) == ("deposit_schedule", "deposit_percent")
    assert "The deposit (20 %) is not the schedule's first part due at the order (30 %)" in (
        refused.value.message
    )
    with pytest.raises(QuotingError) as refused:
        draft(D("30"), late_first)
    assert refused.value.code == "deposit_schedule"
    assert not Quote.objects.exists()
    # The same percentage, or no deposit beside the schedule, is accepted.
    draft(D("30"), schedule)
    draft(None, schedule)
    assert Quote.objects.count() == 2


def test_a_draft_saved_before_the_rule_is_not_sent(member, draft):
    version = draft.current_version
    version.deposit_percent = D("40")
    version.save(update_fields=["deposit_percent"])
    with pytest.raises(QuotingError) as refused:
        services.send_quote(user=member.user, quote=draft, email=False)
    assert refused.value.code == "deposit_schedule"
    assert Quote.objects.get(pk=draft.pk).status == "draft"


def test_the_deposit_is_the_schedules_first_step_and_is_invoiced_once(confirmed, member):
    deposit = orders.create_order_invoice(
        user=member.user, quote=confirmed, part="deposit", today=TODAY
    )
    assert (deposit.schedule_step, deposit.amount_excl_vat) == (0, D("360.00"))
    with pytest.raises(QuotingError) as refused:
        orders.create_order_invoice(
            user=member.user, quote=confirmed, part="instalment", schedule_index=0, today=TODAY
        )
    assert refused.value.code == "instalment_invoiced"
    assert OrderInvoice.objects.filter(quote=confirmed).count() == 1
    assert Invoice.objects.count() == 1
    second = orders.create_order_invoice(
        user=member.user, quote=confirmed, part="instalment", schedule_index=1, today=TODAY
    )
    assert (second.schedule_step, second.amount_excl_vat) == (1, D("840.00"))


def test_the_legacy_contradicting_deposit_follows_the_schedule(
    activity, order_client, member, staff
):
    quote = make_quote(
        activity=activity,
        client=order_client,
        user=member.user,
        lines=[("Scénographie", "10", "100.00", "21")],
        deposit_percent="20",
        schedule=[
            {"label": "Acompte", "percent": "30", "due": "order"},
            {"label": "Solde", "percent": "70", "due": "delivery"},
        ],
    )
    orders.confirm_order(staff_user=staff, quote=quote, now=NOW)
    deposit = orders.create_order_invoice(
        user=member.user, quote=quote, part="deposit", today=TODAY
    )
    assert (deposit.schedule_step, deposit.amount_excl_vat) == (0, D("300.00"))
    figures = orders.order_figures(Quote.objects.get(pk=quote.pk))
    assert figures.remaining == D("700.00")


def test_the_database_invoices_a_step_once(confirmed, member):
    first = orders.create_order_invoice(
        user=member.user, quote=confirmed, part="instalment", schedule_index=1, today=TODAY
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderInvoice.objects.create(
            quote=confirmed,
            invoice=Invoice.objects.create(
                activity=confirmed.activity,
                client=confirmed.client,
                created_by=member.user,
            ),
            part="instalment",
            schedule_step=1,
            amount_excl_vat=D("1.00"),
            created_by=member.user,
        )
    assert list(OrderInvoice.objects.filter(quote=confirmed)) == [first]


# Credit notes


def test_a_credit_note_gives_back_to_invoice_and_to_guarantee(
    confirmed, member, staff, activity, no_review
):
    deposit = orders.create_order_invoice(
        user=member.user, quote=confirmed, part="deposit", today=TODAY
    )
    issued = issue(deposit, member)
    assert balance(activity) == (D("0.00"), D("360.00"), D("840.00"))
    note = request_credit_note(
        user=member.user,
        invoice=issued,
        reason="Wrong amount",
        lines=[CreditLineInput(position=1, amount=D("100.00"))],
    )
    approve_invoice(staff_user=staff, invoice=note, today=TODAY, now=NOW)
    link = OrderInvoice.objects.get(pk=deposit.pk)
    assert (link.credited_excl_vat, link.guarantee_released) == (D("100.00"), D("260.00"))
    figures = orders.order_figures(Quote.objects.get(pk=confirmed.pk))
    assert (figures.invoiced, figures.credited, figures.remaining, figures.guaranteed) == (
        D("260.00"),
        D("100.00"),
        D("940.00"),
        D("940.00"),
    )
    assert balance(activity) == (D("0.00"), D("260.00"), D("940.00"))
    note = Invoice.objects.get(pk=note.pk)
    assert ledger(activity)[-1] == ("client_income", "guaranteed", D("100.00"), confirmed.number)
    assert Quote.objects.get(pk=confirmed.pk).guaranteed_excl_vat == D("940.00")
    event = QuoteEvent.objects.get(quote=confirmed, kind="credited")
    assert event.details["credit_note"] == note.number
    assert AuditEvent.objects.filter(action="credited", object_pk=str(link.pk)).exists()
    # What was credited may be invoiced again: the balance is 940.00.
    rest = orders.create_order_invoice(
        user=member.user, quote=confirmed, part="balance", today=TODAY
    )
    assert rest.amount_excl_vat == D("940.00")


def test_every_guaranteed_entry_of_an_order_adds_up_to_what_it_guarantees(
    confirmed, member, staff, activity, no_review
):
    deposit = orders.create_order_invoice(
        user=member.user, quote=confirmed, part="deposit", today=TODAY
    )
    issued = issue(deposit, member)
    note = request_credit_note(user=member.user, invoice=issued, reason="Cancelled")
    approve_invoice(staff_user=staff, invoice=note, today=TODAY, now=NOW)
    quote = Quote.objects.get(pk=confirmed.pk)
    entries = LedgerEntry.objects.filter(activity=activity, stage="guaranteed")
    assert [entry.amount for entry in entries.order_by("pk")] == [
        D("1200.00"),
        D("-360.00"),
        D("360.00"),
    ]
    assert sum(entry.amount for entry in entries) == quote.guaranteed_excl_vat == D("1200.00")
    assert orders.order_figures(quote).invoiced == D("0.00")


# Staff confirmation checks VAT


@pytest.fixture
def french_business(member):
    client, _created = create_client(
        owner=member.user,
        kind="company",
        name="Théâtre du Rond-Point SA",
        street="2bis avenue Franklin D. Roosevelt",
        postal_code="75008",
        city="Paris",
        country="FR",
        email="compta@rondpoint.example",
        language="fr",
        vat_number="FR40303265045",
    )
    return client


def test_staff_cannot_confirm_belgian_vat_on_a_service_to_an_eu_business(
    activity, french_business, member, staff
):
    quote = make_quote(
        activity=activity, client=french_business, user=member.user, supply_kind="services"
    )
    with pytest.raises(QuotingError) as refused:
        orders.confirm_order(staff_user=staff, quote=quote, now=NOW)
    assert refused.value.code == "vat_place_of_supply"
    assert "reverse charged (AE" in refused.value.message
    assert Quote.objects.get(pk=quote.pk).status == "accepted"
    assert not LedgerEntry.objects.exists()


def test_staff_cannot_confirm_vat_an_invoice_would_refuse(activity, order_client, member, staff):
    quote = make_quote(
        activity=activity,
        client=order_client,
        user=member.user,
        lines=[("Scénographie", "10", "100.00", "17")],
    )
    with pytest.raises(QuotingError) as refused:
        orders.confirm_order(staff_user=staff, quote=quote, now=NOW)
    assert refused.value.code == "vat"
    assert "the Belgian VAT rates are 21 %, 12 % and 6 %" in refused.value.message
    assert Quote.objects.get(pk=quote.pk).status == "accepted"
