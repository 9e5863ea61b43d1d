"""Where an invoice goes on Peppol: each kind of buyer's endpoint, and who gets e-mail only."""

from decimal import Decimal

import pytest
from allauth.mfa.totp.internal.auth import TOTP

from invoicing.errors import InvoicingError
from invoicing.models import Dispatch, InvoiceDocument
from invoicing.services.clients import create_client, update_client
from invoicing.services.documents import render_document, send_dispatch
from invoicing.services.issue import submit_invoice
from invoicing.ubl import party_endpoint
from tests.conftest import NOW
from tests.invoicing.conftest import TODAY, line, make_draft
from tests.invoicing.test_api import api_for


def party(**values) -> dict:
    return {
        "name": "Buyer",
        "street": "Street 1",
        "postal_code": "1000",
        "city": "City",
        "country": "BE",
        "vat_number": "",
        "enterprise_number": "",
        "peppol_id": "",
        "email": "buyer@example.com",
        "is_business": True,
        **values,
    }


@pytest.mark.parametrize(
    ("values", "endpoint"),
    [
        pytest.param(
            {"vat_number": "BE0403019261", "enterprise_number": "0403019261"},
            ("0208", "0403019261"),
            id="belgian-enterprise",
        ),
        pytest.param({"vat_number": "BE0403019261"}, ("9925", "BE0403019261"), id="belgian-vat"),
        pytest.param(
            {"country": "FR", "vat_number": "FR40303265045"},
            ("9957", "FR40303265045"),
            id="french-vat",
        ),
        pytest.param(
            {"country": "DE", "vat_number": "DE136695976"}, ("9930", "DE136695976"), id="german-vat"
        ),
        pytest.param(
            {"country": "NL", "vat_number": "NL004495445B01"},
            ("9944", "NL004495445B01"),
            id="dutch-vat",
        ),
        pytest.param(
            {"country": "GR", "vat_number": "EL094259216"}, ("9933", "EL094259216"), id="greek-vat"
        ),
        pytest.param(
            {"country": "DK", "gln": "5790000435968"}, ("0088", "5790000435968"), id="gln"
        ),
        pytest.param(
            {
                "country": "FR",
                "vat_number": "FR40303265045",
                "peppol_id": "0009:30326504500018",
            },
            ("0009", "30326504500018"),
            id="participant-id-first",
        ),
        pytest.param({"is_business": False}, None, id="private-person"),
        pytest.param({"country": "US"}, None, id="us-company-without-identifier"),
        pytest.param({"country": "SE", "vat_number": "SE556188840401"}, None, id="no-vat-scheme"),
    ],
)
def test_endpoint_of_each_kind_of_buyer(values, endpoint):
    assert party_endpoint(party(**values)) == endpoint


@pytest.mark.parametrize("peppol_id", ["EM:buyer@example.com", "0208", "9999:123", ":123"])
def test_a_participant_id_outside_the_eas_list_is_refused(peppol_id):
    with pytest.raises(ValueError, match="Peppol id"):
        party_endpoint(party(peppol_id=peppol_id))


GERMAN_COMPANY = {
    "kind": "company",
    "name": "Bühnentechnik Köln GmbH",
    "street": "Domstraße 1",
    "postal_code": "50668",
    "city": "Köln",
    "country": "DE",
    "email": "rechnung@buehne.example",
    "language": "en",
}


def test_client_records_refuse_an_e_mail_peppol_id_and_a_wrong_gln(member):
    with pytest.raises(InvoicingError) as error:
        create_client(owner=member.user, **GERMAN_COMPANY, peppol_id="EM:rechnung@buehne.example")
    assert (error.value.code, error.value.field) == ("peppol_id", "peppol_id")
    with pytest.raises(InvoicingError) as error:
        create_client(owner=member.user, **GERMAN_COMPANY, gln="5790000435969")
    assert (error.value.code, error.value.field) == ("gln", "gln")
    assert not member.user.clients.exists()


def test_client_record_shows_where_its_invoices_go(member, belgian_client, private_client):
    german, _created = create_client(owner=member.user, **GERMAN_COMPANY, gln="579 0000 435968")

    assert german.gln == "5790000435968"
    assert german.peppol_endpoint == "0088:5790000435968"
    assert belgian_client.peppol_endpoint == "0208:1000000021"
    assert private_client.peppol_endpoint == ""
    german = update_client(
        client=german,
        **{field: GERMAN_COMPANY[field] for field in ("name", "street", "postal_code", "city")},
        country="DE",
        email=GERMAN_COMPANY["email"],
        language="en",
        vat_number="DE136695976",
        peppol_id="",
        payment_terms_days=30,
    )
    assert (german.gln, german.peppol_endpoint) == ("5790000435968", "9930:DE136695976")

    body = api_for(member.user).get(f"/api/v1/clients/{belgian_client.pk}/").json()
    assert (body["gln"], body["peppol_endpoint"]) == ("", "0208:1000000021")
    body = api_for(member.user).get(f"/api/v1/clients/{private_client.pk}/").json()
    assert body["peppol_endpoint"] == ""


def test_a_private_buyer_gets_the_pdf_and_ubl_by_e_mail_never_over_peppol(
    member, activity, no_review, settings, tmp_path, mailoutbox, private_client
):
    settings.MEDIA_ROOT = tmp_path
    invoice = submit_invoice(
        user=member.user, invoice=make_draft(member, activity, private_client), today=TODAY, now=NOW
    )
    assert list(invoice.dispatches.values_list("channel", "recipient")) == [
        ("email", "jan@example.be")
    ]
    for document in invoice.documents.all():
        render_document(document=document)
    # A Peppol sending asked for by hand is refused with the reason, and nothing is filed.
    peppol = Dispatch.objects.create(
        invoice=invoice, channel=Dispatch.Channel.PEPPOL, recipient="0208:0403019261"
    )

    assert send_dispatch(dispatch=peppol) is False
    peppol.refresh_from_db()
    assert (peppol.status, peppol.reference) == ("failed", "")
    assert peppol.error.startswith("Not sent over Peppol: the client has no Peppol address")
    assert not (tmp_path / "peppol").exists()
    assert send_dispatch(dispatch=invoice.dispatches.get(channel="email")) is True
    (message,) = mailoutbox
    assert [name for name, _content, _type in message.attachments] == [
        "2026-000001.pdf",
        "2026-000001.xml",
    ]
    ubl = invoice.documents.get(format=InvoiceDocument.Format.UBL).file.read()
    assert b"<cbc:CustomizationID>urn:cen.eu:en16931:2017</cbc:CustomizationID>" in ubl
    assert b"EndpointID" not in ubl.split(b"AccountingCustomerParty")[1]


def test_a_foreign_business_is_sent_over_peppol_under_its_vat_scheme(
    member, activity, no_review, french_client
):
    # A service to a business in another member state is reverse charged (art. 21 §2).
    draft = make_draft(
        member, activity, french_client, [line(vat_category="AE", vat_rate=Decimal("0"))]
    )
    invoice = submit_invoice(user=member.user, invoice=draft, today=TODAY, now=NOW)

    assert set(invoice.dispatches.values_list("channel", "recipient")) == {
        ("email", "factures@lumiere.example"),
        ("peppol", "9957:FR40303265045"),
    }


# A wrong GLN (0088) was once accepted, and its invoice sent over Peppol.
@pytest.mark.parametrize("peppol_id", ["EM:x@y.example", "0088:123"])
def test_a_client_with_an_invalid_stored_peppol_id_cannot_be_invoiced(
    member, activity, no_review, belgian_client, peppol_id
):
    draft = make_draft(member, activity, belgian_client)
    type(belgian_client).objects.filter(pk=belgian_client.pk).update(peppol_id=peppol_id)

    with pytest.raises(InvoicingError) as error:
        submit_invoice(user=member.user, invoice=draft, today=TODAY, now=NOW)

    assert error.value.code == "peppol_id"
    draft.refresh_from_db()
    assert draft.number is None


def test_staff_cannot_save_a_wrong_gln_in_the_admin(client, staff, german_client):
    TOTP.activate(staff, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    client.force_login(staff)
    browser = client
    url = f"/admin/invoicing/client/{german_client.pk}/change/"
    page = browser.get(url)
    assert "Reachable on Peppol as 9930:DE136695976." in page.content.decode()

    form = page.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    response = browser.post(url, {**data, "owner": german_client.owner_id, "gln": "5790000435969"})

    assert response.status_code == 200
    assert "This GLN is not valid" in response.content.decode()
    german_client.refresh_from_db()
    assert german_client.gln == ""


@pytest.mark.parametrize(
    ("peppol_id", "message"),
    [
        ("0088:123", "under scheme 0088, a GLN has 13 digits, the last one a check digit."),
        ("0088:5790000435969", "under scheme 0088, a GLN has 13 digits, the last one a check"),
        ("0060:12345678", "under scheme 0060, a DUNS number has 9 digits."),
        ("0192:974760674", "under scheme 0192, a Norwegian organisation number has 9 digits."),
        ("0007:5560360794", "under scheme 0007, a Swedish organisation number has 10 digits."),
        ("0184:13585629", "under scheme 0184, a Danish CVR number has 8 digits."),
        ("9930:DE136695977", "under scheme 9930, a VAT number of country DE has that country"),
        ("9957:FR40303265046", "under scheme 9957, a VAT number of country FR has that country"),
        ("0151:not a number", "its identifier has at most 50 letters, digits and . - _ / + @"),
    ],
)
def test_a_participant_identifier_is_checked_by_its_scheme(member, peppol_id, message):
    with pytest.raises(InvoicingError) as error:
        create_client(owner=member.user, **GERMAN_COMPANY, peppol_id=peppol_id)

    assert (error.value.code, error.value.field) == ("peppol_id", "peppol_id")
    assert error.value.message.startswith(f"This Peppol id is not valid: {message}")
    assert not member.user.clients.exists()


def test_a_belgian_enterprise_number_id_must_pass_its_modulo_97(member):
    belgian = {**GERMAN_COMPANY, "country": "BE", "city": "Bruxelles", "postal_code": "1000"}
    with pytest.raises(InvoicingError) as error:
        create_client(owner=member.user, **belgian, peppol_id="0208:0403019262")
    assert error.value.message == (
        "This Peppol id is not valid: under scheme 0208, a Belgian enterprise number has 10 "
        "digits and passes the modulo 97 check."
    )


def test_a_belgian_company_without_a_vat_number_keeps_its_enterprise_number_peppol_id(member):
    belgian = {**GERMAN_COMPANY, "country": "BE", "city": "Bruxelles", "postal_code": "1000"}
    client, _created = create_client(owner=member.user, **belgian, peppol_id="0208:0403170701")
    assert (client.vat_number, client.peppol_id) == ("", "0208:0403170701")

    with pytest.raises(InvoicingError) as error:
        create_client(
            owner=member.user,
            **{**belgian, "name": "Other SA"},
            vat_number="BE0403019261",
            peppol_id="0208:0403170701",
        )
    assert error.value.message == (
        "This Peppol id names another company than the VAT number: leave it empty."
    )


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("0088:5790000435968", "0088:5790000435968"),
        ("0060:123456789", "0060:123456789"),
        ("0192:974760673", "0192:974760673"),
        ("0007:5560360793", "0007:5560360793"),
        ("0184:13585628", "0184:13585628"),
        ("9930:de136695976", "9930:DE136695976"),
        ("9933:GR094259216", "9933:EL094259216"),
        ("0151:51824753556", "0151:51824753556"),  # a scheme without check: syntax only
    ],
)
def test_valid_participant_ids_are_kept_in_compact_form(member, typed, stored):
    client, _created = create_client(owner=member.user, **GERMAN_COMPANY, peppol_id=typed)

    assert client.peppol_id == stored
