"""Sites, rooms and their rules, prices, bookings, recurring series, leases and feed tokens."""

import secrets
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import ArrayField, DateRangeField, DateTimeRangeField
from django.contrib.postgres.fields.ranges import RangeOperators
from django.contrib.postgres.indexes import GistIndex
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from coop.models import ChoiceLabels
from invoicing.models import Client, Invoice
from members.models import Activity, Member

MONEY = {"max_digits": 12, "decimal_places": 2}


class Site(models.Model):
    """A building of the cooperative with rooms to book or lease (LaVallée…)."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    street = models.CharField(_("street and number"), max_length=200)
    postal_code = models.CharField(_("postal code"), max_length=16)
    city = models.CharField(_("city"), max_length=100)
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Brussels")
    income_activity = models.ForeignKey(
        Activity,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("Activity invoicing outside renters"),
        help_text=_("The cooperative's Activity that issues invoices to outside renters."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def address(self) -> str:
        return f"{self.street}, {self.postal_code} {self.city}"


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class OpeningHours(models.Model):
    """When a site is open on one weekday; a weekday without a row is closed."""

    site = models.ForeignKey(
        Site, on_delete=models.CASCADE, related_name="opening_hours", verbose_name=_("site")
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens_at = models.TimeField(_("opens at"))
    closes_at = models.TimeField(_("closes at"))

    class Meta:
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        ordering = ["site", "weekday"]
        constraints = [
            models.UniqueConstraint(fields=["site", "weekday"], name="opening_hours_one_per_day"),
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")),
                name="opening_hours_closes_after_opening",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens_at:%H:%M}–{self.closes_at:%H:%M}"


class ClosedDay(models.Model):
    """A date the site is closed (public holiday, works…)."""

    site = models.ForeignKey(
        Site, on_delete=models.CASCADE, related_name="closed_days", verbose_name=_("site")
    )
    date = models.DateField(_("date"))
    reason = models.CharField(_("reason"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("closed day")
        verbose_name_plural = _("closed days")
        ordering = ["site", "date"]
        constraints = [
            models.UniqueConstraint(fields=["site", "date"], name="closed_day_unique_per_site")
        ]

    def __str__(self) -> str:
        return f"{self.site}: {date_format(self.date, 'SHORT_DATE_FORMAT')}"


class Room(ChoiceLabels, models.Model):
    """A space of a site with its booking rules."""

    class Kind(models.TextChoices):
        ATELIER = "atelier", _("Atelier")
        OFFICE = "office", _("Office")
        DESK = "desk", _("Desk")
        MEETING_ROOM = "meeting_room", _("Meeting room")
        EVENT_HALL = "event_hall", _("Event hall")
        STUDIO = "studio", _("Studio")

    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, related_name="rooms", verbose_name=_("site")
    )
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    area_m2 = models.DecimalField(_("area (m²)"), max_digits=7, decimal_places=1)
    capacity = models.PositiveIntegerField(_("capacity (people)"))
    floor = models.SmallIntegerField(_("floor"), default=0)
    amenities = ArrayField(
        models.CharField(max_length=60), blank=True, default=list, verbose_name=_("amenities")
    )
    accessibility_notes = models.TextField(_("accessibility"), blank=True)
    description = models.TextField(_("description"), blank=True)
    is_bookable = models.BooleanField(
        _("bookable by the hour"),
        default=True,
        help_text=_("Leased ateliers and offices are usually not bookable by the hour."),
    )
    slot_minutes = models.PositiveSmallIntegerField(_("slot granularity (minutes)"), default=30)
    min_duration_minutes = models.PositiveIntegerField(_("minimum duration (minutes)"), default=60)
    max_duration_minutes = models.PositiveIntegerField(
        _("maximum duration (minutes)"), default=12 * 60
    )
    buffer_before_minutes = models.PositiveSmallIntegerField(
        _("buffer before (minutes)"), default=0
    )
    buffer_after_minutes = models.PositiveSmallIntegerField(_("buffer after (minutes)"), default=0)
    lead_time_minutes = models.PositiveIntegerField(_("lead time (minutes)"), default=60)
    horizon_days = models.PositiveIntegerField(_("booking horizon (days)"), default=180)
    requires_approval = models.BooleanField(_("members' requests need approval"), default=False)
    cancellation_notice_hours = models.PositiveIntegerField(
        _("free cancellation notice (hours)"), default=48
    )
    cancellation_fee_percent = models.DecimalField(
        _("late cancellation fee (% of the price)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("50.00"),
    )
    check_in_grace_minutes = models.PositiveSmallIntegerField(
        _("check-in grace period (minutes)"),
        null=True,
        blank=True,
        help_text=_(
            "A confirmed booking nobody has checked in for this many minutes after its start "
            "is released as a no-show (its price stays charged) and the rest of its time can be "
            "booked again. Keep it shorter than the minimum duration. Leave empty to record "
            "no-shows by hand only."
        ),
    )

    class Meta:
        verbose_name = _("room")
        verbose_name_plural = _("rooms")
        ordering = ["site", "floor", "name"]
        constraints = [
            models.UniqueConstraint(fields=["site", "name"], name="room_name_unique_per_site"),
            models.CheckConstraint(condition=Q(slot_minutes__gt=0), name="room_slot_positive"),
            models.CheckConstraint(
                condition=Q(min_duration_minutes__gt=0)
                & Q(max_duration_minutes__gte=models.F("min_duration_minutes")),
                name="room_durations_ordered",
            ),
            models.CheckConstraint(
                condition=Q(cancellation_fee_percent__gte=0) & Q(cancellation_fee_percent__lte=100),
                name="room_fee_percent_range",
            ),
            models.CheckConstraint(condition=Q(area_m2__gt=0), name="room_area_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.site})"

    def clean(self) -> None:
        super().clean()
        grace = self.check_in_grace_minutes
        if grace is not None and self.min_duration_minutes and grace >= self.min_duration_minutes:
            raise ValidationError(
                {
                    "check_in_grace_minutes": ngettext(
                        "The grace period must be shorter than the minimum duration "
                        "(%(minutes)d minute): a booking is released while it still runs.",
                        "The grace period must be shorter than the minimum duration "
                        "(%(minutes)d minutes): a booking is released while it still runs.",
                        self.min_duration_minutes,
                    )
                    % {"minutes": self.min_duration_minutes}
                }
            )


class Tier(models.TextChoices):
    RESIDENT = "resident", _("Resident")
    MEMBER = "member", _("Member")
    EXTERNAL = "external", _("External")


class RoomPrice(ChoiceLabels, models.Model):
    """What a room costs one tier of renter; amounts exclude VAT."""

    room = models.ForeignKey(
        Room, on_delete=models.CASCADE, related_name="prices", verbose_name=_("room")
    )
    tier = models.CharField(_("tier"), max_length=16, choices=Tier.choices)
    per_hour = models.DecimalField(_("per hour"), **MONEY)
    per_half_day = models.DecimalField(_("per half day (4 h)"), **MONEY, null=True, blank=True)
    per_day = models.DecimalField(_("per day"), **MONEY, null=True, blank=True)
    per_month = models.DecimalField(_("per month (lease)"), **MONEY, null=True, blank=True)

    class Meta:
        verbose_name = _("room price")
        verbose_name_plural = _("room prices")
        ordering = ["room", "tier"]
        constraints = [
            models.UniqueConstraint(fields=["room", "tier"], name="room_price_one_per_tier"),
            models.CheckConstraint(
                condition=Q(per_hour__gte=0)
                & (Q(per_half_day__isnull=True) | Q(per_half_day__gte=0))
                & (Q(per_day__isnull=True) | Q(per_day__gte=0))
                & (Q(per_month__isnull=True) | Q(per_month__gte=0)),
                name="room_price_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.room}: {self.get_tier_display()}"


class BookingSeries(models.Model):
    """The recurrence rule that produced a group of bookings."""

    class Frequency(models.TextChoices):
        WEEKLY = "weekly", _("Every week")
        BIWEEKLY = "biweekly", _("Every other week")
        MONTHLY = "monthly", _("Every month")

    room = models.ForeignKey(
        Room, on_delete=models.PROTECT, related_name="series", verbose_name=_("room")
    )
    frequency = models.CharField(_("repeats"), max_length=16, choices=Frequency.choices)
    until = models.DateField(_("until"), null=True, blank=True)
    count = models.PositiveSmallIntegerField(_("occurrences"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("booking series")
        verbose_name_plural = _("booking series")
        constraints = [
            models.CheckConstraint(
                condition=Q(until__isnull=False) | Q(count__isnull=False),
                name="booking_series_has_end",
            )
        ]

    def __str__(self) -> str:
        return f"{self.room}: {self.get_frequency_display()}"


class BookingState(models.TextChoices):
    TENTATIVE = "tentative", _("Awaiting approval")
    CONFIRMED = "confirmed", _("Confirmed")
    CHECKED_IN = "checked_in", _("Checked in")
    NO_SHOW = "no_show", _("No-show")
    CANCELLED = "cancelled", _("Cancelled")
    REFUSED = "refused", _("Refused")


# States that hold the room: the exclusion constraint only looks at these.
ACTIVE_STATES = [BookingState.TENTATIVE, BookingState.CONFIRMED, BookingState.CHECKED_IN]


class Booking(ChoiceLabels, models.Model):
    """One reservation of a room for a time range, by a member's Activity or an outside renter."""

    room = models.ForeignKey(
        Room, on_delete=models.PROTECT, related_name="bookings", verbose_name=_("room")
    )
    during = DateTimeRangeField(_("time"))
    # ``during`` widened by the room's buffers, computed by the service when booking.
    blocked_during = DateTimeRangeField(_("blocked time"))
    title = models.CharField(_("title"), max_length=200)
    state = models.CharField(
        _("state"), max_length=16, choices=BookingState.choices, default=BookingState.TENTATIVE
    )
    member = models.ForeignKey(
        Member,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bookings",
        verbose_name=_("member"),
    )
    activity = models.ForeignKey(
        Activity,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bookings",
        verbose_name=_("paying Activity"),
    )
    organisation = models.ForeignKey(
        Client,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("outside organisation"),
    )
    contact_name = models.CharField(_("contact person"), max_length=150, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=32, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("booked by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    series = models.ForeignKey(
        BookingSeries,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bookings",
        verbose_name=_("series"),
    )
    tier = models.CharField(_("price tier"), max_length=16, choices=Tier.choices)
    price_excl_vat = models.DecimalField(_("price excl. VAT"), **MONEY)
    vat_rate = models.DecimalField(_("VAT rate"), max_digits=5, decimal_places=2)
    vat_amount = models.DecimalField(_("VAT"), **MONEY)
    price_incl_vat = models.DecimalField(_("price incl. VAT"), **MONEY)
    charged_at = models.DateTimeField(_("charged at"), null=True, blank=True)
    invoice = models.ForeignKey(
        Invoice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("invoice"),
    )
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancellation_fee = models.DecimalField(_("cancellation fee"), **MONEY, default=Decimal("0"))
    refunded_amount = models.DecimalField(_("refunded"), **MONEY, default=Decimal("0"))
    state_reason = models.CharField(_("reason"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        ordering = ["during"]
        permissions = [("manage_bookings", _("Can manage every booking of the sites"))]
        indexes = [
            models.Index(fields=["state", "room"], name="booking_state_room_idx"),
            # Occupancy and calendars: a site's rooms over a time range, whatever the state
            # (the exclusion constraint's index covers active bookings only).
            GistIndex(fields=["room", "during"], name="booking_room_during_gist"),
            # A member's bookings, in time order: those they made, their Activities' and
            # the ones naming them.
            models.Index(fields=["created_by", "during"], name="booking_booker_during_idx"),
            models.Index(fields=["activity", "during"], name="booking_activity_during_idx"),
            models.Index(fields=["member", "during"], name="booking_member_during_idx"),
            # Every booking in time order (managers' API list), pages in a stable order.
            models.Index(fields=["during", "id"], name="booking_during_idx"),
            # The managers' queue of requests, soonest first.
            models.Index(
                fields=["during"],
                condition=Q(state="tentative"),
                name="booking_tentative_during_idx",
            ),
        ]
        constraints = [
            ExclusionConstraint(
                name="booking_no_overlap",
                expressions=[
                    ("room", RangeOperators.EQUAL),
                    ("blocked_during", RangeOperators.OVERLAPS),
                ],
                condition=Q(state__in=ACTIVE_STATES),
                violation_error_message=_("This room is already booked at that time."),
            ),
            models.CheckConstraint(
                condition=(
                    Q(member__isnull=False, activity__isnull=False, organisation__isnull=True)
                    | Q(member__isnull=True, activity__isnull=True, organisation__isnull=False)
                ),
                name="booking_one_kind_of_booker",
            ),
            models.CheckConstraint(
                condition=Q(price_excl_vat__gte=0)
                & Q(vat_amount__gte=0)
                & Q(cancellation_fee__gte=0)
                & Q(refunded_amount__gte=0),
                name="booking_amounts_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.room.name})"

    @property
    def start(self):
        return self.during.lower

    @property
    def end(self):
        return self.during.upper

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def is_external(self) -> bool:
        return self.organisation_id is not None

    @property
    def booker_name(self) -> str:
        if self.organisation_id:
            return self.organisation.name
        return self.member.legal_name if self.member_id else ""


class BookingEvent(ChoiceLabels, models.Model):
    """One step of a booking's life: who moved it to which state, when and why."""

    booking = models.ForeignKey(
        Booking, on_delete=models.CASCADE, related_name="events", verbose_name=_("booking")
    )
    from_state = models.CharField(_("from"), max_length=16, choices=BookingState.choices)
    to_state = models.CharField(_("to"), max_length=16, choices=BookingState.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now)
    notified_at = models.DateTimeField(_("booker notified at"), null=True, blank=True)
    queued_at = models.DateTimeField(_("last enqueued again at"), null=True, blank=True)

    class Meta:
        verbose_name = _("booking event")
        verbose_name_plural = _("booking events")
        ordering = ["created_at", "pk"]
        # The recovery sweep looks for the recent events whose notice has not left.
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(notified_at__isnull=True),
                name="booking_event_unsent_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.booking_id}: {self.from_state} → {self.to_state}"


class Lease(models.Model):
    """A long-term rental of an atelier or office to a resident, billed monthly."""

    room = models.ForeignKey(
        Room, on_delete=models.PROTECT, related_name="leases", verbose_name=_("room")
    )
    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="leases", verbose_name=_("resident")
    )
    activity = models.ForeignKey(
        Activity, on_delete=models.PROTECT, related_name="leases", verbose_name=_("paying Activity")
    )
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    # [starts_on, ends_on] as a half-open range, computed by the service.
    period = DateRangeField(_("period"))
    monthly_rent = models.DecimalField(_("monthly rent"), **MONEY)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("lease")
        verbose_name_plural = _("leases")
        ordering = ["room", "starts_on"]
        constraints = [
            ExclusionConstraint(
                name="lease_no_overlap",
                expressions=[("room", RangeOperators.EQUAL), ("period", RangeOperators.OVERLAPS)],
                violation_error_message=_("This room is already leased for that period."),
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="lease_ends_after_start",
            ),
            models.CheckConstraint(condition=Q(monthly_rent__gt=0), name="lease_rent_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.room.name}: {self.member}"


class LeaseCharge(models.Model):
    """The rent of one month of a lease, charged to the Activity once."""

    lease = models.ForeignKey(
        Lease, on_delete=models.PROTECT, related_name="charges", verbose_name=_("lease")
    )
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    amount = models.DecimalField(_("amount"), **MONEY)
    charged_at = models.DateTimeField(_("charged at"), default=timezone.now)

    class Meta:
        verbose_name = _("lease charge")
        verbose_name_plural = _("lease charges")
        ordering = ["lease", "month"]
        constraints = [
            models.UniqueConstraint(fields=["lease", "month"], name="lease_charge_once_a_month"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="lease_charge_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.lease}: {date_format(self.month, 'YEAR_MONTH_FORMAT')}"


def new_feed_secret() -> str:
    return secrets.token_urlsafe(32)


class FeedToken(models.Model):
    """A secret address for an iCalendar feed of a person's bookings or of a room."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="booking_feeds",
        verbose_name=_("owner"),
    )
    room = models.ForeignKey(
        Room,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="feeds",
        verbose_name=_("room"),
    )
    secret = models.CharField(_("secret"), max_length=64, unique=True, default=new_feed_secret)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.user}: {self.room or _('my bookings')}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
