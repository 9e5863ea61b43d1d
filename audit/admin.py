"""The audit trail in the admin: read-only, filterable, for superusers or its permission."""

import datetime
from collections.abc import Callable
from typing import Any, NamedTuple

from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.admin.utils import quote, unquote
from django.contrib.admin.views.main import PAGE_VAR
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from audit.context import current_request
from audit.models import AuditAction, AuditEvent, DataExport
from audit.services import record_event


class OccurredBetweenFilter(admin.ListFilter):
    """Two date inputs: events from one day until another, both included."""

    title = _("date")
    template = "admin/audit/date_range_filter.html"
    from_name = "occurred_from"
    until_name = "occurred_until"

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        self.values = {}
        for name in (self.from_name, self.until_name):
            if name in params:
                raw = params.pop(name)
                raw = raw[-1] if isinstance(raw, list) else raw
                try:
                    self.values[name] = datetime.date.fromisoformat(raw)
                except ValueError:
                    # A malformed date is ignored rather than answered with an error page.
                    continue
        self.other_params = {
            key: value
            for key, value in request.GET.items()
            if key not in self.expected_parameters()
        }

    def has_output(self) -> bool:
        return True

    def expected_parameters(self):
        return [self.from_name, self.until_name]

    def queryset(self, request, queryset):
        zone = timezone.get_current_timezone()
        start = self.values.get(self.from_name)
        end = self.values.get(self.until_name)
        if start:
            queryset = queryset.filter(
                occurred_at__gte=datetime.datetime.combine(start, datetime.time(), zone)
            )
        if end and end < datetime.date.max:
            queryset = queryset.filter(
                occurred_at__lt=datetime.datetime.combine(
                    end + datetime.timedelta(days=1), datetime.time(), zone
                )
            )
        return queryset

    def choices(self, changelist):
        start = self.values.get(self.from_name)
        end = self.values.get(self.until_name)
        yield {
            "hidden": sorted(self.other_params.items()),
            "from_name": self.from_name,
            "until_name": self.until_name,
            "from_value": start.isoformat() if start else "",
            "until_value": end.isoformat() if end else "",
            "clear_url": changelist.get_query_string(remove=self.expected_parameters()),
        }


class ActionFilter(admin.SimpleListFilter):
    """Filter on the known actions without a DISTINCT over millions of rows."""

    title = _("action")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return AuditAction.choices

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(action=self.value())
        return queryset


class ObjectTypeFilter(admin.SimpleListFilter):
    """Filter on the model: the choices come from the installed models, not from the rows."""

    title = _("object type")
    parameter_name = "object_type"

    def lookups(self, request, model_admin):
        from django.apps import apps

        audited_apps = {"members", "invoicing", "contracts", "spaces", "audit"}
        return sorted(
            (
                model._meta.label_lower,
                f"{model._meta.app_config.verbose_name}: {model._meta.verbose_name}",
            )
            for model in apps.get_models()
            if model._meta.app_label in audited_apps
        )

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(object_type=self.value())
        return queryset


def _may_read_the_trail(request) -> bool:
    user = request.user
    return (
        user.is_active
        and user.is_staff
        and (user.is_superuser or user.has_perm("audit.view_auditevent"))
    )


class CappedCountPaginator(Paginator):
    """Count at most ``CAP`` + 1 rows: a page of a big table never counts millions of them.

    Beyond the cap the list says "10001" and offers its pages up to there; filters narrow it down.
    Only the keys are counted: the row's annotations (sums of payments...) are left out.
    """

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        object_list = self.object_list
        if hasattr(object_list, "values"):
            object_list = object_list.values("pk")
        return object_list[: self.CAP + 1].count()


def member_filter(owner_path: str):
    """A list filter with no choices of its own: ``?member=<id>`` keeps the rows of one
    member (reached from the member's page), on the indexed path to the member's key."""

    class MemberFilter(admin.SimpleListFilter):
        title = _("member")
        parameter_name = "member"

        def lookups(self, request, model_admin):
            return [(self.value(), _("the member's"))] if self.value() else []

        def has_output(self) -> bool:
            # Shown, and applied, only when the member's page linked here.
            return self.value() is not None

        def queryset(self, request, queryset):
            value = self.value()
            if value is None:
                return queryset
            try:
                return queryset.filter(**{owner_path: int(value)})
            except ValueError:
                return queryset.none()

    return MemberFilter


class PageLimitMixin:
    """A changelist of a big table offers its first pages only (an offset reads every row it
    skips): a later page is refused with a message that says how to narrow the list down."""

    # Fifty rows a page: writing a row of the list costs more than reading it, and staff narrow
    # a big list down with its filters and search rather than by scrolling.
    list_per_page = 50

    def max_page(self) -> int:
        return max(1, CappedCountPaginator.CAP // self.list_per_page)

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        paginator = super().get_paginator(
            request, queryset, per_page, orphans, allow_empty_first_page
        )
        match = request.resolver_match
        if match is not None and match.url_name == "autocomplete":
            # An autocomplete only asks whether there is a next page: counting the rows up to
            # the end of the page asked for, plus one, says so.
            try:
                page = max(1, int(request.GET.get("page") or 1))
            except ValueError:
                page = 1
            paginator.CAP = min(page * per_page, CappedCountPaginator.CAP)
        return paginator

    def changelist_view(self, request, extra_context=None):
        raw = request.GET.get(PAGE_VAR)
        if raw is not None:
            try:
                page = int(raw)
            except ValueError:
                page = 0
            if page < 1 or page > self.max_page():
                self.message_user(
                    request,
                    gettext(
                        "Only the first %(pages)d pages of this list can be shown: narrow it "
                        "down with a filter or a search."
                    )
                    % {"pages": self.max_page()},
                    messages.WARNING,
                )
                params = request.GET.copy()
                params[PAGE_VAR] = str(min(max(page, 1), self.max_page()))
                return HttpResponseRedirect(f"{request.path}?{params.urlencode()}")
        return super().changelist_view(request, extra_context)


class ChangePageQueryMixin:
    """Read a change page's object with what the page shows of it, in one query.

    ``change_select_related`` names the relations its read-only fields link to, joined rather
    than read one query each; ``get_change_queryset`` may also annotate what the page counts.
    The changelist's query is left as it is.
    """

    change_select_related: tuple[str, ...] = ()

    def get_change_queryset(self, request):
        return self.get_queryset(request).select_related(*self.change_select_related)

    def get_object(self, request, object_id, from_field=None):
        # ModelAdmin.get_object, on the change page's query.
        queryset = self.get_change_queryset(request)
        model = queryset.model
        field = model._meta.pk if from_field is None else model._meta.get_field(from_field)
        try:
            return queryset.get(**{field.name: field.to_python(object_id)})
        except (model.DoesNotExist, ValidationError, ValueError):
            return None


class ObjectAction(NamedTuple):
    """A list action offered as a button on the change page of an object it applies to."""

    label: Any  # a lazy translation
    applies: Callable[[Any], bool]


class ObjectActionsMixin:
    """Offer list actions on the change page too: approve the invoice being read, not only
    the ticked rows of a list.

    ``object_actions`` maps an action's name to its button and the states it applies to. A
    button shows when the object is in such a state and the user may run the action (its
    ``permissions``, as in the list). It POSTs, with the CSRF token and the action form's other
    fields (a reason...), to the object's action URL, which runs the list action itself on that
    one object: the same service, the same checks and messages. An object whose state changed
    meanwhile is refused by the service, with its message, not with an error page.
    """

    object_actions: dict[str, ObjectAction] = {}
    change_form_template = "admin/object_actions_change_form.html"

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_object_action"
        return [
            path(
                "<path:object_id>/action/<str:action>/",
                self.admin_site.admin_view(self.object_action_view),
                name=name,
            ),
            *super().get_urls(),
        ]

    def get_object_actions(self, request, obj) -> list[tuple[str, Any]]:
        """The names and labels of the actions the user may run on the object now."""
        if obj is None or obj.pk is None:
            return []
        allowed = self.get_actions(request)
        return [
            (name, action.label)
            for name, action in self.object_actions.items()
            if name in allowed and action.applies(obj)
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        actions = self.get_object_actions(request, obj)
        if actions:
            name = f"admin:{self.opts.app_label}_{self.opts.model_name}_object_action"
            action_form = self.action_form(auto_id="id_object_action_%s")
            context["object_actions"] = [
                (reverse(name, args=[quote(obj.pk), action]), label) for action, label in actions
            ]
            context["object_action_fields"] = [
                action_form[field]
                for field in action_form.fields
                if field not in ("action", "select_across")
            ]
        return super().render_change_form(request, context, add, change, form_url, obj)

    def object_action_view(self, request, object_id: str, action: str):
        """Run one list action on one object, then go back to its page (or to the list, when
        the object left what this admin lists)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        obj = self.get_object(request, unquote(object_id))
        if obj is None or not self.has_view_permission(request, obj):
            raise Http404
        allowed = self.get_actions(request)
        if action not in self.object_actions or action not in allowed:
            raise PermissionDenied
        function = allowed[action][0]
        response = function(self, request, self.model._default_manager.filter(pk=obj.pk))
        if response is not None:
            return response
        if self.get_queryset(request).filter(pk=obj.pk).exists():
            url = reverse(
                f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[quote(obj.pk)]
            )
        else:
            url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
        return HttpResponseRedirect(url)


class ParentInlineFormSet(BaseInlineFormSet):
    """An inline whose rows hold the page's object: a row named after its parent (its
    ``__str__``, shown above each row) reads no query of its own.

    When the page's object was read with its rows of the inline's relation already prefetched
    (the admin does so only when they are exactly the rows the inline shows), they are not read
    again.
    """

    def get_queryset(self):
        if not hasattr(self, "_queryset"):
            accessor = self.fk.remote_field.get_accessor_name()
            prefetched = getattr(self.instance, "_prefetched_objects_cache", {})
            if accessor in prefetched:
                self._queryset = list(prefetched[accessor])
        return super().get_queryset()

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        self.fk.set_cached_value(form.instance, self.instance)
        return form


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the trail is written by the code, never by hand."""

    paginator = CappedCountPaginator

    list_display = [
        "occurred_at",
        "actor_label",
        "action_display",
        "object_type",
        "object_pk",
        "object_repr",
        "ip",
    ]
    list_filter = [OccurredBetweenFilter, ActionFilter, ObjectTypeFilter]
    search_fields = ["actor_label", "object_pk"]
    search_help_text = _("An e-mail address (exact) or an object key (exact).")
    ordering = ["-occurred_at", "-id"]
    raw_id_fields = ["actor"]
    show_full_result_count = False
    list_per_page = 50
    fields = [
        "occurred_at",
        "actor",
        "actor_label",
        "action",
        "object_type",
        "object_pk",
        "object_repr",
        "changes",
        "reason",
        "ip",
        "user_agent",
    ]
    readonly_fields = fields

    @admin.display(description=_("action"), ordering="action")
    def action_display(self, event: AuditEvent) -> str:
        return event.get_action_display()

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        # Exact matches only, so each search uses an index on millions of rows.
        if "@" in term:
            return queryset.filter(actor_label=term.lower()), False
        return queryset.filter(object_pk=term), False

    def has_module_permission(self, request) -> bool:
        return _may_read_the_trail(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return _may_read_the_trail(request)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_actions(self, request):
        return {}


@admin.register(DataExport)
class DataExportAdmin(admin.ModelAdmin):
    """Members' data exports: status only; the files are the members' to download."""

    list_display = ["created_at", "user", "status", "ready_at", "expires_at", "size"]
    list_filter = ["status"]
    search_fields = ["=user__email"]
    raw_id_fields = ["user"]
    ordering = ["-pk"]  # the newest first, by the primary key's index
    show_full_result_count = False
    paginator = CappedCountPaginator
    fields = ["user", "status", "created_at", "ready_at", "expires_at", "size", "sha256", "error"]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


def audit_history_link(obj, label=None) -> str:
    """Return a link to the audit trail filtered on one object (for a read-only admin field)."""
    if obj is None or obj.pk is None:
        return "—"
    url = (
        reverse("admin:audit_auditevent_changelist")
        + "?"
        + urlencode({"object_type": obj._meta.label_lower, "q": str(obj.pk)})
    )
    return format_html('<a href="{}">{}</a>', url, label or _("Audit history"))


class AuditedModelAdmin(admin.ModelAdmin):
    """Record the old and new values of the fields an admin form changed, not only their names.

    The values are kept on the request until the admin's log entry is written, where
    ``record_admin_log_entry`` puts them in the audit row (sensitive ones masked).
    """

    def construct_change_message(self, request, form, formsets, add=False):
        if not add:
            request.audit_changes = {
                name: [form.initial.get(name), form.cleaned_data.get(name)]
                for name in form.changed_data
            }
        return super().construct_change_message(request, form, formsets, add)


ADMIN_ACTIONS = {
    ADDITION: AuditAction.CREATED,
    CHANGE: AuditAction.CHANGED,
    DELETION: AuditAction.DELETED,
}


def record_admin_log_entry(sender, instance: LogEntry, created: bool, raw: bool = False, **kwargs):
    """Copy every admin addition, change and deletion into the audit trail.

    The admin's own message ("Changed City and Phone.") goes in the reason, in English: the
    trail is read by staff of any language and must not depend on who was signed in.
    """
    if not created or raw or instance.action_flag not in ADMIN_ACTIONS:
        return
    content_type = instance.content_type
    object_type = f"{content_type.app_label}.{content_type.model}" if content_type else ""
    if object_type == "audit.auditevent":
        return
    with translation.override("en"):
        message = instance.get_change_message()
    request = current_request()
    changes = getattr(request, "audit_changes", None) or {}
    if request is not None and instance.action_flag == CHANGE:
        request.audit_changes = {}
    record_event(
        action=ADMIN_ACTIONS[instance.action_flag],
        object_type=object_type,
        object_pk=instance.object_id,
        object_repr=instance.object_repr,
        changes=changes if instance.action_flag == CHANGE else {},
        reason=f"admin: {message}" if message else "admin",
        actor=instance.user,
    )


@admin.action(permissions=["delete"], description=django_delete_selected.short_description)
def delete_selected(modeladmin, request, queryset):
    """Django's bulk deletion, recorded in the trail object by object once it is done."""
    doomed = list(queryset)
    response = django_delete_selected(modeladmin, request, queryset)
    # Django answers None once it deleted; a confirmation page otherwise. A single object is
    # logged with LogEntry.save(), which record_admin_log_entry already copies; several are
    # logged with bulk_create(), which sends no signal.
    if (
        response is None
        and len(doomed) > 1
        and not queryset.model.objects.filter(pk__in=[obj.pk for obj in doomed]).exists()
    ):
        for obj in doomed:
            record_event(action=AuditAction.DELETED, obj=obj, reason="admin: bulk deletion")
    return response
