"""The invoice PDF: legal mentions, payment QR code, languages, pages and reproducible bytes."""

import ctypes
from decimal import Decimal

import pypdfium2
import pypdfium2.raw as pdfium_c
import pytest
import zxingcpp
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext

from coop import bounds
from invoicing.payment_qr import epc_payload, epc_qr_png_data_uri, epc_qr_svg
from invoicing.pdf import TEMPLATE, invoice_context, render_invoice_pdf
from tests.invoicing.snapshots import (
    credit_note,
    domestic_invoice,
    intra_eu_invoice,
    make_snapshot,
    mixed_rates_invoice,
    private_person_invoice,
    reverse_charge_invoice,
)

A4_POINTS = (595.28, 841.89)
QR_SCAN_DPI = 200


def open_pdf(pdf: bytes) -> pypdfium2.PdfDocument:
    return pypdfium2.PdfDocument(pdf)


def page_lines(page: pypdfium2.PdfPage) -> list[str]:
    """Return the page's text as it looks: characters grouped by baseline, left to right."""
    text_page = page.get_textpage()
    characters = []
    for index in range(text_page.count_chars()):
        character = text_page.get_text_range(index, 1)
        left, bottom, right, _top = text_page.get_charbox(index, loose=True)
        if character.strip() and right > left:
            characters.append((round(bottom), left, right, character))
    lines: dict[int, list] = {}
    for bottom, left, right, character in characters:
        # Glyphs of one line sit on one baseline; a point of tolerance absorbs rounding.
        key = next((known for known in lines if abs(known - bottom) <= 1), bottom)
        lines.setdefault(key, []).append((left, right, character))
    result = []
    for key in sorted(lines, reverse=True):
        text, previous_right = "", None
        for left, right, character in sorted(lines[key]):
            if previous_right is not None and left - previous_right > 1.2:
                text += " "
            text += character
            previous_right = right
        result.append(text)
    return result


def pdf_lines(pdf: bytes) -> list[str]:
    return [line for page in open_pdf(pdf) for line in page_lines(page)]


def pdf_text(pdf: bytes) -> str:
    return "\n".join(pdf_lines(pdf))


def pdf_language(pdf: bytes) -> str:
    document = open_pdf(pdf)
    size = pdfium_c.FPDFCatalog_GetLanguage(document.raw, None, 0)
    buffer = (ctypes.c_ushort * (size // 2))()
    pdfium_c.FPDFCatalog_GetLanguage(document.raw, buffer, size)
    return bytes(buffer).decode("utf-16-le").rstrip("\x00")


def scan_qr_codes(pdf: bytes) -> list:
    image = open_pdf(pdf)[0].render(scale=QR_SCAN_DPI / 72).to_pil()
    return zxingcpp.read_barcodes(image)


def test_domestic_invoice_shows_every_legal_mention():
    lines = pdf_lines(render_invoice_pdf(domestic_invoice()))
    text = "\n".join(lines)
    with translation.override("fr"):
        legal_form = f"{gettext('Legal form')}: SCE"
        seat = f"{gettext('Registered office')}: Rue Ransfort 27, 1080 Bruxelles"

    for mention in [
        "2026-000123",  # number
        "2 mars 2026",  # issue date
        "1 avril 2026",  # due date
        "coop SCE",
        "Rue Ransfort 27, 1080 Bruxelles",
        "BE 0403.019.261",  # seller VAT number
        "0403.019.261 · RPM Bruxelles",  # enterprise number and register
        legal_form,
        seat,
        "Théâtre des Galeries SA",
        "Galerie du Roi 32",
        "1000 Bruxelles",
        "BE 1000.000.021",  # buyer VAT number
        "PO-2026-77",  # buyer reference
        "Lighting design, rehearsals",
        "BE71 0961 2345 6769",
        "GKCCBEBB",
        "+++123/4567/89002+++",
        "Ana Peeters",
        "Stage lighting",
    ]:
        assert mention in text, mention
    # The VAT breakdown row: rate, taxable base, VAT (21 % of 59.97 = 12.59).
    assert "21 % 59,97 € 12,59 €" in lines
    for total in ["59,97 €", "12,59 €", "72,56 €"]:
        assert total in text
    assert "Autoliquidation" not in text


def test_mixed_rates_invoice_shows_each_rate_with_its_base_and_vat():
    lines = pdf_lines(render_invoice_pdf(mixed_rates_invoice()))

    for row in ["21 % 900,00 € 189,00 €", "12 % 80,00 € 9,60 €", "6 % 202,50 € 12,15 €"]:
        assert any(line.startswith(row) for line in lines), row
    assert any(line.endswith("1 393,25 €") for line in lines)


def test_reverse_charge_invoice_shows_the_autoliquidation_mention():
    lines = pdf_lines(render_invoice_pdf(reverse_charge_invoice()))

    assert "Autoliquidation / Verlegging van heffing (VATEX-EU-AE)" in lines
    [rate_row] = [line for line in lines if line.startswith("0 %")]
    assert rate_row.endswith(" 1 520,00 € 0,00 €")


def test_intra_eu_invoice_shows_the_exemption_and_the_buyer_vat_number():
    # The mention is a paragraph: where its lines break depends on the font, not on the invoice.
    text = " ".join(pdf_lines(render_invoice_pdf(intra_eu_invoice())))

    assert "Livraison intracommunautaire exonérée, art. 138 directive 2006/112/CE" in text
    assert "(VATEX-EU-IC)" in text
    assert "FR40303265045" in text
    assert "2 March 2026" in text


def test_credit_note_refers_to_the_credited_invoice_and_asks_for_no_payment():
    pdf = render_invoice_pdf(credit_note())
    text = pdf_text(pdf)

    assert "NC-2026-000004" in text
    assert "2026-000123" in text
    assert "+++123/4567/89002+++" not in text
    assert scan_qr_codes(pdf) == []


def test_rendering_twice_gives_the_same_bytes_dated_by_the_invoice():
    first = render_invoice_pdf(domestic_invoice())
    second = render_invoice_pdf(domestic_invoice())

    assert first == second
    metadata = open_pdf(first).get_metadata_dict()
    assert metadata["CreationDate"] == "D:20260302"
    assert metadata["ModDate"] == "D:20260302"
    assert metadata["Title"].endswith(" 2026-000123")


def test_normal_invoice_fits_one_a4_page():
    document = open_pdf(render_invoice_pdf(mixed_rates_invoice()))

    assert len(document) == 1
    assert document[0].get_size() == pytest.approx(A4_POINTS, abs=0.01)


def test_long_invoice_flows_onto_more_pages_with_the_table_header_repeated():
    rows = [(f"Rehearsal day {day}", "1", "day", "450.00", "S", "21") for day in range(1, 61)]
    snapshot = make_snapshot(rows, language="en")
    document = open_pdf(render_invoice_pdf(snapshot))
    with translation.override("en"):
        header = gettext("Description")

    assert len(document) >= 2
    for number, page in enumerate(document, 1):
        lines = page_lines(page)
        assert any(line.startswith(header) for line in lines), number
        # Every page says whose it is: the document's number beside the page number.
        assert f"Invoice 2026-000123 · page {number} / {len(document)}" in lines


def test_a_vatex_code_is_never_split_over_two_lines():
    snapshot = make_snapshot([("Training day", "1", "day", "450.00", "E", "0")], language="fr")
    [group] = snapshot["vat_breakdown"]
    basis = "Exonération – art. 44 §2 4° a) du Code de la TVA (enseignement, formation)"
    code = "VATEX-EU-132-1I"
    # Reasons of every length around a line's end: in some of them the code reaches it.
    snapshot["vat_breakdown"] = [
        {**group, "exemption_reason": f"{basis} {'x' * length}", "exemption_code": code}
        for length in range(1, 41)
    ]
    lines = pdf_lines(render_invoice_pdf(snapshot))

    assert [line for line in lines if "VATEX" in line and "(VATEX-EU-132-1I)" not in line] == []
    assert sum(line.count("(VATEX-EU-132-1I)") for line in lines) == 40


def test_payment_qr_code_carries_the_epc_payload():
    snapshot = domestic_invoice()
    pdf = render_invoice_pdf(snapshot)
    payload = epc_payload(snapshot)

    assert payload == (
        "BCD\n002\n1\nSCT\nGKCCBEBB\ncoop SCE\nBE71096123456769\nEUR72.56\n\n123456789002"
    )
    assert len(payload.encode()) <= 331
    [code] = scan_qr_codes(pdf)
    assert code.format == zxingcpp.BarcodeFormat.QRCode
    assert code.ec_level == "M"
    assert code.text == payload


def test_payment_qr_code_of_a_dutch_invoice_drops_trailing_zeros_of_the_amount():
    snapshot = private_person_invoice()

    [code] = scan_qr_codes(render_invoice_pdf(snapshot))
    assert code.text == epc_payload(snapshot)
    assert code.text.split("\n")[7] == "EUR302.5"


def test_credit_notes_and_invoices_with_nothing_to_pay_get_no_payment_qr_code():
    paid = domestic_invoice()
    paid["totals"]["payable"] = "0.00"
    too_large = domestic_invoice()
    too_large["totals"]["payable"] = str(Decimal("1000000000.00"))

    for snapshot in [credit_note(), paid, too_large]:
        assert epc_payload(snapshot) == ""
        assert epc_qr_svg(snapshot) == ""
        assert epc_qr_png_data_uri(snapshot) == ""
    assert epc_qr_svg(domestic_invoice()).startswith("<svg")


def test_dutch_invoice_is_rendered_in_dutch():
    snapshot = private_person_invoice()
    with translation.override("nl"):
        html = render_to_string(TEMPLATE, invoice_context(snapshot))
    pdf = render_invoice_pdf(snapshot)
    text = pdf_text(pdf)

    assert '<html lang="nl">' in html
    assert pdf_language(pdf) == "nl"
    assert "2 maart 2026" in text  # Django's own Dutch month names
    assert "302,50 €" in text
    assert "Jan Janssens" in text
    assert "Kerkstraat 5" in text


def test_the_longest_note_and_line_description_are_printed_in_full_on_the_page():
    word = "".join(str(index % 10) for index in range(250))
    note = (word + " " + "Lorem ipsum dolor sit amet. " * 40)[: bounds.NOTES_MAX_LENGTH]
    description = ("Répétition-" * 40)[: bounds.LINE_DESCRIPTION_MAX_LENGTH]
    assert len(note) == bounds.NOTES_MAX_LENGTH
    snapshot = make_snapshot([(description, "1", "day", "450.00", "S", "21")], language="en")
    snapshot["note"] = note
    pdf = render_invoice_pdf(snapshot)

    lines = pdf_lines(pdf)
    assert "".join(note.split()) in "".join("".join(lines).split())
    # The description wraps inside its column: the first word of each of its lines.
    start = next(i for i, line in enumerate(lines) if line.startswith("Répétition-"))
    fragments = []
    for line in lines[start:]:
        # pdfium reads a hyphen that ends a line as U+FFFE.
        fragment = line.split(" ")[0].replace("\ufffe", "-")
        if not fragment or set(fragment) - set("Répétition-"):
            break
        fragments.append(fragment)
    assert "".join(fragments) == description
    width = A4_POINTS[0]
    for page in open_pdf(pdf):
        text_page = page.get_textpage()
        for index in range(text_page.count_chars()):
            left, _bottom, right, _top = text_page.get_charbox(index)
            assert left >= 0 and right <= width
