"""Time the rendering of an invoice PDF against a minimal one-page WeasyPrint document.

Run with ``.venv/bin/python benchmarks/invoice_pdf.py [--runs N]``. The invoice is rendered the
way a long-lived Celery worker renders it (warm: font configuration, stylesheet and font subsets
prepared by the first render, see ``coop.pdf`` and ``coop.pdf_fonts``); the minimal document is
``HTML(string="<p>Hello</p>").write_pdf()`` with WeasyPrint as installed, which cuts its font
subset anew for every document. For comparison the same minimal document is also timed with the
subsets the worker keeps. All are timed in turns, so that a busy machine slows each alike, and
the medians are compared. Target: an invoice costs at most 1.5 times the minimal document. An
invoice whose line is in Greek, Cyrillic, Chinese and emoji shows what the fallback fonts add
when a document needs them (a document in Latin script does not load them).

Which library cuts the font subsets decides most of the minimal document's time: fontTools
takes some 25 ms a face, HarfBuzz-Subset (a system library, where installed) about 1 ms.
``--fonttools`` measures the fontTools case on a machine that has both. ``--against COMMIT``
also times the invoices with that commit's template and stylesheet, in turns with today's, and
prints the difference.
"""

import argparse
import logging
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coop.settings")

import django

django.setup()

from django.template import engines  # noqa: E402
from django.utils import translation  # noqa: E402
from weasyprint import CSS, HTML  # noqa: E402
from weasyprint.pdf import fonts as weasyprint_fonts  # noqa: E402

from coop import pdf_fonts  # noqa: E402
from coop.pdf import _font_config  # noqa: E402
from invoicing.payment_qr import epc_qr_png_data_uri  # noqa: E402
from invoicing.pdf import STYLESHEET, TEMPLATE, invoice_context, render_invoice_pdf  # noqa: E402
from tests.invoicing.snapshots import (  # noqa: E402
    domestic_invoice,
    make_snapshot,
    mixed_rates_invoice,
)

WARM_UP_RUNS = 3


def median_milliseconds(renderings: dict[str, Callable[[], object]], runs: int) -> dict:
    """Time each rendering in turns after a warm-up; return their median wall times in ms."""
    for render in renderings.values():
        for _ in range(WARM_UP_RUNS):
            render()
    timings: dict[str, list[float]] = {name: [] for name in renderings}
    for _ in range(runs):
        for name, render in renderings.items():
            start = time.perf_counter()
            render()
            timings[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) * 1000 for name, values in timings.items()}


def minimal_document() -> bytes:
    return HTML(string="<p>Hello</p>").write_pdf()


def minimal_document_as_installed() -> bytes:
    """Render the minimal document with WeasyPrint's own font subsetting."""
    weasyprint_fonts.Font.subset = pdf_fonts._weasyprint_subset
    try:
        return minimal_document()
    finally:
        pdf_fonts.install()


def renderer_at(revision: str) -> Callable[[dict], bytes]:
    """Return a function that renders an invoice with the template and stylesheet of a commit.

    The context, the fonts and the kept subsets are today's: only the layout differs. The
    commit's documents name their font families in their own stylesheet (before
    coop.pdf_font_stack), on an A4 page.
    """

    def source(path: str) -> str:
        return subprocess.run(
            ["git", "show", f"{revision}:{path}"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent.parent,
        ).stdout

    template = engines["django"].from_string(source(f"templates/{TEMPLATE}"))
    stylesheets = [
        CSS(string="@page { size: A4; }", font_config=_font_config()),
        CSS(string=source(f"templates/{STYLESHEET}"), font_config=_font_config()),
    ]

    def render(snapshot: dict) -> bytes:
        with translation.override(snapshot["language"]):
            html = template.render(invoice_context(snapshot))
        return HTML(string=html).write_pdf(stylesheets=stylesheets, font_config=_font_config())

    return render


def main() -> None:
    """Print the minimal and invoice rendering times and their ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument(
        "--fonttools",
        action="store_true",
        help="cut font subsets with fontTools even where HarfBuzz-Subset is installed",
    )
    parser.add_argument(
        "--against",
        metavar="COMMIT",
        help="also time the invoices with the template and stylesheet of this commit",
    )
    arguments = parser.parse_args()
    if arguments.fonttools:
        # WeasyPrint falls back to fontTools where it found no HarfBuzz-Subset library.
        weasyprint_fonts.harfbuzz_subset = None
    # WeasyPrint reports every step at INFO level, and warns at every subset that fontTools cuts
    # it: keep the log writes out of the timings.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)

    domestic = domestic_invoice()
    mixed = mixed_rates_invoice()
    # Drawn with the fallback fonts too (coop.pdf_font_stack): Droid Sans Fallback and Symbola.
    other_scripts = make_snapshot([("Ωμέγα Привет 東京 😀", "3", "hour", "19.99", "S", "21")])
    renderings = {
        "minimal document": minimal_document_as_installed,
        "minimal document, kept subsets": minimal_document,
        "invoice, 1 line": lambda: render_invoice_pdf(domestic),
        "invoice, 3 lines, 3 VAT rates": lambda: render_invoice_pdf(mixed),
        "invoice, 1 line, CJK and emoji": lambda: render_invoice_pdf(other_scripts),
        "  of which the payment QR code": lambda: epc_qr_png_data_uri(domestic),
    }
    if arguments.against:
        render_then = renderer_at(arguments.against)
        renderings[f"invoice, 1 line, at {arguments.against}"] = lambda: render_then(domestic)
        renderings[f"invoice, 3 lines, at {arguments.against}"] = lambda: render_then(mixed)
    medians = median_milliseconds(renderings, arguments.runs)
    minimal = medians["minimal document"]
    write = sys.stdout.write
    subsetter = "HarfBuzz-Subset" if weasyprint_fonts.harfbuzz_subset else "fontTools"
    write(f"font subsets cut by {subsetter}\n")
    write(f"median wall time of {arguments.runs} runs each, after {WARM_UP_RUNS} warm-up runs\n")
    for name, milliseconds in medians.items():
        write(f"{name:32} {milliseconds:7.1f} ms   {milliseconds / minimal:5.2f} × minimal\n")
    if arguments.against:
        for now, then in (
            ("invoice, 1 line", f"invoice, 1 line, at {arguments.against}"),
            ("invoice, 3 lines, 3 VAT rates", f"invoice, 3 lines, at {arguments.against}"),
        ):
            change = (medians[now] / medians[then] - 1) * 100
            write(f"{now} against {arguments.against}: {change:+.1f} %\n")


if __name__ == "__main__":
    main()
