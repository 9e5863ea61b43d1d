"""The spaces part of the demo world: LaVallée, about thirty rooms, leases, a month of bookings."""

import datetime
from decimal import Decimal

import holidays
from django.conf import settings
from django.contrib.auth.models import Group
from django.utils import timezone

from coop.errors import CoopError
from invoicing.services.clients import create_client
from members import services as member_services
from members.models import Activity, Member, MembershipEvent, ShareSubscription
from spaces.apps import SPACE_MANAGERS_GROUP
from spaces.models import BookingEvent, ClosedDay, OpeningHours, Room, RoomPrice, Site
from spaces.services import leasing, lifecycle, times
from spaces.services.feed_tokens import create_feed_token

# Ateliers let to residents by the month; the others are project ateliers, booked by the hour.
LEASED_ATELIERS = 9
PROJECT_ATELIER_PRICES = (Decimal("8.00"), Decimal("15.00"))  # member and external €/h
# (name prefix, kind, count, area m², capacity, member €/h, external €/h, resident €/month)
ROOM_TYPES = [
    ("Atelier", Room.Kind.ATELIER, 12, Decimal("35"), 4, None, None, Decimal("420.00")),
    ("Bureau", Room.Kind.OFFICE, 6, Decimal("18"), 3, None, None, Decimal("260.00")),
    ("Coworking desk", Room.Kind.DESK, 4, Decimal("4"), 1, Decimal("3.00"), Decimal("6.00"), None),
    (
        "Salle de réunion",
        Room.Kind.MEETING_ROOM,
        4,
        Decimal("30"),
        12,
        Decimal("12.00"),
        Decimal("28.00"),
        None,
    ),
    ("Studio", Room.Kind.STUDIO, 2, Decimal("60"), 8, Decimal("20.00"), Decimal("45.00"), None),
    (
        "Grande halle",
        Room.Kind.EVENT_HALL,
        2,
        Decimal("400"),
        250,
        Decimal("60.00"),
        Decimal("150.00"),
        None,
    ),
]
TITLES = ["Team meeting", "Workshop", "Rehearsal", "Photo shoot", "Training", "Client meeting"]


HOUSE_ACTIVITY = "LaVallée rentals"


def _house_activity(context: dict) -> Activity:
    """Return the cooperative's own Activity for LaVallée, which invoices outside renters.

    The staff account holds it as a class B member, as staff and partners do.
    """
    existing = (
        Activity.objects.filter(name=HOUSE_ACTIVITY, owner__status=Member.Status.ACTIVE)
        .order_by("pk")
        .first()
    )
    if existing is not None:
        return existing
    staff = context["staff"]
    seller = settings.COOP_SELLER
    house = member_services.apply_for_membership(
        user=staff,
        legal_name=f"{seller['name']} (LaVallée)",
        street=seller["street"],
        postal_code=seller["postal_code"],
        city=seller["city"],
        country=seller["country"],
        phone=seller["phone"],
        preferred_language="fr",
        iban=seller["iban"],
        niss="",
        number_of_shares=1,
        today=context["today"],
    )
    house.shares.update(share_class=ShareSubscription.ShareClass.B)
    member_services.approve_application(member=house, actor=staff, reason="Cooperative account")
    member_services.record_share_payment(
        subscription=house.shares.get(), paid_on=context["today"], actor=staff
    )
    house.refresh_from_db()
    return member_services.create_activity(
        owner=house, name=HOUSE_ACTIVITY, description="Room rentals to outside organisations."
    )


def _room(site: Site, name: str, kind: str, area, capacity, floor: int, **rules) -> Room:
    return Room.objects.create(
        site=site,
        name=name,
        kind=kind,
        area_m2=area,
        capacity=capacity,
        floor=floor,
        amenities=["Wi-Fi", "heating"] + (["projector"] if kind == Room.Kind.MEETING_ROOM else []),
        accessibility_notes="" if floor == 0 else "Lift on the east side.",
        **rules,
    )


def seed(context: dict, *, stdout) -> None:
    rng = context["rng"]
    today = context["today"]
    members = [member for member in context["members"] if member.activities.exists()]
    manager = Group.objects.get(name=SPACE_MANAGERS_GROUP).user_set.order_by("pk").first()
    services_now = timezone.now()

    site = Site.objects.create(
        name="LaVallée",
        street="Rue Adolphe Lavallée 39",
        postal_code="1080",
        city="Molenbeek-Saint-Jean",
        income_activity=_house_activity(context),
    )
    for weekday in range(5):
        OpeningHours.objects.create(
            site=site, weekday=weekday, opens_at=datetime.time(8), closes_at=datetime.time(22)
        )
    OpeningHours.objects.create(
        site=site, weekday=5, opens_at=datetime.time(9), closes_at=datetime.time(18)
    )
    for day, name in holidays.Belgium(years=[today.year, today.year + 1]).items():
        ClosedDay.objects.get_or_create(site=site, date=day, defaults={"reason": name})

    rooms: dict[str, list[Room]] = {}
    for prefix, kind, count, area, capacity, per_hour, external, monthly in ROOM_TYPES:
        for index in range(1, count + 1):
            leased = monthly is not None
            if kind == Room.Kind.ATELIER and index > LEASED_ATELIERS:
                # The last ateliers are project ateliers, booked by the hour or the day.
                leased, (per_hour, external) = False, PROJECT_ATELIER_PRICES
            room = _room(
                site,
                f"{prefix} {index}",
                kind,
                area + rng.randrange(0, 20),
                capacity,
                index % 3,
                is_bookable=not leased,
                buffer_after_minutes=30 if kind == Room.Kind.EVENT_HALL else 0,
                requires_approval=kind == Room.Kind.EVENT_HALL,
                max_duration_minutes=14 * 60,
            )
            if leased:
                RoomPrice.objects.create(
                    room=room, tier="resident", per_hour=Decimal("0.00"), per_month=monthly
                )
            else:
                RoomPrice.objects.create(
                    room=room, tier="member", per_hour=per_hour, per_day=per_hour * 6
                )
                RoomPrice.objects.create(
                    room=room,
                    tier="resident",
                    per_hour=(per_hour * Decimal("0.8")).quantize(Decimal("0.01")),
                )
                RoomPrice.objects.create(
                    room=room,
                    tier="external",
                    per_hour=external,
                    per_half_day=external * 3,
                    per_day=external * 6,
                )
            rooms.setdefault(kind, []).append(room)

    # Leases: most ateliers and offices are let to residents.
    lease_start = (today.replace(day=1) - datetime.timedelta(days=75)).replace(day=1)
    leases = []
    leased_rooms = rooms[Room.Kind.ATELIER][:LEASED_ATELIERS] + rooms[Room.Kind.OFFICE][:4]
    for index, room in enumerate(leased_rooms):
        member = members[index % len(members)]
        leases.append(
            leasing.create_lease(
                actor=manager,
                room=room,
                activity=member.activities.order_by("pk").first(),
                starts_on=lease_start,
            )
        )
    month = lease_start
    while month <= today:
        for lease in leases:
            leasing.charge_lease_month(lease=lease, month=month)
        month = (month + datetime.timedelta(days=32)).replace(day=1)

    organisation, _created = create_client(
        owner=None,
        kind="company",
        name="Brussels Design Week asbl",
        street="Rue de la Loi 155",
        postal_code="1040",
        city="Etterbeek",
        country="BE",
        email="booking@designweek.example",
        language="fr",
        vat_number="BE0203201340",
    )

    # A month of bookings: two weeks back, two weeks ahead.
    bookable = rooms[Room.Kind.MEETING_ROOM] + rooms[Room.Kind.STUDIO] + rooms[Room.Kind.DESK]
    made = 0
    for offset in range(-14, 15):
        day = today + datetime.timedelta(days=offset)
        for _attempt in range(rng.randrange(4, 9)):
            room = rng.choice(bookable)
            start_hour = rng.randrange(8, 19)
            hours = rng.choice([1, 2, 2, 3, 4])
            member = rng.choice(members)
            try:
                start, end = times.booking_range(
                    site=site,
                    date=day,
                    start_time=datetime.time(start_hour),
                    end_time=datetime.time(min(start_hour + hours, 22)),
                )
                booked_at = start - datetime.timedelta(days=rng.randrange(2, 10))
                booking = lifecycle.book_room(
                    actor=member.user,
                    room=room,
                    start=start,
                    end=end,
                    title=rng.choice(TITLES),
                    activity=member.activities.order_by("pk").first(),
                    now=booked_at,
                )
                made += 1
                if end < services_now and rng.random() < 0.8:
                    lifecycle.check_in_booking(actor=member.user, booking=booking, now=start)
                elif end < services_now:
                    lifecycle.mark_no_show(actor=manager, booking=booking, now=end)
            except CoopError:
                continue
    hall = rooms[Room.Kind.EVENT_HALL][0]
    outside_bookings = [(5, "Design Week opening"), (12, "Design Week talks")]
    if site.income_activity is None:
        # Outside renters are invoiced from the site's Activity; without one, none is booked.
        outside_bookings = []
    for offset, title in outside_bookings:
        # The first day from the offset on when the site is open and the hall free: a weekend
        # or a public holiday moves the event to the next open day.
        for delay in range(7):
            day = today + datetime.timedelta(days=offset + delay)
            try:
                start, end = times.booking_range(
                    site=site, date=day, start_time=datetime.time(10), end_time=datetime.time(20)
                )
                lifecycle.book_room(
                    actor=manager,
                    room=hall,
                    start=start,
                    end=end,
                    title=title,
                    organisation=organisation,
                    contact_name="Léa Wouters",
                    contact_email="lea@designweek.example",
                )
            except CoopError:
                continue
            made += 1
            break
    # Two requests waiting for a manager.
    for offset in (3, 9):
        member = rng.choice(members)
        day = today + datetime.timedelta(days=offset)
        try:
            start, end = times.booking_range(
                site=site, date=day, start_time=datetime.time(14), end_time=datetime.time(18)
            )
            lifecycle.book_room(
                actor=member.user,
                room=rooms[Room.Kind.EVENT_HALL][1],
                start=start,
                end=end,
                title="Exhibition opening",
                activity=member.activities.order_by("pk").first(),
            )
        except CoopError:
            continue
    # The demo's history is old news: nobody is e-mailed about it.
    BookingEvent.objects.filter(notified_at__isnull=True).update(notified_at=services_now)
    MembershipEvent.objects.filter(notified_at__isnull=True).update(notified_at=services_now)
    stdout.write(
        f"Spaces: LaVallée with {Room.objects.filter(site=site).count()} rooms, "
        f"{len(leases)} leases, {made} bookings."
    )


def seed_heavy(context: dict, *, stdout) -> None:
    """Give each heavy member of a scaled world a feed of their bookings."""
    for member in context["members"]:
        create_feed_token(user=member.user)
    stdout.write(f"{len(context['members'])} booking feeds of heavy members.")
