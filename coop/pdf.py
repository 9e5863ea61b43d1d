"""Render a Django template to an A4 PDF document with WeasyPrint.

Invoices, credit notes and payslips all go through ``render_pdf``. A Celery worker renders many
documents in one long-lived process, so what every document needs before its first page is
laid out is prepared once per thread and kept: the font configuration (the fontconfig scan and
the Pango font map: a third of the time of a one-page "Hello" document) and the parsed
stylesheets. The font subsets embedded in the documents are cut once per process too
(``coop.pdf_fonts``).
"""

import threading
from collections.abc import Sequence

from django.template.loader import render_to_string
from django.utils import translation
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from coop import pdf_fonts
from coop.pdf_font_stack import FONT_STACK

pdf_fonts.install()

# Applied before the document's own stylesheets, which may set the margins but not the paper;
# they inherit the font families (coop.pdf_font_stack) and name no others.
PAPER = "@page { size: A4; } html { font-family: " + FONT_STACK + "; }"

# A Pango font map must not be shared between threads; a prefork Celery worker has only one.
_per_thread = threading.local()


def render_pdf(
    template_name: str,
    context: dict,
    *,
    language: str,
    base_url: str | None = None,
    stylesheets: Sequence[str] = (),
) -> bytes:
    """Render the template with the context, in the language, to the bytes of an A4 PDF.

    ``stylesheets`` are template names of CSS files, rendered without context and parsed once
    per thread: a worker must be restarted to see a changed stylesheet. ``base_url`` resolves
    relative URLs (images) in the template.

    The bytes depend on the template and the context only: WeasyPrint writes no date of its
    own, so the template gives the document's dates (``<meta name="dcterms.created">``), and
    rendering the same document twice gives the same file.
    """
    with translation.override(language):
        html = render_to_string(template_name, context)
    return HTML(string=html, base_url=base_url).write_pdf(
        stylesheets=[_stylesheet(PAPER, is_source=True)]
        + [_stylesheet(name) for name in stylesheets],
        font_config=_font_config(),
    )


def _font_config() -> FontConfiguration:
    if not hasattr(_per_thread, "font_config"):
        _per_thread.font_config = FontConfiguration()
        _per_thread.stylesheets = {}
    return _per_thread.font_config


def _stylesheet(name: str, *, is_source: bool = False) -> CSS:
    font_config = _font_config()
    stylesheets = _per_thread.stylesheets
    if name not in stylesheets:
        source = name if is_source else render_to_string(name)
        stylesheets[name] = CSS(string=source, font_config=font_config)
    return stylesheets[name]
