"""Staff's view of the portal: its links (revocable) and the clients' questions."""

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from audit.admin import CappedCountPaginator, PageLimitMixin
from audit.models import AuditAction
from audit.services import record_event
from portal.models import PortalQuestion, PortalToken


@admin.register(PortalToken)
class PortalTokenAdmin(PageLimitMixin, admin.ModelAdmin):
    show_full_result_count = False  # a count of the whole table is too slow
    paginator = CappedCountPaginator
    list_display = ["email", "kind", "created_at", "expires_at", "used_at", "revoked_at"]
    list_filter = ["kind"]
    search_fields = ["email"]
    ordering = ["-pk"]
    sortable_by = []
    fields = ["email", "kind", "created_at", "expires_at", "used_at", "revoked_at"]
    readonly_fields = ["email", "kind", "created_at", "expires_at", "used_at", "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_search_results(self, request, queryset, search_term):
        # An exact address, stored lower case: served by portal_token_email_idx.
        term = search_term.strip().lower()
        if not term:
            return queryset, False
        return queryset.filter(email=term), False

    @admin.action(description=_("Revoke the selected links"))
    def revoke(self, request, queryset):
        links = list(queryset.filter(revoked_at__isnull=True))
        now = timezone.now()
        PortalToken.objects.filter(pk__in=[link.pk for link in links]).update(revoked_at=now)
        for link in links:
            record_event(action=AuditAction.CHANGED, obj=link, reason="revoked")
        count = len(links)
        messages.success(
            request,
            ngettext("%(count)d link revoked.", "%(count)d links revoked.", count)
            % {"count": count},
        )


@admin.register(PortalQuestion)
class PortalQuestionAdmin(PageLimitMixin, admin.ModelAdmin):
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_display = ["invoice", "email", "asked_at", "answered_at"]
    list_select_related = ["invoice"]
    ordering = ["-pk"]
    sortable_by = []
    raw_id_fields = ["invoice", "answered_by"]
    fields = ["invoice", "email", "message", "asked_at", "emailed_at", "answered_at", "answered_by"]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
