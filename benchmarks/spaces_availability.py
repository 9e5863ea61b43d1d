"""Time the free-room search and the week calendar on 60 rooms holding 300,000 bookings.

Run with ``.venv/bin/python benchmarks/spaces_availability.py [--runs N] [--keep]``. The script
builds its own database (``coop_bench_spaces`` on the configured server, dropped afterwards
unless ``--keep``), fills it with SQL (60 rooms × 5,000 one-hour bookings over two years), then
times in turns: the availability search for random slots over four weeks, the manager's week
calendar page through the Django test client, and a hello-world view through the same client.
Target: p95 of the search and of the calendar page at most 50 ms.
"""

import argparse
import datetime
import os
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coop.settings")
BENCH_DATABASE = "coop_bench_spaces"
_url = urlparse(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/coop"))
ADMIN_URL = urlunparse(_url._replace(scheme="postgresql", path="/postgres"))
os.environ["DATABASE_URL"] = urlunparse(_url._replace(path=f"/{BENCH_DATABASE}"))

import psycopg  # noqa: E402

with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
    admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE}")
    admin.execute(f"CREATE DATABASE {BENCH_DATABASE}")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import override_settings  # noqa: E402
from django.urls import include, path  # noqa: E402

ROOMS = 60
BOOKINGS_PER_ROOM = 5000
SLOTS_PER_DAY = 7
FIRST_DAY = datetime.date(2026, 1, 5)


def hello(request):
    return HttpResponse("Hello")


urlpatterns = [path("hello/", hello), path("", include("coop.urls"))]


def build() -> tuple[int, object]:
    """Create the site, rooms and bookings; return the site's pk and a manager user."""
    from members import services as member_services
    from members.models import User
    from spaces.models import OpeningHours, Room, RoomPrice, Site

    call_command("migrate", verbosity=0)
    staff = User.objects.create_user(email="bench-staff@coop.test", is_staff=True)
    manager = User.objects.create_user(email="bench-manager@coop.test")
    manager.groups.add(Group.objects.get_or_create(name="Space managers")[0])
    user = User.objects.create_user(email="bench-member@coop.test")
    member = member_services.apply_for_membership(
        user=user,
        legal_name="Bench Member",
        street="Rue 1",
        postal_code="1000",
        city="Bruxelles",
        country="BE",
        phone="",
        preferred_language="en",
        iban=settings.COOP_SELLER["iban"],
        niss="",
        number_of_shares=1,
        today=FIRST_DAY,
    )
    member_services.approve_application(member=member, actor=staff)
    member_services.record_share_payment(
        subscription=member.shares.get(), paid_on=FIRST_DAY, actor=staff
    )
    member.refresh_from_db()
    activity = member_services.create_activity(owner=member, name="Bench")
    site = Site.objects.create(name="Bench site", street="Rue 1", postal_code="1000", city="BXL")
    for weekday in range(7):
        OpeningHours.objects.create(
            site=site, weekday=weekday, opens_at=datetime.time(7), closes_at=datetime.time(23)
        )
    for index in range(ROOMS):
        room = Room.objects.create(
            site=site,
            name=f"Room {index:02d}",
            kind=Room.Kind.MEETING_ROOM,
            area_m2=30,
            capacity=5 + index % 20,
        )
        RoomPrice.objects.create(room=room, tier="member", per_hour=10)
    days = BOOKINGS_PER_ROOM // SLOTS_PER_DAY + 1
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO spaces_booking (room_id, during, blocked_during, title, state, member_id,
                activity_id, contact_name, contact_email, contact_phone, created_by_id,
                created_at, tier, price_excl_vat, vat_rate, vat_amount, price_incl_vat,
                cancellation_fee, refunded_amount, state_reason)
            SELECT room.id, tstzrange(slot, slot + interval '1 hour'),
                tstzrange(slot, slot + interval '1 hour'), 'Bench booking',
                (ARRAY['confirmed','confirmed','confirmed','cancelled','checked_in'])[1 + (n %% 5)],
                %(member)s, %(activity)s, '', '', '', %(user)s, now(), 'member', 10, 0, 0, 10, 0,
                0, ''
            FROM spaces_room room
            CROSS JOIN LATERAL (
                SELECT n, (%(first)s::date + (n / %(slots)s) * interval '1 day'
                    + (8 + 2 * (n %% %(slots)s)) * interval '1 hour')
                    AT TIME ZONE 'Europe/Brussels' AS slot
                FROM generate_series(0, %(count)s - 1) AS n
            ) slots
            WHERE room.site_id = %(site)s
            """,
            {
                "member": member.pk,
                "activity": activity.pk,
                "user": user.pk,
                "first": FIRST_DAY,
                "slots": SLOTS_PER_DAY,
                "count": BOOKINGS_PER_ROOM,
                "site": site.pk,
            },
        )
        cursor.execute("ANALYZE spaces_booking")
    assert days > 28
    return site.pk, manager


def percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return (
        statistics.median(ordered) * 1000,
        ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--keep", action="store_true")
    arguments = parser.parse_args()
    from spaces import selectors
    from spaces.models import Booking

    started = time.perf_counter()
    site_pk, manager = build()
    sys.stdout.write(
        f"Built {Booking.objects.count():,} bookings in {ROOMS} rooms "
        f"in {time.perf_counter() - started:.1f} s.\n"
    )
    rng = random.Random(7)  # noqa: S311 - reproducible slots, not secrets
    client = Client()
    client.force_login(manager)
    window_start = FIRST_DAY + datetime.timedelta(days=300)
    timings: dict[str, list[float]] = {"search": [], "calendar": [], "hello": []}
    zone = datetime.timezone(datetime.timedelta(hours=1))
    with override_settings(ROOT_URLCONF=__name__, DEBUG=False):
        for run in range(arguments.runs + 10):
            day = window_start + datetime.timedelta(days=rng.randrange(28))
            start = datetime.datetime.combine(day, datetime.time(rng.randrange(8, 20)), zone)
            began = time.perf_counter()
            list(
                selectors.free_rooms(
                    user=manager,
                    start=start,
                    end=start + datetime.timedelta(hours=2),
                    capacity=rng.choice([None, 10]),
                )
            )
            search = time.perf_counter() - began
            began = time.perf_counter()
            response = client.get(
                f"/bookings/sites/{site_pk}/calendar/", {"view": "week", "date": day.isoformat()}
            )
            assert response.status_code == 200, response.status_code
            calendar = time.perf_counter() - began
            began = time.perf_counter()
            client.get("/hello/")
            hello_time = time.perf_counter() - began
            if run >= 10:  # warm-up
                timings["search"].append(search)
                timings["calendar"].append(calendar)
                timings["hello"].append(hello_time)
    for name, label in [
        ("hello", "hello-world view"),
        ("search", "free-room search (4-week window)"),
        ("calendar", "week calendar page (60 rooms)"),
    ]:
        p50, p95 = percentiles(timings[name])
        sys.stdout.write(f"{label:36s} p50 {p50:7.2f} ms   p95 {p95:7.2f} ms\n")
    sys.stdout.write("Target: p95 of the search and of the calendar page at most 50 ms.\n")
    connection.close()
    if not arguments.keep:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE}")


if __name__ == "__main__":
    main()
