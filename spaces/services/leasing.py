"""Leases: let an atelier or office by the month to an Activity, end a lease, work out a month's
rent (prorated by day in the months a lease starts or ends), and charge it to the Activity's
ledger once, one lease at a time or in the monthly sweep.
"""

import calendar
import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.backends.postgresql.psycopg_any import DateRange, DateTimeTZRange
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from coop.money import round_money
from members.models import Activity, LedgerEntryKind, LedgerStage, Member, User
from members.services import post_ledger_entry
from spaces.errors import BookingError
from spaces.models import ACTIVE_STATES, Booking, Lease, LeaseCharge, Room, Tier
from spaces.selectors import is_space_manager
from spaces.services.pricing import price_row
from spaces.services.times import local_datetime, site_zone


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
        row = price_row(room, Tier.RESIDENT)
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
                "date": date_format(
                    booked.start.astimezone(site_zone(room.site)), "SHORT_DATE_FORMAT"
                ),
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
