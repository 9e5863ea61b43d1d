"""Fonts in PDFs: subsets cut once per process, the same bytes every time, every script drawn."""

import datetime
import io
import re
import subprocess
import zlib

import pytest
from django.conf import settings
from django.utils import timezone
from fontTools.ttLib import TTFont
from weasyprint import HTML
from weasyprint.pdf import fonts as weasyprint_fonts

from contracts.models import Payslip
from contracts.pdf import render_payslip_pdf
from coop import devstack, pdf_fonts
from coop.pdf import _font_config
from coop.pdf_font_stack import FONT_FAMILIES, FONT_PACKAGES
from invoicing.pdf import render_invoice_pdf
from tests.invoicing.snapshots import make_snapshot
from tests.pdf_documents import payslip_snapshot
from tests.pdf_layout import check_layout, read_layout

NOW = timezone.make_aware(datetime.datetime(2026, 3, 10, 9))
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


# What members type: Greek, Cyrillic, Chinese/Japanese and an emoji, beside Latin and digits.
OTHER_SCRIPTS = "Ωμέγα Привет 東京 서울 😀"


def test_the_font_stack_names_only_installed_families():
    for family in FONT_FAMILIES:
        matched = subprocess.run(
            ["fc-match", "--format", "%{family}", family], capture_output=True, text=True
        ).stdout

        assert family in matched.split(","), f"{family} is not installed (fc-match: {matched})"


@pytest.mark.parametrize("kind", ["invoice", "payslip"])
def test_greek_cyrillic_cjk_and_emoji_are_drawn_with_real_glyphs(kind):
    if kind == "invoice":
        snapshot = make_snapshot([(f"Workshop {OTHER_SCRIPTS}", "1", "hour", "60.00", "S", "21")])
        pdf = render_invoice_pdf(snapshot)
    else:
        snapshot = payslip_snapshot("short")
        snapshot["member"]["name"] = f"Ana {OTHER_SCRIPTS}"
        pdf = render_payslip_pdf(Payslip(pk=7, language="en", snapshot=snapshot, created_at=NOW))

    layout = read_layout(pdf)

    assert OTHER_SCRIPTS in layout.text
    assert layout.missing_glyphs == []
    # Bold text in a font without a bold face is drawn emboldened, named "…-Bold…".
    faces = {font.replace("-Bold", "") for font in layout.fonts}
    assert {"Droid-Sans-Fallback", "WenQuanYi-Micro-Hei", "Symbola-Semi-Condensed"} <= faces
    assert check_layout(pdf, layout=layout) == []


def test_digits_stay_in_the_text_font_beside_an_emoji():
    # A colour emoji font in the stack would draw every digit, "*" and "#" as an emoji.
    snapshot = make_snapshot([("😀 #1 *", "1", "hour", "60", "S", "21")])

    layout = read_layout(render_invoice_pdf(snapshot))

    assert layout.fonts_of("0123456789#*") == {"DejaVu-Sans", "DejaVu-Sans-Bold"}


def test_the_docker_image_installs_the_fonts():
    dockerfile = (settings.BASE_DIR / "Dockerfile").read_text()

    for package in FONT_PACKAGES:
        assert f" {package} " in dockerfile


@pytest.mark.parametrize("is_root", [True, False])
def test_dev_py_installs_missing_fonts_as_root_or_says_how(monkeypatch, capsys, is_root):
    commands = []
    monkeypatch.setattr(devstack, "installed_font_families", lambda: {"DejaVu Sans", "Symbola"})
    monkeypatch.setattr(devstack.os, "geteuid", lambda: 0 if is_root else 1000)
    monkeypatch.setattr(devstack.shutil, "which", lambda name: f"/usr/bin/{name}")

    def run(command, **options):
        commands.append(command)
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(devstack.subprocess, "run", run)

    devstack.ensure_pdf_fonts()

    install = [
        *("apt-get", "install", "--yes", "--no-install-recommends"),
        *("fonts-droid-fallback", "fonts-wqy-microhei"),
    ]
    if is_root:
        assert commands == [install]
    else:
        assert commands == []
        assert f"sudo {' '.join(install)}" in capsys.readouterr().out


def test_dev_py_does_nothing_when_the_fonts_are_installed(monkeypatch):
    monkeypatch.setattr(devstack, "installed_font_families", lambda: set(FONT_FAMILIES))
    monkeypatch.setattr(devstack.subprocess, "run", lambda *arguments, **options: pytest.fail())

    devstack.ensure_pdf_fonts()
