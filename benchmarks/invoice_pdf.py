"""Time the rendering of an invoice PDF against a minimal one-page WeasyPrint document.

Run with ``.venv/bin/python benchmarks/invoice_pdf.py [--runs N]``. The invoice is rendered the
way a long-lived Celery worker renders it (warm: font configuration and stylesheet prepared by
the first render); the minimal document is ``HTML(string="<p>Hello</p>").write_pdf()``. Both are
timed in turns, so that a busy machine slows both alike, and the medians are compared.
Target: an invoice costs at most 1.5 times the minimal document.
"""

import argparse
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coop.settings")

import django

django.setup()

from weasyprint import HTML  # noqa: E402

from invoicing.payment_qr import epc_qr_png_data_uri  # noqa: E402
from invoicing.pdf import render_invoice_pdf  # noqa: E402
from tests.invoicing.snapshots import domestic_invoice, mixed_rates_invoice  # noqa: E402

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


def main() -> None:
    """Print the minimal and invoice rendering times and their ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    arguments = parser.parse_args()
    # WeasyPrint reports every step at INFO level: keep the log writes out of the timings.
    logging.getLogger("weasyprint").setLevel(logging.WARNING)

    domestic = domestic_invoice()
    mixed = mixed_rates_invoice()
    medians = median_milliseconds(
        {
            "minimal document": lambda: HTML(string="<p>Hello</p>").write_pdf(),
            "invoice, 1 line": lambda: render_invoice_pdf(domestic),
            "invoice, 3 lines, 3 VAT rates": lambda: render_invoice_pdf(mixed),
            "  of which the payment QR code": lambda: epc_qr_png_data_uri(domestic),
        },
        arguments.runs,
    )
    minimal = medians["minimal document"]
    write = sys.stdout.write
    write(f"median wall time of {arguments.runs} runs each, after {WARM_UP_RUNS} warm-up runs\n")
    for name, milliseconds in medians.items():
        write(f"{name:32} {milliseconds:7.1f} ms   {milliseconds / minimal:5.2f} × minimal\n")


if __name__ == "__main__":
    main()
