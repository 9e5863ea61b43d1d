"""VAT categories as Belgian practice needs them, for clients in any country.

Goods or services and the buyer's country decide the category; each category carries the law's
mention on the PDF (in the invoice's language) and its VATEX code in the UBL.
"""

from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from lxml import etree

from invoicing.countries import country_choices
from invoicing.errors import InvoicingError
from invoicing.forms import ClientForm
from invoicing.models import Client, Invoice, InvoiceLine
from invoicing.pdf import render_invoice_pdf
from invoicing.services.clients import create_client
from invoicing.services.documents import render_document
from invoicing.services.issue import submit_invoice
from invoicing.ubl import build_ubl
from invoicing.validation import check_ubl
from tests.conftest import NOW
from tests.invoicing.conftest import TODAY, line, make_draft
from tests.invoicing.test_api import api_for
from tests.invoicing.test_pdf import pdf_lines

NAMESPACES = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
SUBTOTAL_CATEGORY = "cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory"
SWISS_CLIENT = {
    "kind": "company",
    "name": "Festival Lumières Léman SA",
    "street": "Avenue de la Gare 12",
    "postal_code": "1003",
    "city": "Lausanne",
    "country": "CH",
    "email": "billing@leman.example",
    "language": "fr",
    "vat_number": "CHE-116.281.710 MWST",
}
AMERICAN_CLIENT = {
    "kind": "company",
    "name": "Hudson Stage Supply Inc.",
    "street": "350 Fifth Avenue",
    "postal_code": "10118",
    "city": "New York",
    "country": "US",
    "email": "ap@hudson.example",
    "language": "en",
}


def invoice_payload(activity, client_pk: int, *lines: dict) -> dict:
    return {
        "activity": activity.pk,
        "client": client_pk,
        "buyer_reference": "PO-77",
        "lines": [
            {"description": "Lighting design", "quantity": "2", "unit": "day", **line}
            for line in lines
        ],
    }


def ubl_root(xml: bytes) -> etree._Element:
    return etree.fromstring(xml)


def texts(root: etree._Element, path: str) -> list[str]:
    return [element.text for element in root.xpath(path, namespaces=NAMESPACES)]


def issue_through_the_api(api, activity, client_body: dict, *lines: dict) -> tuple[dict, dict]:
    """Create the client and an invoice through the API, submit it; return both bodies."""
    created = api.post("/api/v1/clients/", client_body, format="json")
    assert created.status_code == 201, created.json()
    draft = api.post(
        "/api/v1/invoices/",
        invoice_payload(activity, created.json()["pk"], *lines),
        format="json",
    )
    assert draft.status_code == 201, draft.json()
    submitted = api.post(f"/api/v1/invoices/{draft.json()['pk']}/submit/")
    assert submitted.status_code == 200, submitted.json()
    return created.json(), submitted.json()


def documents_of(api, invoice_body: dict) -> tuple[bytes, bytes]:
    """Render the invoice's PDF and UBL as the worker would, and download them."""
    for document in Invoice.objects.get(pk=invoice_body["pk"]).documents.all():
        render_document(document=document)
    url = f"/api/v1/invoices/{invoice_body['pk']}/"
    pdf = b"".join(api.get(f"{url}pdf/").streaming_content)
    ubl = b"".join(api.get(f"{url}ubl/").streaming_content)
    return pdf, ubl


# A service to a business in another EU member state


def test_intra_eu_services_are_refused_and_pointed_to_reverse_charge(
    member, activity, french_client
):
    with pytest.raises(InvoicingError) as error:
        make_draft(member, activity, french_client, [line(vat_category="K", vat_rate=Decimal("0"))])

    assert (error.value.code, error.value.field) == ("intra_eu_services", "lines")
    assert "choose AE" in error.value.message
    assert Invoice.objects.count() == 0


def test_intra_eu_services_through_the_api_are_a_400_naming_ae(member, activity, french_client):
    response = api_for(member.user).post(
        "/api/v1/invoices/",
        invoice_payload(activity, french_client.pk, {"unit_price": "450", "vat_category": "K"}),
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "intra_eu_services"
    assert response.json()["detail"] == (
        "Line 1: category K is for goods sent to another EU country. A service to a business "
        "in another EU country is reverse charged: choose AE."
    )
    assert Invoice.objects.count() == 0


def test_intra_eu_service_carries_the_reverse_charge_mention_of_article_196(
    member, activity, french_client, no_review
):
    draft = make_draft(
        member,
        activity,
        french_client,
        [line(vat_category="AE", vat_rate=Decimal("0"), price="450.00")],
    )
    invoice = submit_invoice(user=member.user, invoice=draft, today=TODAY, now=NOW)

    [group] = invoice.snapshot["vat_breakdown"]
    assert (group["category"], group["exemption_code"], group["exemption_reason"]) == (
        "AE",
        "VATEX-EU-AE",
        "Reverse charge – Article 196 Directive 2006/112/EC",
    )
    text = " ".join(pdf_lines(render_invoice_pdf(invoice.snapshot)))
    assert "Reverse charge – Article 196 Directive 2006/112/EC (VATEX-EU-AE)" in text
    assert "intracommunautaire" not in text
    assert check_ubl(build_ubl(invoice.snapshot)).errors == []


def test_intra_eu_goods_keep_the_exemption_of_article_39bis(
    member, activity, french_client, no_review
):
    draft = make_draft(
        member,
        activity,
        french_client,
        [line(vat_category="K", vat_rate=Decimal("0"), supply_kind="goods", unit="piece")],
    )
    invoice = submit_invoice(user=member.user, invoice=draft, today=TODAY, now=NOW)

    [group] = invoice.snapshot["vat_breakdown"]
    assert (group["exemption_code"], group["exemption_reason"]) == (
        "VATEX-EU-IC",
        "Exempt intra-Community supply – art. 39bis Belgian VAT Code",
    )
    assert invoice.snapshot["lines"][0]["supply_kind"] == "goods"


# Clients outside the EU


def test_clients_can_be_of_any_country_with_translated_names(db):
    with translation.override("fr"):
        french = dict(country_choices())
        form_choices = dict(ClientForm().fields["country"].choices)
    with translation.override("nl"):
        dutch = dict(country_choices())

    assert (french["CH"], french["US"], dutch["CH"]) == (
        "Suisse",
        "États-Unis d'Amérique",
        "Zwitserland",
    )
    assert form_choices["CH"] == "Suisse"
    assert len(french) == 249
    assert next(iter(french)) == "BE"


@pytest.mark.parametrize(
    ("country", "typed", "stored"),
    [
        ("CH", "CHE-116.281.710 MWST", "CHE116281710MWST"),
        ("GB", "GB 980 7806 84", "GB980780684"),
        ("NO", "995 525 828 MVA", "NO995525828MVA"),
        ("GR", "GR 094259216", "EL094259216"),
        ("GR", "EL094259216", "EL094259216"),
        ("JP", "T5835678256246", "T5835678256246"),
        ("JP", "T-5835-6782-56246", "T5835678256246"),
        # Saudi Arabia: no check known, taken as typed without an invented prefix.
        ("SA", "300 000 000 000 003", "300000000000003"),
        ("SA", "ab-12345", "AB12345"),
    ],
)
def test_vat_numbers_outside_the_eu_are_checked_where_a_scheme_exists(
    member, country, typed, stored
):
    response = api_for(member.user).post(
        "/api/v1/clients/",
        {**SWISS_CLIENT, "country": country, "vat_number": typed},
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert (response.json()["country"], response.json()["vat_number"]) == (country, stored)
    assert response.json()["enterprise_number"] == ""


@pytest.mark.parametrize(
    ("country", "typed"),
    [
        ("CH", "CHE-116.281.711 MWST"),
        ("GB", "GB 980 7806 85"),
        ("CH", "DE136695976"),
        ("US", "1" * 19),
        ("US", "ÄÖ-12"),
        # Japan: T and a corporate number whose check digit (the first) is wrong.
        ("JP", "T1234567890123"),
        ("JP", "T-2835-6782-56246"),
    ],
)
def test_wrong_vat_numbers_outside_the_eu_are_a_400(member, country, typed):
    response = api_for(member.user).post(
        "/api/v1/clients/",
        {**SWISS_CLIENT, "country": country, "vat_number": typed},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["field"] == "vat_number"
    assert Client.objects.count() == 0


def test_an_unknown_country_is_a_400(member):
    response = api_for(member.user).post(
        "/api/v1/clients/", {**SWISS_CLIENT, "country": "XX"}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["country"]
    assert Client.objects.count() == 0


def test_export_of_goods_to_an_american_client_through_the_api(
    member, activity, no_review, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    api = api_for(member.user)
    client, invoice = issue_through_the_api(
        api,
        activity,
        AMERICAN_CLIENT,
        {"unit": "piece", "unit_price": "125.50", "vat_category": "G", "supply_kind": "goods"},
    )

    assert (client["country"], client["vat_number"]) == ("US", "")
    assert (invoice["status"], invoice["total_vat"], invoice["total_incl_vat"]) == (
        "issued",
        "0.00",
        "251.00",
    )
    assert invoice["lines"][0]["vat_rate"] == "0.00"
    pdf, ubl = documents_of(api, invoice)
    text = " ".join(pdf_lines(pdf))
    assert "Exempt export – art. 39 Belgian VAT Code (VATEX-EU-G)" in text
    assert "0 % (export)" in text
    assert "United States of America" in pdf_lines(pdf)
    root = ubl_root(ubl)
    assert texts(root, f"{SUBTOTAL_CATEGORY}/cbc:ID") == ["G"]
    assert texts(root, f"{SUBTOTAL_CATEGORY}/cbc:Percent") == ["0.00"]
    assert texts(root, f"{SUBTOTAL_CATEGORY}/cbc:TaxExemptionReasonCode") == ["VATEX-EU-G"]
    assert texts(root, f"{SUBTOTAL_CATEGORY}/cbc:TaxExemptionReason") == [
        "Exempt export – art. 39 Belgian VAT Code"
    ]
    assert texts(root, "//cac:ClassifiedTaxCategory/cbc:ID") == ["G"]
    assert check_ubl(ubl).errors == []


def test_service_to_a_swiss_business_is_outside_the_scope_through_the_api(
    member, activity, no_review, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    api = api_for(member.user)
    client, invoice = issue_through_the_api(
        api, activity, SWISS_CLIENT, {"unit_price": "450.00", "vat_category": "O"}
    )

    assert client["vat_number"] == "CHE116281710MWST"
    assert (invoice["total_vat"], invoice["total_incl_vat"]) == ("0.00", "900.00")
    pdf, ubl = documents_of(api, invoice)
    text = " ".join(pdf_lines(pdf))
    mention = "Hors du champ d'application de la TVA belge – art. 21 §2 du Code de la TVA"
    assert f"{mention} (VATEX-EU-O)" in text
    assert "Suisse" in pdf_lines(pdf)  # the buyer's country, named in French
    root = ubl_root(ubl)
    assert texts(root, f"{SUBTOTAL_CATEGORY}/cbc:ID") == ["O"]
    # BR-O-05, BR-O-02: no rate, and neither party's VAT number.
    assert (
        texts(root, "//cac:TaxCategory/cbc:Percent | //cac:ClassifiedTaxCategory/cbc:Percent") == []
    )
    assert texts(root, "//cac:PartyTaxScheme/cbc:CompanyID") == []
    assert texts(root, f"{SUBTOTAL_CATEGORY}/cbc:TaxExemptionReasonCode") == ["VATEX-EU-O"]
    assert texts(root, f"{SUBTOTAL_CATEGORY}/cbc:TaxExemptionReason") == [mention]
    assert check_ubl(ubl).errors == []


# Combinations that the law does not allow


@pytest.fixture
def clients(member, belgian_client, french_client):
    def make(**fields):
        client, _created = create_client(owner=member.user, **fields)
        return client

    return {
        "BE": belgian_client,
        "FR": french_client,
        "US": make(**{**AMERICAN_CLIENT, "vat_number": ""}),
        "CH person": make(**{**SWISS_CLIENT, "kind": "person", "vat_number": ""}),
        "FR without VAT": make(**{**SWISS_CLIENT, "country": "FR", "vat_number": ""}),
    }


@pytest.mark.parametrize(
    ("buyer", "lines", "code", "field"),
    [
        ("BE", [{"vat_category": "O"}], "outside_scope_country", "client"),
        ("FR", [{"vat_category": "O"}], "outside_scope_country", "client"),
        ("CH person", [{"vat_category": "O"}], "outside_scope_person", "client"),
        ("US", [{"vat_category": "O", "supply_kind": "goods"}], "outside_scope_goods", "lines"),
        ("US", [{"vat_category": "O"}, {"vat_category": "S"}], "outside_scope_mixed", "lines"),
        ("FR", [{"vat_category": "G", "supply_kind": "goods"}], "export_country", "client"),
        ("US", [{"vat_category": "G"}], "export_services", "lines"),
        ("BE", [{"vat_category": "K", "supply_kind": "goods"}], "intra_eu_country", "client"),
        (
            "FR without VAT",
            [{"vat_category": "K", "supply_kind": "goods"}],
            "buyer_vat_required",
            "client",
        ),
        ("US", [{"vat_category": "AE"}], "buyer_vat_required", "client"),
        ("FR", [{"vat_category": "AE", "supply_kind": "goods"}], "reverse_charge_goods", "lines"),
        ("FR", [{"vat_category": "S", "vat_rate": "0"}], "vat_rate", "lines"),
        ("US", [{"vat_category": "O", "vat_rate": "21"}], "vat_rate", "lines"),
        ("BE", [{"vat_category": "E"}], "exemption_reason", "lines"),
        (
            "BE",
            [{"vat_category": "E", "exemption_reason": "x", "exemption_code": "VATEX-EU-O"}],
            None,
            None,
        ),
    ],
)
def test_combinations_the_law_refuses_are_a_400_and_nothing_is_written(
    member, activity, clients, buyer, lines, code, field
):
    response = api_for(member.user).post(
        "/api/v1/invoices/",
        invoice_payload(activity, clients[buyer].pk, *({"unit_price": "100"} | x for x in lines)),
        format="json",
    )

    assert response.status_code == 400
    body = response.json()
    if code is None:  # refused by the serializer: not an exemption code of its list
        assert list(body["errors"]) == ["lines.0.exemption_code"]
    else:
        assert (body["code"], body["field"]) == (code, field)
        assert body["detail"]
    assert Invoice.objects.count() == InvoiceLine.objects.count() == 0


def test_an_exemption_keeps_the_members_basis_and_its_code(
    member, activity, belgian_client, no_review
):
    basis = "Exonération – art. 44 §2 4° a) du Code de la TVA (enseignement, formation)"
    draft = make_draft(
        member,
        activity,
        belgian_client,
        [
            line(
                vat_category="E",
                vat_rate=Decimal("0"),
                exemption_reason=basis,
                exemption_code="VATEX-EU-132-1I",
            )
        ],
    )
    invoice = submit_invoice(user=member.user, invoice=draft, today=TODAY, now=NOW)

    [group] = invoice.snapshot["vat_breakdown"]
    assert (group["exemption_code"], group["exemption_reason"]) == ("VATEX-EU-132-1I", basis)
    root = ubl_root(build_ubl(invoice.snapshot))
    assert texts(root, f"{SUBTOTAL_CATEGORY}/cbc:TaxExemptionReasonCode") == ["VATEX-EU-132-1I"]


@pytest.mark.parametrize(
    ("language", "picked", "printed"),
    [
        (
            "nl",
            "Exonération – art. 44 §2 8° du Code de la TVA (conférenciers, artistes exécutants)",
            "Vrijstelling – art. 44 §2 8° W.btw (sprekers, uitvoerende kunstenaars)",
        ),
        (
            "fr",
            "Exempt – art. 44 §1 Belgian VAT Code (medical care)",
            "Exonération – art. 44 §1 du Code de la TVA (soins médicaux)",
        ),
        (
            "en",
            "  Vrijstelling – art. 44 §2 4° b)   W.btw (privélessen) ",
            "Exempt – art. 44 §2 4° b) Belgian VAT Code (private tuition)",
        ),
        # A basis the member typed is printed as typed, in any language.
        ("nl", "Exonération art. 44 §2, 8° CTVA", "Exonération art. 44 §2, 8° CTVA"),
    ],
)
def test_an_offered_exemption_basis_is_printed_in_the_invoices_language(
    member, activity, belgian_client, no_review, language, picked, printed
):
    belgian_client.language = language
    belgian_client.save(update_fields=["language"])
    draft = make_draft(
        member,
        activity,
        belgian_client,
        [line(vat_category="E", vat_rate=Decimal("0"), exemption_reason=picked)],
    )
    invoice = submit_invoice(user=member.user, invoice=draft, today=TODAY, now=NOW)

    [group] = invoice.snapshot["vat_breakdown"]
    assert group["exemption_reason"] == printed
    assert printed in " ".join(pdf_lines(render_invoice_pdf(invoice.snapshot)))


# Company-law and rate wording


@pytest.mark.parametrize(
    ("language", "register", "other"),
    [("nl", "RPR Brussel", "RPM"), ("fr", "RPM Bruxelles", "RPR"), ("en", "RLE Brussels", "RPM")],
)
def test_the_register_is_named_in_the_invoices_language(
    member, activity, belgian_client, no_review, language, register, other
):
    belgian_client.language = language
    belgian_client.save(update_fields=["language"])
    invoice = submit_invoice(
        user=member.user,
        invoice=make_draft(member, activity, belgian_client),
        today=TODAY,
        now=NOW,
    )

    assert invoice.snapshot["seller"]["register"] == register
    text = "\n".join(pdf_lines(render_invoice_pdf(invoice.snapshot)))
    assert f"0812.345.603 · {register}" in text
    assert other not in text


def test_six_and_twelve_per_cent_are_reduced_rates_in_the_browser(
    client, member, activity, belgian_client
):
    draft = make_draft(
        member,
        activity,
        belgian_client,
        [
            line(vat_rate=Decimal("21")),
            line(description="Booklets", vat_rate=Decimal("6")),
            line(description="Material", vat_rate=Decimal("12")),
        ],
    )
    client.force_login(member.user)

    page = client.get(f"/invoices/{draft.pk}/").content.decode()

    assert page.count("Standard rate · 21") == 2  # the line and the VAT breakdown
    assert page.count("Reduced rate · 6") == 2
    assert page.count("Reduced rate · 12") == 2


def test_six_and_twelve_per_cent_are_called_taux_reduit_in_french(
    client, member, activity, belgian_client
):
    draft = make_draft(
        member,
        activity,
        belgian_client,
        [line(vat_rate=Decimal("21")), line(description="Booklets", vat_rate=Decimal("6"))],
    )
    client.force_login(member.user)
    client.cookies["coop_language"] = "fr"

    page = client.get(f"/invoices/{draft.pk}/").content.decode()

    assert page.count("Taux réduit · 6") == 2
    assert page.count("Taux normal · 21") == 2
    assert "Taux normal · 6" not in page


# Staff


def test_staff_see_country_names_and_vat_numbers_are_checked_in_the_admin(staff_client, member):
    swiss, _created = create_client(owner=member.user, **SWISS_CLIENT)
    changelist = staff_client.get(reverse("admin:invoicing_client_changelist")).content.decode()
    url = reverse("admin:invoicing_client_change", args=[swiss.pk])
    form = {
        "owner": member.user.pk,
        "kind": "company",
        "name": swiss.name,
        "street": swiss.street,
        "postal_code": swiss.postal_code,
        "city": swiss.city,
        "country": "CH",
        "email": swiss.email,
        "language": "fr",
        "vat_number": "CHE-116.281.711 MWST",
        "peppol_id": "",
        "payment_terms_days": 30,
    }

    refused = staff_client.post(url, form)
    accepted = staff_client.post(url, {**form, "vat_number": "CHE 116 281 710 TVA"})

    assert '<td class="field-country_display">Switzerland</td>' in changelist
    assert refused.status_code == 200
    assert "This VAT number is not valid" in refused.content.decode()
    assert accepted.status_code == 302
    swiss.refresh_from_db()
    assert swiss.vat_number == "CHE116281710TVA"


def test_existing_intra_eu_lines_are_goods_after_the_migration_and_stay_frozen(
    member, activity, french_client, no_review
):
    from django.db import DatabaseError, connection
    from django.db.migrations.executor import MigrationExecutor

    draft = make_draft(
        member,
        activity,
        french_client,
        [
            line(vat_category="K", vat_rate=Decimal("0"), supply_kind="goods"),
            line(description="Installation", vat_category="AE", vat_rate=Decimal("0")),
        ],
    )
    invoice = submit_invoice(user=member.user, invoice=draft, today=TODAY, now=NOW)
    with connection.cursor() as cursor:
        # The rows above wait for their deferred foreign-key checks; a table with pending
        # checks cannot be altered, as a real migration's tables never are.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    executor = MigrationExecutor(connection)
    executor.migrate([("invoicing", "0010_credit_note_lines_and_refunds")])
    executor.loader.build_graph()
    executor.migrate([("invoicing", "0011_vat_supply_kind_exemption_code_export_outside_scope")])

    kinds = InvoiceLine.objects.filter(invoice=invoice).order_by("position")
    assert list(kinds.values_list("vat_category", "supply_kind")) == [
        ("K", "goods"),
        ("AE", "services"),
    ]
    with pytest.raises(DatabaseError, match="issued invoice"):
        kinds.update(supply_kind="services")


def test_a_group_of_exempt_lines_keeps_a_code_only_when_its_lines_agree():
    from invoicing.calculation import Line, compute_totals

    def exempt(code: str) -> Line:
        return Line(Decimal("1"), Decimal("100.00"), "E", Decimal("0"), code or "basis", code)

    [agreed] = compute_totals([exempt("VATEX-EU-132-1I"), exempt("VATEX-EU-132-1I")]).vat_breakdown
    [mixed] = compute_totals([exempt("VATEX-EU-132-1I"), exempt("")]).vat_breakdown
    [export] = compute_totals(
        [Line(Decimal("1"), Decimal("5"), "G", Decimal("0"), "x")]
    ).vat_breakdown

    assert (agreed.exemption_code, agreed.taxable_amount) == ("VATEX-EU-132-1I", Decimal("200.00"))
    assert (mixed.exemption_code, mixed.exemption_reason) == ("", "VATEX-EU-132-1I; basis")
    assert export.exemption_code == "VATEX-EU-G"


def test_the_invoice_form_asks_goods_or_services_and_refuses_k_for_services(
    client, member, activity, french_client
):
    from tests.invoicing.test_browser import draft_data, row

    client.force_login(member.user)
    page = client.get(reverse("invoicing:invoice_create")).content.decode()
    services = draft_data(activity, french_client, [row(vat_category="K", vat_rate="0.00")])
    goods = draft_data(
        activity, french_client, [row(vat_category="K", vat_rate="0.00", supply_kind="goods")]
    )

    refused = client.post(reverse("invoicing:invoice_create"), services).content.decode()
    assert Invoice.objects.count() == 0
    accepted = client.post(reverse("invoicing:invoice_create"), goods)

    assert '<option value="goods">Goods</option>' in page
    assert "Goods or services" in page
    assert "choose AE" in refused
    assert accepted.status_code == 302
    assert list(InvoiceLine.objects.values_list("vat_category", "supply_kind")) == [("K", "goods")]


@pytest.mark.parametrize("typed", ["abc", "12-3456789", "US123456789"])
def test_a_us_client_has_no_vat_number(member, typed):
    response = api_for(member.user).post(
        "/api/v1/clients/",
        {**AMERICAN_CLIENT, "vat_number": typed},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["field"] == "vat_number"
    assert response.json()["detail"] == (
        "The United States has no VAT: a client there has no VAT number."
    )
    assert Client.objects.count() == 0


@pytest.mark.parametrize("typed", ["abc", "AB12", "A1B2", "123456789012345678901"])
def test_a_made_up_tax_number_of_a_country_without_check_is_refused(member, typed):
    response = api_for(member.user).post(
        "/api/v1/clients/",
        {**AMERICAN_CLIENT, "country": "SA", "vat_number": typed},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["field"] == "vat_number"
    assert response.json()["detail"] == (
        "This tax number is not valid: write it as it is issued, with 4 to 20 letters and "
        "digits, at least 3 of them digits."
    )
    assert Client.objects.count() == 0


def test_a_japanese_registration_number_is_printed_and_sent_as_typed(
    member, activity, no_review, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    api = api_for(member.user)
    japanese = {**AMERICAN_CLIENT, "country": "JP", "vat_number": "T5835678256246"}
    client, invoice = issue_through_the_api(
        api,
        activity,
        japanese,
        {"unit": "piece", "unit_price": "125.50", "vat_category": "G", "supply_kind": "goods"},
    )

    assert client["vat_number"] == "T5835678256246"
    pdf, ubl = documents_of(api, invoice)
    assert "VAT T5835678256246" in " ".join(pdf_lines(pdf))
    root = ubl_root(ubl)
    buyer = "cac:AccountingCustomerParty/cac:Party"
    # Without a country prefix it is no EN 16931 VAT identifier (BR-CO-9): it is the buyer's
    # legal registration identifier.
    assert texts(root, f"{buyer}/cac:PartyTaxScheme/cbc:CompanyID") == []
    assert texts(root, f"{buyer}/cac:PartyLegalEntity/cbc:CompanyID") == ["T5835678256246"]
    assert check_ubl(ubl).errors == []


def test_a_tax_number_without_prefix_names_no_buyer_of_another_country(member):
    from tests.conftest import make_member

    saudi, _created = create_client(
        owner=member.user, **{**AMERICAN_CLIENT, "country": "SA", "vat_number": "300000000000003"}
    )
    emirati, _created = create_client(
        owner=make_member("noor@coop.test", legal_name="Noor Claes", niss="").user,
        **{**AMERICAN_CLIENT, "country": "AE", "vat_number": "300000000000003"},
    )
    south_african, _created = create_client(
        owner=member.user, **{**AMERICAN_CLIENT, "country": "ZA", "vat_number": "BE40301926"}
    )

    assert (saudi.buyer.country, emirati.buyer) == ("SA", None)
    # Letters BE in a South African number make no Belgian enterprise nor Peppol address.
    assert (south_african.vat_number, south_african.enterprise_number) == ("BE40301926", "")
    assert (south_african.peppol_id, south_african.peppol_endpoint) == ("", "")


# Belgian VAT on a service to a business established abroad (art. 21 §2): staff check it.

PLACE_OF_SUPPLY = (
    "Belgian VAT on a service to a business established abroad: check the place of supply "
    "(art. 21 §2)"
)
SUGGEST_AE = "Unless an exception applies, choose AE (reverse charge)."
SUGGEST_O = "Unless an exception applies, choose O (outside the scope of Belgian VAT)."


@pytest.mark.parametrize(
    ("buyer", "rate", "suggestion"),
    [
        ("french_client", "21", SUGGEST_AE),
        ("french_client", "6", SUGGEST_AE),
        ("american_client", "21", SUGGEST_O),
    ],
)
def test_belgian_vat_on_a_service_to_a_business_abroad_waits_for_staff(
    member, activity, staff, no_review, request, buyer, rate, suggestion
):
    from invoicing.services.issue import approve_invoice

    client = request.getfixturevalue(buyer)
    api = api_for(member.user)
    response = api.post(
        "/api/v1/invoices/",
        invoice_payload(
            activity, client.pk, {"unit_price": "450.00", "vat_category": "S", "vat_rate": rate}
        ),
        format="json",
    )
    assert response.status_code == 201, response.json()
    (warning,) = response.json()["warnings"]
    assert suggestion in warning and "art. 21 §2" in warning
    page = _member_page(member, response.json()["pk"])
    assert suggestion in page

    submitted = api.post(f"/api/v1/invoices/{response.json()['pk']}/submit/")

    assert submitted.status_code == 200
    body = submitted.json()
    assert (body["status"], body["number"], body["review_reason"]) == (
        "pending_review",
        None,
        PLACE_OF_SUPPLY,
    )
    # An exception may apply (work on a building in Belgium…): staff may issue it as it is.
    issued = approve_invoice(
        staff_user=staff, invoice=Invoice.objects.get(pk=body["pk"]), today=TODAY, now=NOW
    )
    assert (issued.status, issued.number) == ("issued", "2026-000001")


def _member_page(member, pk: int) -> str:
    from django.test import Client as BrowserClient

    browser = BrowserClient()
    browser.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    browser.force_login(member.user)
    return browser.get(reverse("invoicing:invoice_detail", args=[pk])).content.decode()


def test_goods_abroad_services_in_belgium_and_private_persons_are_issued_at_once(
    member, activity, belgian_client, french_client, no_review
):
    french_person, _created = create_client(
        owner=member.user,
        kind="person",
        name="Claire Martin",
        street="3 rue Lepic",
        postal_code="75018",
        city="Paris",
        country="FR",
        email="claire@example.fr",
        language="fr",
    )
    drafts = [
        make_draft(member, activity, french_client, [line(supply_kind="goods")]),
        make_draft(member, activity, belgian_client, [line()]),
        make_draft(member, activity, french_person, [line()]),
        make_draft(
            member,
            activity,
            french_client,
            [line(vat_category="AE", vat_rate=Decimal("0"))],
        ),
    ]

    invoices = [
        submit_invoice(user=member.user, invoice=draft, today=TODAY, now=NOW) for draft in drafts
    ]

    assert [(invoice.status, invoice.review_reason) for invoice in invoices] == [("issued", "")] * 4
    response = api_for(member.user).get("/api/v1/invoices/")
    assert [row["warnings"] for row in response.json()["results"]] == [[]] * 4


def test_the_draft_form_warns_before_saving(client, member, activity, french_client):
    from tests.invoicing.test_browser import draft_data, row

    client.force_login(member.user)

    response = client.post(
        reverse("invoicing:invoice_preview"), draft_data(activity, french_client, [row()])
    )

    page = response.content.decode()
    assert "Belgian VAT on a service to a business established in another EU country" in page
    assert SUGGEST_AE in page
