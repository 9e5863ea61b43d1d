"""The admin as a staff workplace: decisions on a record's own page, the claims staff act on
listed first, forms that keep what was typed, sensitive values never shown back."""

import datetime
import re

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from contracts.models import Contract, ExpenseClaim
from contracts.services import expenses
from contracts.services.contracts import submit_contract
from invoicing.models import Invoice
from invoicing.services.issue import submit_invoice
from members.models import Member
from tests.conftest import make_member, make_user
from tests.contracts.conftest import make_contract, worker
from tests.contracts.test_payroll_run import claim_for
from tests.invoicing.conftest import NOW, TODAY, belgian_client, make_draft  # noqa: F401

TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.fixture
def staff_client(client, staff):
    TOTP.activate(staff, TOTP_SECRET)
    client.force_login(staff)
    return client


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def invoice_to_review(member, activity, belgian_client, settings):  # noqa: F811
    settings.COOP_INVOICE_REVIEW_NEW_CLIENTS = True
    draft = make_draft(member, activity, belgian_client)
    invoice = submit_invoice(user=member.user, invoice=draft, today=TODAY, now=NOW)
    assert invoice.status == Invoice.Status.PENDING_REVIEW
    return invoice


def action_buttons(html: str) -> dict[str, str]:
    """The decisions a change page offers: button label → the URL it posts to."""
    return {
        label.strip(): url
        for url, label in re.findall(r'formaction="([^"]+)">([^<]+)</button>', html)
    }


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_staff_approve_an_invoice_from_its_page_and_a_second_click_is_refused(
    staff_client, invoice_to_review
):
    page = staff_client.get(reverse("admin:invoicing_invoice_change", args=[invoice_to_review.pk]))
    buttons = action_buttons(page.content.decode())
    assert list(buttons) == ["Approve and issue", "Send back to the member"]
    assert 'name="csrfmiddlewaretoken"' in page.content.decode().split('class="object-actions"')[1]

    response = staff_client.post(buttons["Approve and issue"], follow=True)

    invoice_to_review.refresh_from_db()
    assert invoice_to_review.status == Invoice.Status.ISSUED
    assert invoice_to_review.number
    assert response.redirect_chain[-1][0] == reverse(
        "admin:invoicing_invoice_change", args=[invoice_to_review.pk]
    )
    assert messages_of(response) == ["1 document issued."]
    # Issued: the page offers a credit note, no longer an approval.
    assert list(action_buttons(response.content.decode())) == ["Request a full credit note"]

    # A second tab still showing the old page: refused with a message, nothing changes.
    again = staff_client.post(buttons["Approve and issue"], follow=True)
    assert again.status_code == 200
    assert len(messages_of(again)) == 1 and messages_of(again)[0].startswith(
        f"{invoice_to_review}: "
    )
    number = invoice_to_review.number
    invoice_to_review.refresh_from_db()
    assert (invoice_to_review.status, invoice_to_review.number) == (Invoice.Status.ISSUED, number)


def test_sending_an_invoice_back_from_its_page_keeps_the_reason(staff_client, invoice_to_review):
    url = reverse("admin:invoicing_invoice_object_action", args=[invoice_to_review.pk, "reject"])
    response = staff_client.post(url, {"reason": "Wrong client address"}, follow=True)
    invoice_to_review.refresh_from_db()
    assert invoice_to_review.status == Invoice.Status.REJECTED
    assert invoice_to_review.review_reason == "Wrong client address"
    assert messages_of(response) == ["1 invoice sent back."]


def test_sending_an_invoice_back_without_a_reason_says_so(staff_client, invoice_to_review):
    url = reverse("admin:invoicing_invoice_object_action", args=[invoice_to_review.pk, "reject"])
    response = staff_client.post(url, {"reason": " "}, follow=True)
    assert messages_of(response) == [f"{invoice_to_review}: Say why the invoice is sent back."]
    invoice_to_review.refresh_from_db()
    assert invoice_to_review.status == Invoice.Status.PENDING_REVIEW


def test_a_page_action_is_posted_with_csrf_and_permission(client, staff, invoice_to_review):
    url = reverse("admin:invoicing_invoice_object_action", args=[invoice_to_review.pk, "approve"])
    # Signed out: the admin's login page, nothing done.
    assert client.post(url).status_code == 302
    TOTP.activate(staff, TOTP_SECRET)
    client.force_login(staff)
    assert client.get(url).status_code == 405
    assert client.post(url.replace("/approve/", "/delete_selected/")).status_code == 403
    missing = reverse("admin:invoicing_invoice_object_action", args=[999999, "approve"])
    assert client.post(missing).status_code == 404

    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(staff)
    assert strict.post(url).status_code == 403
    invoice_to_review.refresh_from_db()
    assert invoice_to_review.status == Invoice.Status.PENDING_REVIEW


def test_staff_without_the_permission_see_no_button_and_are_refused(client, invoice_to_review):
    reader = make_user("reader@coop.test", is_staff=True)
    reader.user_permissions.add(Permission.objects.get(codename="view_member"))
    TOTP.activate(reader, TOTP_SECRET)
    client.force_login(reader)
    applicant = make_member(
        "applicant@example.org", legal_name="Zoë Applicant", niss="", active=False
    )
    page = client.get(reverse("admin:members_member_change", args=[applicant.pk]))
    assert page.status_code == 200
    assert action_buttons(page.content.decode()) == {}
    url = reverse("admin:members_member_object_action", args=[applicant.pk, "approve_applications"])
    assert client.post(url).status_code == 403
    applicant.refresh_from_db()
    assert applicant.status == Member.Status.APPLICANT


def test_staff_approve_an_application_from_its_page(staff_client):
    applicant = make_member(
        "applicant@example.org", legal_name="Zoë Applicant", niss="", active=False
    )
    page = staff_client.get(reverse("admin:members_member_change", args=[applicant.pk]))
    buttons = action_buttons(page.content.decode())
    assert list(buttons) == ["Approve the application", "Record the departure"]

    response = staff_client.post(buttons["Approve the application"], follow=True)

    applicant.refresh_from_db()
    assert applicant.approved_at is not None
    assert messages_of(response) == ["1 application approved."]
    assert "Approve the application" not in action_buttons(response.content.decode())


def test_staff_reject_a_contract_awaiting_approval_from_its_page(staff_client, member, activity):
    today = timezone.localdate()
    start = today + datetime.timedelta(days=14 - today.weekday())
    contract = make_contract(member, activity, workers=[worker(member, start=start)], today=today)
    submit_contract(user=member.user, contract=contract, today=today)
    page = staff_client.get(
        reverse("admin:contracts_contractawaitingapproval_change", args=[contract.pk])
    )
    buttons = action_buttons(page.content.decode())
    assert list(buttons) == ["Approve and declare (Dimona)", "Request changes", "Reject"]

    response = staff_client.post(buttons["Reject"], {"reason": "No budget left"}, follow=True)

    contract.refresh_from_db()
    assert contract.status == Contract.Status.REJECTED
    assert contract.events.last().reason == "No budget left"
    assert messages_of(response) == ["1 contract rejected."]
    # No longer awaiting approval: back to that list, with the next one to decide.
    assert response.redirect_chain[-1][0] == reverse(
        "admin:contracts_contractawaitingapproval_changelist"
    )


def test_staff_approve_an_expense_claim_from_its_page(staff_client, member, activity):
    claim = claim_for(member, activity)
    page = staff_client.get(reverse("admin:contracts_expenseclaim_change", args=[claim.pk]))
    buttons = action_buttons(page.content.decode())
    assert list(buttons) == ["Approve the claim", "Reject the claim"]

    response = staff_client.post(buttons["Approve the claim"], follow=True)

    claim.refresh_from_db()
    assert claim.status == ExpenseClaim.Status.APPROVED
    assert messages_of(response) == ["1 claim approved."]
    assert action_buttons(response.content.decode()) == {}


def test_expense_claims_list_sent_claims_by_default_and_drafts_on_request(
    staff_client, member, activity
):
    sent = claim_for(member, activity)
    draft = expenses.start_expense_claim(
        user=member.user, activity=activity, description="Tour expenses, still gathering"
    )
    url = reverse("admin:contracts_expenseclaim_changelist")

    def listed(query: str = "") -> set[int]:
        response = staff_client.get(url + query)
        assert response.status_code == 200
        return {claim.pk for claim in response.context["cl"].result_list}

    assert listed() == {sent.pk}
    assert listed("?status=draft") == {draft.pk}
    assert listed("?status=all") == {sent.pk, draft.pk}
    assert listed("?status=submitted") == {sent.pk}
    assert listed("?status=nonsense") == set()
    page = staff_client.get(url).content.decode()
    assert "Sent to staff (not drafts)" in page and "All, drafts included" in page


def test_the_payroll_form_keeps_its_dates_after_an_error(staff_client):
    response = staff_client.post(
        reverse("admin:contracts_payrollrun_run"),
        {"period_start": "2026-03-31", "period_end": "2026-03-01"},
    )
    html = response.content.decode()
    assert "The period ends before it starts." in html
    assert 'name="period_start" value="2026-03-31"' in html
    assert 'name="period_end" value="2026-03-01"' in html


def test_the_members_list_fits_a_laptop_screen(staff_client, member):
    """Beside the menu and the filters, a 1366 px screen leaves room for four columns."""
    response = staff_client.get(reverse("admin:members_member_changelist"))
    headers = re.findall(r'<th scope="col" class="[^"]*column-([a-z_]+)', response.content.decode())
    assert headers == ["legal_name", "email", "status", "shares_paid"]
    assert b"css/admin.css" in response.content


def member_form(member, **changes) -> dict:
    return {
        "user": member.user.pk,
        "legal_name": member.legal_name,
        "street": member.street,
        "postal_code": member.postal_code,
        "city": member.city,
        "country": "BE",
        "phone": member.phone,
        "preferred_language": "fr",
        "new_iban": "",
        "new_niss": "",
        "shares-TOTAL_FORMS": "1",
        "shares-INITIAL_FORMS": "1",
        "shares-MIN_NUM_FORMS": "0",
        "shares-MAX_NUM_FORMS": "1000",
        "shares-0-id": member.shares.get().pk,
        "shares-0-member": member.pk,
        "events-TOTAL_FORMS": "0",
        "events-INITIAL_FORMS": str(member.events.count()),
        "events-MIN_NUM_FORMS": "0",
        "events-MAX_NUM_FORMS": "1000",
        **changes,
    }


def test_the_national_number_and_the_iban_are_write_only_on_the_member_page(staff_client, member):
    url = reverse("admin:members_member_change", args=[member.pk])
    page = staff_client.get(url).content.decode()
    assert "BE71 **** **** 6769" in page and "**.**.**-***.28" in page
    for secret in ("BE71096123456769", "BE71 0961 2345 6769", "85073003328", "85.07.30-033.28"):
        assert secret not in page
    assert re.search(r'<input type="password" name="new_niss"[^>]*autocomplete="off"', page)
    assert re.search(r'<input type="password" name="new_iban"[^>]*autocomplete="off"', page)

    # An error elsewhere in the form: what was typed in the sensitive fields is not put back.
    refused = staff_client.post(
        url,
        member_form(member, legal_name="", new_niss="17.07.30-033.84", new_iban="BE09734123456757"),
    )
    html = refused.content.decode()
    assert refused.status_code == 200 and "This field is required." in html
    assert "17.07.30-033.84" not in html and "BE09734123456757" not in html
    member.refresh_from_db()
    assert (member.niss, member.iban) == ("85073003328", "BE71096123456769")

    # Left empty, both keep their values; a new IBAN is checked and saved.
    assert staff_client.post(url, member_form(member, city="Gent")).status_code == 302
    member.refresh_from_db()
    assert (member.city, member.niss, member.iban) == ("Gent", "85073003328", "BE71096123456769")
    wrong = staff_client.post(url, member_form(member, new_iban="BE71096123456768"))
    assert wrong.status_code == 200
    assert wrong.context["adminform"].form.errors["new_iban"]
    assert (
        staff_client.post(url, member_form(member, new_iban="BE09 7341 2345 6757")).status_code
        == 302
    )
    member.refresh_from_db()
    assert member.iban == "BE09734123456757"


def test_payments_are_listed_by_the_date_received_newest_first(
    staff_client,
    staff,
    member,
    activity,
    belgian_client,  # noqa: F811
    settings,
):
    from decimal import Decimal

    from invoicing.models import Payment
    from invoicing.services.payments import record_payment

    settings.COOP_INVOICE_REVIEW_NEW_CLIENTS = False
    draft = make_draft(member, activity, belgian_client)
    invoice = submit_invoice(user=member.user, invoice=draft, today=TODAY, now=NOW)
    assert invoice.is_issued
    later = record_payment(
        invoice=invoice,
        amount=Decimal("20.00"),
        received_on=TODAY + datetime.timedelta(days=10),
        actor=staff,
    )
    # Recorded afterwards, for money received earlier: it takes its place by date.
    earlier = record_payment(
        invoice=invoice, amount=Decimal("10.00"), received_on=TODAY, actor=staff
    )

    listed = staff_client.get(reverse("admin:invoicing_payment_changelist"))
    assert list(listed.context["cl"].result_list) == [later, earlier]
    page = staff_client.get(reverse("admin:invoicing_invoice_change", args=[invoice.pk]))
    inline = next(
        formset
        for formset in page.context["inline_admin_formsets"]
        if formset.formset.model is Payment
    )
    assert [form.instance for form in inline.formset.forms] == [later, earlier]


def test_staff_add_a_member_with_a_write_only_iban_and_pick_the_user_by_autocomplete(
    staff_client,
):
    user = make_user("new.member@example.org")
    url = reverse("admin:members_member_add")
    page = staff_client.get(url).content.decode()
    assert re.search(r'<select name="user"[^>]*class="admin-autocomplete"', page)
    data = {
        "user": user.pk,
        "legal_name": "Nora Nieuw",
        "street": "Rue Ransfort 27",
        "postal_code": "1080",
        "city": "Molenbeek-Saint-Jean",
        "country": "BE",
        "phone": "",
        "preferred_language": "nl",
        "new_iban": "",
        "new_niss": "",
        "shares-TOTAL_FORMS": "0",
        "shares-INITIAL_FORMS": "0",
        "shares-MIN_NUM_FORMS": "0",
        "shares-MAX_NUM_FORMS": "1000",
        "events-TOTAL_FORMS": "0",
        "events-INITIAL_FORMS": "0",
        "events-MIN_NUM_FORMS": "0",
        "events-MAX_NUM_FORMS": "1000",
    }
    refused = staff_client.post(url, data)
    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors["new_iban"] == ["Enter the member's IBAN."]
    assert not Member.objects.filter(user=user).exists()

    assert staff_client.post(url, {**data, "new_iban": "BE09 7341 2345 6757"}).status_code == 302
    member = Member.objects.get(user=user)
    assert (member.iban, member.status) == ("BE09734123456757", Member.Status.APPLICANT)
    # On the new member's page the user is shown, no longer a field to change.
    page = staff_client.get(reverse("admin:members_member_change", args=[member.pk]))
    assert 'name="user"' not in page.content.decode()
