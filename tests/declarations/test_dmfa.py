"""The DmfA file of a demo quarter: worker records, totals, the official schema, the export
and the staff screen."""

import datetime
import hashlib
from decimal import Decimal

import pytest
from django.urls import reverse
from lxml import etree

from audit.models import AuditEvent
from declarations import dmfa
from declarations.dmfa import SCHEMA_FOLDER, build_dmfa, provenance_checksums, schema_errors
from declarations.errors import DeclarationsError
from declarations.models import DmfaExport
from declarations.selectors import Quarter, quarter_declaration, quarter_totals
from declarations.services import export_dmfa
from tests.conftest import NOW

D = Decimal
Q1 = Quarter(2026, 1)
AFTER_Q1 = datetime.date(2026, 4, 10)


def text(root, path):
    return [element.text for element in root.iterfind(path)]


def test_the_schema_is_the_file_its_provenance_records():
    provenance = (SCHEMA_FOLDER / "PROVENANCE").read_text()
    assert "Publisher: Office national de sécurité sociale" in provenance
    assert "Version: 2022/3" in provenance
    assert "NOT the version in force" in provenance
    assert "BartVertongen/BelgianSocialSecurity" in provenance
    assert "36829926c33f6b016507da1b5797d1576420fe93" in provenance
    assert "Licence: official publication, no licence stated" in provenance
    recorded = "2e97262cb07e0feeb0a17e378c041fcdfa0e8f7c8df61df259da10a70b59a3fa"
    assert provenance_checksums() == {"DmfAOriginal_20223.xsd": recorded}
    content = (SCHEMA_FOLDER / "DmfAOriginal_20223.xsd").read_bytes()
    assert hashlib.sha256(content).hexdigest() == recorded


def test_a_schema_file_that_is_not_the_recorded_one_is_refused(monkeypatch):
    dmfa.schema.cache_clear()
    monkeypatch.setattr(dmfa, "provenance_checksums", lambda: {"DmfAOriginal_20223.xsd": "0"})
    try:
        with pytest.raises(DeclarationsError, match="not the file recorded"):
            dmfa.schema()
    finally:
        dmfa.schema.cache_clear()


def test_the_demo_quarter_validates_against_the_official_schema(quarter_paid):
    document = build_dmfa(quarter_declaration(Q1), now=NOW)

    assert schema_errors(document) == []
    root = etree.fromstring(document)
    assert text(root, "Form/Identification") == ["DMFA"]
    assert text(root, "Form/EmployerDeclaration/Quarter") == ["20261"]
    assert text(root, "Form/EmployerDeclaration/CompanyID") == ["0812345603"]
    people = root.findall("Form/EmployerDeclaration/NaturalPerson")
    assert [person.findtext("INSS") for person in people] == ["85073003328", "17073003384"]
    ana, lucas = people
    # Ana: a white-collar record (4 days at €300, leaving) and an artist's (10 days at €400).
    assert text(ana, "WorkerRecord/WorkerCode") == ["495", "495"]
    white, artist = ana.findall("WorkerRecord")
    assert text(white, "Occupation/JointCommissionNbr") == ["200"]
    assert text(white, "Occupation/Service/ServiceNbrDays") == ["400"]
    assert [
        (remun.findtext("RemunCode"), remun.findtext("RemunAmount"))
        for remun in white.iterfind("Occupation/Remun")
    ] == [("001", "120000"), ("007", "18408")]
    # 13.07 % of 1,200.00 and of 184.08, 25 % of each: 156.84 + 24.06 + 300.00 + 46.02.
    assert text(white, "WorkerContribution/ContributionCalculationBasis") == ["138408"]
    assert text(white, "WorkerContribution/ContributionAmount") == ["52692"]
    assert text(artist, "Occupation/JointCommissionNbr") == ["304"]
    assert text(artist, "Occupation/Remun/RemunAmount") == ["400000"]
    # Artists: contributions on 108 %: 13.07 % and 25 % of 4,320.00.
    assert text(artist, "WorkerContribution/ContributionCalculationBasis") == ["432000"]
    assert text(artist, "WorkerContribution/ContributionAmount") == ["164462"]
    assert text(lucas, "WorkerRecord/WorkerCode") == ["015"]
    assert text(lucas, "WorkerRecord/WorkerContribution/ContributionCalculationBasis") == ["108000"]
    assert text(lucas, "WorkerRecord/WorkerContribution/ContributionAmount") == ["41116"]
    assert text(root, "Form/EmployerDeclaration/NetOwedAmount") == [str(52692 + 164462 + 41116)]


def test_a_file_that_breaks_the_schema_is_found(quarter_paid):
    document = build_dmfa(quarter_declaration(Q1), now=NOW)
    broken = document.replace(b"<WorkerCode>015</WorkerCode>", b"<WorkerCode>15x</WorkerCode>")

    errors = schema_errors(broken)

    assert len(errors) == 1 and "WorkerCode" in errors[0]


def test_the_quarter_totals(quarter_paid):
    totals = quarter_totals(Q1)

    assert totals.workers == 2
    assert totals.days == D("18.0")
    assert totals.gross == D("6384.08")  # 1,384.08 + 4,000.00 + 1,000.00
    assert [(row.category, row.workers, row.gross, row.contributions) for row in totals.rows] == [
        ("white_collar", 1, D("1384.08"), D("526.92")),
        ("blue_collar", 1, D("1000.00"), D("411.16")),
        ("artist", 1, D("4000.00"), D("1644.62")),
    ]
    assert totals.contributions == D("2582.70")
    # Holiday office: artists and blue-collar, 108 % of 5,000.00; 6 % and 10.27 % of 5,400.00.
    holiday = totals.holiday
    assert (holiday.gross, holiday.base, holiday.quarterly, holiday.yearly) == (
        D("5000.00"),
        D("5400.00"),
        D("324.00"),
        D("554.58"),
    )
    # Named as staff read them, not by their keys.
    assert set(totals.holiday_unverified) == {
        "Holiday contributions: yearly rate",
        "Holiday contributions: quarterly rate",
    }
    assert quarter_totals(Quarter(2026, 2)).rows == []


def test_export_stores_the_file_with_its_checksum_and_an_audit_row(
    staff, quarter_paid, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    export = export_dmfa(staff_user=staff, quarter=Q1, today=AFTER_Q1, now=NOW)

    content = export.file.read()
    assert schema_errors(content) == []
    assert export.sha256 == hashlib.sha256(content).hexdigest()
    assert (export.year, export.quarter, export.schema_version) == (2026, 1, "20223")
    assert (export.workers, export.days, export.gross, export.contributions) == (
        2,
        D("18.0"),
        D("6384.08"),
        D("2582.70"),
    )
    event = AuditEvent.objects.get(object_type="declarations.dmfaexport")
    assert event.changes["sha256"] == [None, export.sha256]


def test_export_refuses_a_quarter_not_over_or_empty(staff, quarter_paid):
    with pytest.raises(DeclarationsError, match="not over yet"):
        export_dmfa(staff_user=staff, quarter=Q1, today=datetime.date(2026, 3, 31))
    with pytest.raises(DeclarationsError, match="Nothing to declare"):
        export_dmfa(staff_user=staff, quarter=Quarter(2025, 4), today=AFTER_Q1)
    assert not DmfaExport.objects.exists()


def test_quarter_parsing():
    assert Quarter.parse("2026-3") == Quarter(2026, 3)
    assert Quarter.parse(" 20264 ") == Quarter(2026, 4)
    assert (Quarter(2026, 4).start, Quarter(2026, 4).end) == (
        datetime.date(2026, 10, 1),
        datetime.date(2026, 12, 31),
    )
    for wrong in ["2026-5", "", "26-1", "2026-0", "abcd-1"]:
        with pytest.raises(DeclarationsError):
            Quarter.parse(wrong)


def test_the_staff_screen_shows_the_totals_and_exports(
    staff_client, quarter_paid, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    client = staff_client
    url = reverse("admin:declarations_dmfaexport_quarter")

    page = client.get(url, {"quarter": "2026-1"})
    content = page.content.decode()
    assert page.status_code == 200
    for amount in ["6,384.08\xa0€", "2,582.70\xa0€", "554.58\xa0€", "5,400.00\xa0€"]:
        assert amount in content

    wrong = client.get(url, {"quarter": "2026-9"})
    assert wrong.status_code == 200
    assert "Choose a quarter such as 2026-3" in wrong.content.decode()

    not_over = client.post(url, {"quarter": "2026-4"})
    assert "is not over yet" in not_over.content.decode()
    assert not DmfaExport.objects.exists()

    exported = client.post(url, {"quarter": "2026-1"})
    export = DmfaExport.objects.get()
    assert exported.status_code == 302
    download = client.get(reverse("admin:declarations_dmfaexport_file", args=[export.pk]))
    assert hashlib.sha256(b"".join(download.streaming_content)).hexdigest() == export.sha256
