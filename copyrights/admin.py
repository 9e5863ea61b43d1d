"""Where staff approve copyright payments and keep the income years' figures.

Approved payments are paid by the next payroll run (Contracts and payroll › Payroll runs),
in the same SEPA file as the salaries.
"""

from django.contrib import admin
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from audit.admin import (
    CappedCountPaginator,
    ObjectAction,
    ObjectActionsMixin,
    PageLimitMixin,
    member_filter,
)
from contracts.admin import ContractActions, ReasonActionForm, _download_link
from coop.admin_formats import LocalisedFieldsMixin
from copyrights import services
from copyrights.models import CopyrightMemberYear, CopyrightParameters, CopyrightPayment


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

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("statement")

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
