"""Font subsets embedded in PDFs: cut once per process, complete, and the same bytes every time."""

import io
import re
import zlib

import pytest
from fontTools.ttLib import TTFont
from weasyprint import HTML
from weasyprint.pdf import fonts as weasyprint_fonts

from coop import pdf_fonts
from coop.pdf import _font_config

STYLE = "<style>p { font-family: 'DejaVu Sans'; }</style>"


def render(text: str) -> bytes:
    return HTML(string=f"{STYLE}<p>{text}</p>").write_pdf(font_config=_font_config())


def embedded_fonts(pdf: bytes) -> list[bytes]:
    """Return the font files embedded in the PDF (WeasyPrint writes them with /Length1)."""
    fonts = []
    for match in re.finditer(rb"<<([^<>]*/Length1 \d+[^<>]*)>>\s*stream\r?\n", pdf):
        dictionary = match.group(1)
        length = int(re.search(rb"/Length (\d+)", dictionary).group(1))
        data = pdf[match.end() : match.end() + length]
        fonts.append(zlib.decompress(data) if b"/FlateDecode" in dictionary else data)
    return fonts


def has_outline(font_file: bytes, character: str) -> bool:
    """Tell whether the embedded font draws the character (subsets keep DejaVu's glyph ids)."""
    font = TTFont(io.BytesIO(font_file))
    glyph_id = dejavu_sans_glyph_ids()[ord(character)]
    glyph = font["glyf"][font.getGlyphOrder()[glyph_id]]
    return glyph.numberOfContours != 0


_glyph_ids: dict[int, int] = {}


def dejavu_sans_glyph_ids() -> dict[int, int]:
    """Map code points to glyph ids in the DejaVu Sans that WeasyPrint uses."""
    if not _glyph_ids:
        font_files = []
        original = weasyprint_fonts.Font.subset

        def remember(font, to_unicode, hinting):
            font_files.append(font.file_content)
            return original(font, to_unicode, hinting)

        weasyprint_fonts.Font.subset = remember
        try:
            render("x")
        finally:
            weasyprint_fonts.Font.subset = original
        font = TTFont(io.BytesIO(font_files[0]))
        for code_point, name in font["cmap"].getBestCmap().items():
            _glyph_ids[code_point] = font.getGlyphID(name)
    return _glyph_ids


@pytest.fixture(autouse=True)
def fresh_subsets():
    pdf_fonts._subsets.clear()
    yield
    pdf_fonts._subsets.clear()


def test_documents_in_latin_script_embed_the_same_common_subset():
    [first] = embedded_fonts(render("Facture pour Théâtre des Galeries"))
    [second] = embedded_fonts(render("Factuur voor Łódź, Åre & Ørsted — 1 234,56 €"))

    assert first == second
    # The common subset draws letters the first document did not use.
    assert has_outline(first, "Ł")
    assert has_outline(first, "€")
    # It is a subset: glyphs of other scripts are left out.
    assert not has_outline(first, "Ж")


def test_ligatures_of_common_letters_belong_to_the_common_subset():
    [plain] = embedded_fonts(render("Bureau"))
    [ligatures] = embedded_fonts(render("office fluffy"))

    assert plain == ligatures


def test_a_document_in_another_script_gets_its_glyphs_too():
    [font_file] = embedded_fonts(render("Жанна Ωmega"))

    assert has_outline(font_file, "Ж")
    assert has_outline(font_file, "Ω")
    assert has_outline(font_file, "é")
    assert not has_outline(font_file, "Щ")


def test_the_common_subset_is_cut_once_per_process(monkeypatch):
    cuts = []
    cut = pdf_fonts._weasyprint_subset
    monkeypatch.setattr(
        pdf_fonts,
        "_weasyprint_subset",
        lambda font, to_unicode, hinting: cuts.append(1) or cut(font, to_unicode, hinting),
    )

    render("Première facture")
    render("Tweede factuur")
    render("Third invoice")

    assert len(cuts) == 1


def test_the_same_document_gives_the_same_bytes_whenever_its_subset_is_cut(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    first = render("Facture 2026-000123")
    pdf_fonts._subsets.clear()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1800000000")
    second = render("Facture 2026-000123")

    assert first == second
