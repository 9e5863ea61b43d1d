"""Drill: flush the broker (FLUSHALL) while documents wait in its queues.

Run with ``.venv/bin/python drills/broker_flush.py [--invoices 100]``. The drill starts its own
PostgreSQL and Valkey (``drills/stack.py``), loads the demo world, starts a worker and beat as
``dev.py up`` does, issues the invoices (each: a PDF, a UBL file, an e-mail and a Peppol
sending) and, as soon as the first PDFs are ready, runs FLUSHALL on the drill's Valkey: every
queued message is gone. It prints what was lost for good, what was done twice, how long the
sweep took to enqueue each lost document again (its ``queued_at`` minus the moment of the
flush), and how long until everything was ready and sent.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drills.stack import Stack, say, wait_until


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=100)
    parser.add_argument("--timeout", type=float, default=900)
    options = parser.parse_args()

    stack = Stack("broker_flush")
    try:
        stack.start()
        run(stack, options)
    finally:
        stack.stop()


def run(stack: Stack, options) -> None:
    import redis
    from django.db.models import Max, Min
    from django.utils import timezone

    from coop.documents import DocumentStatus
    from drills.invoices import dispatches_of, documents_of, drill_seller, issue_one
    from invoicing.models import Dispatch, Invoice

    member, activity, client = drill_seller()
    stack.start_beat()
    stack.start_worker()
    # Let the worker finish the demo world's own documents first.
    wait_until(lambda: stack.valkey_client_llen("pdf") == 0, timeout=300)
    invoices = [issue_one(member, activity, client, index) for index in range(options.invoices)]
    pks = [invoice.pk for invoice in invoices]
    documents, dispatches = documents_of(pks), dispatches_of(pks)
    expected_documents, expected_dispatches = documents.count(), dispatches.count()
    wait_until(
        lambda: documents.filter(status=DocumentStatus.READY).count() >= 2,
        timeout=300,
        interval=0.05,
    )
    broker = redis.Redis.from_url(stack.valkey.url())
    waiting = {queue: broker.llen(queue) for queue in ("pdf", "default")}
    flushed_at = timezone.now()
    broker.flushall()
    flushed = time.monotonic()
    not_ready = set(documents.exclude(status=DocumentStatus.READY).values_list("pk", flat=True))
    say(
        f"FLUSHALL with {waiting['pdf']} messages waiting in 'pdf' and {waiting['default']} in "
        f"'default'; {len(not_ready)} of {expected_documents} documents not ready"
    )

    def all_done() -> bool:
        return (
            documents.filter(status=DocumentStatus.READY).count() == expected_documents
            and dispatches.filter(status=Dispatch.Status.SENT).count() == expected_dispatches
        )

    wait_until(all_done, timeout=options.timeout, interval=0.5)
    finished = time.monotonic()

    ready = documents.filter(status=DocumentStatus.READY).count()
    sent = dispatches.filter(status=Dispatch.Status.SENT).count()
    requeued = documents.filter(pk__in=not_ready, queued_at__isnull=False)
    spread = requeued.aggregate(first=Min("queued_at"), last=Max("queued_at"))
    rendered = requeued.aggregate(first=Min("rendered_at"), last=Max("rendered_at"))
    numbers = set(Invoice.objects.filter(pk__in=pks).values_list("number", flat=True))
    mails = {
        subject: count
        for subject, count in stack.mails_by_subject().items()
        if any(number in subject for number in numbers)
    }
    stored = stack.count_files_of("documents", numbers)

    def after_flush(moment) -> str:
        return f"{(moment - flushed_at).total_seconds():.1f} s" if moment else "-"

    say("")
    say(f"invoices issued:                      {len(pks)}")
    say(f"documents expected:                   {expected_documents}")
    say(f"documents not ready at the flush:     {len(not_ready)}")
    say(f"documents lost:                       {expected_documents - ready}")
    say(f"documents duplicated (files):         {stored - ready}")
    say(f"documents enqueued again by the sweep: {requeued.count()}")
    say(f"first re-enqueued after the flush:    {after_flush(spread['first'])}")
    say(f"last re-enqueued after the flush:     {after_flush(spread['last'])}")
    say(f"first re-enqueued document ready after: {after_flush(rendered['first'])}")
    say(f"last re-enqueued document ready after:  {after_flush(rendered['last'])}")
    say(f"sendings sent / expected:             {sent} / {expected_dispatches}")
    say(f"e-mails missing:                      {len(numbers) - len(mails)}")
    say(f"e-mails sent twice:                   {sum(count - 1 for count in mails.values())}")
    say(f"all ready and sent after the flush:   {finished - flushed:.1f} s")


if __name__ == "__main__":
    main()
