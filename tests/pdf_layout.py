"""Check the layout of a generated PDF from its text boxes, as a careful reader would.

``check_layout(pdf, expected=[...])`` reads every page with PDFium and returns the flaws it
finds, as sentences (an empty list for a clean document):

- two text runs overlap (text printed on top of other text);
- a text run lies outside the page or within ``margin_mm`` of its edge (cut off, or lost by a
  printer);
- a character is drawn with a font that has no glyph for it (the empty "tofu" box);
- a text run shows no ink once the page is rendered to an image (clipped or invisible);
- an expected mention is not in the document's text (compared without white space, so that a
  mention wrapped over lines still counts).

It knows nothing of a particular document: the caller says what must be in it.
"""

import ctypes
import io
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import pypdfium2
import pypdfium2.raw as pdfium_c
from fontTools.ttLib import TTFont, TTLibError
from PIL import Image, ImageStat

POINTS_PER_MM = 72 / 25.4
# Two runs overlap when they share more than this, across and up: glyph boxes of neighbouring
# lines or words may touch, never cross.
OVERLAP_POINTS = 0.75
# A run whose rendered area varies by fewer levels than this shows nothing.
INK_LEVELS = 24
# What PDFium reads for a hyphen that ends a line.
HYPHEN_AT_LINE_END = "\x02"


@dataclass(frozen=True)
class TextRun:
    """A run of text on one line of a page, with its box in PDF points (origin bottom left)."""

    page: int
    text: str
    left: float
    bottom: float
    right: float
    top: float

    def overlap(self, other: "TextRun") -> tuple[float, float]:
        across = min(self.right, other.right) - max(self.left, other.left)
        up = min(self.top, other.top) - max(self.bottom, other.bottom)
        return across, up

    def __str__(self) -> str:
        text = " / ".join(self.text.split("\r\n"))[:60]
        return f"page {self.page + 1} “{text}” at ({self.left:.0f}, {self.bottom:.0f})"


@dataclass
class Layout:
    """What the checker read: the pages' sizes, the text runs and the text."""

    page_sizes: list[tuple[float, float]] = field(default_factory=list)
    runs: list[TextRun] = field(default_factory=list)
    text: str = ""
    missing_glyphs: list[str] = field(default_factory=list)
    fonts: set[str] = field(default_factory=set)
    blank_runs: list[TextRun] = field(default_factory=list)
    images: list[Image.Image] = field(default_factory=list)
    # The fonts each character is drawn with.
    character_fonts: dict[str, set[str]] = field(default_factory=dict)

    def fonts_of(self, characters: str) -> set[str]:
        """Return the fonts that draw any of the characters."""
        found = [self.character_fonts.get(character, set()) for character in characters]
        return set().union(*found)


def read_layout(pdf: bytes, *, scale: float = 1.5) -> Layout:
    """Read the text runs, fonts and rendered pages (at ``scale`` × 72 dpi) of the PDF."""
    layout = Layout()
    document = pypdfium2.PdfDocument(pdf)
    texts = []
    try:
        font_cmaps: dict[int, set[int] | None] = {}
        for number, page in enumerate(document):
            width, height = page.get_size()
            layout.page_sizes.append((width, height))
            text_page = page.get_textpage()
            texts.append(text_page.get_text_range())
            _check_glyphs(text_page, number, font_cmaps, layout)
            for index in range(text_page.count_rects()):
                left, bottom, right, top = text_page.get_rect(index)
                text = text_page.get_text_bounded(left, bottom, right, top)
                if text.strip() and right > left and top > bottom:
                    layout.runs.append(TextRun(number, text, left, bottom, right, top))
            image = page.render(scale=scale).to_pil().convert("L")
            layout.images.append(image)
            for run in layout.runs:
                if run.page == number and not _has_ink(image, run, height, scale):
                    layout.blank_runs.append(run)
    finally:
        document.close()
    layout.text = "\n".join(texts)
    return layout


def check_layout(
    pdf: bytes,
    *,
    expected: Sequence[str] = (),
    margin_mm: float = 8.0,
    layout: Layout | None = None,
) -> list[str]:
    """Return the layout flaws of the PDF, one sentence each; [] when it is clean."""
    layout = layout or read_layout(pdf)
    problems = []
    for _page, runs in itertools.groupby(layout.runs, key=lambda run: run.page):
        for first, second in itertools.combinations(list(runs), 2):
            across, up = first.overlap(second)
            if across > OVERLAP_POINTS and up > OVERLAP_POINTS:
                problems.append(f"overlapping text: {first} and {second}")
    margin = margin_mm * POINTS_PER_MM
    for run in layout.runs:
        width, height = layout.page_sizes[run.page]
        inside = (
            run.left >= margin
            and run.bottom >= margin
            and run.right <= width - margin
            and run.top <= height - margin
        )
        if not inside:
            problems.append(
                f"text outside the page's margins: {run} to ({run.right:.0f}, {run.top:.0f})"
            )
    problems += [f"no ink where there is text: {run}" for run in layout.blank_runs]
    problems += [f"no glyph for {missing}" for missing in layout.missing_glyphs]
    flat = _without_space(layout.text)
    problems += [
        f"missing mention: “{mention}”"
        for mention in expected
        if _without_space(mention) not in flat
    ]
    return problems


def _without_space(text: str) -> str:
    # PDFium reads a hyphen that ends a line as U+0002.
    return "".join(text.replace(HYPHEN_AT_LINE_END, "-").replace("\ufffe", "-").split())


def _has_ink(image: Image.Image, run: TextRun, page_height: float, scale: float) -> bool:
    box = (
        int(run.left * scale),
        int((page_height - run.top) * scale),
        int(run.right * scale) + 1,
        int((page_height - run.bottom) * scale) + 1,
    )
    low, high = ImageStat.Stat(image.crop(box)).extrema[0]
    return high - low >= INK_LEVELS


def _check_glyphs(text_page, number: int, font_cmaps: dict, layout: Layout) -> None:
    """Note each character drawn with an embedded font whose character map lacks it."""
    name = ctypes.create_string_buffer(256)
    flags = ctypes.c_int()
    for index in range(text_page.count_chars()):
        unit = pdfium_c.FPDFText_GetUnicode(text_page, index)
        if 0xDC00 <= unit < 0xE000:
            continue  # the second half of a character outside the Basic Multilingual Plane
        if 0xD800 <= unit < 0xDC00:
            low = pdfium_c.FPDFText_GetUnicode(text_page, index + 1)
            unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
        character = chr(unit)
        if (
            not character.strip()
            or character == HYPHEN_AT_LINE_END
            or pdfium_c.FPDFText_IsGenerated(text_page, index) == 1
        ):
            continue
        text_object = pdfium_c.FPDFText_GetTextObject(text_page, index)
        if not text_object:
            continue
        font = pdfium_c.FPDFTextObj_GetFont(text_object)
        pdfium_c.FPDFText_GetFontInfo(text_page, index, name, len(name), ctypes.byref(flags))
        font_name = name.value.decode("latin-1").split("+")[-1]
        layout.fonts.add(font_name)
        layout.character_fonts.setdefault(character, set()).add(font_name)
        key = ctypes.cast(font, ctypes.c_void_p).value
        if key not in font_cmaps:
            font_cmaps[key] = _font_code_points(font)
        code_points = font_cmaps[key]
        if code_points is not None and unit not in code_points:
            layout.missing_glyphs.append(
                f"“{character}” (U+{unit:04X}) in {font_name} on page {number + 1}"
            )


def _code_point(text: str) -> int:
    return ord(text.encode("utf-16-le", "surrogatepass").decode("utf-16-le")[0])


def _font_code_points(font) -> set[int] | None:
    """Return the code points the embedded font maps to glyphs, or None if it cannot tell."""
    size = ctypes.c_size_t()
    if not pdfium_c.FPDFFont_GetFontData(font, None, 0, ctypes.byref(size)) or not size.value:
        return None
    data = (ctypes.c_uint8 * size.value)()
    pdfium_c.FPDFFont_GetFontData(font, data, size.value, ctypes.byref(size))
    try:
        cmap = TTFont(io.BytesIO(bytes(data)), lazy=True)["cmap"].getBestCmap()
    except (TTLibError, KeyError, AssertionError):
        return None
    return set(cmap) if cmap else None
