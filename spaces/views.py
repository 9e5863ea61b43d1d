"""Pages for rooms and bookings: members book and cancel; space managers run the sites."""

import datetime
from collections import defaultdict
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from coop import bounds
from coop.errors import CoopError
from coop.forms import add_service_error
from coop.idempotency import one_time_form
from invoicing.errors import InvoicingError
from invoicing.models import Client
from members.models import Activity
from members.selectors import is_active_member
from spaces import selectors
from spaces.availability import week_grid
from spaces.forms import (
    NO_REPEAT,
    BookingForm,
    CancelForm,
    LeaseForm,
    MoveForm,
    OutsideRenterForm,
    RefuseForm,
    SearchForm,
    activity_label,
    activity_text,
    member_text,
    organisation_text,
)
from spaces.ical import render_calendar
from spaces.models import ACTIVE_STATES, Booking, FeedToken, Lease, Room, RoomPrice, Site, Tier
from spaces.services import feed_tokens, leasing, lifecycle, pricing, recurring, renters, times

SLOT = datetime.timedelta(minutes=30)
LEASES_PER_PAGE = 25
ROOMS_PER_PAGE = 25
OCCUPANCY_ROOMS_PER_PAGE = 50
QUEUE_PER_PAGE = 50


def _show_error(form, error: CoopError) -> None:
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)


def _require_manager(request) -> None:
    if not selectors.is_space_manager(request.user):
        raise PermissionDenied(_("Only space managers can open this page."))


def _parse_date(value: str | None, default: datetime.date) -> datetime.date:
    """The date asked for in the address, or the default when it is malformed or beyond the
    dates the calendars can show (stepping a week or a month around it must stay valid)."""
    try:
        day = datetime.date.fromisoformat(value) if value else default
    except ValueError:
        return default
    latest = default + datetime.timedelta(days=bounds.BOOKING_MAX_DAYS_AHEAD)
    return day if bounds.EARLIEST_DATE <= day <= latest else default


def _day_bounds(site: Site, day: datetime.date, days: int = 1):
    start = times.local_datetime(site=site, date=day, time=datetime.time(0))
    end = times.local_datetime(
        site=site, date=day + datetime.timedelta(days=days), time=datetime.time(0)
    )
    return start, end


@login_required
def index(request):
    """The user's bookings (upcoming first) and, for managers, the day's work."""
    now = timezone.now()
    is_manager = selectors.is_space_manager(request.user)
    upcoming, past = selectors.booking_rows(request.user, now=now, upcoming=50, past=20)
    # spaces:booking_detail is spaces:index followed by the booking's number.
    detail_prefix = reverse("spaces:index")
    for row in (*upcoming, *past):
        row["url"] = f"{detail_prefix}{row['pk']}/"
    return render(
        request,
        "spaces/index.html",
        {
            "upcoming": upcoming,
            "past": past,
            "is_manager": is_manager,
            "sites": selectors.sites_visible_to(request.user),
            "queue_size": selectors.tentative_queue().count() if is_manager else 0,
            "leases": [] if is_manager else selectors.lease_rows(request.user),
        },
    )


@login_required
def room_list(request):
    """Rooms with their rules and prices."""
    site_pk = request.GET.get("site")
    rooms = selectors.RoomRows(
        request.user, site_pk=int(site_pk) if site_pk and site_pk.isdigit() else None
    )
    page = Paginator(rooms, ROOMS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "spaces/room_list.html",
        {
            "page": page,
            "sites": selectors.site_choices(request.user),
            "selected_site": site_pk,
        },
    )


def _week_of(request, site: Site) -> datetime.date:
    today = timezone.localdate(timezone.now(), times.site_zone(site))
    day = _parse_date(request.GET.get("date"), today)
    return day - datetime.timedelta(days=day.weekday())


def _book(request, room: Room, data: dict, *, organisation: Client | None) -> HttpResponse:
    """Book the slot (or the series) of a valid booking form, for its Activity or the
    organisation given; raise CoopError when a rule refuses it."""
    booker = {
        "activity": data.get("activity"),
        "organisation": organisation,
        "contact_name": data.get("contact_name", ""),
        "contact_email": data.get("contact_email", ""),
        "contact_phone": data.get("contact_phone", ""),
    }
    if data["repeat"] == NO_REPEAT:
        start, end = times.booking_range(
            site=room.site,
            date=data["date"],
            start_time=data["start_time"],
            end_time=data["end_time"],
        )
        booking = lifecycle.book_room(
            actor=request.user, room=room, start=start, end=end, title=data["title"], **booker
        )
        messages.success(request, _("Booked: %(title)s.") % {"title": booking.title})
        return redirect("spaces:booking_detail", booking.pk)
    result = recurring.book_series(
        actor=request.user,
        room=room,
        date=data["date"],
        start_time=data["start_time"],
        end_time=data["end_time"],
        title=data["title"],
        frequency=data["repeat"],
        until=data["until"],
        count=data["count"],
        book_free_only=data["book_free_only"],
        **booker,
    )
    messages.success(
        request,
        ngettext(
            "%(booked)d occurrence booked, %(skipped)d skipped.",
            "%(booked)d occurrences booked, %(skipped)d skipped.",
            len(result.bookings),
        )
        % {"booked": len(result.bookings), "skipped": len(result.skipped)},
    )
    return redirect("spaces:index")


@login_required
@require_http_methods(["GET", "POST"])
@one_time_form
def room_detail(request, pk: int):
    """A room's rules, prices, free/busy week and the booking form."""
    room = selectors.room_of(request.user, pk)
    if room is None:
        raise Http404
    is_manager = selectors.is_space_manager(request.user)
    if request.method == "POST" and not (is_manager or is_active_member(request.user)):
        raise PermissionDenied(_("Only active members and space managers book rooms."))
    monday = _week_of(request, room.site)
    initial = {
        "date": request.GET.get("date"),
        "start_time": request.GET.get("start"),
        "end_time": request.GET.get("end"),
    }
    renter_form = OutsideRenterForm.of(request.POST or None) if is_manager else None
    # The new renter the manager describes, when they ticked its box.
    new_renter = renter_form if renter_form is not None and renter_form.is_chosen else None
    form = BookingForm(
        request.POST or None,
        user=request.user,
        initial=initial,
        new_renter=new_renter is not None,
    )
    # Both forms are checked, so that every mistake shows at once.
    valid = form.is_valid() if request.method == "POST" else False
    if new_renter is not None:
        valid = new_renter.is_valid() and valid
    if valid:
        organisation: Client | None = form.cleaned_data.get("organisation")
        created = False
        try:
            # A new renter exists only with its booking: a refused booking leaves nothing.
            with transaction.atomic():
                if new_renter is not None:
                    organisation, created = renters.add_outside_renter(
                        actor=request.user, **new_renter.client_details()
                    )
                response = _book(request, room, form.cleaned_data, organisation=organisation)
        except InvoicingError as error:
            # Only the renter's details go through invoicing's checks before the booking.
            add_service_error(new_renter or form, error)
        except CoopError as error:
            _show_error(form, error)
        else:
            if new_renter is not None and organisation is not None and not created:
                messages.info(
                    request,
                    _("“%(name)s” was already an outside renter: the booking is theirs.")
                    % {"name": organisation.name},
                )
            return response
    start, end = _day_bounds(room.site, monday, days=7)
    now = timezone.now()
    chosen = _chosen_range(request, room, monday)
    tier, closed_days = selectors.site_week(
        request.user,
        room.site,
        first=monday,
        last=monday + datetime.timedelta(days=6),
        on_date=chosen[0] if chosen else monday,
    )
    hours = selectors.opening_hours_of(room.site)
    grid = week_grid(
        room=room,
        monday=monday,
        hours=hours,
        closed_days=closed_days,
        busy=selectors.room_busy_times(request.user, room, start=start, end=end),
        # Managers book inside the lead time; members' cells within it are too late.
        earliest=now if is_manager else now + datetime.timedelta(minutes=room.lead_time_minutes),
    )
    prices = _prices_shown(room, [Tier.MEMBER, Tier.EXTERNAL] if is_manager else [tier])
    return render(
        request,
        "spaces/room_detail.html",
        {
            "room": room,
            "prices": room.price_list,
            "hours": hours,
            "grid": grid,
            "monday": monday,
            "form": form,
            "renter_form": renter_form,
            "previous_week": monday - datetime.timedelta(days=7),
            "next_week": monday + datetime.timedelta(days=7),
            "is_manager": is_manager,
            "price_rows": [
                {
                    "label": label,
                    "hour": str(row.per_hour),
                    "half_day": None if row.per_half_day is None else str(row.per_half_day),
                    "day": None if row.per_day is None else str(row.per_day),
                    "vat_rate": str(vat_rate),
                    "half_day_minutes": pricing.HALF_DAY_MINUTES,
                }
                for label, _tier, row, vat_rate in prices
            ],
            "chosen": chosen,
            "quotes": _quotes(room, prices, chosen),
        },
    )


def _chosen_range(
    request, room: Room, monday: datetime.date
) -> tuple[datetime.date, datetime.datetime, datetime.datetime] | None:
    """The date and range a grid link chose (``date``, ``start`` and ``end`` in the address),
    or None when they are missing or do not make a range of the week shown."""
    try:
        day = datetime.date.fromisoformat(request.GET.get("date", ""))
        start_time = datetime.time.fromisoformat(request.GET.get("start", ""))
        end_time = datetime.time.fromisoformat(request.GET.get("end", ""))
    except ValueError:
        return None
    if not monday <= day < monday + datetime.timedelta(days=7):
        return None  # a date the week could not show: out of bounds
    try:
        start, end = times.booking_range(
            site=room.site, date=day, start_time=start_time, end_time=end_time
        )
    except CoopError:
        return None
    return day, start, end


def _tiers_shown(user, site: Site, day: datetime.date) -> list[str]:
    """The tiers whose prices the user is shown: a member's own, the members' and the outside
    renters' for a manager (who books for either)."""
    if selectors.is_space_manager(user):
        return [Tier.MEMBER, Tier.EXTERNAL]
    return [selectors.member_tier(user, site, day)]


def _prices_shown(room: Room, tiers: list[str]) -> list[tuple[str, str, RoomPrice, Decimal]]:
    """(label, tier, price row, VAT rate) of the room's prices for ``tiers`` that it has."""
    shown = []
    for tier in tiers:
        try:
            row = pricing.price_row(room, tier, room.price_list)
        except CoopError:
            continue
        vat_rate = pricing.EXTERNAL_VAT_RATE if tier == Tier.EXTERNAL else Decimal("0.00")
        shown.append((str(Tier(tier).label), tier, row, vat_rate))
    return shown


def _quotes(room: Room, prices, chosen) -> list[tuple[str, pricing.Quote, RoomPrice]]:
    """What the chosen range costs at each price shown, with the price row."""
    if chosen is None:
        return []
    _day, start, end = chosen
    return [
        (
            label,
            pricing.quote(room=room, tier=tier, start=start, end=end, prices=room.price_list),
            row,
        )
        for label, tier, row, _vat_rate in prices
    ]


@login_required
def booking_detail(request, pk: int, move_form: MoveForm | None = None):
    booking = selectors.booking_of(request.user, pk)
    if booking is None:
        raise Http404
    is_manager = selectors.is_space_manager(request.user)
    now = timezone.now()
    can_move = is_manager and booking.state == "confirmed" and booking.end > now
    if can_move and move_form is None:
        zone = times.site_zone(booking.room.site)
        move_form = MoveForm(
            site=booking.room.site,
            initial={
                "room": booking.room,
                "date": booking.start.astimezone(zone).date(),
                "start_time": booking.start.astimezone(zone).time(),
                "end_time": booking.end.astimezone(zone).time(),
                "title": booking.title,
            },
        )
    return render(
        request,
        "spaces/booking_detail.html",
        {
            "booking": booking,
            "is_manager": is_manager,
            "move_form": move_form if can_move else None,
            "cancel_form": CancelForm(),
            "refuse_form": RefuseForm(),
            "fee_now": pricing.cancellation_fee(booking, now=now) if booking.is_active else None,
            "can_cancel": booking.state in ("tentative", "confirmed") and booking.end > now,
            "can_check_in": booking.state == "confirmed"
            and booking.start - lifecycle.CHECK_IN_EARLY <= now < booking.end,
            "events": booking.events.select_related("actor") if is_manager else [],
        },
    )


def _act(request, pk: int, action) -> HttpResponse:
    booking = get_object_or_404(selectors.bookings_visible_to(request.user), pk=pk)
    try:
        action(booking)
    except CoopError as error:
        messages.error(request, error.message)
    return redirect("spaces:booking_detail", booking.pk)


@login_required
@require_POST
def booking_cancel(request, pk: int):
    form = CancelForm(request.POST)
    form.is_valid()
    data = form.cleaned_data

    def cancel(booking):
        service = (
            recurring.cancel_rest_of_series
            if data.get("rest_of_series")
            else (lifecycle.cancel_booking)
        )
        service(
            actor=request.user,
            booking=booking,
            reason=data.get("reason", ""),
            waive_fee=data.get("waive_fee", False),
        )
        messages.success(request, _("Booking cancelled."))

    return _act(request, pk, cancel)


@login_required
@require_POST
def booking_move(request, pk: int):
    """A space manager moves a booking to another slot or room of its site."""
    booking = get_object_or_404(selectors.bookings_visible_to(request.user), pk=pk)
    if not selectors.is_space_manager(request.user):
        messages.error(request, _("Only space managers move bookings."))
        return redirect("spaces:booking_detail", booking.pk)
    form = MoveForm(request.POST, site=booking.room.site)
    if form.is_valid():
        data = form.cleaned_data
        try:
            start, end = times.booking_range(
                site=booking.room.site,
                date=data["date"],
                start_time=data["start_time"],
                end_time=data["end_time"],
            )
            moved = lifecycle.move_booking(
                actor=request.user,
                booking=booking,
                room=data["room"],
                start=start,
                end=end,
                title=data["title"],
            )
        except CoopError as error:
            _show_error(form, error)
        else:
            messages.success(request, _("Booking moved."))
            return redirect("spaces:booking_detail", moved.pk)
    return booking_detail(request, pk, move_form=form)


@login_required
@require_POST
def booking_check_in(request, pk: int):
    def check_in(booking):
        lifecycle.check_in_booking(actor=request.user, booking=booking)
        messages.success(request, _("Checked in."))

    return _act(request, pk, check_in)


@login_required
@require_POST
def booking_approve(request, pk: int):
    _require_manager(request)

    def approve(booking):
        lifecycle.approve_booking(actor=request.user, booking=booking)
        messages.success(request, _("Request approved."))

    return _act(request, pk, approve)


@login_required
@require_POST
def booking_refuse(request, pk: int):
    _require_manager(request)
    form = RefuseForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""

    def refuse(booking):
        lifecycle.refuse_booking(actor=request.user, booking=booking, reason=reason)
        messages.success(request, _("Request refused."))

    return _act(request, pk, refuse)


@login_required
@require_POST
def booking_no_show(request, pk: int):
    _require_manager(request)

    def no_show(booking):
        lifecycle.mark_no_show(actor=request.user, booking=booking)
        messages.success(request, _("Recorded as a no-show; the room is free again."))

    return _act(request, pk, no_show)


@login_required
def queue(request):
    """Requests waiting for a space manager."""
    _require_manager(request)
    page = Paginator(selectors.tentative_queue(), QUEUE_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "spaces/queue.html",
        {"bookings": page.object_list, "page": page, "refuse_form": RefuseForm()},
    )


@login_required
def search(request):
    """Free rooms of a site for a slot, by capacity and kind."""
    form = SearchForm(request.GET or None, user=request.user)
    page = None
    slot = None
    if form.is_valid():
        data = form.cleaned_data
        site = data["site"]
        if site is None:
            raise Http404(_("No site is open for bookings."))
        try:
            start = times.local_datetime(site=site, date=data["date"], time=data["start_time"])
            start = start.astimezone(datetime.UTC)
        except CoopError as error:
            _show_error(form, error)
        else:
            end = start + datetime.timedelta(minutes=data["duration_minutes"])
            rooms = selectors.free_rooms(
                user=request.user,
                start=start,
                end=end,
                site=site,
                capacity=data["capacity"],
                kind=data["kind"] or None,
            )
            page = Paginator(rooms, ROOMS_PER_PAGE).get_page(request.GET.get("page"))
            ends = end.astimezone(times.site_zone(site))
            slot = {
                "date": data["date"],
                "start": data["start_time"],
                # A slot running past midnight has no end on its own day: the form asks for it.
                "end": ends.time() if ends.date() == data["date"] else None,
            }
            tiers = _tiers_shown(request.user, site, data["date"])
            for room in page.object_list:
                room.quotes = _quotes(room, _prices_shown(room, tiers), (data["date"], start, end))
    return render(request, "spaces/search.html", {"form": form, "page": page, "slot": slot})


def _week_rows(
    rooms: list[Room], days: list[datetime.date], summary: dict[tuple[int, datetime.date], str]
) -> list[dict]:
    """Return one row per room with its seven day cells already marked up.

    60 rooms × 7 days make hundreds of cells: built here with plain string joins, they cost the
    template one variable per row instead of a loop, a test and three lookups per cell.
    """
    openings = [
        (day, '<td><a class="slot" href="{}">'.format(escape(f"?view=day&date={day:%Y-%m-%d}")))
        for day in days
    ]
    rows = []
    for room in rooms:
        cells = []
        for day, opening in openings:
            text = summary.get((room.pk, day))
            cells.append(f"{opening}{escape(text)}</a></td>" if text else "<td></td>")
        # Safe: the only variable parts, the link and the text, are escaped just above.
        rows.append({"name": room.name, "cells": mark_safe("".join(cells))})  # noqa: S308
    return rows


@login_required
def site_calendar(request, pk: int):
    """Day view (rooms side by side, half-hour rows) or week view (rooms × days)."""
    _require_manager(request)
    site = get_object_or_404(selectors.sites_visible_to(request.user), pk=pk)
    zone = times.site_zone(site)
    view = "week" if request.GET.get("view") == "week" else "day"
    today = timezone.localdate(timezone.now(), zone)
    day = _parse_date(request.GET.get("date"), today)
    # The site's rooms know their site: loading "site" spares a query per room.
    rooms = list(
        site.rooms.filter(is_bookable=True)
        .order_by("floor", "name")
        .only("pk", "site", "name", "capacity")
    )
    if view == "week":
        day -= datetime.timedelta(days=day.weekday())
        start, end = _day_bounds(site, day, days=7)
    else:
        start, end = _day_bounds(site, day)
    context = {"site": site, "view": view, "day": day, "rooms": rooms, "today": today}
    if view == "week":
        days = [day + datetime.timedelta(days=offset) for offset in range(7)]
        # Each cell gets one line of times and links to the day view, where every booking shows.
        summary = selectors.week_summary(rooms=rooms, start=start, end=end, zone=site.time_zone)
        context["days"] = days
        context["rows"] = _week_rows(rooms, days, summary)
        context["previous"] = day - datetime.timedelta(days=7)
        context["next"] = day + datetime.timedelta(days=7)
    else:
        bookings = selectors.busy_times(rooms=rooms, start=start, end=end)
        hours = site.opening_hours.filter(weekday=day.weekday()).first()
        slots = []
        if hours is not None:
            moment = times.local_datetime(site=site, date=day, time=hours.opens_at)
            closing = times.local_datetime(site=site, date=day, time=hours.closes_at)
            by_room = defaultdict(list)
            for booking in bookings:
                by_room[booking["room_id"]].append(booking)
            # Links and labels are built here: the grid has rooms × half hours cells.
            detail_prefix = reverse("spaces:index")
            room_urls = {
                room.pk: f"{reverse('spaces:room_detail', args=[room.pk])}?date={day:%Y-%m-%d}"
                for room in rooms
            }
            while moment < closing:
                slot_end = moment + SLOT
                label_time = f"{moment.astimezone(zone):%H:%M}"
                cells = []
                for room in rooms:
                    taken = next(
                        (
                            booking
                            for booking in by_room[room.pk]
                            if booking["start"] < slot_end and booking["end"] > moment
                        ),
                        None,
                    )
                    if taken is None:
                        cells.append(
                            {"url": f"{room_urls[room.pk]}&start={label_time}", "room": room}
                        )
                    else:
                        cells.append(
                            {
                                "busy": True,
                                "state": taken["state"],
                                "url": f"{detail_prefix}{taken['pk']}/",
                                "label": taken["title"] if taken["start"] >= moment else "",
                            }
                        )
                slots.append({"time": label_time, "cells": cells})
                moment = slot_end
        context["slots"] = slots
        context["hours"] = hours
        context["previous"] = day - datetime.timedelta(days=1)
        context["next"] = day + datetime.timedelta(days=1)
    return render(request, "spaces/calendar.html", context)


# Leases


@login_required
def lease_list(request, pk: int):
    """The leases of a site, latest first."""
    _require_manager(request)
    site = get_object_or_404(selectors.sites_visible_to(request.user), pk=pk)
    leases = (
        Lease.objects.filter(room__site=site)
        .select_related("room", "member", "activity")
        .order_by("-starts_on", "room__name", "pk")
    )
    page = Paginator(leases, LEASES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "spaces/lease_list.html", {"site": site, "page": page})


@login_required
@require_http_methods(["GET", "POST"])
@one_time_form
def lease_create(request, pk: int):
    """Sign a lease of one of the site's ateliers or offices."""
    _require_manager(request)
    site = get_object_or_404(selectors.sites_visible_to(request.user), pk=pk)
    form = LeaseForm(request.POST or None, site=site)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            lease = leasing.create_lease(
                actor=request.user,
                room=data["room"],
                activity=data["activity"],
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                monthly_rent=data["monthly_rent"],
            )
        except CoopError as error:
            _show_error(form, error)
        else:
            messages.success(request, _("Lease signed for %(room)s.") % {"room": lease.room.name})
            return redirect("spaces:lease_list", site.pk)
    return render(request, "spaces/lease_form.html", {"site": site, "form": form})


# Look-ups: what lookup.js suggests as a manager types in a member, Activity or organisation.


def _lookup(request):
    _require_manager(request)
    return selectors.Lookup.parse(request.GET.get("q", "")[:200])


def _matches(rows: list[dict]) -> JsonResponse:
    return JsonResponse({"results": rows}, headers={"Cache-Control": "private, no-store"})


@login_required
@require_safe
def lookup_members(request):
    """Active members matching the text, each with the Activities they own (for a lease)."""
    members = selectors.members_matching(_lookup(request)).prefetch_related(
        Prefetch(
            "activities",
            queryset=Activity.objects.select_related("owner").order_by("name", "pk"),
        )
    )
    return _matches(
        [
            {
                "pk": member.pk,
                "text": member_text(member),
                "activities": [
                    {"pk": activity.pk, "label": activity_label(activity)}
                    for activity in member.activities.all()
                ],
            }
            for member in members[: selectors.LOOKUP_LIMIT]
        ]
    )


@login_required
@require_safe
def lookup_activities(request):
    """Activities of active members matching the text (a booking's payer)."""
    activities = selectors.activities_matching(_lookup(request))[: selectors.LOOKUP_LIMIT]
    return _matches(
        [{"pk": activity.pk, "text": activity_text(activity)} for activity in activities]
    )


@login_required
@require_safe
def lookup_organisations(request):
    """The cooperative's outside renters matching the text."""
    clients = selectors.organisations_matching(_lookup(request))[: selectors.LOOKUP_LIMIT]
    return _matches([{"pk": client.pk, "text": organisation_text(client)} for client in clients])


# Calendar feeds


@login_required
@require_http_methods(["GET", "POST"])
def feeds(request):
    """The user's private calendar addresses: create and revoke them."""
    if request.method == "POST":
        try:
            if "revoke" in request.POST:
                token = get_object_or_404(
                    selectors.feeds_of(request.user), pk=request.POST.get("revoke")
                )
                feed_tokens.revoke_feed_token(user=request.user, token=token)
                messages.success(request, _("The calendar address no longer works."))
            else:
                room = None
                if request.POST.get("room"):
                    room = get_object_or_404(
                        selectors.rooms_visible_to(request.user), pk=request.POST["room"]
                    )
                feed_tokens.create_feed_token(user=request.user, room=room)
                messages.success(request, _("New calendar address created."))
        except CoopError as error:
            messages.error(request, error.message)
        return redirect("spaces:feeds")
    is_manager = selectors.is_space_manager(request.user)
    return render(
        request,
        "spaces/feeds.html",
        {
            "feeds": selectors.feeds_of(request.user),
            "rooms": selectors.rooms_visible_to(request.user) if is_manager else [],
        },
    )


@require_safe
def feed(request, secret: str):
    """An iCalendar feed, reachable by whoever holds its secret address until it is revoked."""
    token = (
        FeedToken.objects.filter(secret=secret, revoked_at__isnull=True)
        .select_related("user", "room")
        .first()
    )
    if token is None or not token.user.is_active:
        raise Http404
    since = timezone.now() - datetime.timedelta(days=60)
    if token.room is not None:
        if not selectors.is_space_manager(token.user):
            raise Http404
        bookings = Booking.objects.filter(room=token.room, state__in=ACTIVE_STATES)
        name = token.room.name
    else:
        bookings = selectors.bookings_visible_to(token.user).filter(
            state__in=ACTIVE_STATES, member__user=token.user
        ) | selectors.bookings_visible_to(token.user).filter(
            state__in=ACTIVE_STATES, created_by=token.user
        )
        name = _("My bookings")
    bookings = (
        bookings.filter(during__endswith__gte=since)
        .select_related("room__site", "member", "organisation")
        .order_by("during")
    )
    body = render_calendar(bookings, name=name)
    return HttpResponse(body, content_type="text/calendar; charset=utf-8")


def _svg_number(value: float) -> str:
    """A coordinate of an SVG drawing: machine text, written with a dot in every language
    (a template would localise it, and "8,0" is no coordinate)."""
    return f"{value:.1f}"


def _bar_chart(points: list[tuple[str, Decimal]], *, maximum: Decimal, unit: str) -> dict:
    """Geometry of a simple SVG bar chart, computed here so the template does no arithmetic.

    Coordinates are strings already (``_svg_number``); the value over each bar is text for a
    reader, formatted in the current language.
    """
    # 20 px under the bars for their labels, 20 px over the tallest for its value.
    width, height, gap = 640, 190, 8
    bar = (width - gap * (len(points) + 1)) / max(len(points), 1)
    bars = []
    for index, (label, value) in enumerate(points):
        bar_height = float(value / maximum) * (height - 40) if maximum else 0
        x = gap + index * (bar + gap)
        top = height - 20 - bar_height
        bars.append(
            {
                "x": _svg_number(x),
                "y": _svg_number(top),
                "width": _svg_number(bar),
                "height": _svg_number(bar_height),
                "label": label,
                "label_x": _svg_number(x + bar / 2),
                "value_y": _svg_number(top - 4),
                "value": f"{number_format(value, 0, use_l10n=True, force_grouping=True)}{unit}",
            }
        )
    return {
        "width": str(width),
        "height": str(height),
        "bars": bars,
        "baseline": str(height - 20),
        "label_y": str(height - 5),
    }


@login_required
def occupancy(request, pk: int):
    """Occupancy and cost recovery of a site: this period's figures and the trend by week."""
    _require_manager(request)
    site = get_object_or_404(selectors.sites_visible_to(request.user), pk=pk)
    zone = times.site_zone(site)
    today = timezone.localdate(timezone.now(), zone)
    period = "month" if request.GET.get("period") == "month" else "week"
    day = _parse_date(request.GET.get("date"), today)
    if period == "month":
        first = day.replace(day=1)
        last = (first + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)
    else:
        first = day - datetime.timedelta(days=day.weekday())
        last = first + datetime.timedelta(days=6)
    mondays = [
        first - datetime.timedelta(days=first.weekday(), weeks=weeks_back)
        for weeks_back in range(7, -1, -1)
    ]
    # One aggregate query for the period and the eight weeks of the trend.
    figures = selectors.occupancy(
        site,
        first=first,
        last=last,
        trend=[(monday, monday + datetime.timedelta(days=6)) for monday in mondays],
    )
    trend = [
        (monday.strftime("%d/%m"), rate or Decimal(0))
        for monday, rate in zip(mondays, figures["trend_rates"], strict=True)
    ]
    rooms_page = Paginator(figures["rows"], OCCUPANCY_ROOMS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    tiers = [
        (str(label), figures["revenue_by_tier"].get(value, Decimal("0.00")))
        for value, label in Tier.choices
    ] + [(_("Leases"), figures["lease_rent"])]
    revenue_max = max((value for _label, value in tiers), default=Decimal(0))
    return render(
        request,
        "spaces/occupancy.html",
        {
            "site": site,
            "period": period,
            "first": first,
            "last": last,
            "figures": figures,
            "rooms_page": rooms_page,
            "tiers": tiers,
            "trend_chart": _bar_chart(trend, maximum=Decimal(100), unit="\u00a0%"),
            "revenue_chart": _bar_chart(tiers, maximum=revenue_max, unit="\u00a0€"),
            "previous": first - datetime.timedelta(days=1),
            "next": last + datetime.timedelta(days=1),
        },
    )
