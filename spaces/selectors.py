"""Reads scoped to the requesting user: members never learn who booked a slot."""

import dataclasses
import datetime
import functools
import re
from collections import defaultdict
from decimal import Decimal
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection, connections
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.db.models import (
    BigIntegerField,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Concat
from django.db.models.lookups import IsNull

from coop.db import read_alias, reads_from_replica
from coop.lookups import ContainsAnyCase
from invoicing.models import Client
from invoicing.selectors import cooperative_clients
from members.models import Activity, Member, User, activity_ids_of
from members.selectors import GROUP_NAMES, HOLDS_PERMISSIONS
from spaces.apps import SPACE_MANAGERS_GROUP
from spaces.models import (
    ACTIVE_STATES,
    Booking,
    BookingState,
    ClosedDay,
    FeedToken,
    Lease,
    LeaseCharge,
    OpeningHours,
    Room,
    RoomPrice,
    Site,
    Tier,
)


def is_space_manager(user: User) -> bool:
    """Tell whether the user manages the sites (space managers and staff)."""
    if not user.is_authenticated:
        return False
    # Asked several times per request (permission, view, template): answered once per user
    # object, with one written statement instead of loading every permission of the user and
    # groups (building the same question with the ORM took a millisecond per request).
    cached = getattr(user, "_spaces_is_manager", None)
    if cached is not None:
        return cached
    if user.is_staff or (user.is_active and user.is_superuser):
        answer = True
    elif getattr(user, HOLDS_PERMISSIONS, None) is False and hasattr(user, GROUP_NAMES):
        # A user known to hold no permission is a manager by the group only, and the request's
        # user comes with its groups' names (members.backends): no statement at all.
        answer = SPACE_MANAGERS_GROUP in getattr(user, GROUP_NAMES)
    else:
        # A user known to hold no permission at all (members.backends annotates the request's
        # user) can be a manager by the group only: a statement a fifth as costly to plan.
        holds_permissions = getattr(user, HOLDS_PERMISSIONS, None) is not False
        with connection.cursor() as cursor:
            cursor.execute(
                _manages_sites_sql(holds_permissions),
                {
                    "user": user.pk,
                    "group": SPACE_MANAGERS_GROUP,
                    # As ``has_perm``: an inactive user holds no permission.
                    "active": user.is_active,
                    "app_label": "spaces",
                    "codename": "manage_bookings",
                },
            )
            answer = cursor.fetchone()[0]
    user._spaces_is_manager = answer
    return answer


@functools.cache
def _manages_sites_sql(holds_permissions: bool) -> str:
    """Whether the user is in the space managers' group or holds ``spaces.manage_bookings``
    (their own or a group's; asked only of a user who may hold permissions): one statement
    written out, which costs a fraction of building the same question from querysets on every
    request."""
    user_groups = User.groups.through._meta.db_table
    in_group = (
        f"SELECT EXISTS (SELECT 1 FROM {user_groups} ug"  # noqa: S608 (model names only)
        f" JOIN {Group._meta.db_table} g ON g.id = ug.group_id"
        " WHERE ug.user_id = %(user)s AND g.name = %(group)s)"
    )
    if not holds_permissions:
        return in_group
    user_permissions = User.user_permissions.through._meta.db_table
    group_permissions = Group.permissions.through._meta.db_table
    return (
        f"{in_group} OR (%(active)s AND EXISTS (SELECT 1 FROM {Permission._meta.db_table} p"  # noqa: S608
        f" JOIN {ContentType._meta.db_table} t ON t.id = p.content_type_id"
        " WHERE t.app_label = %(app_label)s AND p.codename = %(codename)s"
        f" AND (p.id IN (SELECT up.permission_id FROM {user_permissions} up"
        " WHERE up.user_id = %(user)s)"
        f" OR p.id IN (SELECT gp.permission_id FROM {group_permissions} gp"
        f" JOIN {user_groups} ug ON ug.group_id = gp.group_id WHERE ug.user_id = %(user)s))))"
    )


def sites_visible_to(user: User) -> QuerySet[Site]:
    """Active sites; managers also see inactive ones."""
    if is_space_manager(user):
        return Site.objects.all()
    return Site.objects.filter(is_active=True)


def rooms_visible_to(user: User) -> QuerySet[Room]:
    """Rooms of the sites the user sees, with their prices as ``price_list``.

    A list, not the related manager: prefetching into the manager builds a queryset per room.
    """
    return (
        Room.objects.filter(site__in=sites_visible_to(user))
        .select_related("site")
        .prefetch_related(
            Prefetch("prices", queryset=RoomPrice.objects.all(), to_attr="price_list")
        )
    )


class WrittenList:
    """A list of the API as a paginator reads it, from written statements: ``count()`` and
    slices of rows as dicts of ``columns`` (each value as the ORM's ``values()`` gives it)."""

    ordered = True

    def __init__(self, rows_sql: str, count_sql: str, params: list, count_params: list, columns):
        self.rows_sql, self.count_sql = rows_sql, count_sql
        self.params, self.count_params = params, count_params
        self.columns = columns
        # Columns Django converts when read (a JSON field): through the field, as values() does.
        self.converters = [
            (name, field.from_db_value)
            for name, field in columns.items()
            if field is not None and hasattr(field, "from_db_value")
        ]

    def count(self) -> int:
        with connection.cursor() as cursor:
            cursor.execute(self.count_sql, self.count_params)
            return cursor.fetchone()[0]

    def __getitem__(self, index: slice) -> list[dict]:
        start = index.start or 0
        with connection.cursor() as cursor:
            cursor.execute(self.rows_sql, [*self.params, index.stop - start, start])
            rows = [dict(zip(self.columns, row, strict=True)) for row in cursor.fetchall()]
        for row in rows:
            for name, convert in self.converters:
                row[name] = convert(row[name], None, connection)
        return rows


@functools.cache
def _room_list_sql(managed: bool, columns: tuple[str, ...]) -> tuple[str, str]:
    """A page of the rooms of the sites a member (``managed``: a manager) sees, in the order of
    ``rooms_visible_to(user).order_by("site", "floor", "name")``, and their count."""
    meta, site = Room._meta, Site._meta
    written = ", ".join(
        f'r."{meta.pk.column if name == "pk" else meta.get_field(name).column}"' for name in columns
    )
    active = "" if managed else ' WHERE U0."is_active"'
    scope = f'r."site_id" IN (SELECT U0."id" FROM "{site.db_table}" U0{active})'  # noqa: S608
    rows = (
        f'SELECT {written} FROM "{meta.db_table}" r'  # noqa: S608 (model names only)
        f' INNER JOIN "{site.db_table}" s ON r."site_id" = s."id" WHERE {scope}'
        ' ORDER BY s."name" ASC, r."floor" ASC, r."name" ASC LIMIT %s OFFSET %s'
    )
    count = f'SELECT COUNT(*) FROM "{meta.db_table}" r WHERE {scope}'  # noqa: S608
    return rows, count


def room_list(user: User, *, columns: list[str]) -> WrittenList:
    """The rooms the user sees (``rooms_visible_to``: of active sites, every site for
    managers) by site, floor and name, as ``WrittenList`` pages of ``columns`` (``pk`` and
    attribute names): written statements, their text built once per process."""
    rows_sql, count_sql = _room_list_sql(is_space_manager(user), tuple(columns))
    fields = {name: None if name == "pk" else Room._meta.get_field(name) for name in columns}
    return WrittenList(rows_sql, count_sql, [], [], fields)


# The columns of a row of the rooms list, under the names spaces/templatetags/room_rows.py
# reads.
_ROOM_ROW_COLUMNS = {
    "pk": 'r."id"',
    "name": 'r."name"',
    "kind": 'r."kind"',
    "area_m2": 'r."area_m2"',
    "capacity": 'r."capacity"',
    "floor": 'r."floor"',
    "is_bookable": 'r."is_bookable"',
    "site__name": 's."name"',
}


@functools.cache
def _rooms_sql(*, count: bool, all_sites: bool, one_site: bool) -> str:
    conditions = ["TRUE" if all_sites else 's."is_active"']
    if one_site:
        conditions.append('r."site_id" = %s')
    rooms = (
        f'FROM "{Room._meta.db_table}" r'
        f' INNER JOIN "{Site._meta.db_table}" s ON s."id" = r."site_id"'
        f" WHERE {' AND '.join(conditions)}"
    )
    if count:
        return f"SELECT count(*) {rooms}"
    return (
        f"SELECT {', '.join(_ROOM_ROW_COLUMNS.values())} {rooms}"
        ' ORDER BY s."name", r."floor", r."name" LIMIT %s OFFSET %s'
    )


class RoomRows:
    """The rooms the user sees (``rooms_visible_to``), of one site if asked, by site, floor and
    name: plain rows with their prices, read a page at a time by a Paginator.

    Written statements: building the rooms' and prices' queries with the ORM, and a Room and
    its RoomPrices per row, cost the rooms list most of its time.
    """

    def __init__(self, user: User, *, site_pk: int | None = None) -> None:
        self.all_sites = is_space_manager(user)
        self.site_pk = site_pk
        self.ordered = True

    def _run(self, count: bool, extra: list) -> list[tuple]:
        sql = _rooms_sql(count=count, all_sites=self.all_sites, one_site=self.site_pk is not None)
        params = [self.site_pk] if self.site_pk is not None else []
        with connection.cursor() as cursor:
            cursor.execute(sql, params + extra)
            return cursor.fetchall()

    def count(self) -> int:
        return self._run(True, [])[0][0]

    def __getitem__(self, rows: slice) -> list[dict]:
        start, stop = rows.start or 0, rows.stop
        found = [
            dict(zip(_ROOM_ROW_COLUMNS, row, strict=True))
            for row in self._run(False, [stop - start, start])
        ]
        prices: dict[int, list[tuple[str, Decimal]]] = {row["pk"]: [] for row in found}
        if found:
            with connection.cursor() as cursor:
                cursor.execute(_room_prices_sql(), [list(prices)])
                for room_pk, tier, per_hour in cursor.fetchall():
                    prices[room_pk].append((tier, per_hour))
        for row in found:
            row["prices"] = prices[row["pk"]]
        return found


@functools.cache
def _room_prices_sql() -> str:
    # Each room's prices in the order of RoomPrice.Meta.ordering (room, then tier).
    return (
        f'SELECT "room_id", "tier", "per_hour" FROM "{RoomPrice._meta.db_table}"'  # noqa: S608
        ' WHERE "room_id" = ANY(%s) ORDER BY "room_id", "tier"'
    )


@functools.cache
def _site_choices_sql(all_sites: bool) -> str:
    only_active = "" if all_sites else ' WHERE "is_active"'
    return f'SELECT "id", "name" FROM "{Site._meta.db_table}"{only_active} ORDER BY "name"'  # noqa: S608


def site_choices(user: User) -> list[tuple[int, str]]:
    """The (pk, name) of the sites the user sees (``sites_visible_to``), by name."""
    with connection.cursor() as cursor:
        cursor.execute(_site_choices_sql(is_space_manager(user)))
        return cursor.fetchall()


@functools.cache
def _room_sql(all_sites: bool) -> str:
    """The statement reading a room with its site, and as arrays (one per column) its prices by
    tier and its site's opening hours by weekday."""
    room, site, price, hours = Room._meta, Site._meta, RoomPrice._meta, OpeningHours._meta
    columns = [f'r."{field.column}"' for field in room.concrete_fields]
    columns += [f's."{field.column}"' for field in site.concrete_fields]
    columns += [
        f'ARRAY(SELECT p."{field.column}" FROM "{price.db_table}" p'  # noqa: S608
        ' WHERE p."room_id" = r."id" ORDER BY p."tier")'
        for field in price.concrete_fields
    ]
    columns += [
        f'ARRAY(SELECT h."{field.column}" FROM "{hours.db_table}" h'  # noqa: S608
        ' WHERE h."site_id" = s."id" ORDER BY h."weekday")'
        for field in hours.concrete_fields
    ]
    only_active = "" if all_sites else ' AND s."is_active"'
    # Only the models' own table and column names go into the text; values are parameters.
    return (
        f'SELECT {", ".join(columns)} FROM "{room.db_table}" r'  # noqa: S608
        f' INNER JOIN "{site.db_table}" s ON s."id" = r."site_id"'
        f' WHERE r."id" = %s{only_active}'
    )


def _rows_of(model, arrays: tuple) -> list:
    """Instances of ``model`` from one array per concrete field, as ``_room_sql`` reads them."""
    fields = [field.attname for field in model._meta.concrete_fields]
    return [model.from_db(connection.alias, fields, values) for values in zip(*arrays, strict=True)]


def room_of(user: User, pk: int) -> Room | None:
    """The room ``pk`` if the user sees it (``rooms_visible_to``), with its site, its prices as
    ``price_list`` (by tier, as RoomPrice's ordering within a room) and its site's opening hours
    as the site's ``hours_list`` (``opening_hours_of``).

    One written statement: the ORM built the room's join and the prices' prefetch in 1.7 ms,
    and the prices and hours were two more round trips.
    """
    room_fields = [field.attname for field in Room._meta.concrete_fields]
    site_fields = [field.attname for field in Site._meta.concrete_fields]
    with connection.cursor() as cursor:
        cursor.execute(_room_sql(is_space_manager(user)), [pk])
        row = cursor.fetchone()
    if row is None:
        return None
    room_end = len(room_fields)
    site_end = room_end + len(site_fields)
    prices_end = site_end + len(RoomPrice._meta.concrete_fields)
    room = Room.from_db(connection.alias, room_fields, row[:room_end])
    room.site = Site.from_db(connection.alias, site_fields, row[room_end:site_end])
    room.price_list = _rows_of(RoomPrice, row[site_end:prices_end])
    for price in room.price_list:
        price.room = room
    room.site.hours_list = _rows_of(OpeningHours, row[prices_end:])
    return room


def bookings_visible_to(user: User) -> QuerySet[Booking]:
    """Managers: every booking. Members: bookings they made or that their Activities pay."""
    bookings = Booking.objects.select_related("room__site", "member", "activity", "organisation")
    if is_space_manager(user):
        return bookings
    # The user's Activities are few: naming them lets PostgreSQL combine the two indexes
    # (booker, time) and (Activity, time) instead of testing a subquery on every booking.
    return bookings.filter(Q(created_by=user) | Q(activity_id__in=_activity_ids(user)))


def _activity_ids(user: User) -> list[int]:
    """The ids of the Activities the user owns or shares, asked once per user object (a
    request's bookings and leases both need them)."""
    cached = getattr(user, "_spaces_activity_ids", None)
    if cached is None:
        # members.models.activity_ids_of, run on its own: two index scans and a UNION, its
        # text written once per process (building it from querysets cost more than running it).
        statement = activity_ids_of(user)
        with connection.cursor() as cursor:
            cursor.execute(statement.sql, statement.params)
            cached = [activity_id for (activity_id,) in cursor.fetchall()]
        user._spaces_activity_ids = cached
    return cached


# The columns of a row of a bookings list, under the names spaces/_booking_rows.html reads.
_BOOKING_ROW_COLUMNS = {
    "pk": 'b."id"',
    "start": 'lower(b."during")',
    "end": 'upper(b."during")',
    "title": 'b."title"',
    "state": 'b."state"',
    "series_id": 'b."series_id"',
    "price_incl_vat": 'b."price_incl_vat"',
    "room__name": 'r."name"',
    "activity__name": 'a."name"',
    "organisation__name": 'c."name"',
}


@functools.cache
def _booking_rows_sql(scope: str) -> str:
    """Two index-ordered halves of the bookings of ``scope`` (a condition on ``b``): those not
    yet over, soonest first, and those over, latest first."""
    half = (
        f"SELECT {', '.join(_BOOKING_ROW_COLUMNS.values())}"  # noqa: S608
        f' FROM "{Booking._meta.db_table}" b'
        f' INNER JOIN "{Room._meta.db_table}" r ON r."id" = b."room_id"'
        f' LEFT OUTER JOIN "{Activity._meta.db_table}" a ON a."id" = b."activity_id"'
        f' LEFT OUTER JOIN "{Client._meta.db_table}" c ON c."id" = b."organisation_id"'
        f' WHERE {scope} AND upper(b."during") {{}} %s ORDER BY b."during" {{}} LIMIT %s'
    )
    return f"({half.format('>=', 'ASC')}) UNION ALL ({half.format('<', 'DESC')})"


# The columns of the API's bookings list (``spaces.api.BOOKING_COLUMNS``), written out.
_BOOKING_LIST_COLUMNS = {
    "pk": 'b."id"',
    "room_id": 'b."room_id"',
    "title": 'b."title"',
    "during": 'b."during"',
    "state": 'b."state"',
    "member_id": 'b."member_id"',
    "member__legal_name": 'm."legal_name"',
    "activity_id": 'b."activity_id"',
    "organisation_id": 'b."organisation_id"',
    "organisation__name": 'c."name"',
    "series_id": 'b."series_id"',
    "tier": 'b."tier"',
    "price_excl_vat": 'b."price_excl_vat"',
    "vat_rate": 'b."vat_rate"',
    "vat_amount": 'b."vat_amount"',
    "price_incl_vat": 'b."price_incl_vat"',
    "cancellation_fee": 'b."cancellation_fee"',
    "refunded_amount": 'b."refunded_amount"',
    "state_reason": 'b."state_reason"',
    "invoice_id": 'b."invoice_id"',
    "created_at": 'b."created_at"',
}


# None: no column here that Django converts when read.
_BOOKING_LIST_FIELDS = dict.fromkeys(_BOOKING_LIST_COLUMNS)


@functools.cache
def _booking_list_sql(scope: str) -> tuple[str, str]:
    """A page of the bookings of ``scope`` (conditions on ``b``) in the order of ``during``,
    and their count up to a cap."""
    table = f'"{Booking._meta.db_table}" b'
    rows = (
        f"SELECT {', '.join(_BOOKING_LIST_COLUMNS.values())} FROM {table}"  # noqa: S608
        f' LEFT OUTER JOIN "{Member._meta.db_table}" m ON m."id" = b."member_id"'
        f' LEFT OUTER JOIN "{Client._meta.db_table}" c ON c."id" = b."organisation_id"'
        f' WHERE {scope} ORDER BY b."during" ASC, b."id" ASC LIMIT %s OFFSET %s'
    )
    # Any rows up to the cap give the same count: in no order, the smallest index serves.
    count = f'SELECT COUNT(*) FROM (SELECT b."id" FROM {table} WHERE {scope} LIMIT %s) counted'  # noqa: S608
    return rows, count


def booking_list(
    user: User, *, room: int | None = None, during: DateTimeTZRange | None = None, cap: int
) -> WrittenList:
    """The bookings the user sees (``bookings_visible_to``: managers every one, members those
    they made or that their Activities pay), of ``room`` and overlapping ``during`` if given,
    as ``WrittenList`` pages (``count()`` at most ``cap`` + 1): written statements, their
    text built once per process."""
    conditions, params = [], []
    if not is_space_manager(user):
        conditions.append('(b."created_by_id" = %s OR b."activity_id" = ANY(%s))')
        params += [user.pk, _activity_ids(user)]
    if room:
        conditions.append('b."room_id" = %s')
        params.append(room)
    if during is not None:
        conditions.append('b."during" && %s')
        params.append(during)
    rows_sql, count_sql = _booking_list_sql(" AND ".join(conditions) or "TRUE")
    return WrittenList(rows_sql, count_sql, params, [*params, cap + 1], _BOOKING_LIST_FIELDS)


@functools.cache
def _activity_choices_sql() -> str:
    activity, member = Activity._meta.db_table, Member._meta.db_table
    return (
        f'SELECT a."id", a."name", m."legal_name" FROM "{activity}" a'  # noqa: S608
        f' JOIN "{member}" m ON m."id" = a."owner_id"'
        f' WHERE a."id" = ANY(ARRAY({activity_ids_of(0).sql})) ORDER BY a."name", a."id"'
    )


def activity_choices(user: User) -> list[tuple[int, str]]:
    """(pk, label) of the Activities the user owns or shares, by name: the payers a member's
    booking form lists (``Activity.objects.of_user(user)``), by one written statement.

    Each label names the owner ("Illustration (Ana Peeters)"): a member's own Activity and one
    shared with them may bear the same name.
    """
    with connection.cursor() as cursor:
        cursor.execute(_activity_choices_sql(), activity_ids_of(user).params)
        return [(pk, f"{name} ({owner})") for pk, name, owner in cursor.fetchall()]


def booking_rows(
    user: User, *, now: datetime.datetime, upcoming: int, past: int
) -> tuple[list[dict], list[dict]]:
    """The next ``upcoming`` bookings (soonest first) and the last ``past`` ones (latest first)
    of the user's list, as the plain rows it shows (spaces/_booking_rows.html): a member's are
    the bookings they see (``bookings_visible_to``), a manager's those they made or that name
    them as the member.

    One written statement of two index-ordered halves: building and compiling the same query
    with the ORM cost such a short list most of its time.
    """
    if is_space_manager(user):
        scope = '(b."created_by_id" = %s OR b."member_id" = ANY(%s))'
        among = list(Member.objects.filter(user=user).values_list("pk", flat=True))
    else:
        scope = '(b."created_by_id" = %s OR b."activity_id" = ANY(%s))'
        among = _activity_ids(user)
    with connection.cursor() as cursor:
        cursor.execute(
            _booking_rows_sql(scope),
            [user.pk, among, now, upcoming, user.pk, among, now, past],
        )
        found = [dict(zip(_BOOKING_ROW_COLUMNS, row, strict=True)) for row in cursor.fetchall()]
    labels = dict(BookingState.choices)
    for row in found:
        row["state_label"] = labels.get(row["state"], row["state"])
    # In the order of ``during``: by start, then by end.
    in_order = sorted(found, key=lambda row: (row["start"], row["end"]))
    return (
        [row for row in in_order if row["end"] >= now],
        [row for row in reversed(in_order) if row["end"] < now],
    )


def _in_field_order(model, attnames: set[str]) -> tuple[str, ...]:
    """The attribute names in the order of the model's fields, as ``Model.from_db`` reads them."""
    return tuple(
        field.attname for field in model._meta.concrete_fields if field.attname in attnames
    )


# What a booking's page shows of the rows it points to; any other column of theirs is read
# when asked for, as a deferred field.
_BOOKING_RELATED_COLUMNS = {
    name: (model, _in_field_order(model, attnames))
    for name, model, attnames in [
        (
            "room",
            Room,
            {"id", "site_id", "name", "cancellation_notice_hours", "cancellation_fee_percent"},
        ),
        ("room__site", Site, {"id", "name", "time_zone"}),
        ("member", Member, {"id", "legal_name"}),
        ("activity", Activity, {"id", "name"}),
        ("organisation", Client, {"id", "name"}),
    ]
}


@functools.cache
def _booking_sql() -> str:
    booking = Booking._meta
    columns = [f'b."{field.column}"' for field in booking.concrete_fields]
    tables = {
        "room": ("r", Room._meta.db_table, 'b."room_id"', "INNER"),
        "room__site": ("s", Site._meta.db_table, 'r."site_id"', "INNER"),
        "member": ("m", Member._meta.db_table, 'b."member_id"', "LEFT OUTER"),
        "activity": ("a", Activity._meta.db_table, 'b."activity_id"', "LEFT OUTER"),
        "organisation": ("c", Client._meta.db_table, 'b."organisation_id"', "LEFT OUTER"),
    }
    joins = []
    for name, (model, names) in _BOOKING_RELATED_COLUMNS.items():
        alias, table, key, kind = tables[name]
        meta = model._meta
        columns += [f'{alias}."{meta.get_field(attname).column}"' for attname in names]
        joins.append(f'{kind} JOIN "{table}" {alias} ON {alias}."{meta.pk.column}" = {key}')
    # Only the models' own table and column names go into the text; values are parameters.
    return (
        f'SELECT {", ".join(columns)} FROM "{booking.db_table}" b {" ".join(joins)}'  # noqa: S608
        ' WHERE b."id" = %s'
    )


def booking_of(user: User, pk: int) -> Booking | None:
    """The booking ``pk`` if the user may see it (as ``bookings_visible_to``), holding its room
    and site, member, Activity and organisation with the columns a booking's page shows.

    One written statement: the ORM built the same five-table join in more than a millisecond,
    several times what PostgreSQL takes to answer it.
    """
    sql, params = _booking_sql(), [pk]
    if not is_space_manager(user):
        sql += ' AND (b."created_by_id" = %s OR b."activity_id" = ANY(%s))'
        params += [user.pk, _activity_ids(user)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    fields = [field.attname for field in Booking._meta.concrete_fields]
    booking = Booking.from_db(connection.alias, fields, row[: len(fields)])
    position = len(fields)
    related = {}
    for name, (model, names) in _BOOKING_RELATED_COLUMNS.items():
        values = row[position : position + len(names)]
        position += len(names)
        related[name] = (
            None if values[0] is None else model.from_db(connection.alias, names, values)
        )
    related["room"].site = related.pop("room__site")
    for name, instance in related.items():
        setattr(booking, name, instance)
    return booking


def busy_ranges(
    *, rooms: QuerySet[Room] | list[Room], start: datetime.datetime, end: datetime.datetime
) -> QuerySet[Booking]:
    """Active bookings of the rooms meeting [start, end): for free/busy displays."""
    return (
        Booking.objects.filter(
            _in_rooms(rooms), state__in=ACTIVE_STATES, blocked_during__overlap=(start, end)
        )
        .order_by("room_id", "during")
        .only("pk", "room_id", "during", "blocked_during", "state", "title")
    )


def _in_rooms(rooms: QuerySet[Room] | list[Room] | list[int]) -> Q:
    """``room__in=rooms``, one room compared as a bigint.

    The GiST indexes on (room, time range) compare a bigint with a bigint only (btree_gist has
    no cross-type operator): ``room_id = 12``, an integer literal, left the room out of the
    index search, which then read the bookings of every room over the time range (2 to 4 ms
    instead of 0.4 at a million bookings).
    """
    if not isinstance(rooms, QuerySet) and len(rooms) == 1:
        room = getattr(rooms[0], "pk", rooms[0])
        return Q(room_id=Cast(Value(room), BigIntegerField()))
    return Q(room__in=rooms)


def busy_times(
    *, rooms: QuerySet[Room] | list[Room], start: datetime.datetime, end: datetime.datetime
) -> list[dict]:
    """Active bookings meeting [start, end) as plain rows, for calendars of many rooms.

    Rows, not model instances: a week of 60 busy rooms holds thousands of bookings.
    """
    return list(
        Booking.objects.filter(
            room__in=rooms, state__in=ACTIVE_STATES, blocked_during__overlap=(start, end)
        )
        .order_by("room_id", "during")
        .annotate(start=F("during__startswith"), end=F("during__endswith"))
        .values("pk", "room_id", "state", "title", "start", "end")
    )


class BusyTime(NamedTuple):
    """An active booking of a room as its availability grid shows it."""

    start: datetime.datetime
    end: datetime.datetime
    blocked_start: datetime.datetime
    blocked_end: datetime.datetime
    state: str
    title: str  # empty unless the user may read it: their own booking, or any for managers
    is_mine: bool  # made by the user or paid by one of the user's Activities


@functools.cache
def _room_busy_sql() -> str:
    # The user's Activities (``activity_ids_of``), its two placeholders both the user.
    activities = activity_ids_of(0).sql.replace("%s", "%(user)s")
    mine = f'("created_by_id" = %(user)s OR "activity_id" = ANY(ARRAY({activities})))'
    return (
        'SELECT lower("during"), upper("during"), lower("blocked_during"),'  # noqa: S608
        f' upper("blocked_during"), "state", CASE WHEN %(manager)s OR {mine} THEN "title"'
        f" ELSE '' END, {mine}"
        f' FROM "{Booking._meta.db_table}"'
        # The room as a bigint, the column's type: the exclusion constraint's GiST index
        # (btree_gist) then finds the room's week itself (0.5 ms); compared with an integer,
        # PostgreSQL intersects every room's bookings of that week with the room's (12-22 ms).
        ' WHERE "room_id" = %(room)s::bigint AND "state" = ANY(%(states)s)'
        ' AND "blocked_during" && tstzrange(%(start)s, %(end)s) ORDER BY "during"'
    )


def room_busy_times(
    user: User, room: Room, *, start: datetime.datetime, end: datetime.datetime
) -> list[BusyTime]:
    """The room's active bookings meeting [start, end), in order: ``busy_ranges`` of one room
    as plain rows, by a written statement. Members read the title of their own bookings only:
    another member's booking is only busy, never named."""
    with connection.cursor() as cursor:
        cursor.execute(
            _room_busy_sql(),
            {
                "user": user.pk,
                "manager": is_space_manager(user),
                "room": room.pk,
                "states": [str(state) for state in ACTIVE_STATES],
                "start": start,
                "end": end,
            },
        )
        return [BusyTime(*row) for row in cursor.fetchall()]


@functools.cache
def _opening_hours_sql() -> str:
    hours = OpeningHours._meta
    columns = ", ".join(f'"{field.column}"' for field in hours.concrete_fields)
    return (
        f'SELECT {columns} FROM "{hours.db_table}" WHERE "site_id" = %s'  # noqa: S608
        ' ORDER BY "weekday"'
    )


def opening_hours_of(site: Site) -> list[OpeningHours]:
    """The site's opening hours by weekday (``site.opening_hours.all()``); read with the site
    when ``room_of`` read it."""
    if hasattr(site, "hours_list"):
        return site.hours_list
    fields = [field.attname for field in OpeningHours._meta.concrete_fields]
    with connection.cursor() as cursor:
        cursor.execute(_opening_hours_sql(), [site.pk])
        return [OpeningHours.from_db(connection.alias, fields, row) for row in cursor.fetchall()]


@functools.cache
def _site_week_sql() -> str:
    closed_days = (
        f'FROM "{ClosedDay._meta.db_table}"'
        ' WHERE "site_id" = %s AND "date" BETWEEN %s AND %s ORDER BY "date"'
    )
    return (
        f"SELECT ({_leases_in_site_sql()}),"
        f' ARRAY(SELECT "date" {closed_days}), ARRAY(SELECT "reason" {closed_days})'
    )


def site_week(
    user: User, site: Site, *, first: datetime.date, last: datetime.date, on_date: datetime.date
) -> tuple[str, list[ClosedDay]]:
    """The tier the user pays booking for themselves on ``on_date`` (``member_tier``) and the
    site's closed days from ``first`` to ``last`` included, by date: one statement for the
    room's week page."""
    closed_days = [site.pk, first, last]
    with connection.cursor() as cursor:
        cursor.execute(_site_week_sql(), [user.pk, site.pk, on_date, *closed_days, *closed_days])
        is_resident, dates, reasons = cursor.fetchone()
    closed = [
        ClosedDay(site=site, date=date, reason=reason)
        for date, reason in zip(dates, reasons, strict=True)
    ]
    return (Tier.RESIDENT if is_resident else Tier.MEMBER), closed


@functools.cache
def _leases_in_site_sql() -> str:
    lease, room, member = Lease._meta, Room._meta, Member._meta
    return (
        f'SELECT EXISTS (SELECT 1 FROM "{lease.db_table}" l'  # noqa: S608
        f' INNER JOIN "{member.db_table}" m ON m."id" = l."member_id"'
        f' INNER JOIN "{room.db_table}" r ON r."id" = l."room_id"'
        ' WHERE m."user_id" = %s AND r."site_id" = %s AND l."period" @> %s::date)'
    )


def member_tier(user: User, site: Site, on_date: datetime.date) -> str:
    """The tier the user pays booking for themselves in ``site`` on ``on_date``, as
    ``pricing.tier_for`` decides it: residents lease a space of the site, members do not."""
    with connection.cursor() as cursor:
        cursor.execute(_leases_in_site_sql(), [user.pk, site.pk, on_date])
        return Tier.RESIDENT if cursor.fetchone()[0] else Tier.MEMBER


def week_summary(
    *, rooms: list[Room], start: datetime.datetime, end: datetime.datetime, zone: str
) -> dict[tuple[int, datetime.date], str]:
    """One line of booked times per room and local day, aggregated by PostgreSQL.

    A week of 60 busy rooms holds thousands of bookings: the database folds them into at most
    rooms × 7 lines ("08:00–09:00, 10:00–12:00?"; "?" marks a request awaiting approval).
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT room_id, (lower(during) AT TIME ZONE %(zone)s)::date,
                string_agg(
                    to_char(lower(during) AT TIME ZONE %(zone)s, 'HH24:MI') || '–'
                    || to_char(upper(during) AT TIME ZONE %(zone)s, 'HH24:MI')
                    || CASE WHEN state = 'tentative' THEN '?' ELSE '' END,
                    ', ' ORDER BY lower(during))
            FROM spaces_booking
            WHERE room_id = ANY(%(rooms)s) AND state = ANY(%(states)s)
                AND blocked_during && tstzrange(%(start)s, %(end)s)
            GROUP BY 1, 2
            """,
            {
                "zone": zone,
                "rooms": [room.pk for room in rooms],
                "states": [str(state) for state in ACTIVE_STATES],
                "start": start,
                "end": end,
            },
        )
        return {(room_id, day): text for room_id, day, text in cursor.fetchall()}


def free_rooms(
    *,
    user: User,
    start: datetime.datetime,
    end: datetime.datetime,
    site: Site | None = None,
    capacity: int | None = None,
    kind: str | None = None,
) -> QuerySet[Room]:
    """Bookable rooms with no active booking or lease over [start, end).

    Buffers are the service's business: a room listed here may still need its buffer free,
    which ``book_room`` checks.
    """
    wanted = Q(is_bookable=True)
    if site is not None:
        wanted &= Q(site=site)
    if capacity:
        wanted &= Q(capacity__gte=capacity)
    if kind:
        wanted &= Q(kind=kind)
    taken = Booking.objects.filter(
        room=OuterRef("pk"), state__in=ACTIVE_STATES, blocked_during__overlap=(start, end)
    )
    if site is None:
        free = ~Exists(taken)
    else:
        # One site's few dozen rooms: the first booking in the way, looked up room by room
        # through the (room, time) index. As ``NOT EXISTS`` PostgreSQL reads every booking of
        # the time range, of every site (a hash anti-join): at a million bookings ten times as
        # long for one site, but less than as many lookups as the rooms of every site.
        free = IsNull(Subquery(taken.order_by().values("pk")[:1]), True)
    leased = Lease.objects.filter(room=OuterRef("pk"), period__contains=start.date())
    return (
        rooms_visible_to(user)
        .filter(wanted, free, ~Exists(leased))
        .order_by("site__name", "floor", "name")
    )


def free_room_values(
    *,
    user: User,
    columns: list[str],
    start: datetime.datetime,
    end: datetime.datetime,
    site: Site | None = None,
    capacity: int | None = None,
    kind: str | None = None,
) -> list[dict]:
    """``free_rooms(...).values(*columns)``, every row at once, from one statement written out.

    The API's search for a free room spent twice as long building and compiling the queryset
    of ``free_rooms`` as PostgreSQL took to run it; a site holds a few dozen rooms.
    tests/spaces/test_api_rows.py checks that both find the same rooms in the same order.
    """
    room = Room._meta
    selected = ", ".join(
        f'r."{room.pk.column if name == "pk" else room.get_field(name).column}"' for name in columns
    )
    conditions = ["r.is_bookable"]
    if not is_space_manager(user):
        conditions.append("s.is_active")  # as sites_visible_to
    if site is not None:
        conditions.append("r.site_id = %(site)s")
    if capacity:
        conditions.append("r.capacity >= %(capacity)s")
    if kind:
        conditions.append("r.kind = %(kind)s")
    taken = (
        "SELECT b.id FROM spaces_booking b WHERE b.room_id = r.id"
        " AND b.state = ANY(%(states)s) AND b.blocked_during && tstzrange(%(start)s, %(end)s)"
    )
    # As free_rooms: one site's rooms looked up one by one through booking_no_overlap (both
    # ids bigints, as that index needs), every site's in one pass over the time range.
    free = f"NOT EXISTS ({taken})" if site is None else f"({taken} LIMIT 1) IS NULL"
    sql = (
        f"SELECT {selected} FROM spaces_room r JOIN spaces_site s ON s.id = r.site_id"  # noqa: S608
        f" WHERE {' AND '.join(conditions)} AND {free}"
        " AND NOT EXISTS (SELECT 1 FROM spaces_lease l"
        " WHERE l.room_id = r.id AND l.period @> %(day)s::date)"
        " ORDER BY s.name, r.floor, r.name"
    )
    params = {
        "site": getattr(site, "pk", None),
        "capacity": capacity,
        "kind": kind,
        "states": [str(state) for state in ACTIVE_STATES],
        "start": start,
        "end": end,
        "day": start.date(),
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def tentative_queue() -> QuerySet[Booking]:
    """Requests waiting for a manager's decision, soonest first."""
    return (
        Booking.objects.filter(state="tentative")
        .select_related("room__site", "member", "activity", "organisation")
        # Not the booker's national number: decrypting it cost each of the 50 rows of a page.
        .defer("member__niss")
        .order_by("during")
    )


def feeds_of(user: User) -> QuerySet[FeedToken]:
    return FeedToken.objects.filter(user=user, revoked_at__isnull=True).select_related("room")


def leases_visible_to(user: User) -> QuerySet[Lease]:
    leases = Lease.objects.select_related("room__site", "member", "activity")
    if is_space_manager(user):
        return leases
    return leases.filter(activity_id__in=_activity_ids(user))


# The columns of a row of the member's leases, under the names spaces/index.html reads.
_LEASE_ROW_KEYS = (
    "room__name",
    "room__site__name",
    "activity__name",
    "starts_on",
    "ends_on",
    "monthly_rent",
)


@functools.cache
def _lease_rows_sql() -> str:
    return (
        'SELECT r."name", s."name", a."name", l."starts_on", l."ends_on", l."monthly_rent"'  # noqa: S608
        f' FROM "{Lease._meta.db_table}" l'
        f' INNER JOIN "{Activity._meta.db_table}" a ON a."id" = l."activity_id"'
        f' INNER JOIN "{Room._meta.db_table}" r ON r."id" = l."room_id"'
        f' INNER JOIN "{Site._meta.db_table}" s ON s."id" = r."site_id"'
        ' WHERE l."activity_id" = ANY(%s)'
        ' ORDER BY s."name", r."floor", r."name", l."starts_on"'
    )


def lease_rows(user: User) -> list[dict]:
    """The leases a member's Activities pay (``leases_visible_to``), in the leases' order, as
    the plain rows the bookings page lists."""
    activity_ids = _activity_ids(user)
    if not activity_ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute(_lease_rows_sql(), [activity_ids])
        return [dict(zip(_LEASE_ROW_KEYS, row, strict=True)) for row in cursor.fetchall()]


# Occupancy and cost recovery

BILLED_STATES = ["confirmed", "checked_in", "no_show"]


def _hours_by_weekday(site: Site) -> dict[int, Decimal]:
    return {
        row.weekday: Decimal(
            (
                datetime.datetime.combine(datetime.date.min, row.closes_at)
                - datetime.datetime.combine(datetime.date.min, row.opens_at)
            ).seconds
        )
        / 3600
        for row in site.opening_hours.all()
    }


def _open_hours(
    hours_by_weekday: dict[int, Decimal],
    closed: set[datetime.date],
    first: datetime.date,
    last: datetime.date,
) -> Decimal:
    total = Decimal(0)
    day = first
    while day <= last:
        if day not in closed:
            total += hours_by_weekday.get(day.weekday(), Decimal(0))
        day += datetime.timedelta(days=1)
    return total


def _closed_days(site: Site, first: datetime.date, last: datetime.date) -> set[datetime.date]:
    return set(
        ClosedDay.objects.filter(site=site, date__range=(first, last)).values_list(
            "date", flat=True
        )
    )


def open_hours(site: Site, first: datetime.date, last: datetime.date) -> Decimal:
    """Hours the site is open from ``first`` to ``last`` included, closed days excepted."""
    return _open_hours(_hours_by_weekday(site), _closed_days(site, first, last), first, last)


# Per period (its index), room and tier: billed seconds inside the period and revenue. The
# periods come as two arrays of bounds; the bookings are found through the GiST index on
# (room, during) for the whole span, then cut to each period by range intersection.
BOOKING_FIGURES = """
WITH periods AS (
    SELECT ordinality - 1 AS period, tstzrange(lower_bound, upper_bound) AS span
      FROM unnest(%(lowers)s::timestamptz[], %(uppers)s::timestamptz[])
           WITH ORDINALITY AS bounds(lower_bound, upper_bound)
)
SELECT periods.period, booking.room_id, booking.tier,
       COALESCE(SUM(EXTRACT(EPOCH FROM upper(booking.during * periods.span)
                                      - lower(booking.during * periods.span)))
                FILTER (WHERE booking.state = ANY(%(billed)s)), 0),
       COALESCE(SUM(booking.price_excl_vat) FILTER (WHERE booking.state = ANY(%(billed)s)), 0)
       + COALESCE(SUM(booking.cancellation_fee) FILTER (WHERE booking.state = 'cancelled'), 0)
  FROM spaces_booking AS booking
  JOIN periods ON booking.during && periods.span
 WHERE booking.room_id IN (SELECT id FROM spaces_room WHERE site_id = %(site)s)
   AND booking.during && tstzrange(%(start)s, %(end)s)
 GROUP BY 1, 2, 3
"""


def _booking_figures(
    site: Site, periods: list[tuple[datetime.datetime, datetime.datetime]]
) -> dict[tuple[int, int, str], tuple[Decimal, Decimal]]:
    """{(period index, room, tier): (billed seconds, revenue)}, summed by PostgreSQL.

    Raw SQL bypasses the router: it asks coop.db where a report's reads go (the replica inside
    ``reads_from_replica`` when one is configured).
    """
    with connections[read_alias()].cursor() as cursor:
        cursor.execute(
            BOOKING_FIGURES,
            {
                "lowers": [start for start, _end in periods],
                "uppers": [end for _start, end in periods],
                "billed": BILLED_STATES,
                "site": site.pk,
                "start": min(start for start, _end in periods),
                "end": max(end for _start, end in periods),
            },
        )
        return {
            (period, room, tier): (Decimal(seconds), revenue)
            for period, room, tier, seconds, revenue in cursor.fetchall()
        }


def _local_span(site: Site, first: datetime.date, last: datetime.date):
    zone = ZoneInfo(site.time_zone)
    return (
        datetime.datetime.combine(first, datetime.time(0), zone),
        datetime.datetime.combine(last + datetime.timedelta(days=1), datetime.time(0), zone),
    )


@reads_from_replica()
def occupancy(
    site: Site,
    *,
    first: datetime.date,
    last: datetime.date,
    trend: list[tuple[datetime.date, datetime.date]] = (),
) -> dict:
    """Booked hours against open hours per room, revenue by tier, and lease rent.

    A heavy read-only report: it reads from the replica when one is configured (coop.db).

    Every figure is aggregated by PostgreSQL: one query for the bookings of the period and of
    every ``trend`` period at once (rows per period, room and tier, never per booking), one for
    the lease rent. ``trend_rates`` gives the occupancy rate of each ``trend`` period.
    """
    rooms = list(site.rooms.order_by("floor", "name"))
    hours_by_weekday = _hours_by_weekday(site)
    spans = [(first, last), *trend]
    closed = _closed_days(site, min(f for f, _l in spans), max(la for _f, la in spans))
    by_period: dict[int, list] = defaultdict(list)
    for (period, room_id, tier), (booked, money) in _booking_figures(
        site, [_local_span(site, f, la) for f, la in spans]
    ).items():
        by_period[period].append((room_id, tier, booked, money))
    leases = (
        LeaseCharge.objects.filter(
            lease__room__site=site, month__gte=first.replace(day=1), month__lte=last
        )
        .values("lease__room_id")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    lease_by_room = {row["lease__room_id"]: row["total"] for row in leases}

    def summary(period: int, available: Decimal) -> dict:
        seconds: dict[int, Decimal] = defaultdict(Decimal)
        revenue: dict[str, Decimal] = defaultdict(Decimal)
        room_revenue: dict[int, Decimal] = defaultdict(Decimal)
        for room_id, tier, booked, money in by_period[period]:
            seconds[room_id] += booked
            revenue[tier] += money
            room_revenue[room_id] += money
        rows = []
        for room in rooms:
            hours = seconds.get(room.pk, Decimal(0)) / 3600
            rows.append(
                {
                    "room": room,
                    "booked_hours": hours.quantize(Decimal("0.1")),
                    "open_hours": available if room.is_bookable else None,
                    "rate": (hours / available * 100).quantize(Decimal("1"))
                    if room.is_bookable and available
                    else None,
                    "revenue": room_revenue.get(room.pk, Decimal("0.00")),
                    "lease_rent": lease_by_room.get(room.pk, Decimal("0.00")),
                }
            )
        bookable = [row for row in rows if row["open_hours"] is not None]
        total_open = available * len(bookable)
        total_booked = sum((row["booked_hours"] for row in bookable), Decimal(0))
        return {
            "rows": rows,
            "open_hours": total_open,
            "booked_hours": total_booked,
            "rate": (total_booked / total_open * 100).quantize(Decimal("1"))
            if total_open
            else None,
            "revenue_by_tier": dict(revenue),
            "lease_rent": sum(lease_by_room.values(), Decimal("0.00")),
            "revenue": sum(revenue.values(), Decimal("0.00")),
        }

    result = summary(0, _open_hours(hours_by_weekday, closed, first, last))
    result["trend_rates"] = [
        summary(index, _open_hours(hours_by_weekday, closed, f, la))["rate"]
        for index, (f, la) in enumerate(trend, start=1)
    ]
    return result


# Look-ups of the managers' forms: who pays a booking or a lease, among 100,000 members.

# A part of a name shorter than this matches too much, and no trigram index can find it.
LOOKUP_MIN_LETTERS = 3
LOOKUP_LIMIT = 20
_EMAIL = re.compile(r"[^\s<>(),;]+@[^\s<>(),;]+")
_NUMBER = re.compile(r"^#?\s*(\d{1,18})$|#(\d{1,18})$")


@dataclasses.dataclass(frozen=True)
class Lookup:
    """What a manager typed to name a row: its number, an e-mail address or a part of a name.

    A suggestion chosen in the browser fills the field with text that names one row: the
    member's e-mail address, or the Activity's or organisation's number after "#".
    """

    pk: int | None = None
    email: str = ""
    name: str = ""
    # The text before "#<number>", when there is any: the row found must be named so.
    label: str = ""

    @classmethod
    def parse(cls, text: str) -> "Lookup":
        text = " ".join(text.split())
        number = _NUMBER.search(text)
        if number:
            if number.group(1):
                return cls(pk=int(number.group(1)))
            return cls(pk=int(number.group(2)), label=text[: number.start()].strip())
        email = _EMAIL.search(text)
        if email:
            return cls(email=email.group(0).lower())
        return cls(name=text)

    @property
    def is_too_short(self) -> bool:
        return self.pk is None and not self.email and len(self.name) < LOOKUP_MIN_LETTERS


def _named(rows: QuerySet, column: str, text: str) -> QuerySet:
    """The rows whose ``column`` contains ``text``, in name order."""
    return _in_name_order(rows.filter(ContainsAnyCase(F(column), text)), column)


def _in_name_order(rows: QuerySet, column: str) -> QuerySet:
    # In the order of an expression, not of the column: with the column's (name, id) index,
    # PostgreSQL would walk all of it in order for a rare part of a name (half a second among
    # 100,000 members when nothing matches); this leaves it the trigram index, then a sort of
    # the few rows found.
    return rows.order_by(Concat(column, Value("")), "pk")


def members_matching(lookup: Lookup) -> QuerySet[Member]:
    """Active members by number, e-mail address (unique index) or a part of the legal name
    (trigram index), in name order, with their users."""
    members = (
        Member.objects.filter(status=Member.Status.ACTIVE)
        .select_related("user")
        .order_by("legal_name", "pk")
    )
    if lookup.pk is not None:
        return members.filter(pk=lookup.pk)
    if lookup.email:
        return members.filter(user__email=lookup.email)
    if lookup.is_too_short:
        return members.none()
    return _named(members, "legal_name", lookup.name)


def activities_matching(lookup: Lookup) -> QuerySet[Activity]:
    """Activities of active members by number, by the owner's e-mail address, or by a part of
    their name or of their owner's name, in name order, with their owners."""
    activities = (
        Activity.objects.filter(owner__status=Member.Status.ACTIVE)
        .select_related("owner")
        .order_by("name", "pk")
    )
    if lookup.pk is not None:
        return activities.filter(pk=lookup.pk)
    if lookup.email:
        return activities.filter(owner__user__email=lookup.email)
    if lookup.is_too_short:
        return activities.none()
    # The owners first, by their own index: an OR across the join would read every Activity.
    owners = list(members_matching(lookup).values_list("pk", flat=True)[:LOOKUP_LIMIT])
    return _in_name_order(
        activities.filter(ContainsAnyCase(F("name"), lookup.name) | Q(owner_id__in=owners)),
        "name",
    )


def organisations_matching(lookup: Lookup) -> QuerySet[Client]:
    """The cooperative's clients (outside renters) by number or a part of the name."""
    clients = cooperative_clients().order_by("name", "pk")
    if lookup.pk is not None:
        return clients.filter(pk=lookup.pk)
    if lookup.email:
        return clients.filter(email__iexact=lookup.email)
    if lookup.is_too_short:
        return clients.none()
    return _named(clients, "name", lookup.name)
