"""Staff's read-only view of quotes: found by number, client or member; versions and history."""

import re

from django.contrib import admin
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from audit.admin import CappedCountPaginator, PageLimitMixin, member_filter
from coop.admin_formats import LocalisedFieldsMixin
from invoicing.admin import ReadOnlyAdminMixin, ReadOnlyInline
from quotes.models import Quote, QuoteEvent, QuoteVersion

NUMBER = re.compile(r"^\s*(D-\d{4})-(\d{1,9})\s*$", re.IGNORECASE)


class VersionInline(ReadOnlyInline):
    model = QuoteVersion
    fields = [
        "version",
        "title",
        "valid_until",
        "total_excl_vat",
        "total_vat",
        "total_incl_vat",
        "sent_at",
        "accepted_at",
        "accepted_by_name",
        "client_po_number",
        "declined_at",
        "change_requested_at",
        "data_sha256",
        "pdf_sha256",
    ]
    readonly_fields = fields
    ordering = ["-version"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("quote").defer("snapshot", "signature")


class EventInline(ReadOnlyInline):
    model = QuoteEvent
    fields = ["at", "kind", "version", "actor", "ip", "user_agent", "details"]
    readonly_fields = fields
    ordering = ["-at", "-pk"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("version__quote", "actor")
            .defer("version__snapshot", "version__signature")
        )


@admin.register(Quote)
class QuoteAdmin(PageLimitMixin, ReadOnlyAdminMixin, LocalisedFieldsMixin, admin.ModelAdmin):
    """Every quote, read only: the member's and the client's steps are theirs to take."""

    show_full_result_count = False  # a count of the whole table is too slow
    paginator = CappedCountPaginator
    list_display = ["__str__", "client", "activity", "status", "created_at", "accepted_at"]
    list_filter = ["status", member_filter("activity__owner_id")]
    list_select_related = ["client", "activity"]
    raw_id_fields = ["activity", "client", "created_by", "current_version"]
    search_help_text = _(
        "A quote number in full (D-2026-000001), or a part of the client's or member's name."
    )
    search_fields = ["client__name__contains_any_case"]  # see get_search_results
    ordering = ["-pk"]  # the newest first, by the primary key's index
    sortable_by = []
    inlines = [VersionInline, EventInline]
    fields = [
        "number",
        "status",
        "activity",
        "client",
        "language",
        "created_by",
        "current_version",
        "created_at",
        "updated_at",
        "sent_at",
        "accepted_at",
    ]
    readonly_fields = fields

    @admin.display(description=_("number"))
    def number(self, quote: Quote) -> str:
        return quote.number or "—"

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        number = NUMBER.match(term)
        if number:
            return queryset.filter(
                series=number.group(1).upper(), sequence_number=int(number.group(2))
            ), False
        return queryset.filter(
            Q(client__name__contains_any_case=term)
            | Q(activity__owner__legal_name__contains_any_case=term)
        ), False
