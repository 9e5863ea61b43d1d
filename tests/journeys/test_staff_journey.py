"""Staff, in Dutch, from an application to the payroll run, signing in with their authenticator."""

import datetime
from decimal import Decimal

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.utils import timezone
from playwright.sync_api import expect

from contracts.models import Contract, PayrollRun
from contracts.services.contracts import approve_contract, submit_contract
from invoicing.models import Invoice
from invoicing.services.clients import create_client
from invoicing.services.drafts import save_draft
from invoicing.services.issue import submit_invoice
from members import services
from members.models import Member
from tests.conftest import PASSWORD, make_member, make_user
from tests.contracts.conftest import make_contract, weekdays, worker
from tests.invoicing.conftest import line
from tests.journeys import pages
from tests.journeys.pages_admin import add_payment, run_action, run_payroll

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def test_staff_approve_issue_record_and_run_payroll(open_page):
    """Camille signs in with TOTP and does a day's work in the admin, in Dutch.

    Through the admin: approving an application and recording its share payment (list
    actions), issuing an invoice held for review, recording its payment, approving a contract
    before its first work day, and running payroll. Prepared through services, as members
    would in their pages: the application, a submitted invoice to a new client, a submitted
    contract starting next week, and a contract worked last month, approved in time (its
    dates lie in the past, which no page can give).
    """
    staff = make_user("camille.staff@coop.test", is_staff=True, is_superuser=True)
    TOTP.activate(staff, SECRET)
    applicant = make_member(
        "noah@example.be", legal_name="Noah Janssens", niss="17073003384", active=False
    )
    colleague = make_user("approver@coop.test", is_staff=True, is_superuser=True)
    member = make_member(
        "ana@example.be", legal_name="Ana Peeters", niss="85073003328", approver=colleague
    )
    activity = services.create_activity(owner=member, name="Illustration")
    today = timezone.localdate()
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
    )
    draft = save_draft(
        user=member.user, activity=activity, client=client, lines=[line()], today=today
    )
    invoice = submit_invoice(user=member.user, invoice=draft)
    assert invoice.status == Invoice.Status.PENDING_REVIEW
    upcoming = make_contract(
        member,
        activity,
        workers=[worker(member, days=weekdays(today + datetime.timedelta(days=7), 2))],
        today=today,
        title="Affiches",
    )
    submit_contract(user=member.user, contract=upcoming, today=today)
    worked = weekdays(today - datetime.timedelta(days=28), 3)
    past = make_contract(
        member,
        activity,
        workers=[worker(member, wage="250.00", days=worked)],
        today=worked[0] - datetime.timedelta(days=3),
        title="Décors",
    )
    before = worked[0] - datetime.timedelta(days=2)
    submit_contract(user=member.user, contract=past, today=before)
    approve_contract(staff_user=colleague, contract=past, today=before)

    page = open_page(language="nl")
    pages.sign_in(page, email=staff.email, password=PASSWORD)
    pages.give_authenticator_code(page, pages.current_code(SECRET))
    page.goto("/admin/")
    expect(page.locator("#site-name, h1").first).to_be_visible()

    run_action(page, "/admin/members/member/", applicant.pk, "approve_applications")
    applicant.refresh_from_db()
    assert applicant.is_approved
    share = applicant.shares.get()
    run_action(page, "/admin/members/sharesubscription/", share.pk, "mark_paid_today")
    applicant.refresh_from_db()
    assert applicant.status == Member.Status.ACTIVE

    run_action(page, "/admin/invoicing/invoice/", invoice.pk, "approve")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.ISSUED and invoice.number

    add_payment(page, invoice=invoice, amount=invoice.total_incl_vat, received_on=today)
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID

    run_action(page, "/admin/contracts/contract/", upcoming.pk, "approve")
    upcoming.refresh_from_db()
    assert upcoming.status == Contract.Status.APPROVED

    run_payroll(page, period_start=worked[0], period_end=worked[-1])
    payroll = PayrollRun.objects.get()
    assert payroll.payslip_count == 1
    assert payroll.total_employer_cost > Decimal("0.00")
    expect(page.locator("#content")).to_contain_text(str(payroll.payslip_count))
