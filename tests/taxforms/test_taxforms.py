"""281.10 / 281.45 certificates and the Belcotax-on-web file: sums of the year, the official
XSD, exact control totals, corrections, PDFs and who may download them."""

import datetime
from decimal import Decimal

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.core.management import call_command
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone, translation
from lxml import etree

from audit.models import AuditEvent
from contracts.models import Payslip
from contracts.services.payroll import correct_payslip, run_payroll
from coop.templatetags.money import euro
from copyrights.services import approve_copyright_payment
from members.services import create_activity
from taxforms import belcotax
from taxforms.documents import render_certificate
from taxforms.errors import TaxformsError
from taxforms.models import BelcotaxExport, Form, TaxCertificate
from taxforms.services import export_belcotax, prepare_certificates
from taxforms.sources import CopyrightYear, copyright_years
from tests.conftest import NOW
from tests.contracts.test_payroll_run import pdf_text
from tests.copyrights.conftest import record
from tests.pdf_layout import check_layout
from tests.taxforms.conftest import YEAR, pay

D = Decimal
SCHEMA = belcotax.SCHEMAS / "2024" / "Belcotax-2024.xsd"
# Prepared and exported at the beginning of the next year, as the law asks.
EXPORT_TIME = datetime.datetime(2026, 2, 10, 9, 0, tzinfo=datetime.UTC)


def xsd_errors(content: bytes) -> list[str]:
    """Validate with lxml against the committed official schema, read straight from disk."""
    assert belcotax.sha256(SCHEMA.read_bytes()) == belcotax.recorded_checksums(2024)[SCHEMA.name]
    schema = etree.XMLSchema(etree.parse(str(SCHEMA)))
    schema.validate(etree.fromstring(content))
    return [str(error) for error in schema.error_log]


def ints(root, path: str) -> list[int]:
    return [int(element.text) for element in root.iterfind(path)]


@pytest.fixture
def paid_year(staff, member, activity, other_member, other_activity):
    """Ana paid in March and October 2025 (and in January 2026), Lucas in June 2025."""
    pay(staff, member, activity, start=datetime.date(YEAR, 3, 3), count=10, wage="400.00")
    pay(staff, member, activity, start=datetime.date(YEAR, 10, 6), count=5, wage="300.00")
    pay(staff, other_member, other_activity, start=datetime.date(YEAR, 6, 2), count=3, wage="250")
    pay(staff, member, activity, start=datetime.date(YEAR + 1, 1, 5), count=2, wage="200.00")


def euro_in(language: str, amount: Decimal) -> str:
    with translation.override(language):
        return euro(amount)


def sums_of(member, year=YEAR) -> dict[str, Decimal]:
    names = (
        "gross",
        "personal_onss",
        "work_bonus",
        "taxable",
        "withholding_tax",
        "special_contribution",
    )
    return Payslip.objects.filter(member=member, pay_date__year=year).aggregate(
        **{name: Sum(name) for name in names}
    )


def test_the_281_10_sums_the_payslips_paid_in_the_year(staff, member, paid_year):
    prepared = prepare_certificates(year=YEAR, staff_user=staff, now=EXPORT_TIME)

    assert (prepared.created, prepared.corrected, prepared.unchanged) == (2, 0, 0)
    certificate = TaxCertificate.objects.get(member=member, form=Form.SALARY)
    # 10 days at 400 and 5 at 300; the January 2026 payslip belongs to the next year.
    assert certificate.figures["gross"] == "5500.00"
    # 13.07 % of 4,000.00 and of 1,500.00.
    assert certificate.figures["personal_onss"] == str(D("522.80") + D("196.05"))
    assert {name: D(value) for name, value in certificate.figures.items()} == sums_of(member)
    assert D(certificate.figures["withholding_tax"]) > 0
    assert (certificate.year, certificate.sequence, certificate.version) == (YEAR, 1, 1)
    assert certificate.language == "fr"
    event = AuditEvent.objects.get(action="prepared")
    assert event.actor == staff and event.changes["created"] == [None, 2]
    # Preparing again with the same payslips changes nothing.
    again = prepare_certificates(year=YEAR, staff_user=staff, now=EXPORT_TIME)
    assert (again.created, again.corrected, again.unchanged) == (0, 0, 2)


@pytest.mark.parametrize("language", ["fr", "nl", "en"])
def test_the_pdf_shows_the_exact_amounts_in_the_member_language(staff, member, paid_year, language):
    member.preferred_language = language
    member.save(update_fields=["preferred_language"])
    prepare_certificates(year=YEAR, staff_user=staff, now=EXPORT_TIME)
    certificate = TaxCertificate.objects.get(member=member, form=Form.SALARY)
    assert render_certificate(certificate=certificate) is True
    certificate.refresh_from_db()
    content = certificate.file.read()
    assert belcotax.sha256(content) == certificate.sha256
    text = pdf_text(content)
    sums = sums_of(member)
    with translation.override(language):
        expected = [euro(sums[name]) for name in sums] + [
            str(translation.gettext("Withholding tax")),
            "Ana Peeters",
            "**.**.**-***.28",
            "2.60",
            "2.74",
        ]
    # The gross of the year, 5,500.00, written the member's way.
    assert euro_in(language, D("5500.00")) in text
    for mention in expected:
        assert mention in text, mention
    assert check_layout(content, expected=expected) == []
    # Rendering again gives nothing new: the task is idempotent.
    assert render_certificate(certificate=certificate) is False


def test_the_year_file_validates_with_exact_control_totals(staff, member, other_member, paid_year):
    rows = [
        # The worked example of DOMAIN §9: €25,000 gross, costs €9,740.00 + €1,380.00,
        # withholding €2,082.00.
        CopyrightYear(
            member_id=other_member.pk,
            gross=D("25000.00"),
            lump_sum_costs=D("11120.00"),
            withholding=D("2082.00"),
        )
    ]
    prepare_certificates(year=YEAR, staff_user=staff, copyright_rows=rows, now=EXPORT_TIME)
    export = export_belcotax(year=YEAR, staff_user=staff, now=EXPORT_TIME)
    content = export.file.read()

    assert xsd_errors(content) == []
    assert belcotax.sha256(content) == export.sha256
    root = etree.fromstring(content)
    sending = root.find("Verzending")
    assert sending.findtext("v0010_bestandtype") == "BELCOTAX"
    assert sending.findtext("v0011_aanmaakdatum") == "10-02-2026"
    ana, lucas = sums_of(member), sums_of(other_member)

    def cents(amount):
        return int(amount * 100)

    salary = root.xpath("//Aangifte[Opgaven/Opgave32510]")[0]
    fiches = salary.findall(".//Fiche28110")
    assert [f.findtext("f2013_naam") for f in fiches] == ["Ana Peeters", "Lucas Dubois"]
    assert [f.findtext("f2011_nationaalnr") for f in fiches] == ["85073003328", "17073003384"]
    assert ints(salary, ".//f2009_volgnummer") == [1, 2]
    assert ints(salary, ".//f2028_typetraitement") == [0, 0]
    for fiche, sums in zip(fiches, (ana, lucas), strict=True):
        assert int(fiche.findtext("f10_2060_gewonebezoldiginge")) == cents(sums["taxable"])
        # A nil amount is left out.
        assert int(fiche.findtext("f10_2074_bedrijfsvoorheffing", "0")) == cents(
            sums["withholding_tax"]
        )
        # Zones 2.60 to 2.88: 2060, 2062 (the same total), 2074 and 2075.
        assert int(fiche.findtext("f10_2059_totaalcontrole")) == (
            2 * cents(sums["taxable"])
            + cents(sums["withholding_tax"])
            + cents(sums["special_contribution"])
        )
    assert int(fiches[0].findtext("f10_2060_gewonebezoldiginge")) == cents(
        D("5500.00") - D("718.85") + ana["work_bonus"]
    )
    salary_control = sum(ints(salary, ".//f10_2059_totaalcontrole"))
    salary_withholding = cents(ana["withholding_tax"] + lucas["withholding_tax"])
    assert ints(salary, "r8010_aantalrecords") == [4]
    assert ints(salary, "r8011_controletotaal") == [3]
    assert ints(salary, "r8012_controletotaal") == [salary_control]
    assert ints(salary, "r8013_totaalvoorheffingen") == [salary_withholding]

    copyright_ = root.xpath("//Aangifte[Opgaven/Opgave32545]")[0]
    fiche = copyright_.find(".//Fiche28145")
    assert fiche.findtext("f2013_naam") == "Lucas Dubois"
    assert fiche.findtext("f45_2030_aardpersoon") == "1"
    assert fiche.findtext("f45_2063_roerendevoorheffing") == "208200"
    assert fiche.findtext("f45_2067_paidamount4") == "2500000"
    assert fiche.findtext("f45_2069_paidamount51") == "1112000"
    assert fiche.findtext("f45_2059_totaalcontrole") == str(208200 + 2500000 + 1112000)
    assert ints(copyright_, "r8010_aantalrecords") == [3]
    assert ints(copyright_, "r8011_controletotaal") == [1]
    assert ints(copyright_, "r8012_controletotaal") == [3820200]
    assert ints(copyright_, "r8013_totaalvoorheffingen") == [208200]

    assert ints(sending, "r9010_aantallogbestanden") == [4]
    assert ints(sending, "r9011_totaalaantalrecords") == [4 + 3 + 2]
    assert ints(sending, "r9012_controletotaal") == [3 + 1]
    assert ints(sending, "r9013_controletotaal") == [salary_control + 3820200]
    assert ints(sending, "r9014_controletotaal") == [salary_withholding + 208200]
    assert export.control_total == D(salary_control + 3820200) / 100
    assert export.withholding_total == D(salary_withholding + 208200) / 100
    assert (export.fiche_count, export.correction_count, export.sequence_total) == (3, 0, 4)
    assert TaxCertificate.objects.filter(export=export).count() == 3
    event = AuditEvent.objects.get(action="exported")
    assert event.actor == staff and event.changes["sha256"] == [None, export.sha256]


def test_a_changed_fiche_already_sent_goes_out_as_a_correction(staff, member, paid_year):
    prepare_certificates(year=YEAR, staff_user=staff, now=EXPORT_TIME)
    first = export_belcotax(year=YEAR, staff_user=staff, now=EXPORT_TIME)
    with pytest.raises(TaxformsError) as error:
        export_belcotax(year=YEAR, staff_user=staff, now=EXPORT_TIME)
    assert error.value.code == "nothing_to_export"
    sent = TaxCertificate.objects.get(member=member, form=Form.SALARY)
    october = Payslip.objects.get(member=member, pay_date__month=10, pay_date__year=YEAR)

    correct_payslip(
        staff_user=staff,
        payslip=october,
        days=D("5"),
        daily_wage=D("320.00"),
        reason="Wrong daily wage",
        today=datetime.date(YEAR, 12, 1),
        now=NOW,
    )
    prepared = prepare_certificates(year=YEAR, staff_user=staff, now=EXPORT_TIME)
    assert (prepared.created, prepared.corrected, prepared.unchanged) == (0, 1, 1)
    corrected = TaxCertificate.objects.get(member=member, form=Form.SALARY, is_current=True)
    assert (corrected.sequence, corrected.version, corrected.corrects) == (sent.sequence, 2, sent)
    assert corrected.figures["gross"] == "5600.00"
    assert corrected.reference == "281.10 2025 000001-2"
    sent.refresh_from_db()
    assert (sent.is_current, sent.export, sent.figures["gross"]) == (False, first, "5500.00")

    second = export_belcotax(year=YEAR, staff_user=staff, now=EXPORT_TIME)
    content = second.file.read()
    assert xsd_errors(content) == []
    root = etree.fromstring(content)
    fiches = root.findall(".//Fiche28110")
    assert len(fiches) == 1
    assert fiches[0].findtext("f2009_volgnummer") == str(sent.sequence)
    assert fiches[0].findtext("f2028_typetraitement") == belcotax.MODIFICATION
    assert int(fiches[0].findtext("f10_2060_gewonebezoldiginge")) == int(
        sums_of(member)["taxable"] * 100
    )
    assert (second.fiche_count, second.correction_count) == (1, 1)
    # A worker paid for the first time after the year was declared is an added fiche.
    assert belcotax.ADDITION == "2"


def test_a_test_file_marks_nothing_as_sent(staff, paid_year):
    prepare_certificates(year=YEAR, staff_user=staff, now=EXPORT_TIME)
    export = export_belcotax(year=YEAR, staff_user=staff, is_test=True, now=EXPORT_TIME)

    assert etree.fromstring(export.file.read()).findtext(".//v0010_bestandtype") == "BCTEST"
    assert not TaxCertificate.objects.filter(export__isnull=False).exists()


def test_nothing_to_export_writes_nothing(staff):
    with pytest.raises(TaxformsError) as error:
        export_belcotax(year=YEAR, staff_user=staff, now=EXPORT_TIME)

    assert error.value.code == "nothing_to_export"
    assert not BelcotaxExport.objects.exists()
    assert not AuditEvent.objects.filter(action="exported").exists()


def test_copyright_payments_paid_in_the_year_become_281_45_fiches(staff, other_member):
    """Paid copyright payments reach the year's file through copyright_years, not by hand."""
    activity = create_activity(owner=other_member, name="Illustrations")
    for gross in ("10000.00", "15000.00"):
        approve_copyright_payment(
            staff_user=staff,
            payment=record(other_member, activity, gross, today=datetime.date(2024, 3, 4)),
        )
    run_payroll(
        staff_user=staff,
        today=datetime.date(2024, 3, 25),
        period_start=datetime.date(2024, 3, 1),
        period_end=datetime.date(2024, 3, 22),
    )
    assert copyright_years(2024) == [
        CopyrightYear(
            member_id=other_member.pk,
            gross=D("25000.00"),
            lump_sum_costs=D("11120.00"),
            withholding=D("2082.00"),
        )
    ]
    prepare_certificates(year=2024, staff_user=staff, now=EXPORT_TIME)
    content = export_belcotax(year=2024, staff_user=staff, now=EXPORT_TIME).file.read()
    assert xsd_errors(content) == []
    fiche = etree.fromstring(content).find(".//Opgave32545/Fiche28145")
    assert fiche.findtext("f2013_naam") == "Lucas Dubois"
    assert fiche.findtext("f45_2063_roerendevoorheffing") == "208200"
    assert fiche.findtext("f45_2067_paidamount4") == "2500000"
    assert fiche.findtext("f45_2069_paidamount51") == "1112000"


def test_a_member_downloads_only_their_own_certificate(
    client, staff, member, other_member, paid_year
):
    prepare_certificates(year=YEAR, staff_user=staff, now=EXPORT_TIME)
    mine = TaxCertificate.objects.get(member=member)
    theirs = TaxCertificate.objects.get(member=other_member)
    for certificate in (mine, theirs):
        render_certificate(certificate=certificate)
    client.force_login(member.user)

    page = client.get(reverse("taxforms:certificates"))
    assert page.status_code == 200
    html = page.content.decode()
    assert reverse("taxforms:certificate-download", args=[mine.pk]) in html
    assert reverse("taxforms:certificate-download", args=[theirs.pk]) not in html
    response = client.get(reverse("taxforms:certificate-download", args=[mine.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert 'filename="28110-2025-000001.pdf"' in response["Content-Disposition"]
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert AuditEvent.objects.filter(action="downloaded", object_pk=str(mine.pk)).count() == 1
    assert client.get(reverse("taxforms:certificate-download", args=[theirs.pk])).status_code == 404


def test_a_member_without_certificates_sees_the_empty_state(client, member):
    client.force_login(member.user)
    page = client.get(reverse("taxforms:certificates"))
    assert "No tax certificate yet" in page.content.decode()


def test_staff_prepare_and_export_a_year_from_the_admin(client, staff, paid_year):
    TOTP.activate(staff, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    client.force_login(staff)
    url = reverse("admin:taxforms_belcotaxexport_year")

    assert client.post(url, {"year": YEAR, "prepare": "1"}).status_code == 302
    page = client.get(url, {"year": YEAR})
    assert page.status_code == 200
    assert page.context["salary_count"] == 2
    assert page.context["totals"].sequence_total == 3
    expected_total = page.context["control_total"]
    response = client.post(url, {"year": YEAR, "export": "1"})
    export = BelcotaxExport.objects.get()
    assert response.status_code == 302
    assert export.control_total == expected_total
    assert xsd_errors(export.file.read()) == []
    download = client.get(reverse("admin:taxforms_belcotaxexport_file", args=[export.pk]))
    assert download.status_code == 200
    # Nothing left to send: the error shows on the page, nothing is written.
    again = client.post(url, {"year": YEAR, "export": "1"})
    assert again.status_code == 200
    assert "Nothing to export for 2025" in again.content.decode()
    assert BelcotaxExport.objects.count() == 1


@pytest.mark.django_db
def test_the_demo_year_file_validates_against_the_official_schema():
    call_command("seed_demo", verbosity=0)
    year = timezone.localdate().year - 1
    certificates = TaxCertificate.objects.filter(year=year, form=Form.SALARY)
    paid = Payslip.objects.filter(pay_date__year=year).values("member").distinct().count()
    assert paid >= 3 and certificates.count() == paid

    export = export_belcotax(year=year, staff_user=None, is_test=True)
    content = export.file.read()

    assert xsd_errors(content) == []
    root = etree.fromstring(content)
    assert root.findtext(".//v0002_inkomstenjaar") == str(year)
    assert len(root.findall(".//Fiche28110")) == paid
    assert sum(ints(root, ".//f10_2059_totaalcontrole")) == int(
        root.findtext(".//r9013_controletotaal")
    )
    assert (
        sum(ints(root, ".//f10_2074_bedrijfsvoorheffing"))
        == int(root.findtext(".//r9014_controletotaal"))
        > 0
    )


def test_the_schema_of_a_year_is_its_own_or_the_newest_earlier_one():
    assert belcotax.schema_for(2025) == (2024, SCHEMA)
    assert belcotax.schema_for(2024) == (2024, SCHEMA)
    with pytest.raises(belcotax.SchemaError):
        belcotax.schema_for(2023)


def test_a_certificate_whose_message_was_lost_is_rendered_again(staff, paid_year):
    from taxforms.documents import lost_certificates

    prepare_certificates(year=YEAR, staff_user=staff, now=EXPORT_TIME)
    pending = set(TaxCertificate.objects.values_list("pk", flat=True))

    soon = EXPORT_TIME + datetime.timedelta(seconds=30)
    later = EXPORT_TIME + datetime.timedelta(minutes=2)
    assert set(lost_certificates(now=soon).values_list("pk", flat=True)) == set()
    assert set(lost_certificates(now=later).values_list("pk", flat=True)) == pending
    for certificate in TaxCertificate.objects.all():
        render_certificate(certificate=certificate)
    assert not lost_certificates(now=later).exists()


def test_the_member_data_export_holds_their_tax_certificates(staff, member, paid_year):
    from audit.privacy import collect_member_data

    prepare_certificates(year=YEAR, staff_user=staff, now=EXPORT_TIME)
    certificate = TaxCertificate.objects.get(member=member)
    render_certificate(certificate=certificate)

    data, files = collect_member_data(member)

    assert data["tax_certificates"] == [
        {
            "reference": "281.10 2025 000001",
            "form": "28110",
            "year": 2025,
            "fiche_number": 1,
            "version": 1,
            "is_current": True,
            "figures": certificate.figures,
            "sent": False,
        }
    ]
    assert [name for name, _file in files if name.startswith("tax_certificates/")] == [
        "tax_certificates/28110-2025-000001.pdf"
    ]


def test_the_281_45_pdf_shows_the_copyright_figures(staff, other_member):
    rows = [
        CopyrightYear(
            member_id=other_member.pk,
            gross=D("10000.00"),
            lump_sum_costs=D("5000.00"),
            withholding=D("750.00"),
        )
    ]
    prepare_certificates(year=YEAR, staff_user=staff, copyright_rows=rows, now=EXPORT_TIME)
    certificate = TaxCertificate.objects.get(member=other_member, form=Form.COPYRIGHT)
    render_certificate(certificate=certificate)
    certificate.refresh_from_db()
    content = certificate.file.read()
    text = pdf_text(content)

    expected = [
        "Lucas Dubois",
        "**.**.**-***.84",
        euro_in("fr", D("10000.00")),
        euro_in("fr", D("5000.00")),
        euro_in("fr", D("750.00")),
        "2.67",
        "2.69",
        "2.63",
    ]
    assert [mention for mention in expected if mention not in text] == []
    assert check_layout(content, expected=expected) == []
