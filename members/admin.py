"""Where staff work: members and their applications, the share register, Activities."""

from collections.abc import Callable

from allauth.mfa.admin import AuthenticatorAdmin as AllauthAuthenticatorAdmin
from allauth.mfa.models import Authenticator
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Subquery, Sum
from django.http import Http404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from audit.admin import (
    AuditedModelAdmin,
    CappedCountPaginator,
    ObjectAction,
    ObjectActionsMixin,
    PageLimitMixin,
    ParentInlineFormSet,
    audit_history_link,
)
from coop.admin_formats import LocalisedFieldsMixin
from coop.errors import CoopError
from coop.fields import fingerprint
from coop.templatetags.money import euro
from members import services
from members.models import (
    Activity,
    ApiToken,
    LedgerEntry,
    LedgerEntryKind,
    LedgerStage,
    Member,
    MembershipEvent,
    ShareSubscription,
    User,
)
from members.validators import clean_iban, clean_niss, format_niss

# The last entries an Activity's page shows; the ledger's changelist has the others.
LATEST_ENTRIES = 20


class CountryListFilter(admin.SimpleListFilter):
    """Countries by name from the list of countries, not from a DISTINCT over every row."""

    title = _("country")
    parameter_name = "country"

    def lookups(self, request, model_admin):
        from invoicing.countries import country_choices

        return country_choices()

    def queryset(self, request, queryset):
        return queryset.filter(country=self.value()) if self.value() else queryset


def email_terms(term: str) -> list[str]:
    """The e-mail addresses a search term can be, as typed and in lower case (exact: indexed)."""
    return sorted({term, term.lower()})


@admin.register(User)
class UserAdmin(PageLimitMixin, AuditedModelAdmin, BaseUserAdmin):
    show_full_result_count = False  # a count of the whole table is too slow
    paginator = CappedCountPaginator
    ordering = ["email"]
    list_display = ["email", "name", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active", "groups"]
    search_fields = ["email__contains_any_case", "name__contains_any_case"]  # trigram indexes
    sortable_by = ["email"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Personal info"), {"fields": ["name"]}),
        (
            _("Permissions"),
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        (_("Important dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "name", "password1", "password2"]}),
    ]


class MembershipEventInline(admin.TabularInline):
    formset = ParentInlineFormSet
    model = MembershipEvent
    fields = ["created_at", "kind", "from_status", "to_status", "actor", "reason"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class ShareSubscriptionInline(LocalisedFieldsMixin, admin.TabularInline):
    formset = ParentInlineFormSet
    model = ShareSubscription
    fields = ["share_class", "number_of_shares", "nominal_value", "subscribed_on", "paid_on"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


def write_only_input() -> forms.PasswordInput:
    # Never put back in the page, not even after an error elsewhere in the form.
    return forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"})


class MemberAdminForm(forms.ModelForm):
    # Write-only: the number is never put in the page; reading it in full is a separate,
    # recorded action (see MemberAdmin.national_number_view).
    new_niss = forms.CharField(
        label=_("New national register number"),
        required=False,
        max_length=20,
        widget=write_only_input(),
        help_text=_("Leave empty to keep the current number."),
    )
    # Write-only too: the page shows the account masked.
    new_iban = forms.CharField(
        label=_("New IBAN"),
        required=False,
        max_length=42,
        widget=write_only_input(),
        help_text=_("Leave empty to keep the current account."),
    )

    class Meta:
        model = Member
        fields = [
            "user",
            "legal_name",
            "street",
            "postal_code",
            "city",
            "country",
            "phone",
            "preferred_language",
        ]

    def clean_new_iban(self) -> str:
        value = self.cleaned_data.get("new_iban", "")
        if value:
            return clean_iban(value)
        if self.instance.pk is None or not self.instance.iban:
            raise forms.ValidationError(_("Enter the member's IBAN."), code="required")
        return ""

    def clean_new_niss(self) -> str:
        value = self.cleaned_data.get("new_niss", "")
        return clean_niss(value) if value else ""


class StatusChangeForm(admin.helpers.ActionForm):
    reason = forms.CharField(label=_("Reason"), required=False)


@admin.register(Member)
class MemberAdmin(ObjectActionsMixin, PageLimitMixin, AuditedModelAdmin):
    show_full_result_count = False  # a count of the whole table is too slow
    paginator = CappedCountPaginator
    form = MemberAdminForm
    action_form = StatusChangeForm
    # Few enough columns to fit beside the menu and the filters on a 1366 px screen; the
    # dates are on each member's page.
    list_display = ["legal_name", "email", "status", "shares_paid"]
    list_filter = ["status", "preferred_language", CountryListFilter, "created_at"]
    # A name (trigram index) or an e-mail address (exact, see get_search_results).
    search_fields = ["legal_name__contains_any_case"]
    search_help_text = _(
        "A part of the name, or in full an e-mail address, a national register number or an IBAN."
    )
    autocomplete_fields = ["user"]
    list_select_related = ["user"]
    # Read in the order of member_admin_name_idx; other columns are not sortable (no index).
    ordering = ["legal_name", "pk"]
    sortable_by = ["legal_name"]
    readonly_fields = [
        "status",
        "approved_at",
        "approved_by",
        "created_at",
        "iban_display",
        "niss_display",
        "niss_reveal",
        "related_lists",
        "audit_history",
    ]
    inlines = [ShareSubscriptionInline, MembershipEventInline]
    actions = [
        "approve_applications",
        "suspend_members",
        "reinstate_members",
        "record_departures",
        "anonymise_members",
    ]
    object_actions = {
        "approve_applications": ObjectAction(
            _("Approve the application"),
            lambda member: member.status == Member.Status.APPLICANT and member.approved_at is None,
        ),
        "suspend_members": ObjectAction(
            _("Suspend"), lambda member: member.status == Member.Status.ACTIVE
        ),
        "reinstate_members": ObjectAction(
            _("Reinstate"), lambda member: member.status == Member.Status.SUSPENDED
        ),
        "record_departures": ObjectAction(
            _("Record the departure"), lambda member: member.status != Member.Status.LEFT
        ),
        "anonymise_members": ObjectAction(
            _("Anonymise"),
            lambda member: member.status == Member.Status.LEFT and member.anonymised_at is None,
        ),
    }
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "user",
                    "legal_name",
                    "status",
                    "approved_at",
                    "approved_by",
                    "related_lists",
                    "audit_history",
                ]
            },
        ),
        (_("Contact"), {"fields": ["street", "postal_code", "city", "country", "phone"]}),
        (
            _("Payroll data"),
            {
                "fields": [
                    "preferred_language",
                    "iban_display",
                    "new_iban",
                    "niss_display",
                    "niss_reveal",
                    "new_niss",
                    "created_at",
                ]
            },
        ),
    ]

    def get_queryset(self, request):
        # A subquery per member shown, not a GROUP BY over every member before the page is cut.
        shares = (
            ShareSubscription.objects.filter(member=OuterRef("pk"))
            .order_by()
            .values("member")
            .annotate(total=Sum("number_of_shares"))
            .values("total")
        )
        return super().get_queryset(request).annotate(paid_shares=Subquery(shares))

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if "@" in term:
            return queryset.filter(user__email__in=email_terms(term)), False
        compact = "".join(character for character in term if character.isalnum()).upper()
        if compact.isdigit() and len(compact) == 11:
            # A national register number: found by its fingerprint (member_niss_unique), the
            # number itself is stored encrypted.
            try:
                niss = clean_niss(compact)
            except forms.ValidationError:
                return queryset.none(), False
            return queryset.filter(niss_fingerprint=fingerprint(niss)), False
        if len(compact) >= 15 and compact[:2].isalpha() and compact[2:4].isdigit():
            # An IBAN in full (member_admin_iban_idx), as typed with or without spaces.
            return queryset.filter(iban=compact), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description=_("lists"))
    def related_lists(self, member: Member):
        """Links to the member's Activities, invoices, contracts and payslips: never rendered here
        in full (a member may have thousands)."""
        if member.pk is None:
            return "—"
        links = [
            ("admin:members_activity_changelist", "owner__id__exact", _("Activities")),
            ("admin:invoicing_invoice_changelist", "member", _("Invoices")),
            ("admin:contracts_contract_changelist", "member", _("Contracts")),
            ("admin:contracts_payslip_changelist", "member__id__exact", _("Payslips")),
            ("admin:spaces_booking_changelist", "member__id__exact", _("Bookings")),
        ]
        return format_html_join(
            " · ",
            '<a href="{}?{}={}">{}</a>',
            ((reverse(name), param, member.pk, label) for name, param, label in links),
        )

    def get_readonly_fields(self, request, obj=None):
        # A member's sign-in is chosen once, when staff add the member: on the page of an
        # existing member it is shown, not offered among every user.
        if obj is not None:
            return [*self.readonly_fields, "user"]
        return self.readonly_fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if not request.user.has_perm("members.view_full_niss"):
            form.base_fields.pop("new_niss", None)
        return form

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.has_perm("members.view_full_niss"):
            return fieldsets
        hidden = {"new_niss", "niss_reveal"}
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f not in hidden]})
            for name, options in fieldsets
        ]

    @admin.display(description=_("e-mail"), ordering="user__email")
    def email(self, member: Member) -> str:
        return member.user.email

    @admin.display(description=_("shares subscribed"), ordering="paid_shares")
    def shares_paid(self, member: Member) -> int:
        return member.paid_shares or 0

    @admin.display(description=_("IBAN (masked)"))
    def iban_display(self, member: Member) -> str:
        return member.iban_masked or "—"

    @admin.display(description=_("national register number (masked)"))
    def niss_display(self, member: Member) -> str:
        return member.niss_masked or "—"

    @admin.display(description=_("national register number in full"))
    def niss_reveal(self, member: Member):
        if not member.niss:
            return "—"
        url = reverse("admin:members_member_national_number", args=[member.pk])
        return format_html('<a href="{}">{}</a>', url, _("Show (the reading is recorded)"))

    @admin.display(description=_("audit"))
    def audit_history(self, member: Member):
        return audit_history_link(member)

    @staticmethod
    def _may_read_niss(request) -> bool:
        return request is not None and request.user.has_perm("members.view_full_niss")

    def get_urls(self):
        return [
            path(
                "<int:pk>/national-number/",
                self.admin_site.admin_view(self.national_number_view),
                name="members_member_national_number",
            ),
            *super().get_urls(),
        ]

    def national_number_view(self, request, pk: int):
        """Show one member's national register number in full after a POST; record the read."""
        member = Member.objects.filter(pk=pk).first()
        if member is None or not self.has_view_permission(request, member):
            raise Http404
        if not self._may_read_niss(request):
            raise PermissionDenied
        niss = error = None
        if request.method == "POST":
            try:
                niss = format_niss(
                    services.reveal_national_number(
                        member=member, actor=request.user, reason=request.POST.get("reason", "")
                    )
                )
            except CoopError as refused:
                error = refused.message
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "member": member,
            "niss": niss,
            "error": error,
            "title": _("National register number of %(member)s") % {"member": member},
        }
        return TemplateResponse(request, "admin/members/national_number.html", context)

    def save_model(self, request, obj, form, change):
        niss = form.cleaned_data.get("new_niss")
        if form.cleaned_data.get("new_iban"):
            obj.iban = form.cleaned_data["new_iban"]
        if not change:
            obj.status = Member.Status.APPLICANT
        obj.save()
        if niss and niss != (obj.niss or ""):
            try:
                services.set_national_number(member=obj, niss=niss)
            except CoopError as error:
                self.message_user(request, error.message, messages.ERROR)

    def _run_for_each(self, request, queryset, action, done_message: Callable[[int], str]) -> None:
        reason = request.POST.get("reason", "")
        done = 0
        for member in queryset:
            try:
                action(member=member, actor=request.user, reason=reason)
            except CoopError as error:
                self.message_user(request, f"{member}: {error.message}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, done_message(done) % {"count": done}, messages.SUCCESS)

    @admin.action(description=_("Approve the selected applications"), permissions=["change"])
    def approve_applications(self, request, queryset):
        self._run_for_each(
            request,
            queryset,
            services.approve_application,
            lambda count: ngettext(
                "%(count)d application approved.", "%(count)d applications approved.", count
            ),
        )

    @admin.action(
        description=_("Suspend the selected members (give a reason)"), permissions=["change"]
    )
    def suspend_members(self, request, queryset):
        self._run_for_each(
            request,
            queryset,
            services.suspend_member,
            lambda count: ngettext(
                "%(count)d member suspended.", "%(count)d members suspended.", count
            ),
        )

    @admin.action(
        description=_("Reinstate the selected members (give a reason)"), permissions=["change"]
    )
    def reinstate_members(self, request, queryset):
        self._run_for_each(
            request,
            queryset,
            services.reinstate_member,
            lambda count: ngettext(
                "%(count)d member reinstated.", "%(count)d members reinstated.", count
            ),
        )

    @admin.action(
        description=_("Record that the selected members left (give a reason)"),
        permissions=["change"],
    )
    def record_departures(self, request, queryset):
        self._run_for_each(
            request,
            queryset,
            services.record_departure,
            lambda count: ngettext(
                "%(count)d departure recorded.", "%(count)d departures recorded.", count
            ),
        )

    def has_anonymise_permission(self, request) -> bool:
        return request.user.has_perm("members.anonymise_member")

    @admin.action(
        description=_("Anonymise the selected members who left (give a reason)"),
        permissions=["anonymise"],
    )
    def anonymise_members(self, request, queryset):
        self._run_for_each(
            request,
            queryset,
            services.anonymise_member,
            lambda count: ngettext(
                "%(count)d member anonymised. Their issued invoices, payslips and expense"
                " receipts are kept: the law requires them for ten years.",
                "%(count)d members anonymised. Their issued invoices, payslips and expense"
                " receipts are kept: the law requires them for ten years.",
                count,
            ),
        )


@admin.register(ShareSubscription)
class ShareSubscriptionAdmin(
    ObjectActionsMixin, PageLimitMixin, LocalisedFieldsMixin, admin.ModelAdmin
):
    """The share register."""

    show_full_result_count = False  # a count of the whole table is too slow
    paginator = CappedCountPaginator
    list_display = [
        "member",
        "share_class",
        "number_of_shares",
        "nominal_value",
        "amount_display",
        "subscribed_on",
        "paid_on",
    ]
    list_filter = ["share_class", ("paid_on", admin.EmptyFieldListFilter), "subscribed_on"]
    search_fields = ["member__legal_name__contains_any_case"]  # trigram index
    list_select_related = ["member"]
    ordering = ["-pk"]  # the newest first, by the primary key's index
    sortable_by = []
    autocomplete_fields = ["member"]
    readonly_fields = ["nominal_value", "paid_on", "recorded_by"]
    actions = ["mark_paid_today"]
    object_actions = {
        "mark_paid_today": ObjectAction(
            _("Record payment received today"), lambda subscription: subscription.paid_on is None
        )
    }

    @admin.display(description=_("amount"))
    def amount_display(self, subscription: ShareSubscription) -> str:
        return euro(subscription.amount)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.localised_fields(self.readonly_fields)
        return self.localised_fields(
            [*self.readonly_fields, "member", "share_class", "number_of_shares", "subscribed_on"]
        )

    def save_model(self, request, obj, form, change):
        if change:
            return
        subscription = services.subscribe_shares(
            member=obj.member,
            number_of_shares=obj.number_of_shares,
            subscribed_on=obj.subscribed_on,
            actor=request.user,
            share_class=obj.share_class,
        )
        obj.pk = subscription.pk

    @admin.action(description=_("Record payment received today"), permissions=["change"])
    def mark_paid_today(self, request, queryset):
        paid = 0
        for subscription in queryset:
            try:
                services.record_share_payment(
                    subscription=subscription, paid_on=timezone.localdate(), actor=request.user
                )
            except CoopError as error:
                self.message_user(request, f"{subscription}: {error.message}", messages.ERROR)
            else:
                paid += 1
        if paid:
            self.message_user(
                request,
                ngettext("%(count)d payment recorded.", "%(count)d payments recorded.", paid)
                % {"count": paid},
                messages.SUCCESS,
            )


@admin.register(Activity)
class ActivityAdmin(PageLimitMixin, admin.ModelAdmin):
    show_full_result_count = False  # a count of the whole table is too slow
    paginator = CappedCountPaginator
    list_display = ["name", "owner", "available", "planned", "guaranteed", "created_at"]
    # A part of the name (trigram index) or the owner's e-mail address in full.
    search_fields = ["name__contains_any_case"]  # trigram index
    search_help_text = _("A part of the name, or the owner's e-mail address in full.")
    list_select_related = ["owner"]
    ordering = ["name", "pk"]  # activity_admin_name_idx
    sortable_by = ["name"]
    autocomplete_fields = ["owner", "co_members"]
    readonly_fields = ["available", "planned", "guaranteed", "created_at", "latest_entries"]

    def get_queryset(self, request):
        return super().get_queryset(request).with_balances()

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if "@" in term:
            return queryset.filter(owner__user__email__in=email_terms(term)), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description=_("latest ledger entries"))
    def latest_entries(self, activity: Activity):
        """The last entries, newest first, and a link to all of them: an Activity may have
        tens of thousands, never rendered in one page."""
        if activity.pk is None:
            return "—"
        entries = list(
            LedgerEntry.objects.filter(activity=activity)
            .order_by("-created_at", "-pk")
            .only("created_at", "kind", "stage", "amount", "reference")[: LATEST_ENTRIES + 1]
        )
        changelist = reverse("admin:members_ledgerentry_changelist")
        context = {
            "entries": entries[:LATEST_ENTRIES],
            "more": len(entries) > LATEST_ENTRIES,
            "url": f"{changelist}?activity__id__exact={activity.pk}",
        }
        return render_to_string("admin/members/activity/latest_entries.html", context)

    @admin.display(description=_("available"), ordering="available_balance")
    def available(self, activity: Activity) -> str:
        return euro(activity.available_balance)

    @admin.display(description=_("planned"), ordering="planned_balance")
    def planned(self, activity: Activity) -> str:
        return euro(activity.planned_balance)

    @admin.display(description=_("guaranteed"))
    def guaranteed(self, activity: Activity) -> str:
        return euro(activity.guaranteed_balance)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class LedgerEntryAdminForm(forms.ModelForm):
    class Meta:
        model = LedgerEntry
        fields = ["activity", "kind", "stage", "amount", "reference", "description"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # An existing entry is shown read-only: its form has no fields.
        if "kind" in self.fields:
            self.fields["kind"].initial = LedgerEntryKind.ADJUSTMENT
            self.fields["stage"].initial = LedgerStage.AVAILABLE


@admin.register(LedgerEntry)
class LedgerEntryAdmin(PageLimitMixin, LocalisedFieldsMixin, admin.ModelAdmin):
    """Ledger entries can be added (adjustments) and read, never changed or deleted."""

    show_full_result_count = False  # a count of the whole table is too slow
    paginator = CappedCountPaginator
    form = LedgerEntryAdminForm
    list_display = ["created_at", "activity", "kind", "stage", "amount", "reference", "author"]
    list_filter = ["kind", "stage", "created_at"]
    # An exact reference (ledger_admin_reference_idx), else a part of the Activity's name.
    search_fields = ["activity__name__contains_any_case"]  # trigram index
    search_help_text = _("A reference in full, or a part of the Activity's name.")
    list_select_related = ["activity", "author"]
    autocomplete_fields = ["activity"]
    # Entries are only ever appended: the newest first is the primary key's order, indexed.
    ordering = ["-pk"]
    sortable_by = []

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if term and LedgerEntry.objects.filter(reference=term).exists():
            return queryset.filter(reference=term), False
        return super().get_search_results(request, queryset, search_term)

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        entry = services.post_ledger_entry(
            activity=obj.activity,
            kind=obj.kind,
            stage=obj.stage,
            amount=obj.amount,
            reference=obj.reference,
            description=obj.description,
            author=request.user,
        )
        obj.pk = entry.pk


@admin.register(ApiToken)
class ApiTokenAdmin(ObjectActionsMixin, PageLimitMixin, admin.ModelAdmin):
    """Staff see every API token (never a key) and can revoke one, e.g. a leaked key."""

    list_display = [
        "name",
        "user",
        "prefix",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "second_factor_verified",
    ]
    list_filter = ["second_factor_verified", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["=prefix"]
    search_help_text = _("A key's prefix, or its owner's e-mail address in full.")
    raw_id_fields = ["user"]
    ordering = ["-pk"]
    sortable_by = []
    readonly_fields = list_display
    fields = list_display
    list_select_related = ["user"]
    show_full_result_count = False
    paginator = CappedCountPaginator
    actions = ["revoke"]
    object_actions = {"revoke": ObjectAction(_("Revoke"), lambda token: token.revoked_at is None)}

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if "@" in term:
            return queryset.filter(user__email__in=email_terms(term)), False
        return queryset.filter(prefix=term) if term else queryset, False

    @admin.action(description=_("Revoke the selected tokens"), permissions=["change"])
    def revoke(self, request, queryset) -> None:
        count = 0
        for token in queryset.select_related("user"):
            if token.revoked_at is None:
                services.revoke_api_token(user=token.user, token=token)
                count += 1
        self.message_user(
            request,
            ngettext("%(count)s token revoked.", "%(count)s tokens revoked.", count)
            % {"count": count},
            messages.SUCCESS,
        )


# allauth names the fields of its second factors in English only: the admin names them here.
AUTHENTICATOR_LABELS = {
    "user": _("user"),
    "type": _("type"),
    "created_at": _("created at"),
    "last_used_at": _("last used at"),
}


def titled_filter(filter_class: type, title: str) -> type:
    """A list filter of the class under a translated title."""

    class TitledFilter(filter_class):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.title = title

    return TitledFilter


def authenticator_column(name: str):
    @admin.display(description=AUTHENTICATOR_LABELS[name], ordering=name)
    def column(authenticator: Authenticator):
        value = getattr(authenticator, name)
        return authenticator.get_type_display() if name == "type" else value

    column.__name__ = name
    return column


admin.site.unregister(Authenticator)


@admin.register(Authenticator)
class AuthenticatorAdmin(AllauthAuthenticatorAdmin):
    """allauth's admin of second factors, its columns, filters and fields translated."""

    list_display = [authenticator_column(name) for name in AUTHENTICATOR_LABELS]
    list_filter = [
        (name, titled_filter(filter_class, AUTHENTICATOR_LABELS[name]))
        for name, filter_class in (
            ("type", admin.ChoicesFieldListFilter),
            ("created_at", admin.DateFieldListFilter),
            ("last_used_at", admin.DateFieldListFilter),
        )
    ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs.setdefault(
            "labels", {name: capfirst(label) for name, label in AUTHENTICATOR_LABELS.items()}
        )
        return super().get_form(request, obj, change, **kwargs)
