"""Where staff set up sites, rooms and prices, and look after bookings and leases.

Bookings and leases are read-only here: they are written by the services, which enforce the
rules and the ledger effects; the actions below call those services.
"""

from django.contrib import admin, messages
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from audit.admin import (
    CappedCountPaginator,
    ChangePageQueryMixin,
    ObjectAction,
    ObjectActionsMixin,
    PageLimitMixin,
    ParentInlineFormSet,
)
from coop.admin_formats import LocalisedFieldsMixin
from coop.errors import CoopError
from members.models import Member
from spaces.models import (
    Booking,
    BookingEvent,
    BookingState,
    ClosedDay,
    FeedToken,
    Lease,
    LeaseCharge,
    OpeningHours,
    Room,
    RoomPrice,
    Site,
)
from spaces.services import lifecycle

# At most this many members whose name contains a search term: a part of a name as common as
# "an" would otherwise put thousands of numbers in the query.
SEARCHED_MEMBERS = 500


class OpeningHoursInline(admin.TabularInline):
    formset = ParentInlineFormSet
    model = OpeningHours
    extra = 0


class ClosedDayInline(admin.TabularInline):
    formset = ParentInlineFormSet
    model = ClosedDay
    extra = 0


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["name", "city", "time_zone", "income_activity", "is_active"]
    inlines = [OpeningHoursInline, ClosedDayInline]
    autocomplete_fields = ["income_activity"]
    search_fields = ["name", "city"]


class RoomPriceInline(LocalisedFieldsMixin, admin.TabularInline):
    formset = ParentInlineFormSet
    model = RoomPrice
    extra = 0


@admin.register(Room)
class RoomAdmin(ChangePageQueryMixin, admin.ModelAdmin):
    list_display = ["name", "site", "kind", "floor", "area_m2", "capacity", "is_bookable"]
    list_filter = ["site", "kind", "is_bookable", "requires_approval"]
    search_fields = ["name"]
    inlines = [RoomPriceInline]
    # Its title, and each price row's, names the site.
    change_select_related = ("site",)
    fieldsets = [
        (None, {"fields": ["site", "name", "kind", "description"]}),
        (
            _("Space"),
            {"fields": ["area_m2", "capacity", "floor", "amenities", "accessibility_notes"]},
        ),
        (
            _("Booking rules"),
            {
                "fields": [
                    "is_bookable",
                    "slot_minutes",
                    "min_duration_minutes",
                    "max_duration_minutes",
                    "buffer_before_minutes",
                    "buffer_after_minutes",
                    "lead_time_minutes",
                    "horizon_days",
                    "requires_approval",
                    "cancellation_notice_hours",
                    "cancellation_fee_percent",
                    "check_in_grace_minutes",
                ]
            },
        ),
    ]


class BookingEventInline(admin.TabularInline):
    formset = ParentInlineFormSet
    model = BookingEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "from_state", "to_state", "actor", "note", "notified_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class RoomListFilter(admin.SimpleListFilter):
    """The rooms, named with their site, read in one query (not one site query per room)."""

    title = _("room")
    parameter_name = "room__id__exact"

    def lookups(self, request, model_admin):
        rooms = Room.objects.select_related("site").order_by("site__name", "name", "pk")
        return [(str(room.pk), str(room)) for room in rooms]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        try:
            return queryset.filter(room_id=int(value))
        except ValueError:
            return queryset.none()


@admin.register(Booking)
class BookingAdmin(ObjectActionsMixin, PageLimitMixin, LocalisedFieldsMixin, admin.ModelAdmin):
    show_full_result_count = False  # a count of the whole table is too slow
    paginator = CappedCountPaginator
    list_display = [
        "title",
        "room",
        "start_display",
        "state",
        "tier",
        "price_incl_vat",
        "member",
        "organisation",
    ]
    list_filter = ["state", "tier", "room__site", RoomListFilter, "created_at"]
    # Answered by get_search_results; listed here for the search box and its checks.
    search_fields = ["member__legal_name__contains_any_case", "room__name__contains_any_case"]
    search_help_text = _("A part of the member's name or of the room's name.")
    ordering = ["-pk"]  # the newest first, by the primary key's index
    sortable_by = []
    inlines = [BookingEventInline]
    actions = ["approve", "cancel_waiving_fee"]
    object_actions = {
        "approve": ObjectAction(
            _("Approve the request"), lambda booking: booking.state == BookingState.TENTATIVE
        ),
        "cancel_waiving_fee": ObjectAction(
            _("Cancel without fee"),
            lambda booking: booking.state in (BookingState.TENTATIVE, BookingState.CONFIRMED),
        ),
    }
    list_select_related = ["room__site", "member", "organisation"]

    def get_search_results(self, request, queryset, search_term):
        """The bookings of the rooms and of the members whose name contains the term.

        Rooms (a few dozen a site) and members (trigram index) are looked up first, each in
        its own table: an OR of the two names across the joins would read every booking.
        """
        term = search_term.strip()
        if not term:
            return queryset, False
        rooms = Room.objects.filter(name__contains_any_case=term).values_list("pk", flat=True)
        members = Member.objects.filter(legal_name__contains_any_case=term).values_list(
            "pk", flat=True
        )[:SEARCHED_MEMBERS]
        return queryset.filter(Q(room_id__in=list(rooms)) | Q(member_id__in=list(members))), False

    def get_readonly_fields(self, request, obj=None):
        return self.localised_fields(field.name for field in Booking._meta.fields)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("start"), ordering="during")
    def start_display(self, booking: Booking) -> str:
        return date_format(timezone.localtime(booking.start), "SHORT_DATETIME_FORMAT")

    def _run(self, request, queryset, action) -> None:
        done = 0
        for booking in queryset:
            try:
                action(booking)
                done += 1
            except CoopError as error:
                self.message_user(request, f"{booking}: {error.message}", messages.ERROR)
        if done:
            self.message_user(
                request,
                ngettext("%(count)d booking updated.", "%(count)d bookings updated.", done)
                % {"count": done},
                messages.SUCCESS,
            )

    @admin.action(description=_("Approve the selected requests"))
    def approve(self, request, queryset) -> None:
        self._run(
            request,
            queryset,
            lambda booking: lifecycle.approve_booking(actor=request.user, booking=booking),
        )

    @admin.action(description=_("Cancel the selected bookings without fee"))
    def cancel_waiving_fee(self, request, queryset) -> None:
        self._run(
            request,
            queryset,
            lambda booking: lifecycle.cancel_booking(
                actor=request.user, booking=booking, waive_fee=True, reason=str(_("By staff"))
            ),
        )


class LeaseChargeInline(LocalisedFieldsMixin, admin.TabularInline):
    model = LeaseCharge
    extra = 0
    can_delete = False
    fields = ["month", "amount", "charged_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        # Each row is titled with its lease (room and member): joined once, not per month.
        return super().get_queryset(request).select_related("lease__room", "lease__member")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Lease)
class LeaseAdmin(PageLimitMixin, LocalisedFieldsMixin, admin.ModelAdmin):
    show_full_result_count = False  # a count of the whole table is too slow
    paginator = CappedCountPaginator
    list_display = ["room", "member", "activity", "starts_on", "ends_on", "monthly_rent"]
    list_filter = ["room__site"]
    search_fields = ["member__legal_name__contains_any_case"]  # trigram index
    list_select_related = ["room__site", "member", "activity"]
    ordering = ["-pk"]  # the newest first, by the primary key's index
    sortable_by = []
    inlines = [LeaseChargeInline]

    def get_readonly_fields(self, request, obj=None):
        return self.localised_fields(field.name for field in Lease._meta.fields)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(FeedToken)
class FeedTokenAdmin(PageLimitMixin, admin.ModelAdmin):
    show_full_result_count = False  # a count of the whole table is too slow
    paginator = CappedCountPaginator
    list_display = ["user", "room", "created_at", "revoked_at"]
    list_select_related = ["user", "room__site"]
    ordering = ["-pk"]
    sortable_by = []
    fields = ["user", "room", "created_at", "revoked_at"]
    readonly_fields = ["user", "room", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False
