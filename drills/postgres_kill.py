"""Drill: kill PostgreSQL under load (web requests, invoices issued, rooms booked), restart it.

Run with ``.venv/bin/python drills/postgres_kill.py [--before 10] [--down 5] [--after 20]``.
The drill starts its own PostgreSQL and Valkey (``drills/stack.py``), loads the demo world and
starts the web server, a worker and beat as ``dev.py up`` does. Threads then issue invoices,
book two rooms' slots (a few slots, so that bookers collide) and request ``/healthz`` without a
pause. After ``--before`` seconds the PostgreSQL server's main process gets SIGKILL; after
``--down`` seconds it is started again on the same port, and the load goes on for ``--after``
seconds. The drill then waits for every document and sending, and prints: invoice numbers
missing or doubled, double bookings, half-written rows (issued invoices without their
documents, sendings or ledger entry; confirmed bookings not charged), documents lost, and when
the web server answered 200 again.
"""

import argparse
import datetime
import random
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coop.devstack import free_port
from drills.stack import PYTHON, ROOT, Stack, say, wait_until


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=float, default=10)
    parser.add_argument("--down", type=float, default=5)
    parser.add_argument("--after", type=float, default=20)
    parser.add_argument("--timeout", type=float, default=900)
    options = parser.parse_args()

    stack = Stack("postgres_kill")
    try:
        stack.start()
        run(stack, options)
    finally:
        stack.stop()


class Load:
    """Threads that keep issuing, booking and requesting until told to stop."""

    def __init__(self, stack: Stack, port: int) -> None:
        from drills.invoices import drill_seller

        self.stack = stack
        self.url = f"http://127.0.0.1:{port}/healthz"
        self.seller = drill_seller()
        self.rooms, self.slots = bookable_slots(self.seller[0])
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.counts: Counter = Counter()
        self.web: list[tuple[float, int]] = []
        self.invoice_pks: list[int] = []

    def count(self, what: str) -> None:
        with self.lock:
            self.counts[what] += 1

    def issuer(self, seed: int) -> None:
        from django.db import connection

        from drills.invoices import issue_one

        index = seed * 100_000
        while not self.stopping.is_set():
            index += 1
            try:
                invoice = issue_one(*self.seller, index)
            except Exception as error:  # the database is away: count it, reconnect, go on
                self.count(f"invoice failed ({type(error).__name__})")
                connection.close()
                time.sleep(0.2)
            else:
                with self.lock:
                    self.invoice_pks.append(invoice.pk)
                self.count("invoice issued")
        connection.close()

    def booker(self, seed: int) -> None:
        from django.db import connection

        from spaces.errors import BookingError
        from spaces.services.lifecycle import book_room

        member, activity, _client = self.seller
        chooser = random.Random(seed)  # noqa: S311 - load, not secrets
        while not self.stopping.is_set():
            room = chooser.choice(self.rooms)
            start = chooser.choice(self.slots)
            try:
                book_room(
                    actor=member.user,
                    room=room,
                    start=start,
                    end=start + datetime.timedelta(hours=1),
                    title="Rehearsal",
                    activity=activity,
                )
            except BookingError:
                self.count("booking refused (slot taken)")
            except Exception as error:
                self.count(f"booking failed ({type(error).__name__})")
                connection.close()
                time.sleep(0.2)
            else:
                self.count("booking made")
        connection.close()

    def browser(self) -> None:
        while not self.stopping.is_set():
            try:
                with urllib.request.urlopen(self.url, timeout=5) as response:  # noqa: S310
                    status = response.status
            except urllib.error.HTTPError as error:
                status = error.code
            except OSError:
                status = 0
            with self.lock:
                self.web.append((time.monotonic(), status))
            self.count(f"web {status}")
            time.sleep(0.1)

    def start(self) -> list[threading.Thread]:
        targets = [(self.issuer, (1,)), (self.issuer, (2,))]
        targets += [(self.booker, (1,)), (self.booker, (2,)), (self.browser, ())]
        threads = [threading.Thread(target=target, args=args) for target, args in targets]
        for thread in threads:
            thread.start()
        return threads


def bookable_slots(member):
    """Two rooms that confirm at once and twelve one-hour slots they are open for."""
    from django.utils import timezone

    from spaces.models import Room
    from spaces.services.rules import check_booking_rules
    from spaces.services.times import site_zone

    now = timezone.now()
    rooms, slots = [], []
    for room in Room.objects.filter(requires_approval=False).select_related("site"):
        zone = site_zone(room.site)
        candidates = []
        day = timezone.localdate() + datetime.timedelta(days=3)
        while len(candidates) < 12 and day < timezone.localdate() + datetime.timedelta(days=40):
            for hour in (10, 14, 16):
                start = datetime.datetime.combine(day, datetime.time(hour), tzinfo=zone)
                try:
                    check_booking_rules(
                        room=room,
                        start=start.astimezone(datetime.UTC),
                        end=(start + datetime.timedelta(hours=1)).astimezone(datetime.UTC),
                        now=now,
                        by_manager=False,
                    )
                except Exception:  # noqa: S112 - closed then: try the next slot
                    continue
                candidates.append(start)
            day += datetime.timedelta(days=1)
        if len(candidates) >= 12:
            rooms.append(room)
            slots = slots or candidates[:12]
        if len(rooms) == 2:
            break
    return rooms, slots


def audit(load: Load) -> dict:
    """Count what must never happen, in the drill's database."""
    from django.db import connection
    from django.db.models import Count, Q

    from invoicing.models import Invoice, InvoiceSequence
    from members.models import LedgerEntry
    from spaces.models import ACTIVE_STATES, Booking, BookingState

    figures = {}
    gaps = duplicates = 0
    for sequence in InvoiceSequence.objects.all():
        numbers = list(
            Invoice.objects.filter(number__startswith=f"{sequence.series}-").values_list(
                "number", flat=True
            )
        )
        counted = Counter(int(number.rsplit("-", 1)[1]) for number in numbers)
        duplicates += sum(count - 1 for count in counted.values())
        gaps += len(set(range(1, sequence.last_number + 1)) - set(counted))
    figures["invoice numbers gapped"] = gaps
    figures["invoice numbers doubled"] = duplicates
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FROM spaces_booking a JOIN spaces_booking b
              ON a.room_id = b.room_id AND a.id < b.id AND a.blocked_during && b.blocked_during
             WHERE a.state = ANY(%s) AND b.state = ANY(%s)
            """,
            [list(ACTIVE_STATES), list(ACTIVE_STATES)],
        )
        figures["double bookings"] = cursor.fetchone()[0]
    issued = Invoice.objects.filter(number__isnull=False).exclude(number="")
    figures["issued invoices without 2 documents"] = (
        issued.annotate(documents_count=Count("documents")).exclude(documents_count=2).count()
    )
    figures["issued invoices without a sending"] = issued.filter(dispatches__isnull=True).count()
    from django.contrib.contenttypes.models import ContentType

    invoice_type = ContentType.objects.get_for_model(Invoice)
    with_entry = LedgerEntry.objects.filter(source_type=invoice_type).values("source_id")
    figures["issued invoices without a ledger entry"] = (
        issued.filter(pk__in=load.invoice_pks).exclude(pk__in=with_entry).count()
    )
    figures["confirmed bookings not charged"] = Booking.objects.filter(
        Q(state=BookingState.CONFIRMED), charged_at__isnull=True, price_excl_vat__gt=0
    ).count()
    return figures


def run(stack: Stack, options) -> None:
    from django.db import connection

    from coop.documents import DocumentStatus
    from drills.invoices import dispatches_of, documents_of
    from invoicing.models import Dispatch

    port = free_port()
    stack.spawn("web", [PYTHON, str(ROOT / "manage.py"), "runserver", f"127.0.0.1:{port}"])
    stack.start_worker()
    stack.start_beat()
    wait_until(lambda: healthz(port) == 200, timeout=120)
    load = Load(stack, port)
    say(f"load: 2 issuers, 2 bookers on {len(load.rooms)} rooms x {len(load.slots)} slots, web")
    threads = load.start()
    time.sleep(options.before)
    stack.postgres.kill()
    killed = time.monotonic()
    say(f"killed PostgreSQL (SIGKILL to its main process) after {options.before:.0f} s of load")
    time.sleep(options.down)
    stack.postgres.restart()
    restarted = time.monotonic()
    say(f"PostgreSQL started again after {restarted - killed:.1f} s")
    time.sleep(options.after)
    load.stopping.set()
    for thread in threads:
        thread.join()
    connection.close()  # this thread's connection died with the server

    documents, dispatches = documents_of(load.invoice_pks), dispatches_of(load.invoice_pks)
    expected_documents, expected_dispatches = documents.count(), dispatches.count()
    settled = wait_until(
        lambda: (
            documents.filter(status=DocumentStatus.READY).count() == expected_documents
            and dispatches.filter(status=Dispatch.Status.SENT).count() == expected_dispatches
        ),
        timeout=options.timeout,
    )
    web_back = next(
        (
            moment - restarted
            for moment, status in load.web
            if moment >= restarted and status == 200
        ),
        None,
    )
    failures = [moment for moment, status in load.web if status != 200]
    say("")
    for what, count in sorted(load.counts.items()):
        say(f"{what + ':':<44}{count}")
    for what, count in audit(load).items():
        say(f"{what + ':':<44}{count}")
    ready = documents.filter(status=DocumentStatus.READY).count()
    sent = dispatches.filter(status=Dispatch.Status.SENT).count()
    say(f"{'documents lost:':<44}{expected_documents - ready} of {expected_documents}")
    say(f"{'sendings not sent:':<44}{expected_dispatches - sent} of {expected_dispatches}")
    back = f"{web_back:.1f} s" if web_back is not None else "never"
    say(f"{'web answered 200 again, after the restart:':<44}{back}")
    if failures:
        first, last = failures[0] - killed, failures[-1] - restarted
        say(f"{'web failures: first after the kill:':<44}{first:+.1f} s")
        say(f"{'web failures: last after the restart:':<44}{last:+.1f} s")
    waited = f"{settled:.1f} s" if settled is not None else "not within the timeout"
    say(f"{'every document ready and sent, after load:':<44}{waited}")


def healthz(port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


if __name__ == "__main__":
    main()
