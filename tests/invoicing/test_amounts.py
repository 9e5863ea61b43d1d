"""What a page completes in Python is what ``with_amounts()`` computes in SQL."""

from decimal import Decimal

import pytest

from invoicing.amounts import add_amounts_due
from invoicing.models import Invoice, Refund
from invoicing.services.credit import CreditLineInput, request_credit_note
from invoicing.services.issue import approve_invoice, submit_invoice
from invoicing.services.payments import record_payment
from invoicing.services.refunds import record_refund, request_refund
from tests.conftest import NOW, make_user
from tests.invoicing.conftest import TODAY, bank_line_matched_by_hand, line, make_draft

FIELDS = ("amount_paid", "amount_credited", "amount_due", "amount_to_refund")


def room_invoice(member, activity, client):
    """1 × 150.00 at 6 %: 159.00."""
    draft = make_draft(
        member,
        activity,
        client,
        [line("Rehearsal room", quantity="1", unit="piece", price="150.00", vat_rate=6)],
    )
    return submit_invoice(user=member.user, invoice=draft, today=TODAY, now=NOW)


def credit(invoice, staff, amount_excl_vat):
    credit_note = request_credit_note(
        user=invoice.created_by,
        invoice=invoice,
        reason="Room not used",
        lines=[CreditLineInput(position=1, amount=Decimal(amount_excl_vat))],
    )
    return approve_invoice(staff_user=staff, invoice=credit_note, today=TODAY, now=NOW)


def pay(invoice, staff, amount):
    record_payment(invoice=invoice, amount=Decimal(amount), received_on=TODAY, actor=staff, now=NOW)


@pytest.mark.usefixtures("no_review")
def test_the_amounts_due_read_as_in_sql(member, activity, belgian_client, staff):
    colleague = make_user("colleague@coop.test", is_staff=True, is_superuser=True)
    draft = make_draft(member, activity, belgian_client, [line()])
    unpaid = room_invoice(member, activity, belgian_client)
    partly_paid = room_invoice(member, activity, belgian_client)
    pay(partly_paid, staff, "100.00")
    over_paid = room_invoice(member, activity, belgian_client)
    bank_line_matched_by_hand(over_paid, staff, "200.00")
    refunded = room_invoice(member, activity, belgian_client)
    bank_line_matched_by_hand(refunded, staff, "200.00")
    refund = request_refund(
        staff_user=staff,
        invoice=refunded,
        amount=Decimal("41.00"),
        client_iban="BE68068897250734",
        method=Refund.Method.MANUAL,
        now=NOW,
    )
    record_refund(staff_user=colleague, refund=refund, paid_on=TODAY, bank_reference="R", now=NOW)
    credited_and_over_paid = room_invoice(member, activity, belgian_client)
    pay(credited_and_over_paid, staff, "100.00")
    credit_note = credit(credited_and_over_paid, staff, "100.00")
    credit(credited_and_over_paid, staff, "50.00")

    documents = [draft, unpaid, partly_paid, over_paid, refunded, credited_and_over_paid]
    pks = [document.pk for document in [*documents, credit_note]]
    in_sql = {
        invoice.pk: tuple(str(getattr(invoice, name)) for name in FIELDS)
        for invoice in Invoice.objects.with_amounts().filter(pk__in=pks)
    }
    invoices = list(Invoice.objects.with_settled_amounts().filter(pk__in=pks))
    add_amounts_due(invoices)
    in_python = {
        invoice.pk: tuple(str(getattr(invoice, name)) for name in FIELDS) for invoice in invoices
    }
    assert in_python == in_sql
    assert in_sql[over_paid.pk] == ("200.00", "0.00", "-41.00", "41.00")
    assert in_sql[refunded.pk] == ("200.00", "0.00", "0.00", "0.00")
    assert in_sql[credited_and_over_paid.pk] == ("100.00", "159.00", "-100.00", "100.00")
