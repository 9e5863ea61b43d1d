"""The payroll year in the browser: a member downloads the documents of their year (281.10,
artist work statement, copyright statement), and staff export the year's Belcotax-on-web file
and a quarter's DmfA file from the admin, both checked against the official schemas."""

import datetime
import re
from decimal import Decimal

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.urls import reverse
from django.utils import timezone
from lxml import etree
from playwright.sync_api import Page, expect

from contracts.models import Contract, Payslip
from contracts.statements import work_statement
from copyrights.models import CopyrightParameters, CopyrightPayment
from copyrights.services import approve_copyright_payment
from declarations import dmfa
from declarations.models import DmfaExport
from declarations.selectors import Quarter, quarter_totals
from taxforms import belcotax
from taxforms.models import BelcotaxExport, Form, TaxCertificate
from taxforms.services import prepare_certificates
from tests.conftest import PASSWORD
from tests.contracts.test_payroll_run import pdf_text
from tests.copyrights.conftest import record
from tests.declarations.conftest import quarter_jobs, quarter_paid  # noqa: F401
from tests.journeys import pages
from tests.taxforms.conftest import pay

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

D = Decimal
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
# The income year whose certificates a member downloads now: the last one, always inside the
# work statement's 24 months.
YEAR = timezone.localdate().year - 1


@pytest.fixture(autouse=True)
def copyright_parameters_of_the_year(journey):
    """The newest copyright figures, for the last year if its own are not entered yet."""
    if not CopyrightParameters.objects.filter(income_year=YEAR).exists():
        row = CopyrightParameters.objects.filter(income_year__lt=YEAR).latest("income_year")
        row.pk, row.income_year, row.is_unverified = None, YEAR, True
        row.save()


def pay_task_based_and_copyright(staff, member, activity) -> tuple[Payslip, CopyrightPayment]:
    """Ana's artistic work of May, paid for the task (€2,300.00 for 4 days), and a copyright
    payment of €10,000.00 for her illustrations, both paid by the same payroll run."""
    start = datetime.date(YEAR, 5, 12)
    payment = record(member, activity, "10000.00", today=start - datetime.timedelta(days=14))
    approve_copyright_payment(staff_user=staff, payment=payment)
    payslip = pay(
        staff,
        member,
        activity,
        start=start,
        count=4,
        wage="575.00",
        kind=Contract.Kind.ARTISTIC,
        is_task_based=True,
    )
    payment.refresh_from_db()
    assert payment.status == CopyrightPayment.Status.PAID
    return payslip, payment


def download(page: Page, link) -> tuple[str, bytes]:
    """Click a download link; return the file's suggested name and its content."""
    with page.expect_download() as started:
        link.click()
    got = started.value
    with open(got.path(), "rb") as file:
        return got.suggested_filename, file.read()


def one_line(content: bytes) -> str:
    """A PDF's text on one line, its spaces (no-break ones too) as single spaces."""
    return " ".join(pdf_text(content).split())


def in_pdf(amount: Decimal, language: str) -> str:
    """An amount as ``one_line`` reads it in a PDF written in ``language``."""
    return " ".join(pages.euro(amount, language).split())


def test_member_downloads_281_10_work_statement_and_copyright_statement(
    open_page, staff, member, activity, other_member, other_activity
):
    # Ana's year: 10 days at €400 in March, a task paid €2,300.00 in May, €10,000.00 of
    # copyright income; Lucas, another member, paid in June.
    march = pay(staff, member, activity, start=datetime.date(YEAR, 3, 3), count=10, wage="400.00")
    task, copyright_payment = pay_task_based_and_copyright(staff, member, activity)
    pay(staff, other_member, other_activity, start=datetime.date(YEAR, 6, 2), count=3, wage="250")
    assert (march.gross, task.gross) == (D("4000.00"), D("2300.00"))
    assert (copyright_payment.gross, copyright_payment.net) == (D("10000.00"), D("9250.00"))
    # Staff prepared the year's certificates (rendered at once: the tasks run eagerly).
    prepare_certificates(year=YEAR, staff_user=staff)
    mine = TaxCertificate.objects.get(member=member, form=Form.SALARY)
    theirs = TaxCertificate.objects.get(member=other_member, form=Form.SALARY)
    assert mine.figures["gross"] == "6300.00"

    page = open_page(language="en")
    pages.sign_in(page, email=member.user.email, password=PASSWORD)
    # From the site's menu to the payslips, then to the tax certificates.
    page.locator(f"header a[href='{reverse('contracts:payslips')}']").first.click()
    page.wait_for_load_state()
    subnav = page.locator("main nav.subnav")
    subnav.get_by_role("link", name=pages.words(page, "Tax certificates"), exact=True).click()
    page.wait_for_load_state()
    expect(page.locator("main h1")).to_have_text(pages.words(page, "Tax certificates"))
    # The 281.10 of her pay and the 281.45 of her copyright income.
    expect(page.locator("main table tbody tr")).to_have_count(2)
    row = page.locator("main table tbody tr").filter(has_text=mine.reference)
    name, content = download(page, row.get_by_role("link", name=pages.words(page, "Download")))
    assert name == f"28110-{YEAR}-000001.pdf"
    assert content.startswith(b"%PDF")
    text = one_line(content)
    figures = {key: D(value) for key, value in mine.figures.items()}
    for amount in (D("6300.00"), figures["personal_onss"], figures["withholding_tax"]):
        assert in_pdf(amount, "fr") in text, amount  # in the member's language, French
    assert "Ana Peeters" in text and "Lucas Dubois" not in text
    # Another member's certificate is not found, not forbidden: its existence is not told.
    response = page.goto(reverse("taxforms:certificate-download", args=[theirs.pk]))
    assert response.status == 404

    # The work statement: 10 days under contract in the first quarter, the task by the cachet
    # rule in the second.
    page.goto(reverse("taxforms:certificates"))
    subnav.get_by_role("link", name=pages.words(page, "Work statement"), exact=True).click()
    page.wait_for_load_state()
    statement = work_statement(member, today=timezone.localdate())
    quarters = {quarter.label: quarter for quarter in statement.quarters}
    # €2,300.00 / €76.70 = 29.98: 29 days, rounded down.
    assert (quarters[f"{YEAR} Q2"].task_gross, quarters[f"{YEAR} Q2"].cachet_days) == (
        D("2300.00"),
        29,
    )
    assert (quarters[f"{YEAR} Q1"].contract_days, statement.total_days) == (D("10"), D("39"))
    table = page.locator("main table").first
    expect(table).to_contain_text(pages.euro(D("6300.00"), "en"))
    name, content = download(page, page.locator("main a[href$='?language=en']"))
    assert re.fullmatch(r"work-statement-\d{4}-\d{2}-\d{2}-en\.pdf", name), name
    assert content.startswith(b"%PDF")
    text = one_line(content)
    assert "Statement of days worked and pay" in text and "Ana Peeters" in text
    assert f"{YEAR} Q2 0 {in_pdf(D('2300.00'), 'en')} 29 29 " in text
    assert f"Total 39 {in_pdf(D('6300.00'), 'en')}" in text
    assert "39 days in 24 months: 117 more to reach the 156 days" in text

    # The copyright statement of the paid payment.
    subnav.get_by_role("link", name=pages.words(page, "Copyright payments"), exact=True).click()
    page.wait_for_load_state()
    row = page.locator("main table tbody tr").filter(has_text=copyright_payment.reference)
    name, content = download(page, row.get_by_role("link", name=pages.words(page, "Download")))
    assert name == f"{copyright_payment.statement.reference}.pdf"
    assert content.startswith(b"%PDF")
    text = one_line(content)
    for amount in ("10000.00", "750.00", "9250.00"):
        assert in_pdf(D(amount), "fr") in text, amount


def validate(content: bytes, schema_path) -> list[str]:
    """Validate with lxml against a committed official schema, read straight from disk."""
    schema = etree.XMLSchema(etree.parse(str(schema_path)))
    schema.validate(etree.fromstring(content))
    return [str(error) for error in schema.error_log]


def test_staff_export_belcotax_and_dmfa_from_the_admin(
    open_page,
    staff,
    member,
    activity,
    other_member,
    other_activity,
    quarter_paid,  # noqa: F811
):
    # The last year: Ana 10 days at €400, Lucas 3 days at €250 (DmfA: the first quarter of 2026).
    pay(staff, member, activity, start=datetime.date(YEAR, 3, 3), count=10, wage="400.00")
    pay(staff, other_member, other_activity, start=datetime.date(YEAR, 6, 2), count=3, wage="250")
    TOTP.activate(staff, SECRET)
    page = open_page(language="nl")
    pages.sign_in(page, email=staff.email, password=PASSWORD)
    pages.give_authenticator_code(page, pages.current_code(SECRET))

    # Belcotax: from the exports' list to the year's page, prepare, then export.
    page.goto(reverse("admin:taxforms_belcotaxexport_changelist"))
    page.locator(f"a[href='{reverse('admin:taxforms_belcotaxexport_year')}']").click()
    page.wait_for_load_state()
    content = page.locator("#content")
    # The last year is shown first; staff may choose it by its label too.
    year_field = content.get_by_label(pages.words(page, "Income year"))
    expect(year_field).to_have_value(str(YEAR))
    year_field.fill(str(YEAR))
    content.get_by_role("button", name=pages.words(page, "Show"), exact=True).click()
    page.wait_for_load_state()
    page.locator("#content input[name=prepare]").click()
    page.wait_for_load_state()
    expect(page.locator("ul.messagelist li.success")).to_contain_text(str(YEAR))
    assert TaxCertificate.objects.filter(year=YEAR, form=Form.SALARY).count() == 2

    def total(msgid: str):
        header = page.get_by_role("rowheader", name=pages.words(page, msgid), exact=True)
        return content.locator("tbody tr").filter(has=header).locator("td")

    expect(total("281.10 fiches")).to_have_text("2")
    expect(total("281.45 fiches")).to_have_text("0")
    control_total = total("Sum of the control totals (r9013)").inner_text()
    page.locator("#content input[name=export]").click()
    page.wait_for_load_state()
    export = BelcotaxExport.objects.get()
    expect(page).to_have_url(
        re.compile(re.escape(reverse("admin:taxforms_belcotaxexport_change", args=[export.pk])))
    )
    name, xml = download(
        page,
        content.locator(
            f"a[href='{reverse('admin:taxforms_belcotaxexport_file', args=[export.pk])}']"
        ),
    )
    assert name == export.file.name.rsplit("/", 1)[-1] and name.endswith(".xml")
    _schema_year, schema_path = belcotax.schema_for(YEAR)
    assert validate(xml, schema_path) == []
    root = etree.fromstring(xml)
    assert len(root.findall(".//Fiche28110")) == 2
    assert export.fiche_count == 2
    assert int(root.findtext(".//r9013_controletotaal")) == int(export.control_total * 100)
    # What the page showed before the export is what the file declares.
    assert " ".join(control_total.split()) == " ".join(
        pages.euro(export.control_total, "nl").split()
    )

    # DmfA: from the exports' list to the quarter's totals, then the export.
    q1 = Quarter(2026, 1)
    totals = quarter_totals(q1)
    assert (totals.gross, totals.contributions) == (D("6384.08"), D("2582.70"))
    page.goto(reverse("admin:declarations_dmfaexport_changelist"))
    page.locator(f"a[href='{reverse('admin:declarations_dmfaexport_quarter')}']").click()
    page.wait_for_load_state()
    page.locator("#content input[name=quarter]").fill(str(q1))
    page.locator("#content form[method=get] [type=submit]").click()
    page.wait_for_load_state()
    footer = content.locator("tfoot tr")
    expect(footer).to_contain_text(pages.euro(D("6384.08"), "nl"))
    expect(footer).to_contain_text(pages.euro(D("2582.70"), "nl"))
    expect(content.locator("table").first.locator("tbody tr")).to_have_count(3)
    page.locator("#content form[method=post] [type=submit]").click()
    page.wait_for_load_state()
    export = DmfaExport.objects.get()
    expect(page.locator("ul.messagelist li.success")).to_contain_text(export.filename)
    name, xml = download(
        page,
        content.locator(
            f"a[href='{reverse('admin:declarations_dmfaexport_file', args=[export.pk])}']"
        ),
    )
    assert name == export.filename
    assert validate(xml, dmfa.SCHEMA_FOLDER / dmfa.SCHEMA_FILE) == []
    assert dmfa.schema_errors(xml) == []
    root = etree.fromstring(xml)
    assert root.findtext("Form/EmployerDeclaration/Quarter") == "20261"
    assert root.findtext("Form/EmployerDeclaration/NetOwedAmount") == str(52692 + 164462 + 41116)
