"""Cut the font subsets that PDFs embed once per worker, not once per document.

WeasyPrint embeds in every PDF a subset of each font face it used: the font file without the
outlines of the glyphs the document does not show. Where HarfBuzz's subsetter is not installed,
fontTools cuts it, at 20 to 60 ms a face: more than laying out a one-page invoice. A worker
renders invoices and payslips in the same two or three faces all day and would cut nearly the
same subsets again for every document.

So each face gets a *common* subset, cut once per process and kept: the glyphs of the Latin
letters, digits and signs that the cooperative's documents are written with (with the
ligatures and accented forms the font builds from them). A document whose glyphs all lie in the
common set embeds the common subset as it is; a document that shows other glyphs (a name in
another script, say) gets the common set plus its own glyphs, cut for it and kept among the
last few such subsets.

The subset a document embeds depends on the font and on the document's glyphs only, never on
what the process rendered before or on the time it was cut, so rendering the same document
twice, in one worker or in two, gives the same bytes.
"""

import hashlib
import io
import threading
from collections import OrderedDict

from fontTools import subset
from fontTools.ttLib import TTFont, TTLibError
from weasyprint.pdf import fonts as weasyprint_fonts

# Basic Latin, Latin-1 and Latin Extended-A (the letters of the EU's languages written in Latin
# script), the typographic quotes, dashes and spaces, the euro and the minus sign.
COMMON_CHARACTERS = frozenset(
    [chr(code) for code in range(0x20, 0x7F)]
    + [chr(code) for code in range(0xA0, 0x180)]
    + list("‘’‚“”„‹›–—‐‑−…•·′″€№™")
    + ["\u2007", "\u2009", "\u200b", "\u202f"]
)
# Subsets cut for documents with glyphs outside the common set, kept most recently used first.
MAX_EXTRA_SUBSETS = 32

_lock = threading.Lock()
_common_glyphs: dict[tuple, frozenset[int]] = {}
_subsets: OrderedDict[tuple, bytes] = OrderedDict()
_weasyprint_subset = weasyprint_fonts.Font.subset


def subset_keeping_common_glyphs(font: weasyprint_fonts.Font, to_unicode: dict, hinting: bool):
    """Replace the font's file content with a subset holding at least the document's glyphs.

    Takes the place of WeasyPrint's ``Font.subset``; ``to_unicode`` maps the glyph ids the
    document uses to their text.
    """
    if not to_unicode:
        return
    face = _face_key(font)
    common = _common_glyph_ids(face, font)
    extra = frozenset(to_unicode) - common
    key = (face, hinting, bool(font.missing), extra)
    with _lock:
        content = _subsets.get(key)
        if content is not None and extra:
            _subsets.move_to_end(key)
    if content is None:
        original = font.file_content
        glyphs = dict.fromkeys(sorted(common | extra), "")
        _weasyprint_subset(font, glyphs, hinting)
        content = _dated_like(font.file_content, original, font.index)
        with _lock:
            _subsets[key] = content
            extra_keys = [known for known in _subsets if known[3]]
            for stale in extra_keys[:-MAX_EXTRA_SUBSETS]:
                del _subsets[stale]
    font.file_content = content


def _dated_like(subset_content: bytes, original: bytes, index: int) -> bytes:
    """Give the subset the modification date of the font it was cut from.

    fontTools dates the fonts it writes with the current time, which would make the bytes of a
    document depend on the moment its subset was cut.
    """
    try:
        modified = TTFont(io.BytesIO(original), fontNumber=index, lazy=True)["head"].modified
        ttfont = TTFont(io.BytesIO(subset_content), recalcTimestamp=False)
        if ttfont["head"].modified == modified:
            return subset_content
        ttfont["head"].modified = modified
        output = io.BytesIO()
        ttfont.save(output)
    except (TTLibError, KeyError, AssertionError):
        return subset_content
    return output.getvalue()


def _face_key(font: weasyprint_fonts.Font) -> tuple:
    """Identify the font file: its length and its table directory, which holds the checksum of
    every table, are enough, and far cheaper to hash than the whole file."""
    content = font.file_content
    head = hashlib.blake2b(content[:4096], digest_size=16).digest()
    return (len(content), head, font.index)


def _common_glyph_ids(face: tuple, font: weasyprint_fonts.Font) -> frozenset[int]:
    """Return the ids of the glyphs the face draws the common characters with."""
    with _lock:
        known = _common_glyphs.get(face)
    if known is not None:
        return known
    glyph_ids: frozenset[int] = frozenset()
    try:
        ttfont = TTFont(io.BytesIO(font.file_content), fontNumber=font.index)
        ids_by_name = {name: index for index, name in enumerate(ttfont.getGlyphOrder())}
        glyph_ids = frozenset(ids_by_name[name] for name in _glyph_closure(ttfont))
    except (TTLibError, KeyError, AssertionError):
        # A font fontTools cannot read: every document gets a subset of its own glyphs.
        pass
    with _lock:
        _common_glyphs[face] = glyph_ids
    return glyph_ids


def _glyph_closure(ttfont: TTFont) -> set[str]:
    """Name the glyphs of the common characters with what the font substitutes for them.

    Subsetting changes the font in place: its glyph ids are read before.
    """
    options = subset.Options(ignore_missing_glyphs=True, ignore_missing_unicodes=True)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[ord(character) for character in COMMON_CHARACTERS])
    subsetter.subset(ttfont)
    return set(subsetter.glyphs_retained)


def install() -> None:
    """Make WeasyPrint cut font subsets through ``subset_keeping_common_glyphs``."""
    weasyprint_fonts.Font.subset = subset_keeping_common_glyphs
