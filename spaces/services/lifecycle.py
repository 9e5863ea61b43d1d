"""The life of a booking: book, approve, refuse, cancel, check in, mark a no-show and release
no-shows automatically; each transition locks the booking, checks its guard, records a
``BookingEvent``, charges or refunds through ``billing`` and notifies the booker after the commit.
"""

import datetime
from decimal import Decimal

from django.db import IntegrityError, OperationalError, transaction
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.db.models import DateTimeField, DurationField, ExpressionWrapper, F, QuerySet, Value
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from psycopg import errors as psycopg_errors

from audit.services import record_event
from invoicing.models import Client
from members.models import Activity, Member, User
from spaces.errors import BookingError
from spaces.models import Booking, BookingEvent, BookingSeries, BookingState, Room
from spaces.selectors import is_space_manager
from spaces.services.billing import _charge, _refund
from spaces.services.pricing import cancellation_fee, quote, tier_for
from spaces.services.rules import _conflict_error, check_booking_rules, find_conflict
from spaces.services.times import blocked_range, site_zone

# A booker may check in this long before the start.
CHECK_IN_EARLY = datetime.timedelta(minutes=15)

ONE_MINUTE = Value(datetime.timedelta(minutes=1), output_field=DurationField())


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
    record_event(action="created", obj=booking, actor=actor, changes={"state": [None, state]})
    if state == BookingState.CONFIRMED:
        _charge(booking, actor=actor, now=now)
    _notify(event)
    return booking


def _is_deadlock(error: OperationalError) -> bool:
    return isinstance(error.__cause__, psycopg_errors.DeadlockDetected)


def _notify(event: BookingEvent) -> None:
    from spaces.tasks import send_booking_notice_task

    transaction.on_commit(lambda: send_booking_notice_task.delay(event.pk), robust=True)


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
    record_event(action="approved", obj=booking, actor=actor)
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
    record_event(action="rejected", obj=booking, actor=actor, reason=booking.state_reason)
    _notify(_record(booking, from_state=BookingState.TENTATIVE, actor=actor, note=reason, now=now))
    return booking


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
    changes = {"state": [from_state, booking.state], "cancellation_fee": [None, fee]}
    record_event(action="cancelled", obj=booking, actor=actor, changes=changes, reason=reason)
    _notify(_record(booking, from_state=from_state, actor=actor, note=reason, now=now))
    return booking


@transaction.atomic
def move_booking(
    *,
    actor: User,
    booking: Booking,
    room: Room,
    start: datetime.datetime,
    end: datetime.datetime,
    title: str,
    now: datetime.datetime | None = None,
) -> Booking:
    """Move a confirmed booking to another slot or room; return the booking that replaces it.

    A space manager's change, free of fee: the booking is cancelled with its charge refunded (or
    its invoice withdrawn or credited), and the same booker gets the new slot, checked against
    every rule and priced now. If the new slot is refused, nothing changes. The booker receives
    both notices, so the calendar of the old slot is freed too.
    """
    now = now or timezone.now()
    if not is_space_manager(actor):
        raise BookingError(_("Only space managers move bookings."), code="forbidden")
    old = _lock(booking)
    if old.state != BookingState.CONFIRMED:
        raise BookingError(_("Only confirmed bookings can be moved."), code="not_movable")
    zone = site_zone(room.site)
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    reason = _("Moved to %(room)s, %(date)s %(start)s–%(end)s.") % {
        "room": room.name,
        "date": date_format(local_start, "SHORT_DATE_FORMAT"),
        "start": local_start.strftime("%H:%M"),
        "end": local_end.strftime("%H:%M"),
    }
    cancel_booking(actor=actor, booking=old, reason=reason, waive_fee=True, now=now)
    new = book_room(
        actor=actor,
        room=room,
        start=start,
        end=end,
        title=title or old.title,
        activity=old.activity,
        organisation=old.organisation,
        contact_name=old.contact_name,
        contact_email=old.contact_email,
        contact_phone=old.contact_phone,
        series=old.series,
        now=now,
    )
    record_event(action="moved", obj=old, actor=actor, changes={"booking": [old.pk, new.pk]})
    return new


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
