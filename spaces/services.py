"""Every write of the spaces app: bookings and their rules, series, leases, charges, feeds."""

import calendar
import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from dateutil import rrule
from django.db import IntegrityError, OperationalError, transaction
from django.db.backends.postgresql.psycopg_any import DateRange, DateTimeTZRange
from django.db.models import DateTimeField, DurationField, ExpressionWrapper, F, QuerySet, Value
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from psycopg import errors as psycopg_errors

from coop.money import round_money
from invoicing.errors import InvoicingError
from invoicing.models import Client, Invoice
from members.models import Activity, LedgerEntryKind, LedgerStage, Member, User
from members.services import post_ledger_entry
from spaces.errors import BookingError
from spaces.models import (
    ACTIVE_STATES,
    Booking,
    BookingEvent,
    BookingSeries,
    BookingState,
    ClosedDay,
    FeedToken,
    Lease,
    LeaseCharge,
    Room,
    RoomPrice,
    Site,
    Tier,
)
from spaces.selectors import is_space_manager

# Outside renters pay Belgian VAT at the standard rate; work between Activities has none.
EXTERNAL_VAT_RATE = Decimal("21.00")
HALF_DAY_MINUTES = 4 * 60
MAX_OCCURRENCES = 104
# A booker may check in this long before the start.
CHECK_IN_EARLY = datetime.timedelta(minutes=15)
ONE_MINUTE = Value(datetime.timedelta(minutes=1), output_field=DurationField())


# Time


def site_zone(site: Site) -> ZoneInfo:
    return ZoneInfo(site.time_zone)


def format_local(moment: datetime.datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%d/%m/%Y %H:%M")


def local_datetime(*, site: Site, date: datetime.date, time: datetime.time) -> datetime.datetime:
    """Return the aware moment a wall-clock time of the site designates, refusing DST gaps.

    In Brussels 02:30 on the last Sunday of March does not exist and 02:30 on the last Sunday
    of October happens twice: both are refused rather than silently shifted.
    """
    zone = site_zone(site)
    naive = datetime.datetime.combine(date, time)
    moment = naive.replace(tzinfo=zone)
    round_trip = moment.astimezone(datetime.UTC).astimezone(zone).replace(tzinfo=None)
    if round_trip != naive:
        raise BookingError(
            _(
                "%(time)s on %(date)s does not exist in %(zone)s: the clocks go forward "
                "that night. Choose another time."
            )
            % {"time": time.strftime("%H:%M"), "date": date.strftime("%d/%m/%Y"), "zone": zone},
            code="nonexistent_time",
            field="start_time",
        )
    if moment.utcoffset() != naive.replace(tzinfo=zone, fold=1).utcoffset():
        raise BookingError(
            _(
                "%(time)s on %(date)s happens twice in %(zone)s: the clocks go back that "
                "night. Choose another time."
            )
            % {"time": time.strftime("%H:%M"), "date": date.strftime("%d/%m/%Y"), "zone": zone},
            code="ambiguous_time",
            field="start_time",
        )
    return moment


def booking_range(
    *,
    site: Site,
    date: datetime.date,
    start_time: datetime.time,
    end_time: datetime.time,
) -> tuple[datetime.datetime, datetime.datetime]:
    """Turn a date and two wall-clock times of the site into an aware range."""
    # Arithmetic on two datetimes of the same ZoneInfo ignores the clock change: use UTC.
    start = local_datetime(site=site, date=date, time=start_time).astimezone(datetime.UTC)
    end = local_datetime(site=site, date=date, time=end_time).astimezone(datetime.UTC)
    if end <= start:
        raise BookingError(
            _("The end must be after the start."), code="end_before_start", field="end_time"
        )
    return start, end


def blocked_range(
    room: Room, start: datetime.datetime, end: datetime.datetime
) -> tuple[datetime.datetime, datetime.datetime]:
    return (
        start - datetime.timedelta(minutes=room.buffer_before_minutes),
        end + datetime.timedelta(minutes=room.buffer_after_minutes),
    )


# Rules


def check_booking_rules(
    *,
    room: Room,
    start: datetime.datetime,
    end: datetime.datetime,
    now: datetime.datetime,
    by_manager: bool,
) -> None:
    """Refuse a slot that breaks a room or site rule; managers skip lead time and horizon."""
    if timezone.is_naive(start) or timezone.is_naive(end):
        raise BookingError(_("Times must carry a time zone."), code="naive_time")
    start, end = start.astimezone(datetime.UTC), end.astimezone(datetime.UTC)
    if end <= start:
        raise BookingError(
            _("The end must be after the start."), code="end_before_start", field="end_time"
        )
    if not room.is_bookable:
        raise BookingError(
            _("%(room)s cannot be booked by the hour.") % {"room": room.name}, code="not_bookable"
        )
    if not room.site.is_active:
        raise BookingError(_("This site is closed for bookings."), code="site_inactive")
    if start < now:
        raise BookingError(_("This slot is in the past."), code="past", field="start_time")
    zone = site_zone(room.site)
    local_start = start.astimezone(zone)
    local_end = end.astimezone(zone)
    minutes = int((end - start).total_seconds() // 60)
    if minutes < room.min_duration_minutes:
        raise BookingError(
            ngettext(
                "%(room)s is booked for at least %(minutes)d minute.",
                "%(room)s is booked for at least %(minutes)d minutes.",
                room.min_duration_minutes,
            )
            % {"room": room.name, "minutes": room.min_duration_minutes},
            code="too_short",
            field="end_time",
        )
    if minutes > room.max_duration_minutes:
        raise BookingError(
            ngettext(
                "%(room)s is booked for at most %(hours)s hour.",
                "%(room)s is booked for at most %(hours)s hours.",
                _hours_count(room.max_duration_minutes),
            )
            % {"room": room.name, "hours": _hours(room.max_duration_minutes)},
            code="too_long",
            field="end_time",
        )
    start_minute = local_start.hour * 60 + local_start.minute
    if (
        start_minute % room.slot_minutes
        or minutes % room.slot_minutes
        or local_start.second
        or local_end.second
    ):
        raise BookingError(
            ngettext(
                "%(room)s is booked in steps of %(minutes)d minute (for instance 10:00–11:30).",
                "%(room)s is booked in steps of %(minutes)d minutes (for instance 10:00–11:30).",
                room.slot_minutes,
            )
            % {"room": room.name, "minutes": room.slot_minutes},
            code="granularity",
            field="start_time",
        )
    day = local_start.date()
    if local_end.date() != day and local_end.time() != datetime.time(0):
        raise BookingError(
            _("A booking starts and ends on the same day; use a series for several days."),
            code="several_days",
            field="end_time",
        )
    closed = ClosedDay.objects.filter(site=room.site, date=day).first()
    if closed is not None:
        raise BookingError(
            _("%(site)s is closed on %(date)s%(reason)s.")
            % {
                "site": room.site.name,
                "date": day.strftime("%d/%m/%Y"),
                "reason": f" ({closed.reason})" if closed.reason else "",
            },
            code="closed_day",
            field="date",
        )
    hours = room.site.opening_hours.filter(weekday=day.weekday()).first()
    if hours is None:
        raise BookingError(
            _("%(site)s is closed on %(weekday)s.")
            % {"site": room.site.name, "weekday": _weekday_name(day)},
            code="closed_weekday",
            field="date",
        )
    end_time = local_end.time() if local_end.date() == day else datetime.time(23, 59, 59)
    if local_start.time() < hours.opens_at or end_time > hours.closes_at:
        raise BookingError(
            _("%(site)s is open from %(opens)s to %(closes)s on %(weekday)s.")
            % {
                "site": room.site.name,
                "opens": hours.opens_at.strftime("%H:%M"),
                "closes": hours.closes_at.strftime("%H:%M"),
                "weekday": _weekday_name(day),
            },
            code="outside_opening_hours",
            field="start_time",
        )
    if Lease.objects.filter(room=room, period__contains=day).exists():
        raise BookingError(
            _("%(room)s is leased on %(date)s.")
            % {"room": room.name, "date": day.strftime("%d/%m/%Y")},
            code="leased",
        )
    if by_manager:
        return
    if start < now + datetime.timedelta(minutes=room.lead_time_minutes):
        raise BookingError(
            ngettext(
                "%(room)s must be booked at least %(hours)s hour ahead.",
                "%(room)s must be booked at least %(hours)s hours ahead.",
                _hours_count(room.lead_time_minutes),
            )
            % {"room": room.name, "hours": _hours(room.lead_time_minutes)},
            code="lead_time",
            field="start_time",
        )
    if day > timezone.localdate(now, zone) + datetime.timedelta(days=room.horizon_days):
        raise BookingError(
            ngettext(
                "%(room)s can be booked at most %(days)d day ahead.",
                "%(room)s can be booked at most %(days)d days ahead.",
                room.horizon_days,
            )
            % {"room": room.name, "days": room.horizon_days},
            code="horizon",
            field="date",
        )


def _hours(minutes: int) -> str:
    value = Decimal(minutes) / 60
    return f"{value.normalize():f}"


def _hours_count(minutes: int) -> int:
    """Return the number that picks the plural form of ``_hours(minutes)`` hours."""
    # Gettext plural rules take integers; a fraction ("1.5 hours") reads as a plural.
    return minutes // 60 if minutes % 60 == 0 else minutes


def _weekday_name(day: datetime.date) -> str:
    from spaces.models import Weekday

    return str(Weekday(day.weekday()).label).lower()


def find_conflict(
    room: Room,
    start: datetime.datetime,
    end: datetime.datetime,
    *,
    exclude_pk: int | None = None,
) -> Booking | None:
    """Return an active booking whose blocked time meets this slot's blocked time."""
    lower, upper = blocked_range(room, start, end)
    conflicts = Booking.objects.filter(
        room=room, state__in=ACTIVE_STATES, blocked_during__overlap=(lower, upper)
    )
    if exclude_pk:
        conflicts = conflicts.exclude(pk=exclude_pk)
    return conflicts.order_by("during").first()


def _conflict_error(room: Room, conflict: Booking) -> BookingError:
    zone = site_zone(room.site)
    values = {
        "room": room.name,
        "start": format_local(conflict.start, zone),
        "end": conflict.end.astimezone(zone).strftime("%H:%M"),
        "before": room.buffer_before_minutes,
        "after": room.buffer_after_minutes,
    }
    if room.buffer_before_minutes or room.buffer_after_minutes:
        message = _(
            "%(room)s is already booked from %(start)s to %(end)s "
            "(with %(before)d min before and %(after)d min after kept free)."
        )
    else:
        message = _("%(room)s is already booked from %(start)s to %(end)s.")
    return BookingError(message % values, code="conflict", field="start_time")


# Prices


@dataclass(frozen=True)
class Quote:
    tier: str
    price_excl_vat: Decimal
    vat_rate: Decimal
    vat_amount: Decimal
    price_incl_vat: Decimal


def tier_for(*, room: Room, member: Member | None, on_date: datetime.date) -> str:
    """Residents lease a space in the same site; other members pay the member price."""
    if member is None:
        return Tier.EXTERNAL
    is_resident = Lease.objects.filter(
        member=member, room__site_id=room.site_id, period__contains=on_date
    ).exists()
    return Tier.RESIDENT if is_resident else Tier.MEMBER


def _price_row(room: Room, tier: str) -> RoomPrice:
    prices = {price.tier: price for price in RoomPrice.objects.filter(room=room)}
    # A resident without a resident price pays the member price.
    fallbacks = {Tier.RESIDENT: [Tier.RESIDENT, Tier.MEMBER]}.get(tier, [tier])
    for candidate in fallbacks:
        if candidate in prices:
            return prices[candidate]
    raise BookingError(
        _("%(room)s has no %(tier)s price yet: ask a space manager.")
        % {"room": room.name, "tier": Tier(tier).label.lower()},
        code="no_price",
    )


def quote(*, room: Room, tier: str, start: datetime.datetime, end: datetime.datetime) -> Quote:
    """Price a slot for a tier: the cheapest of the hourly, half-day and day rates that apply."""
    row = _price_row(room, tier)
    minutes = int((end.astimezone(datetime.UTC) - start.astimezone(datetime.UTC)).total_seconds())
    minutes //= 60
    candidates = [round_money(row.per_hour * Decimal(minutes) / Decimal(60))]
    if row.per_half_day is not None and minutes <= HALF_DAY_MINUTES:
        candidates.append(row.per_half_day)
    if row.per_day is not None:
        candidates.append(row.per_day)
    excl = min(candidates)
    rate = EXTERNAL_VAT_RATE if tier == Tier.EXTERNAL else Decimal("0.00")
    vat = round_money(excl * rate / Decimal(100))
    return Quote(tier, excl, rate, vat, excl + vat)


# Booking


def _record(
    booking: Booking, *, from_state: str, actor: User | None, note: str, now
) -> BookingEvent:
    return BookingEvent.objects.create(
        booking=booking,
        from_state=from_state,
        to_state=booking.state,
        actor=actor,
        note=note[:255],
        created_at=now,
    )


def _resolve_booker(
    *, actor: User, activity: Activity | None, organisation: Client | None, by_manager: bool
) -> Member | None:
    """Return the member who books, after checking the actor may charge that Activity."""
    if (activity is None) == (organisation is None):
        raise BookingError(
            _("Book either for an Activity or for an outside organisation."), code="booker"
        )
    if organisation is not None:
        if not by_manager:
            raise BookingError(
                _("Only space managers book for outside organisations."),
                code="external_needs_manager",
                field="organisation",
            )
        return None
    assert activity is not None
    activity = Activity.objects.select_related("owner").get(pk=activity.pk)
    if by_manager:
        member = activity.owner
    else:
        member = Member.objects.filter(user=actor).first()
        if member is None or not Activity.objects.of_user(actor).filter(pk=activity.pk).exists():
            raise BookingError(
                _("You can only book for your own Activities."),
                code="foreign_activity",
                field="activity",
            )
    if activity.owner.status != Member.Status.ACTIVE:
        raise BookingError(
            _("Only the Activities of active members can book."),
            code="member_not_active",
            field="activity",
        )
    return member


@transaction.atomic
def book_room(
    *,
    actor: User,
    room: Room,
    start: datetime.datetime,
    end: datetime.datetime,
    title: str,
    activity: Activity | None = None,
    organisation: Client | None = None,
    contact_name: str = "",
    contact_email: str = "",
    contact_phone: str = "",
    series: BookingSeries | None = None,
    now: datetime.datetime | None = None,
) -> Booking:
    """Book a room for an Activity or an outside organisation, priced now.

    Members' requests for rooms that need approval stay tentative; everything else is
    confirmed at once and charged. The exclusion constraint settles races: of two people
    booking the same slot at the same moment exactly one succeeds.
    """
    now = now or timezone.now()
    if timezone.is_naive(start) or timezone.is_naive(end):
        raise BookingError(_("Times must carry a time zone."), code="naive_time")
    # Arithmetic on two datetimes of the same ZoneInfo ignores the clock change: use UTC.
    start, end = start.astimezone(datetime.UTC), end.astimezone(datetime.UTC)
    title = title.strip()
    if not title:
        raise BookingError(_("Give the booking a title."), code="title", field="title")
    # Bookers of one room queue up here, so the check below sees the booking committed just
    # before and names it; the exclusion constraint stays the guarantee.
    room = Room.objects.select_for_update(of=("self",)).select_related("site").get(pk=room.pk)
    by_manager = is_space_manager(actor)
    member = _resolve_booker(
        actor=actor, activity=activity, organisation=organisation, by_manager=by_manager
    )
    if organisation is not None and room.site.income_activity_id is None:
        raise BookingError(
            _("%(site)s cannot invoice outside renters yet: set its invoicing Activity.")
            % {"site": room.site.name},
            code="no_income_activity",
        )
    check_booking_rules(room=room, start=start, end=end, now=now, by_manager=by_manager)
    zone = site_zone(room.site)
    tier = tier_for(room=room, member=member, on_date=start.astimezone(zone).date())
    price = quote(room=room, tier=tier, start=start, end=end)
    conflict = find_conflict(room, start, end)
    if conflict is not None:
        raise _conflict_error(room, conflict)
    state = (
        BookingState.TENTATIVE
        if room.requires_approval and not by_manager
        else BookingState.CONFIRMED
    )
    lower, upper = blocked_range(room, start, end)
    try:
        with transaction.atomic():
            booking = Booking.objects.create(
                room=room,
                during=DateTimeTZRange(start, end, "[)"),
                blocked_during=DateTimeTZRange(lower, upper, "[)"),
                title=title[:200],
                state=state,
                member=member,
                activity=activity,
                organisation=organisation,
                contact_name=contact_name.strip()[:150],
                contact_email=contact_email.strip(),
                contact_phone=contact_phone.strip()[:32],
                created_by=actor,
                created_at=now,
                series=series,
                tier=price.tier,
                price_excl_vat=price.price_excl_vat,
                vat_rate=price.vat_rate,
                vat_amount=price.vat_amount,
                price_incl_vat=price.price_incl_vat,
            )
    except (IntegrityError, OperationalError) as error:
        # Someone else took the slot between our check and our insert (concurrent checks of an
        # exclusion constraint may also end in a deadlock, which PostgreSQL breaks for us).
        if isinstance(error, OperationalError) and not _is_deadlock(error):
            raise
        conflict = find_conflict(room, start, end)
        if conflict is not None:
            raise _conflict_error(room, conflict) from error
        raise BookingError(
            _("This room was booked at the same moment: choose another slot."), code="conflict"
        ) from error
    event = _record(booking, from_state=BookingState.TENTATIVE, actor=actor, note="", now=now)
    if state == BookingState.CONFIRMED:
        _charge(booking, actor=actor, now=now)
    _notify(event)
    return booking


def _is_deadlock(error: OperationalError) -> bool:
    return isinstance(error.__cause__, psycopg_errors.DeadlockDetected)


def _notify(event: BookingEvent) -> None:
    from spaces.tasks import send_booking_notice_task

    transaction.on_commit(lambda: send_booking_notice_task.delay(event.pk))


def _reference(booking: Booking) -> str:
    return f"BOOKING-{booking.pk}"


def _describe(booking: Booking) -> str:
    zone = site_zone(booking.room.site)
    return _("%(room)s, %(start)s–%(end)s: %(title)s") % {
        "room": booking.room.name,
        "start": format_local(booking.start, zone),
        "end": booking.end.astimezone(zone).strftime("%H:%M"),
        "title": booking.title,
    }


def _invoicing_user(site: Site) -> User:
    # Invoices are drawn up in the name of the site's Activity, as its owner would.
    activity = Activity.objects.select_related("owner__user").get(pk=site.income_activity_id)
    return activity.owner.user


def _charge(booking: Booking, *, actor: User, now: datetime.datetime) -> None:
    """Charge a confirmed booking: the Activity's ledger, or an invoice to the organisation."""
    from invoicing.services.drafts import LineInput, save_draft
    from invoicing.services.issue import submit_invoice

    if booking.charged_at is not None or booking.price_excl_vat == 0:
        return
    if booking.activity_id:
        post_ledger_entry(
            activity=booking.activity,
            kind=LedgerEntryKind.BOOKING_CHARGE,
            stage=LedgerStage.AVAILABLE,
            amount=-booking.price_excl_vat,
            reference=_reference(booking),
            description=_describe(booking),
            author=actor,
            source=booking,
            now=now,
        )
    else:
        site = booking.room.site
        drafter = _invoicing_user(site)
        booking.organisation.added_by.add(drafter)
        today = timezone.localdate(now, site_zone(site))
        try:
            invoice = save_draft(
                user=drafter,
                activity=site.income_activity,
                client=booking.organisation,
                lines=[
                    LineInput(
                        description=_describe(booking)[:300],
                        quantity=Decimal("1"),
                        unit="piece",
                        unit_price=booking.price_excl_vat,
                        vat_rate=EXTERNAL_VAT_RATE,
                    )
                ],
                today=today,
                buyer_reference=_reference(booking),
            )
            invoice = submit_invoice(user=drafter, invoice=invoice, today=today, now=now)
        except InvoicingError as error:
            raise BookingError(error.message, code=error.code) from error
        booking.invoice = invoice
    booking.charged_at = now
    booking.save(update_fields=["charged_at", "invoice"])


def _lock(booking: Booking) -> Booking:
    return Booking.objects.select_for_update().select_related("room__site").get(pk=booking.pk)


def _check_may_act(actor: User, booking: Booking) -> bool:
    """Return whether the actor manages bookings; refuse members acting on others' bookings."""
    if is_space_manager(actor):
        return True
    own = booking.created_by_id == actor.pk or (
        booking.activity_id is not None
        and Activity.objects.of_user(actor).filter(pk=booking.activity_id).exists()
    )
    if not own:
        raise BookingError(_("Unknown booking."), code="not_found")
    return False


@transaction.atomic
def approve_booking(
    *, actor: User, booking: Booking, now: datetime.datetime | None = None
) -> Booking:
    """Confirm a tentative request and charge it."""
    now = now or timezone.now()
    if not is_space_manager(actor):
        raise BookingError(_("Only space managers approve requests."), code="forbidden")
    booking = _lock(booking)
    if booking.state != BookingState.TENTATIVE:
        raise BookingError(_("This booking is not waiting for approval."), code="not_tentative")
    if booking.end <= now:
        raise BookingError(_("This request's slot has passed."), code="past")
    booking.state = BookingState.CONFIRMED
    booking.save(update_fields=["state"])
    event = _record(booking, from_state=BookingState.TENTATIVE, actor=actor, note="", now=now)
    _charge(booking, actor=actor, now=now)
    _notify(event)
    return booking


@transaction.atomic
def refuse_booking(
    *, actor: User, booking: Booking, reason: str, now: datetime.datetime | None = None
) -> Booking:
    """Refuse a tentative request, saying why; the slot becomes free."""
    now = now or timezone.now()
    if not is_space_manager(actor):
        raise BookingError(_("Only space managers refuse requests."), code="forbidden")
    if not reason.strip():
        raise BookingError(_("Say why the request is refused."), code="reason", field="reason")
    booking = _lock(booking)
    if booking.state != BookingState.TENTATIVE:
        raise BookingError(_("This booking is not waiting for approval."), code="not_tentative")
    booking.state = BookingState.REFUSED
    booking.state_reason = reason.strip()[:255]
    booking.save(update_fields=["state", "state_reason"])
    _notify(_record(booking, from_state=BookingState.TENTATIVE, actor=actor, note=reason, now=now))
    return booking


def cancellation_fee(booking: Booking, *, now: datetime.datetime) -> Decimal:
    """The fee a cancellation now costs: nothing with enough notice, else a share of the price."""
    room = booking.room
    if booking.state == BookingState.TENTATIVE:
        return Decimal("0.00")
    if booking.start - now >= datetime.timedelta(hours=room.cancellation_notice_hours):
        return Decimal("0.00")
    return round_money(booking.price_excl_vat * room.cancellation_fee_percent / Decimal(100))


@transaction.atomic
def cancel_booking(
    *,
    actor: User,
    booking: Booking,
    reason: str = "",
    waive_fee: bool = False,
    now: datetime.datetime | None = None,
) -> Booking:
    """Cancel a booking, keeping the late-cancellation fee and refunding the rest.

    Only a space manager may waive the fee.
    """
    now = now or timezone.now()
    booking = _lock(booking)
    by_manager = _check_may_act(actor, booking)
    if booking.state not in (BookingState.TENTATIVE, BookingState.CONFIRMED):
        raise BookingError(
            _("A booking that is %(state)s cannot be cancelled.")
            % {"state": booking.get_state_display().lower()},
            code="not_cancellable",
        )
    if booking.end <= now:
        raise BookingError(_("This booking is over."), code="past")
    if waive_fee and not by_manager:
        raise BookingError(_("Only space managers waive cancellation fees."), code="forbidden")
    from_state = booking.state
    fee = Decimal("0.00") if waive_fee else cancellation_fee(booking, now=now)
    booking.state = BookingState.CANCELLED
    booking.cancelled_at = now
    booking.cancellation_fee = fee if booking.charged_at else Decimal("0.00")
    booking.state_reason = reason.strip()[:255]
    if booking.charged_at:
        booking.refunded_amount = booking.price_excl_vat - fee
        _refund(booking, actor=actor, now=now)
    booking.save(
        update_fields=[
            "state",
            "cancelled_at",
            "cancellation_fee",
            "refunded_amount",
            "state_reason",
            "invoice",
        ]
    )
    _notify(_record(booking, from_state=from_state, actor=actor, note=reason, now=now))
    return booking


def _refund(booking: Booking, *, actor: User, now: datetime.datetime) -> None:
    from invoicing.services.credit import request_credit_note
    from invoicing.services.drafts import LineInput
    from invoicing.services.issue import reject_invoice

    refund = booking.refunded_amount
    if booking.activity_id:
        if refund > 0:
            post_ledger_entry(
                activity=booking.activity,
                kind=LedgerEntryKind.BOOKING_CHARGE,
                stage=LedgerStage.AVAILABLE,
                amount=refund,
                reference=_reference(booking),
                description=_("Refund on cancellation: %(booking)s")
                % {"booking": _describe(booking)},
                author=actor,
                source=booking,
                now=now,
            )
        return
    invoice = Invoice.objects.get(pk=booking.invoice_id)
    drafter = _invoicing_user(booking.room.site)
    try:
        if invoice.is_issued:
            if refund > 0:
                request_credit_note(
                    user=drafter,
                    invoice=invoice,
                    reason=_("Booking cancelled: %(booking)s") % {"booking": _describe(booking)},
                    lines=[
                        LineInput(
                            description=_("Refund: %(booking)s")
                            % {"booking": _describe(booking)[:250]},
                            quantity=Decimal("1"),
                            unit="piece",
                            unit_price=refund,
                            vat_rate=EXTERNAL_VAT_RATE,
                        )
                    ],
                    now=now,
                )
            return
        # Not issued yet: withdraw it, and invoice only the fee.
        if invoice.status == Invoice.Status.PENDING_REVIEW:
            reject_invoice(
                staff_user=actor, invoice=invoice, reason=_("The booking was cancelled.")
            )
        elif invoice.is_editable:
            from invoicing.services.drafts import delete_draft

            delete_draft(invoice=invoice)
        booking.invoice = None
        booking.charged_at = None
        if booking.cancellation_fee > 0:
            _invoice_fee(booking, drafter=drafter, now=now)
    except InvoicingError as error:
        raise BookingError(error.message, code=error.code) from error


def _invoice_fee(booking: Booking, *, drafter: User, now: datetime.datetime) -> None:
    from invoicing.services.drafts import LineInput, save_draft
    from invoicing.services.issue import submit_invoice

    site = booking.room.site
    today = timezone.localdate(now, site_zone(site))
    invoice = save_draft(
        user=drafter,
        activity=site.income_activity,
        client=booking.organisation,
        lines=[
            LineInput(
                description=(
                    _("Late cancellation fee: %(booking)s") % {"booking": _describe(booking)}
                )[:300],
                quantity=Decimal("1"),
                unit="piece",
                unit_price=booking.cancellation_fee,
                vat_rate=EXTERNAL_VAT_RATE,
            )
        ],
        today=today,
        buyer_reference=_reference(booking),
    )
    booking.invoice = submit_invoice(user=drafter, invoice=invoice, today=today, now=now)
    booking.charged_at = now


@transaction.atomic
def check_in_booking(
    *, actor: User, booking: Booking, now: datetime.datetime | None = None
) -> Booking:
    """Record that the booker arrived (from 15 minutes before the start until the end)."""
    now = now or timezone.now()
    booking = _lock(booking)
    _check_may_act(actor, booking)
    if booking.state != BookingState.CONFIRMED:
        raise BookingError(_("Only confirmed bookings can be checked in."), code="not_confirmed")
    if not booking.start - CHECK_IN_EARLY <= now < booking.end:
        raise BookingError(
            _("Check-in opens 15 minutes before the start and closes at the end."),
            code="check_in_window",
        )
    booking.state = BookingState.CHECKED_IN
    booking.checked_in_at = now
    booking.save(update_fields=["state", "checked_in_at"])
    _record(booking, from_state=BookingState.CONFIRMED, actor=actor, note="", now=now)
    return booking


@transaction.atomic
def mark_no_show(*, actor: User, booking: Booking, now: datetime.datetime | None = None) -> Booking:
    """Release a confirmed booking nobody came for; the price stays charged."""
    now = now or timezone.now()
    if not is_space_manager(actor):
        raise BookingError(_("Only space managers record no-shows."), code="forbidden")
    booking = _lock(booking)
    if booking.state != BookingState.CONFIRMED:
        raise BookingError(_("Only confirmed bookings can be no-shows."), code="not_confirmed")
    if now < booking.start:
        raise BookingError(_("The booking has not started yet."), code="not_started")
    booking.state = BookingState.NO_SHOW
    booking.save(update_fields=["state"])
    _record(booking, from_state=BookingState.CONFIRMED, actor=actor, note="", now=now)
    return booking


def _due_no_shows(now: datetime.datetime) -> QuerySet[Booking]:
    # Only bookings still running: the point is to free the room, and a rule set today must not
    # rewrite last year's bookings that nobody checked in because check-in was not asked for.
    return (
        Booking.objects.filter(
            state=BookingState.CONFIRMED,
            room__check_in_grace_minutes__isnull=False,
            during__endswith__gt=now,
            # Implied by the line above once started; lets the exclusion constraint's index
            # find the running bookings instead of reading the whole table every five minutes.
            blocked_during__contains=now,
        )
        .alias(
            release_at=ExpressionWrapper(
                F("during__startswith") + F("room__check_in_grace_minutes") * ONE_MINUTE,
                output_field=DateTimeField(),
            )
        )
        .filter(release_at__lte=now)
    )


def release_no_shows(*, now: datetime.datetime) -> int:
    """Release as no-shows the confirmed bookings not checked in by start + the room's grace.

    The price stays charged, as with ``mark_no_show``. A no-show no longer holds the room (the
    exclusion constraint only sees active states), so the rest of the slot can be booked again.
    Each booking is locked and checked again in its own transaction: a check-in at the same
    moment either wins or is refused, and a second or concurrent run finds nothing left to do.
    Return how many bookings were released.
    """
    released = 0
    for pk in list(_due_no_shows(now).values_list("pk", flat=True)):
        released += _release_no_show(pk=pk, now=now)
    return released


@transaction.atomic
def _release_no_show(*, pk: int, now: datetime.datetime) -> bool:
    booking = (
        _due_no_shows(now)
        .select_for_update(of=("self",))
        .select_related("room")
        .filter(pk=pk)
        .first()
    )
    if booking is None:
        return False
    booking.state = BookingState.NO_SHOW
    booking.save(update_fields=["state"])
    minutes = booking.room.check_in_grace_minutes or 0  # never None here: filtered above
    note = ngettext(
        "Released automatically: nobody checked in within %(minutes)d minute of the start.",
        "Released automatically: nobody checked in within %(minutes)d minutes of the start.",
        minutes,
    ) % {"minutes": minutes}
    _record(booking, from_state=BookingState.CONFIRMED, actor=None, note=note, now=now)
    return True


# Recurring bookings


@dataclass
class Occurrence:
    start: datetime.datetime
    end: datetime.datetime
    problem: str = ""


@dataclass
class SeriesResult:
    series: BookingSeries | None
    bookings: list[Booking] = field(default_factory=list)
    skipped: list[Occurrence] = field(default_factory=list)


FREQUENCIES = {
    BookingSeries.Frequency.WEEKLY: (rrule.WEEKLY, 1),
    BookingSeries.Frequency.BIWEEKLY: (rrule.WEEKLY, 2),
    BookingSeries.Frequency.MONTHLY: (rrule.MONTHLY, 1),
}


def plan_series(
    *,
    actor: User,
    room: Room,
    date: datetime.date,
    start_time: datetime.time,
    end_time: datetime.time,
    frequency: str,
    until: datetime.date | None = None,
    count: int | None = None,
    now: datetime.datetime | None = None,
) -> list[Occurrence]:
    """List the occurrences of a rule, each with the problem that prevents booking it."""
    now = now or timezone.now()
    if frequency not in FREQUENCIES:
        raise BookingError(_("Choose how often the booking repeats."), code="frequency")
    if until is None and count is None:
        raise BookingError(
            _("A repeating booking needs an end: a last date or a number of occurrences."),
            code="no_end",
            field="until",
        )
    if until is not None and count is not None:
        raise BookingError(
            _("End the series either on a date or after a number of occurrences, not both."),
            code="two_ends",
            field="count",
        )
    if count is not None and not 1 <= count <= MAX_OCCURRENCES:
        raise BookingError(
            ngettext(
                "A series has between 1 and %(max)d occurrence.",
                "A series has between 1 and %(max)d occurrences.",
                MAX_OCCURRENCES,
            )
            % {"max": MAX_OCCURRENCES},
            code="count",
            field="count",
        )
    if until is not None and until < date:
        raise BookingError(
            _("The series must end after its first date."), code="until", field="until"
        )
    room = Room.objects.select_related("site").get(pk=room.pk)
    by_manager = is_space_manager(actor)
    freq, interval = FREQUENCIES[frequency]
    # Repeat on the wall clock: 10:00 stays 10:00 across the change to summer time.
    dates = list(
        rrule.rrule(
            freq,
            interval=interval,
            dtstart=datetime.datetime.combine(date, datetime.time(0)),
            until=datetime.datetime.combine(until, datetime.time(0)) if until else None,
            count=count,
        )[: MAX_OCCURRENCES + 1]
    )
    if len(dates) > MAX_OCCURRENCES:
        raise BookingError(
            ngettext(
                "A series has at most %(max)d occurrence.",
                "A series has at most %(max)d occurrences.",
                MAX_OCCURRENCES,
            )
            % {"max": MAX_OCCURRENCES},
            code="count",
            field="until",
        )
    occurrences = []
    for day in dates:
        try:
            start, end = booking_range(
                site=room.site, date=day.date(), start_time=start_time, end_time=end_time
            )
        except BookingError as error:
            moment = datetime.datetime.combine(day.date(), start_time, site_zone(room.site))
            occurrences.append(Occurrence(moment, moment, error.message))
            continue
        occurrence = Occurrence(start, end)
        try:
            check_booking_rules(room=room, start=start, end=end, now=now, by_manager=by_manager)
            conflict = find_conflict(room, start, end)
            if conflict is not None:
                raise _conflict_error(room, conflict)
        except BookingError as error:
            occurrence.problem = error.message
        occurrences.append(occurrence)
    return occurrences


@transaction.atomic
def book_series(
    *,
    actor: User,
    room: Room,
    date: datetime.date,
    start_time: datetime.time,
    end_time: datetime.time,
    title: str,
    frequency: str,
    until: datetime.date | None = None,
    count: int | None = None,
    book_free_only: bool = False,
    activity: Activity | None = None,
    organisation: Client | None = None,
    contact_name: str = "",
    contact_email: str = "",
    contact_phone: str = "",
    now: datetime.datetime | None = None,
) -> SeriesResult:
    """Book every occurrence of a rule; with conflicts, book the free ones or none.

    Without ``book_free_only`` any problem refuses the whole series and lists the problems.
    """
    now = now or timezone.now()
    occurrences = plan_series(
        actor=actor,
        room=room,
        date=date,
        start_time=start_time,
        end_time=end_time,
        frequency=frequency,
        until=until,
        count=count,
        now=now,
    )
    problems = [occurrence for occurrence in occurrences if occurrence.problem]
    if problems and not book_free_only:
        zone = site_zone(room.site)
        listed = "; ".join(
            f"{occurrence.start.astimezone(zone):%d/%m/%Y}: {occurrence.problem}"
            for occurrence in problems[:10]
        )
        raise BookingError(
            ngettext(
                "%(count)d of %(total)d occurrence cannot be booked, so none was: %(list)s",
                "%(count)d of %(total)d occurrences cannot be booked, so none was: %(list)s",
                len(occurrences),
            )
            % {"count": len(problems), "total": len(occurrences), "list": listed},
            code="series_conflicts",
        )
    free = [occurrence for occurrence in occurrences if not occurrence.problem]
    if not free:
        raise BookingError(_("No occurrence of this series is free."), code="series_conflicts")
    series = BookingSeries.objects.create(
        room=room,
        frequency=frequency,
        until=until,
        count=count,
        created_by=actor,
        created_at=now,
    )
    result = SeriesResult(series=series, skipped=problems)
    for occurrence in free:
        result.bookings.append(
            book_room(
                actor=actor,
                room=room,
                start=occurrence.start,
                end=occurrence.end,
                title=title,
                activity=activity,
                organisation=organisation,
                contact_name=contact_name,
                contact_email=contact_email,
                contact_phone=contact_phone,
                series=series,
                now=now,
            )
        )
    return result


@transaction.atomic
def cancel_rest_of_series(
    *,
    actor: User,
    booking: Booking,
    reason: str = "",
    waive_fee: bool = False,
    now: datetime.datetime | None = None,
) -> list[Booking]:
    """Cancel this occurrence and every later active one of its series."""
    now = now or timezone.now()
    if booking.series_id is None:
        raise BookingError(_("This booking is not part of a series."), code="no_series")
    later = Booking.objects.filter(
        series_id=booking.series_id,
        state__in=[BookingState.TENTATIVE, BookingState.CONFIRMED],
        during__startswith__gte=booking.start,
    ).order_by("during")
    return [
        cancel_booking(actor=actor, booking=item, reason=reason, waive_fee=waive_fee, now=now)
        for item in later
    ]


# Leases


@transaction.atomic
def create_lease(
    *,
    actor: User,
    room: Room,
    activity: Activity,
    starts_on: datetime.date,
    ends_on: datetime.date | None = None,
    monthly_rent: Decimal | None = None,
) -> Lease:
    """Lease an atelier or office to the owner of an Activity, at the resident monthly price."""
    if not is_space_manager(actor):
        raise BookingError(_("Only space managers sign leases."), code="forbidden")
    room = Room.objects.select_related("site").get(pk=room.pk)
    activity = Activity.objects.select_related("owner").get(pk=activity.pk)
    if activity.owner.status != Member.Status.ACTIVE:
        raise BookingError(
            _("Only the Activities of active members can lease."),
            code="member_not_active",
            field="activity",
        )
    if ends_on is not None and ends_on < starts_on:
        raise BookingError(
            _("The lease must end after it starts."), code="ends_before_start", field="ends_on"
        )
    if monthly_rent is None:
        row = _price_row(room, Tier.RESIDENT)
        if row.per_month is None:
            raise BookingError(
                _("%(room)s has no monthly price: give the rent.") % {"room": room.name},
                code="no_price",
                field="monthly_rent",
            )
        monthly_rent = row.per_month
    if monthly_rent <= 0:
        raise BookingError(_("The rent must be more than zero."), code="rent", field="monthly_rent")
    last = ends_on + datetime.timedelta(days=1) if ends_on else None
    period = DateRange(starts_on, last, "[)")
    booked = Booking.objects.filter(
        room=room,
        state__in=ACTIVE_STATES,
        during__overlap=DateTimeTZRange(
            local_datetime(site=room.site, date=starts_on, time=datetime.time(0)),
            local_datetime(site=room.site, date=last, time=datetime.time(0)) if last else None,
        ),
    ).first()
    if booked is not None:
        raise BookingError(
            _("%(room)s is booked on %(date)s: cancel or move that booking first.")
            % {
                "room": room.name,
                "date": booked.start.astimezone(site_zone(room.site)).strftime("%d/%m/%Y"),
            },
            code="booked",
        )
    try:
        with transaction.atomic():
            return Lease.objects.create(
                room=room,
                member=activity.owner,
                activity=activity,
                starts_on=starts_on,
                ends_on=ends_on,
                period=period,
                monthly_rent=monthly_rent,
                created_by=actor,
            )
    except IntegrityError as error:
        raise BookingError(
            _("%(room)s is already leased for part of that period.") % {"room": room.name},
            code="lease_overlap",
        ) from error


@transaction.atomic
def end_lease(*, actor: User, lease: Lease, ends_on: datetime.date) -> Lease:
    """Set or bring forward the last day of a lease."""
    if not is_space_manager(actor):
        raise BookingError(_("Only space managers end leases."), code="forbidden")
    lease = Lease.objects.select_for_update().get(pk=lease.pk)
    if ends_on < lease.starts_on:
        raise BookingError(
            _("The lease must end after it starts."), code="ends_before_start", field="ends_on"
        )
    charged_after = lease.charges.filter(month__gt=ends_on).exists()
    if charged_after:
        raise BookingError(
            _("Months after this date were already charged."), code="already_charged"
        )
    lease.ends_on = ends_on
    lease.period = DateRange(lease.starts_on, ends_on + datetime.timedelta(days=1), "[)")
    lease.save(update_fields=["ends_on", "period"])
    return lease


def rent_for_month(lease: Lease, month: datetime.date) -> Decimal:
    """The rent of a calendar month, prorated by day for a lease that starts or ends in it."""
    days_in_month = calendar.monthrange(month.year, month.month)[1]
    first = month.replace(day=1)
    last = month.replace(day=days_in_month)
    start = max(first, lease.starts_on)
    end = min(last, lease.ends_on) if lease.ends_on else last
    if end < start:
        return Decimal("0.00")
    days = (end - start).days + 1
    if days == days_in_month:
        return lease.monthly_rent
    return round_money(lease.monthly_rent * days / days_in_month)


@transaction.atomic
def charge_lease_month(
    *, lease: Lease, month: datetime.date, now: datetime.datetime | None = None
) -> LeaseCharge | None:
    """Charge one month of rent to the lease's Activity, once; return None if nothing is due."""
    now = now or timezone.now()
    month = month.replace(day=1)
    lease = Lease.objects.select_for_update().select_related("room").get(pk=lease.pk)
    if lease.charges.filter(month=month).exists():
        return None
    amount = rent_for_month(lease, month)
    if amount <= 0:
        return None
    charge = LeaseCharge.objects.create(lease=lease, month=month, amount=amount, charged_at=now)
    post_ledger_entry(
        activity=lease.activity,
        kind=LedgerEntryKind.BOOKING_CHARGE,
        stage=LedgerStage.AVAILABLE,
        amount=-amount,
        reference=f"LEASE-{lease.pk}-{month:%Y-%m}",
        description=_("Rent of %(room)s for %(month)s")
        % {"room": lease.room.name, "month": f"{month:%m/%Y}"},
        author=None,
        source=charge,
        now=now,
    )
    return charge


def charge_due_leases(*, today: datetime.date, now: datetime.datetime | None = None) -> int:
    """Charge this month's rent of every running lease; safe to run again. Return the count."""
    month = today.replace(day=1)
    days_in_month = calendar.monthrange(month.year, month.month)[1]
    month_end = month.replace(day=days_in_month)
    leases = Lease.objects.filter(period__overlap=DateRange(month, month_end, "[]")).exclude(
        charges__month=month
    )
    charged = 0
    for lease in leases:
        if charge_lease_month(lease=lease, month=month, now=now) is not None:
            charged += 1
    return charged


# Calendar feeds


@transaction.atomic
def create_feed_token(*, user: User, room: Room | None = None) -> FeedToken:
    """Give the user a secret feed address for their bookings, or (managers) for a room."""
    if room is not None and not is_space_manager(user):
        raise BookingError(_("Only space managers subscribe to room calendars."), code="forbidden")
    return FeedToken.objects.create(user=user, room=room)


@transaction.atomic
def revoke_feed_token(
    *, user: User, token: FeedToken, now: datetime.datetime | None = None
) -> FeedToken:
    """Switch a feed address off for good."""
    token = FeedToken.objects.select_for_update().get(pk=token.pk)
    if token.user_id != user.pk:
        raise BookingError(_("Unknown calendar feed."), code="not_found")
    if token.revoked_at is None:
        token.revoked_at = now or timezone.now()
        token.save(update_fields=["revoked_at"])
    return token
