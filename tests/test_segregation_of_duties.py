"""Segregation of duties: nobody approves their own expense claim, contract, invoice or credit
note, whether through the services, the admin or the API; a refusal changes nothing."""

import datetime
from decimal import Decimal

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape
from rest_framework.test import APIClient

from contracts.errors import ContractsError
from contracts.models import Contract, DimonaDeclaration, ExpenseClaim
from contracts.services.contracts import approve_contract, submit_contract
from contracts.services.expenses import (
    ReceiptInput,
    approve_expense_claim,
    submit_expense_claim,
)
from invoicing.errors import InvoicingError
from invoicing.models import Invoice
from invoicing.services.credit import request_credit_note
from invoicing.services.issue import approve_invoice, submit_invoice
from members import services as member_services
from members.models import LedgerEntry
from tests.conftest import NOW, make_member
from tests.contracts.conftest import TODAY, make_contract, worker
from tests.invoicing.conftest import make_draft

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

OWN_CLAIM = (
    "This claim is yours or is paid from an Activity you take part in: another staff member "
    "must approve it."
)
OWN_CONTRACT = (
    "You take part in this contract (you wrote it, work on it or share its Activity): another "
    "staff member must approve it."
)
OWN_DOCUMENT = (
    "You requested this document or take part in its Activity: another staff member must "
    "approve it."
)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def staff_member(staff):
    """A member of the cooperative who also works as its staff, with their second factor."""
    member = make_member(
        "mila@coop.test", legal_name="Mila Claes", niss="93051822361", approver=staff
    )
    member.user.is_staff = True
    member.user.is_superuser = True
    member.user.save(update_fields=["is_staff", "is_superuser"])
    TOTP.activate(member.user, TOTP_SECRET)
    return member


@pytest.fixture
def admin_as(client):
    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


def api_as(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def claim_of(member, activity) -> ExpenseClaim:
    return submit_expense_claim(
        user=member.user,
        activity=activity,
        description="Exhibition supplies",
        receipts=[
            ReceiptInput(
                upload=SimpleUploadedFile("paper.png", PNG),
                description="Paper",
                spent_on=TODAY - datetime.timedelta(days=3),
                amount=Decimal("60.50"),
                vat=Decimal("10.50"),
            )
        ],
        today=TODAY,
        now=NOW,
    )


def admin_action(client, model: str, action: str, pk: int, **extra) -> str:
    response = client.post(
        reverse(f"admin:{model}_changelist"),
        {"action": action, "_selected_action": [pk], **extra},
        follow=True,
    )
    assert response.status_code == 200
    return response.content.decode()


def assert_claim_undecided(claim: ExpenseClaim) -> None:
    claim.refresh_from_db()
    assert (claim.status, claim.decided_by, claim.decided_at) == ("submitted", None, None)


def test_staff_cannot_approve_their_own_expense_claim(staff, staff_member, admin_as):
    activity = member_services.create_activity(owner=staff_member, name="Ceramics")
    claim = claim_of(staff_member, activity)

    with pytest.raises(ContractsError) as error:
        approve_expense_claim(staff_user=staff_member.user, claim=claim, now=NOW)
    assert (error.value.code, error.value.message) == ("own_claim", OWN_CLAIM)
    assert_claim_undecided(claim)

    page = admin_action(
        admin_as(staff_member.user), "contracts_expenseclaim", "approve_claims", claim.pk
    )
    assert escape(f"{claim}: {OWN_CLAIM}") in page
    assert "claim approved" not in page
    assert_claim_undecided(claim)

    response = api_as(staff_member.user).post(f"/api/v1/expense-claims/{claim.pk}/approve/")
    assert response.status_code == 400
    problem = response.json()
    assert (problem["status"], problem["detail"], problem["code"]) == (400, OWN_CLAIM, "own_claim")
    assert_claim_undecided(claim)

    approved = approve_expense_claim(staff_user=staff, claim=claim, now=NOW)
    assert (approved.status, approved.decided_by) == ("approved", staff)


def test_staff_cannot_approve_a_claim_paid_from_an_activity_they_share(member, staff, staff_member):
    activity = member_services.create_activity(owner=member, name="Duo", co_members=[staff_member])
    claim = claim_of(member, activity)
    with pytest.raises(ContractsError) as error:
        approve_expense_claim(staff_user=staff_member.user, claim=claim, now=NOW)
    assert error.value.code == "own_claim"
    assert_claim_undecided(claim)
    assert approve_expense_claim(staff_user=staff, claim=claim, now=NOW).status == "approved"


def assert_contract_waits(contract: Contract) -> None:
    contract.refresh_from_db()
    assert (contract.status, contract.approved_by, contract.approved_at) == (
        "submitted",
        None,
        None,
    )
    assert not DimonaDeclaration.objects.filter(worker__contract=contract).exists()
    assert not LedgerEntry.objects.filter(activity=contract.activity).exists()


def test_staff_cannot_approve_a_contract_they_work_on(member, staff, staff_member, admin_as):
    activity = member_services.create_activity(
        owner=member, name="Touring", co_members=[staff_member]
    )
    contract = make_contract(member, activity, workers=[worker(member), worker(staff_member)])
    submit_contract(user=member.user, contract=contract, today=TODAY, now=NOW)

    with pytest.raises(ContractsError) as error:
        approve_contract(staff_user=staff_member.user, contract=contract, today=TODAY, now=NOW)
    assert (error.value.code, error.value.message) == ("own_contract", OWN_CONTRACT)
    assert_contract_waits(contract)

    page = admin_action(admin_as(staff_member.user), "contracts_contract", "approve", contract.pk)
    assert escape(f"{contract}: {OWN_CONTRACT}") in page
    assert_contract_waits(contract)

    approved = approve_contract(staff_user=staff, contract=contract, today=TODAY, now=NOW)
    assert (approved.status, approved.approved_by) == ("approved", staff)


def test_staff_cannot_approve_a_contract_of_an_activity_they_own(staff, staff_member, member):
    activity = member_services.create_activity(
        owner=staff_member, name="Festival", co_members=[member]
    )
    # Only the co-member works; the staff member owns the Activity that pays.
    contract = make_contract(member, activity, workers=[worker(member)])
    submit_contract(user=member.user, contract=contract, today=TODAY, now=NOW)
    with pytest.raises(ContractsError) as error:
        approve_contract(staff_user=staff_member.user, contract=contract, today=TODAY, now=NOW)
    assert error.value.code == "own_contract"
    assert_contract_waits(contract)


def client_of(member):
    from invoicing.services.clients import create_client

    client, _created = create_client(
        owner=member.user,
        kind="person",
        name="Jan Janssens",
        street="Kerkstraat 5",
        postal_code="2000",
        city="Antwerpen",
        country="BE",
        email="jan@example.com",
        language="nl",
    )
    return client


def assert_waits_for_review(document: Invoice) -> None:
    document.refresh_from_db()
    assert (document.status, document.number, document.issued_by) == (
        "pending_review",
        None,
        None,
    )


def test_staff_cannot_approve_an_invoice_of_their_own_activity(
    settings, staff, staff_member, admin_as
):
    settings.COOP_INVOICE_REVIEW_NEW_CLIENTS = True
    activity = member_services.create_activity(owner=staff_member, name="Ceramics")
    draft = make_draft(staff_member, activity, client_of(staff_member))
    invoice = submit_invoice(user=staff_member.user, invoice=draft, today=TODAY, now=NOW)
    assert invoice.status == "pending_review"

    with pytest.raises(InvoicingError) as error:
        approve_invoice(staff_user=staff_member.user, invoice=invoice, today=TODAY, now=NOW)
    assert (error.value.code, error.value.message) == ("own_document", OWN_DOCUMENT)
    assert_waits_for_review(invoice)

    page = admin_action(admin_as(staff_member.user), "invoicing_invoice", "approve", invoice.pk)
    assert escape(f"{invoice}: {OWN_DOCUMENT}") in page
    assert "document issued" not in page
    assert_waits_for_review(invoice)
    assert not LedgerEntry.objects.filter(activity=activity).exists()

    issued = approve_invoice(staff_user=staff, invoice=invoice, today=TODAY, now=NOW)
    assert (issued.status, issued.issued_by) == ("issued", staff)


def test_a_credit_note_is_issued_by_someone_other_than_who_requested_it(
    settings, staff, staff_member, member, activity, admin_as
):
    settings.COOP_INVOICE_REVIEW_NEW_CLIENTS = False
    invoice = submit_invoice(
        user=member.user,
        invoice=make_draft(member, activity, client_of(member)),
        today=TODAY,
        now=NOW,
    )
    assert invoice.status == "issued"
    browser = admin_as(staff_member.user)

    page = admin_action(
        browser, "invoicing_invoice", "credit_in_full", invoice.pk, reason="Show cancelled"
    )
    assert "1 credit note requested: another staff member approves it." in page
    credit_note = Invoice.objects.get(credited_invoice=invoice)
    assert (credit_note.created_by, credit_note.notes) == (staff_member.user, "Show cancelled")
    assert_waits_for_review(credit_note)

    with pytest.raises(InvoicingError) as error:
        approve_invoice(staff_user=staff_member.user, invoice=credit_note, today=TODAY, now=NOW)
    assert error.value.code == "own_document"
    page = admin_action(browser, "invoicing_invoice", "approve", credit_note.pk)
    assert escape(f"{credit_note}: {OWN_DOCUMENT}") in page
    assert_waits_for_review(credit_note)
    invoice.refresh_from_db()
    assert invoice.status == "issued"

    issued = approve_invoice(staff_user=staff, invoice=credit_note, today=TODAY, now=NOW)
    assert (issued.status, issued.number, issued.issued_by) == (
        "issued",
        "NC-2026-000001",
        staff,
    )


def test_a_member_requested_credit_note_is_not_approved_by_a_co_owner(
    settings, staff, staff_member, member
):
    settings.COOP_INVOICE_REVIEW_NEW_CLIENTS = False
    activity = member_services.create_activity(owner=member, name="Duo", co_members=[staff_member])
    invoice = submit_invoice(
        user=member.user,
        invoice=make_draft(member, activity, client_of(member)),
        today=TODAY,
        now=NOW,
    )
    credit_note = request_credit_note(user=member.user, invoice=invoice, reason="Cancelled")
    with pytest.raises(InvoicingError) as error:
        approve_invoice(staff_user=staff_member.user, invoice=credit_note, today=TODAY, now=NOW)
    assert error.value.code == "own_document"
    assert_waits_for_review(credit_note)
    assert approve_invoice(staff_user=staff, invoice=credit_note, today=TODAY, now=NOW).number


def test_staff_do_not_record_by_hand_a_payment_to_their_own_activity(
    settings, staff, staff_member, admin_as
):
    from invoicing.models import Payment
    from invoicing.services.payments import record_payment

    settings.COOP_INVOICE_REVIEW_NEW_CLIENTS = False
    activity = member_services.create_activity(owner=staff_member, name="Ceramics")
    invoice = submit_invoice(
        user=staff_member.user,
        invoice=make_draft(staff_member, activity, client_of(staff_member)),
        today=TODAY,
        now=NOW,
    )
    entries = LedgerEntry.objects.filter(activity=activity).count()
    message = (
        "This invoice is of an Activity you take part in: another staff member records its "
        "payments."
    )
    with pytest.raises(InvoicingError) as error:
        record_payment(
            invoice=invoice,
            amount=Decimal("10.00"),
            received_on=TODAY,
            actor=staff_member.user,
            now=NOW,
        )
    assert (error.value.code, error.value.message) == ("own_invoice", message)

    browser = admin_as(staff_member.user)
    response = browser.post(
        reverse("admin:invoicing_payment_add"),
        {"invoice": invoice.pk, "amount": "10.00", "received_on": TODAY.isoformat(), "note": ""},
        follow=True,
    )
    assert escape(message) in response.content.decode()
    response = api_as(staff_member.user).post(
        f"/api/v1/invoices/{invoice.pk}/payments/",
        {"amount": "10.00", "received_on": TODAY.isoformat()},
        format="json",
    )
    assert (response.status_code, response.json()["code"]) == (400, "own_invoice")
    assert not Payment.objects.exists()
    assert LedgerEntry.objects.filter(activity=activity).count() == entries
    invoice.refresh_from_db()
    assert invoice.status == "issued"

    record_payment(
        invoice=invoice, amount=Decimal("10.00"), received_on=TODAY, actor=staff, now=NOW
    )
    assert Payment.objects.get().recorded_by == staff
