"""Every generated PDF, in every language, short and very long, is laid out without a flaw."""

import pytest
from weasyprint import HTML

from coop.pdf import PAPER
from tests.pdf_documents import DOCUMENTS, LANGUAGES, LENGTHS
from tests.pdf_layout import check_layout


@pytest.mark.parametrize("length", LENGTHS)
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", DOCUMENTS)
def test_document_is_laid_out_without_a_flaw(kind, language, length):
    pdf, mentions = DOCUMENTS[kind](length, language)

    assert check_layout(pdf, expected=mentions) == []


def render_html(body: str) -> bytes:
    return HTML(string=f"<style>{PAPER} @page {{ margin: 20mm; }}</style>{body}").write_pdf()


def test_the_check_finds_text_printed_over_text():
    pdf = render_html(
        '<p style="position: absolute; top: 0">Employer coop SCE</p>'
        '<p style="position: absolute; top: 1mm">Employee Ana Peeters</p>'
    )

    [problem] = check_layout(pdf)
    assert problem.startswith("overlapping text: page 1 “Employer coop SCE")


def test_the_check_finds_text_running_off_the_page():
    pdf = render_html('<p style="white-space: pre">' + "BESTELLING-0123456789-" * 8 + "</p>")

    [problem] = check_layout(pdf)
    assert problem.startswith("text outside the page's margins: page 1 “BESTELLING-")


def test_the_check_finds_clipped_text_and_missing_mentions():
    pdf = render_html(
        '<p>Invoice 2026-000123</p><div style="height: 0; overflow: hidden"><p>Total</p></div>'
    )

    assert check_layout(pdf, expected=["Invoice 2026-000123", "IBAN"]) == [
        "no ink where there is text: page 1 “Total” at (63, 724)",
        "missing mention: “IBAN”",
    ]


def test_the_check_finds_characters_without_a_glyph():
    # Sinhala is a script none of the documents' fonts draws.
    pdf = render_html("<p>Tokyo 東京 අ</p>")

    assert check_layout(pdf, expected=["東京"]) == [
        "no glyph for “අ” (U+0D85) in DejaVu-Sans on page 1"
    ]
