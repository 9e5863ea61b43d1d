"""Drill: kill -9 a Celery worker in the middle of a batch of 500 invoices, then restart it.

Run with ``.venv/bin/python drills/worker_kill.py [--invoices 500] [--kill-at 0.3]``. The drill
starts its own PostgreSQL and Valkey (``drills/stack.py``), loads the demo world and issues the
batch (each invoice: a PDF, a UBL file, an e-mail and a Peppol sending), then starts a worker
and beat as ``dev.py up`` does. When the given share of the PDFs is ready it kills the worker's
whole process group with SIGKILL (messages being rendered or reserved die with it), waits
2 s and starts a new worker. It prints how long until every document is ready and every
sending sent, and what was lost or done twice: documents not ready, extra files stored,
e-mails missing or sent twice, Peppol files missing.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drills.stack import Stack, say, wait_until


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=500)
    parser.add_argument("--kill-at", type=float, default=0.3, help="share of PDFs ready")
    parser.add_argument("--timeout", type=float, default=1200)
    options = parser.parse_args()

    stack = Stack("worker_kill")
    try:
        stack.start()
        run(stack, options)
    finally:
        stack.stop()


def run(stack: Stack, options) -> None:
    from coop.documents import DocumentStatus
    from drills.invoices import dispatches_of, documents_of, drill_seller, issue_one
    from invoicing.models import Dispatch, Invoice

    member, activity, client = drill_seller()
    began = time.monotonic()
    invoices = [issue_one(member, activity, client, index) for index in range(options.invoices)]
    pks = [invoice.pk for invoice in invoices]
    say(f"issued {len(pks)} invoices in {time.monotonic() - began:.1f} s (tasks queued)")
    documents, dispatches = documents_of(pks), dispatches_of(pks)
    expected_documents, expected_dispatches = documents.count(), dispatches.count()

    stack.start_beat()
    stack.start_worker()
    batch_began = time.monotonic()
    pdfs = documents.filter(format="pdf")
    kill_after = int(options.invoices * options.kill_at)
    wait_until(
        lambda: pdfs.filter(status=DocumentStatus.READY).count() >= kill_after,
        timeout=options.timeout,
        interval=0.1,
    )
    ready_at_kill = documents.filter(status=DocumentStatus.READY).count()
    stack.kill("worker")
    killed_at = time.monotonic()
    say(f"killed the worker (SIGKILL to its process group) with {ready_at_kill} documents ready")
    time.sleep(2)
    stack.start_worker()
    say("started a new worker")

    def all_done() -> bool:
        return (
            documents.filter(status=DocumentStatus.READY).count() == expected_documents
            and dispatches.filter(status=Dispatch.Status.SENT).count() == expected_dispatches
        )

    wait_until(all_done, timeout=options.timeout, interval=0.5)
    finished = time.monotonic()

    ready = documents.filter(status=DocumentStatus.READY).count()
    sent = dispatches.filter(status=Dispatch.Status.SENT).count()
    numbers = set(Invoice.objects.filter(pk__in=pks).values_list("number", flat=True))
    stored = stack.count_files_of("documents", numbers)
    mails = {
        subject: count
        for subject, count in stack.mails_by_subject().items()
        if any(number in subject for number in numbers)
    }
    peppol_files = stack.count_files_of("peppol/outbox", numbers)
    rendered_again = documents.filter(attempts__gt=1).count()
    say("")
    say(f"invoices issued:                 {len(pks)}")
    say(f"documents expected:              {expected_documents}")
    say(f"documents ready:                 {ready}")
    say(f"documents lost:                  {expected_documents - ready}")
    say(f"documents duplicated (files):    {stored - ready}")
    say(f"documents started more than once: {rendered_again}")
    say(f"sendings sent / expected:        {sent} / {expected_dispatches}")
    say(f"e-mails missing:                 {len(numbers) - len(mails)}")
    say(f"e-mails sent twice:              {sum(count - 1 for count in mails.values())}")
    say(f"Peppol files / expected:         {peppol_files} / {len(numbers)}")
    say(f"all ready and sent, after kill:  {finished - killed_at:.1f} s")
    say(f"all ready and sent, whole batch: {finished - batch_began:.1f} s")


if __name__ == "__main__":
    main()
