"""Where staff approve copyright payments and keep the income years' figures.

Approved payments are paid by the next payroll run (Contracts and payroll › Payroll runs),
in the same SEPA file as the salaries.
"""

from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from audit.admin import (
    CappedCountPaginator,
    ObjectAction,
    ObjectActionsMixin,
    PageLimitMixin,
    member_filter,
)
from contracts.admin import ContractActions, ReasonActionForm, _download_link
from contracts.models import Contract
from coop.admin_formats import LocalisedFieldsMixin
from coop.errors import CoopError
from coop.forms import add_service_error
from copyrights import services
from copyrights.models import (
    CopyrightMemberYear,
    CopyrightParameters,
    CopyrightPayment,
    WorkKind,
)
from members.models import Activity, Member


@admin.register(CopyrightParameters)
class CopyrightParametersAdmin(LocalisedFieldsMixin, admin.ModelAdmin):
    list_display = [
        "income_year",
        "ceiling",
        "first_bracket_limit",
        "second_bracket_limit",
        "withholding_rate",
        "salary_share_cap",
        "is_unverified",
        "source",
    ]
    list_filter = ["is_unverified"]
    save_as = True


class StaffRecordForm(forms.Form):
    """A payment staff record for a member; the rows are given by their numbers (ids), so
    that no list of every member or Activity is read."""

    member = forms.ModelChoiceField(
        queryset=Member.objects.all(), widget=forms.NumberInput, label=_("Member (number)")
    )
    activity = forms.ModelChoiceField(
        queryset=Activity.objects.all(), widget=forms.NumberInput, label=_("Activity (number)")
    )
    contract = forms.ModelChoiceField(
        queryset=Contract.objects.all(),
        widget=forms.NumberInput,
        required=False,
        label=_("Contract (number, optional)"),
    )
    work_kind = forms.ChoiceField(choices=WorkKind.choices, label=_("Kind of work"))
    work_title = forms.CharField(max_length=200, label=_("Title of the work"))
    gross = forms.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, label=_("Gross copyright income (€)")
    )
    salary_gross = forms.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=0,
        required=False,
        label=_("Salary paid beside it for this work (€)"),
    )


def _is_submitted(payment: CopyrightPayment) -> bool:
    return payment.status == CopyrightPayment.Status.SUBMITTED


def _is_open(payment: CopyrightPayment) -> bool:
    return payment.status in (CopyrightPayment.Status.SUBMITTED, CopyrightPayment.Status.APPROVED)


@admin.register(CopyrightPayment)
class CopyrightPaymentAdmin(
    ObjectActionsMixin, PageLimitMixin, ContractActions, LocalisedFieldsMixin, admin.ModelAdmin
):
    """Payments are approved or cancelled here, from the list or from a payment's page; the
    payroll run pays the approved ones."""

    show_full_result_count = False  # a count of the whole table is too slow
    paginator = CappedCountPaginator
    action_form = ReasonActionForm
    actions = ["approve_payments", "cancel_payments"]
    object_actions = {
        "approve_payments": ObjectAction(_("Approve the payment"), _is_submitted),
        "cancel_payments": ObjectAction(_("Cancel the payment"), _is_open),
    }
    list_display = [
        "reference_display",
        "member",
        "activity",
        "work_title",
        "work_kind",
        "income_year",
        "gross",
        "withholding",
        "net",
        "status",
        "pay_date",
    ]
    list_filter = ["status", "income_year", "work_kind", member_filter("member_id")]
    search_fields = ["member__legal_name__contains_any_case"]  # trigram index
    search_help_text = _("A part of the beneficiary's name.")
    list_select_related = ["member", "activity"]
    ordering = ["-pk"]  # the newest first, by the primary key's index
    sortable_by = []
    readonly_fields = [
        "member",
        "activity",
        "contract",
        "work_kind",
        "work_title",
        "status",
        "income_year",
        "gross",
        "salary_gross",
        "year_gross_before",
        "first_bracket_costs",
        "second_bracket_costs",
        "lump_sum_costs",
        "taxable",
        "withholding",
        "net",
        "is_unverified",
        "created_by",
        "created_at",
        "decided_by",
        "decided_at",
        "reason",
        "payroll_run",
        "pay_date",
        "statement_file",
    ]
    fields = readonly_fields
    change_list_template = "copyrights/admin/copyrightpayment_change_list.html"

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        # Named here with the list's: a queryset already joining something makes the
        # changelist ignore list_select_related (a query per row for member and Activity).
        return super().get_queryset(request).select_related("statement", "member", "activity")

    def get_urls(self):
        return [
            path(
                "record/",
                self.admin_site.admin_view(self.record_view),
                name="copyrights_copyrightpayment_record",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "record_url": reverse("admin:copyrights_copyrightpayment_record"),
        }
        return super().changelist_view(request, extra_context)

    def record_view(self, request):
        """Record a copyright payment for a member (staff), awaiting approval."""
        if not self.has_change_permission(request):
            return redirect("admin:index")
        form = StaffRecordForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                payment = services.record_copyright_payment(
                    user=request.user,
                    member=data["member"],
                    activity=data["activity"],
                    contract=data["contract"],
                    work_kind=data["work_kind"],
                    work_title=data["work_title"],
                    gross=data["gross"],
                    salary_gross=data["salary_gross"] or services.ZERO,
                    today=timezone.localdate(),
                )
            except CoopError as error:
                add_service_error(form, error)
            else:
                self.message_user(
                    request,
                    gettext("Copyright payment %(reference)s recorded.")
                    % {"reference": payment.reference},
                    messages.SUCCESS,
                )
                return redirect("admin:copyrights_copyrightpayment_change", payment.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Record a copyright payment"),
            "form": form,
        }
        return TemplateResponse(request, "copyrights/admin/record.html", context)

    @admin.display(description=_("reference"), ordering="pk")
    def reference_display(self, payment: CopyrightPayment) -> str:
        return payment.reference

    @admin.display(description=_("statement"))
    def statement_file(self, payment: CopyrightPayment) -> str:
        statement = getattr(payment, "statement", None)
        if statement is None or not statement.file:
            return "—"
        url = reverse("copyrights:statement", args=[payment.pk])
        return _download_link(url, statement.file.name)

    @admin.action(description=_("Approve the selected payments"), permissions=["change"])
    def approve_payments(self, request, queryset):
        self._each(
            request,
            queryset.order_by("created_at", "pk"),
            lambda payment: services.approve_copyright_payment(
                staff_user=request.user, payment=payment
            ),
            lambda count: ngettext(
                "%(count)d copyright payment approved.",
                "%(count)d copyright payments approved.",
                count,
            ),
        )

    @admin.action(
        description=_("Cancel the selected payments (give a reason)"), permissions=["change"]
    )
    def cancel_payments(self, request, queryset):
        self._each(
            request,
            queryset.order_by("-created_at", "-pk"),
            lambda payment: services.cancel_copyright_payment(
                user=request.user, payment=payment, reason=request.POST.get("reason", "")
            ),
            lambda count: ngettext(
                "%(count)d copyright payment cancelled.",
                "%(count)d copyright payments cancelled.",
                count,
            ),
        )


@admin.register(CopyrightMemberYear)
class CopyrightMemberYearAdmin(PageLimitMixin, LocalisedFieldsMixin, admin.ModelAdmin):
    """Each member's copyright income of a year (awaiting approval, approved and paid)."""

    show_full_result_count = False  # a count of the whole table is too slow
    paginator = CappedCountPaginator
    list_display = ["member", "income_year", "gross", "payments"]
    list_filter = ["income_year", member_filter("member_id")]
    search_fields = ["member__legal_name__contains_any_case"]  # trigram index
    list_select_related = ["member"]
    ordering = ["-pk"]
    sortable_by = []
    fields = ["member", "income_year", "gross", "payments"]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
