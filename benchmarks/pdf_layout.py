"""Render the demo's invoices, credit notes and payslips to images and check their layout.

Run with ``.venv/bin/python benchmarks/pdf_layout.py [--images DIR]``. Like the other
benchmarks it creates a throw-away database (``<name>_pdf_layout_check``), loads the demo world
(``seed_demo``), then renders every issued invoice, credit note and payslip of the demo in
French, Dutch and English, renders each page to an image (kept in DIR when given, as PNG) and
runs the layout check of ``tests/pdf_layout.py`` on it: no overlapping text, nothing outside the
page's margins or without ink, no character without a glyph, and every expected mention
present. It prints the flaws it finds and how many documents, languages and pages it covered,
and exits with status 1 when a document has a flaw.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coop.settings")
MEDIA = tempfile.mkdtemp(prefix="coop-pdf-layout-media-")
os.environ["MEDIA_ROOT"] = MEDIA

import django  # noqa: E402

django.setup()

import copy  # noqa: E402
import logging  # noqa: E402

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from contracts.models import Payslip  # noqa: E402
from contracts.pdf import render_payslip_pdf  # noqa: E402
from invoicing.models import Invoice  # noqa: E402
from invoicing.pdf import render_invoice_pdf  # noqa: E402
from tests.pdf_documents import LANGUAGES, invoice_mentions, payslip_mentions  # noqa: E402
from tests.pdf_layout import check_layout, read_layout  # noqa: E402

IMAGE_SCALE = 100 / 72  # 100 dpi


def demo_documents():
    """Yield (kind, name, language, render, mentions) for each demo document in each language."""
    issued = Invoice.objects.filter(snapshot__isnull=False).exclude(snapshot={}).order_by("pk")
    for invoice in issued:
        kind = "credit note" if invoice.snapshot["document_type"] == "credit_note" else "invoice"
        for language in LANGUAGES:
            snapshot = {**copy.deepcopy(invoice.snapshot), "language": language}
            yield (
                kind,
                invoice.snapshot["number"],
                language,
                lambda snapshot=snapshot: render_invoice_pdf(snapshot),
                invoice_mentions(snapshot),
            )
    for payslip in Payslip.objects.order_by("pk"):
        for language in LANGUAGES:
            copy_in_language = copy.copy(payslip)
            copy_in_language.language = language
            yield (
                "payslip",
                payslip.reference,
                language,
                lambda payslip=copy_in_language: render_payslip_pdf(payslip),
                payslip_mentions(copy_in_language),
            )


def check_demo(images: Path | None) -> int:
    """Check every demo document; print the flaws and the coverage; return the flaw count."""
    write = sys.stdout.write
    counts: dict[str, set] = {}
    languages, pages, flaws, renderings = set(), 0, 0, 0
    started = time.perf_counter()
    for kind, name, language, render, mentions in demo_documents():
        pdf = render()
        layout = read_layout(pdf, scale=IMAGE_SCALE)
        problems = check_layout(pdf, expected=mentions, layout=layout)
        counts.setdefault(kind, set()).add(name)
        languages.add(language)
        pages += len(layout.images)
        renderings += 1
        if images is not None:
            for number, image in enumerate(layout.images, 1):
                image.save(images / f"{kind.replace(' ', '-')}-{name}-{language}-{number}.png")
        for problem in problems:
            write(f"{kind} {name} ({language}): {problem}\n")
        flaws += len(problems)
    documents = sum(len(names) for names in counts.values())
    per_kind = ", ".join(f"{kind}: {len(names)}" for kind, names in counts.items())
    write(
        f"layout check of the demo: {documents} documents ({per_kind}) in {len(languages)} "
        f"languages ({', '.join(sorted(languages))}): {renderings} renderings, {pages} pages "
        f"rendered to images at {IMAGE_SCALE * 72:.0f} dpi, {flaws} flaws, "
        f"in {time.perf_counter() - started:.1f} s\n"
    )
    return flaws


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=Path, help="keep the page images in this folder")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database")
    options = parser.parse_args()
    if options.images is not None:
        options.images.mkdir(parents=True, exist_ok=True)
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    logging.getLogger("celery").setLevel(logging.WARNING)

    from coop.celery import app as celery_app

    database = f"{connection.settings_dict['NAME']}_pdf_layout_check"
    connection.settings_dict["TEST"] = {
        **connection.settings_dict.get("TEST", {}),
        "NAME": database,
    }
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        # The demo's own documents are rendered as the worker would, in their own language.
        celery_app.conf.task_always_eager = True
        call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
        celery_app.conf.task_always_eager = False
        flaws = check_demo(options.images)
    finally:
        if not options.keep_db:
            connection.creation.destroy_test_db(database, verbosity=0)
        shutil.rmtree(MEDIA, ignore_errors=True)
    sys.exit(1 if flaws else 0)


if __name__ == "__main__":
    main()
