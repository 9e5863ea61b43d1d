"""The staff admin's busiest change pages answer in a fixed number of queries, within 12.

An invoice with its payments, refunds, reminders, dispatches and credit notes, a credit note
with its refunds, a contract with its workers, attachments and history: each page is counted
with one row of each kind, then with several, and must not grow (an inline row that reads its
own query is an N+1) nor pass the budget of issue #11.
"""

from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contracts.models import ContractAttachment
from contracts.services.contracts import request_changes, submit_contract
from invoicing.models import Dispatch, Refund, Reminder
from invoicing.services.credit import CreditLineInput, request_credit_note
from invoicing.services.issue import approve_invoice
from invoicing.services.refunds import request_refund
from members.services import create_activity
from tests.conftest import NOW, make_member
from tests.contracts.conftest import NEXT_MONDAY, TODAY, make_contract, worker
from tests.invoicing.conftest import (  # noqa: F401 - shared fixtures
    bank_line_matched_by_hand,
    belgian_client,
    no_review,
    staff_client,
    two_rate_invoice,
)

BUDGET = 12
CLIENT_IBAN = "BE68068897250734"


def _queries(browser, url: str) -> int:
    browser.get(url)  # Warm the per-process caches (content types, sessions) first.
    with CaptureQueriesContext(connection) as captured:
        response = browser.get(url)
    assert response.status_code == 200, url
    return len(captured)


def _credit(invoice, staff, amount_excl_vat: str):
    credit_note = request_credit_note(
        user=invoice.created_by,
        invoice=invoice,
        reason="Room not used",
        lines=[CreditLineInput(position=1, amount=Decimal(amount_excl_vat))],
    )
    return approve_invoice(staff_user=staff, invoice=credit_note, today=TODAY, now=NOW)


def _refund(staff, **document) -> Refund:
    return request_refund(
        staff_user=staff,
        amount=Decimal("1.00"),
        client_iban=CLIENT_IBAN,
        method=Refund.Method.MANUAL,
        now=NOW,
        **document,
    )


def test_invoice_and_credit_note_change_pages_do_not_grow_with_their_rows(
    staff_client,  # noqa: F811
    staff,
    two_rate_invoice,  # noqa: F811
):
    invoice = two_rate_invoice
    # Paid beyond the invoice, once credited: refunds of both kinds are owed to the client.
    bank_line_matched_by_hand(invoice, staff, "1400.00")
    credit_note = _credit(invoice, staff, "10.00")
    rows = {"level": 0}

    def add_rows(number: int) -> None:
        for _index in range(number):
            rows["level"] += 1
            bank_line_matched_by_hand(invoice, staff, "1.00")
            _refund(staff, invoice=invoice)
            _refund(staff, credit_note=credit_note)
            Reminder.objects.create(
                invoice=invoice, level=rows["level"], sent_on=TODAY, amount_due=Decimal("1.00")
            )
            for document in (invoice, credit_note):
                Dispatch.objects.create(
                    invoice=document,
                    channel=Dispatch.Channel.EMAIL,
                    recipient="facturation@example.be",
                    requested_by=staff,
                )

    invoice_url = reverse("admin:invoicing_invoice_change", args=[invoice.pk])
    credit_note_url = reverse("admin:invoicing_invoice_change", args=[credit_note.pk])
    add_rows(1)
    one = (_queries(staff_client, invoice_url), _queries(staff_client, credit_note_url))
    add_rows(4)
    _credit(invoice, staff, "5.00")
    many = (_queries(staff_client, invoice_url), _queries(staff_client, credit_note_url))

    assert many == one
    assert max(one) <= BUDGET
    page = staff_client.get(invoice_url).content.decode()
    # Every row is shown: the inlines that apply to an invoice, with their five rows each.
    assert page.count('class="form-row has_original') >= 5 * 4
    assert "refunds of the over-payment" in page.lower()
    assert 'id="refunds-group"' not in page  # a credit note's refunds: not of an invoice
    credit_page = staff_client.get(credit_note_url).content.decode()
    assert 'id="refunds-group"' in credit_page
    assert 'id="payments-group"' not in credit_page


def _niss(number: int) -> str:
    base = 850730100 + number
    return f"{base}{97 - base % 97:02d}"


def test_contract_change_pages_do_not_grow_with_workers_attachments_and_history(
    staff_client,  # noqa: F811
    staff,
    member,
    belgian_client,  # noqa: F811
):
    partners = [
        make_member(f"worker{number}@coop.test", legal_name=f"Worker {number}", niss=_niss(number))
        for number in range(3)
    ]
    festival = create_activity(owner=member, name="Festival", co_members=partners)

    def submitted_contract(members, *, attachments: int, sent_back: int, start):
        contract = make_contract(
            member,
            festival,
            client=belgian_client,
            workers=[worker(person, start=start, count=5) for person in members],
        )
        for number in range(attachments):
            ContractAttachment.objects.create(
                contract=contract,
                file=f"contracts/rider-{contract.pk}-{number}.pdf",
                content_type="application/pdf",
                size=1024,
                uploaded_by=member.user,
            )
        for _index in range(sent_back):
            submit_contract(user=member.user, contract=contract, today=TODAY, now=NOW)
            request_changes(staff_user=staff, contract=contract, reason="Check the days", now=NOW)
        return submit_contract(user=member.user, contract=contract, today=TODAY, now=NOW)

    small = submitted_contract([member], attachments=1, sent_back=0, start=NEXT_MONDAY)
    large = submitted_contract(
        [member, *partners], attachments=3, sent_back=2, start=NEXT_MONDAY.replace(day=30)
    )

    for admin_name in ("contracts_contract_change", "contracts_contractawaitingapproval_change"):
        one = _queries(staff_client, reverse(f"admin:{admin_name}", args=[small.pk]))
        many = _queries(staff_client, reverse(f"admin:{admin_name}", args=[large.pk]))
        assert many == one <= BUDGET, admin_name
    page = staff_client.get(reverse("admin:contracts_contract_change", args=[large.pk]))
    html = page.content.decode()
    assert all(f"{person} ({large.reference})" in html for person in [member, *partners])
    assert html.count(f"{large.reference}: ") == 5  # its history: 3 submissions, 2 send-backs
