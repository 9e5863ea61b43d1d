"""A member's first weeks, in French: from signing up to a paid invoice and a payslip."""

import datetime
import re
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from contracts.models import Payslip
from contracts.services.contracts import approve_contract, submit_contract
from contracts.services.payroll import run_payroll
from coop.documents import DocumentStatus
from invoicing.models import Invoice, InvoiceDocument
from invoicing.services.issue import approve_invoice
from invoicing.services.payments import record_payment
from members import services
from members.models import Member
from tests.conftest import make_user
from tests.contracts.conftest import make_contract, weekdays, worker
from tests.journeys import pages
from tests.journeys.conftest import DESKTOP, PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "lea.martin@example.be"
PASSWORD = "un-mot-de-passe-assez-long-2026"


def confirmation_link() -> str:
    """The e-mail confirmation address allauth sent."""
    (message,) = mail.outbox
    return re.search(r"https?://\S+/accounts/confirm-email/\S+/", message.body).group(0)


def staff_approve_and_record_share(staff, email: str) -> Member:
    """What staff do in the admin (the staff journey walks it there): approve, share paid."""
    member = Member.objects.get(user__email=email)
    services.approve_application(member=member, actor=staff)
    services.record_share_payment(
        subscription=member.shares.get(), paid_on=timezone.localdate(), actor=staff
    )
    return member


def pay_last_month_work(staff, member: Member) -> Payslip:
    """A contract worked three days last month, approved before it began, then paid.

    Staff approve contracts and run payroll in the admin (the staff journey); here the dates
    have to lie in the past, which the pages, working on today, cannot give.
    """
    today = timezone.localdate()
    first_day = today - datetime.timedelta(days=28)
    days = weekdays(first_day, 3)
    activity = member.activities.get()
    contract = make_contract(
        member,
        activity,
        workers=[worker(member, wage="250.00", days=days)],
        today=first_day - datetime.timedelta(days=3),
        title="Affiches du festival",
        amount_to_invoice=Decimal("1500.00"),
    )
    before = first_day - datetime.timedelta(days=2)
    submit_contract(user=member.user, contract=contract, today=before)
    approve_contract(staff_user=staff, contract=contract, today=before)
    run_payroll(staff_user=staff, period_start=days[0], period_end=days[-1], today=today)
    return Payslip.objects.get(worker__contract=contract)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_member_signs_up_invoices_is_paid_and_sees_a_payslip(open_page, viewport):
    """Léa signs up, applies, opens an Activity, invoices a client, is paid and sees her pay.

    Through the pages: sign-up, the e-mail confirmation link, the application, the Activity,
    the client, the invoice draft with two lines, its submission, then the paid invoice, the
    Activity's balance and the payslip as she sees them. Through services, what staff do in
    the admin (walked by the staff journey): approving the application, recording the share
    payment, issuing the invoice held for review, recording the client's payment, approving
    her contract and running payroll (the last two dated in the past, which pages cannot do).
    """
    staff = make_user("camille.staff@coop.test", is_staff=True, is_superuser=True)
    page = open_page(language="fr", viewport=viewport)

    pages.sign_up(page, email=EMAIL, password=PASSWORD)
    pages.confirm_email(page, confirmation_link())
    expect(page.locator("h1")).to_have_text(pages.words(page, "Welcome to coop"))

    pages.apply_for_membership(
        page,
        legal_name="Léa Martin",
        street="Rue Ransfort 27",
        postal_code="1080",
        city="Molenbeek-Saint-Jean",
        country="BE",
        phone="+32 2 542 10 80",
        preferred_language="fr",
        iban="BE71 0961 2345 6769",
        niss="85.07.30-033.28",
        number_of_shares="1",
        accept_statutes="on",
    )
    pages.expect_message(
        page, "Thank you! Your application was received. Staff will review it shortly."
    )
    member = staff_approve_and_record_share(staff, EMAIL)

    page.goto("/")
    pages.open_activity(page, name="Illustration", description="Affiches et livres")
    activity = member.activities.get()
    expect(page).to_have_url(re.compile(f"/activities/{activity.pk}/$"))

    pages.add_client(
        page,
        kind="company",
        name="Théâtre des Galeries",
        street="Galerie du Roi 32",
        postal_code="1000",
        city="Bruxelles",
        country="BE",
        email="compta@galeries.example.be",
        language="fr",
    )
    pages.fill_invoice(
        page,
        header={
            "activity": str(activity.pk),
            "client": {"label": "Théâtre des Galeries"},
            "buyer_reference": "Saison 2027",
            "supply_date": timezone.localdate().isoformat(),
        },
        lines=[
            {
                "description": "Affiche du festival",
                "quantity": "1",
                "unit": "piece",
                "unit_price": "800.00",
            },
            {"description": "Déclinaisons", "quantity": "4", "unit": "hour", "unit_price": "50.00"},
        ],
    )
    # The lines table scrolls inside its box; the page itself does not scroll sideways.
    assert pages.page_width(page) <= viewport["width"]
    pages.save_draft(page)
    invoice = Invoice.objects.get(activity=activity)
    assert invoice.status == Invoice.Status.DRAFT
    assert (invoice.total_excl_vat, invoice.total_vat) == (Decimal("1000.00"), Decimal("210.00"))
    expect(page.locator("main")).to_contain_text(pages.euro(Decimal("1210.00"), "fr"))

    pages.submit_invoice(page)
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PENDING_REVIEW  # a client never invoiced before

    approve_invoice(staff_user=staff, invoice=invoice)
    invoice.refresh_from_db()
    record_payment(
        invoice=invoice,
        amount=invoice.total_incl_vat,
        received_on=timezone.localdate(),
        actor=staff,
    )
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    pdf = invoice.documents.get(format=InvoiceDocument.Format.PDF)
    assert pdf.status == DocumentStatus.READY

    page.goto(f"/invoices/{invoice.pk}/")
    expect(page.locator("main")).to_contain_text(invoice.number)
    expect(page.locator("main .badge").first).to_have_text(pages.words(page, "Paid"))
    download = page.locator("main").get_by_role("link", name=pages.words(page, "Download PDF"))
    expect(download).to_be_visible()

    page.goto(f"/activities/{activity.pk}/")
    # 1,000.00 excl. VAT received, less the cooperative's 6.5 % fee.
    expect(page.locator("main")).to_contain_text(pages.euro(Decimal("935.00"), "fr"))

    payslip = pay_last_month_work(staff, member)
    assert payslip.status == DocumentStatus.READY
    page.goto("/payslips/")
    assert pages.page_width(page) <= viewport["width"]
    row = page.locator("main tbody tr", has_text=payslip.reference)
    expect(row).to_contain_text(pages.euro(payslip.net, "fr"))
    expect(row.get_by_role("link", name=pages.words(page, "Download"))).to_be_visible()
