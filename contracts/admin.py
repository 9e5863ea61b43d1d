"""Where staff work on contracts and payroll: approvals, parameter tables, payroll runs."""

from collections.abc import Callable
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.db.models import (
    Count,
    DecimalField,
    F,
    OuterRef,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Coalesce
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from audit.admin import (
    CappedCountPaginator,
    ChangePageQueryMixin,
    ObjectAction,
    ObjectActionsMixin,
    PageLimitMixin,
    ParentInlineFormSet,
    member_filter,
)
from audit.services import record_event
from contracts import dimona
from contracts.errors import ContractsError
from contracts.models import (
    Allowance,
    Contract,
    ContractAttachment,
    ContractAwaitingApproval,
    ContractEvent,
    ContractWorker,
    DimonaDeclaration,
    ExpenseClaim,
    ExpenseReceipt,
    PayrollRate,
    PayrollRun,
    Payslip,
    SpecialContributionBracket,
    TaxBracket,
    TaxProfile,
    WorkDay,
)
from contracts.parameters import load_parameters
from contracts.services import contracts as services
from contracts.services import expenses
from contracts.services.payroll import run_payroll
from coop.admin_formats import LocalisedFieldsMixin
from coop.documents import DocumentStatus
from coop.errors import CoopError
from coop.templatetags.money import euro

ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=14, decimal_places=2)


class ReadOnlyInline(LocalisedFieldsMixin, admin.TabularInline):
    formset = ParentInlineFormSet
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class WorkerInline(ReadOnlyInline):
    model = ContractWorker
    fields = [
        "member",
        "daily_wage",
        "is_task_based",
        "work_days",
        "planned_gross",
        "planned_employer_cost",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("member").prefetch_related("days")

    @admin.display(description=_("work days"))
    def work_days(self, worker: ContractWorker) -> str:
        return ", ".join(
            f"{day.date:%d/%m}{' ½' if day.portion == WorkDay.Portion.HALF else ''}"
            for day in worker.days.all()
        )


class EventInline(ReadOnlyInline):
    model = ContractEvent
    fields = ["created_at", "from_status", "to_status", "actor", "reason", "notified_at"]
    readonly_fields = fields
    verbose_name_plural = _("history")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


def _download_link(url: str, name: str) -> str:
    # Uploaded files are not served from MEDIA_URL: they go through views that check who asks.
    return format_html('<a href="{}">{}</a>', url, name.rsplit("/", 1)[-1])


class AttachmentInline(ReadOnlyInline):
    model = ContractAttachment
    fields = ["download", "content_type", "size", "uploaded_by", "uploaded_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("uploaded_by")

    @admin.display(description=_("file"))
    def download(self, attachment: ContractAttachment) -> str:
        url = reverse("contracts:attachment-download", args=[attachment.pk])
        return _download_link(url, attachment.file.name)


class ReasonActionForm(admin.helpers.ActionForm):
    reason = forms.CharField(label=_("Reason"), required=False)


class ContractActions:
    """Approve, reject and request changes, on one contract or many."""

    def _each(self, request, queryset, action, done_message: Callable[[int], str]) -> None:
        done = 0
        for item in queryset:
            try:
                action(item)
            except CoopError as error:
                self.message_user(request, f"{item}: {error.message}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, done_message(done) % {"count": done}, messages.SUCCESS)

    @admin.action(description=_("Approve and declare (Dimona)"), permissions=["change"])
    def approve(self, request, queryset):
        today = timezone.localdate()
        self._each(
            request,
            queryset.order_by("first_work_day", "pk"),
            lambda contract: services.approve_contract(
                staff_user=request.user,
                contract=contract,
                today=today,
                reason=request.POST.get("reason", ""),
            ),
            lambda count: ngettext(
                "%(count)d contract approved.", "%(count)d contracts approved.", count
            ),
        )

    @admin.action(description=_("Reject (give a reason)"), permissions=["change"])
    def reject(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda contract: services.reject_contract(
                staff_user=request.user, contract=contract, reason=request.POST.get("reason", "")
            ),
            lambda count: ngettext(
                "%(count)d contract rejected.", "%(count)d contracts rejected.", count
            ),
        )

    @admin.action(description=_("Request changes (give a reason)"), permissions=["change"])
    def request_changes(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda contract: services.request_changes(
                staff_user=request.user, contract=contract, reason=request.POST.get("reason", "")
            ),
            lambda count: ngettext(
                "%(count)d contract sent back for changes.",
                "%(count)d contracts sent back for changes.",
                count,
            ),
        )


def awaiting_approval(contract: Contract) -> bool:
    return contract.status == Contract.Status.SUBMITTED


def _balance(stage: str) -> Coalesce:
    # The Activity's balance row (kept by a trigger), not a sum of its ledger.
    from members.models import ActivityBalance

    row = ActivityBalance.objects.filter(activity=OuterRef("activity")).values(stage)[:1]
    return Coalesce(Subquery(row, output_field=MONEY), Value(ZERO), output_field=MONEY)


@admin.register(Contract)
class ContractAdmin(
    ObjectActionsMixin,
    ChangePageQueryMixin,
    PageLimitMixin,
    ContractActions,
    LocalisedFieldsMixin,
    admin.ModelAdmin,
):
    """Contracts are read-only here: staff act on them through the actions, from the list or
    from a contract's page."""

    show_full_result_count = False  # a count of the whole table is too slow
    paginator = CappedCountPaginator
    action_form = ReasonActionForm
    actions = ["approve", "reject", "request_changes"]
    object_actions = {
        "approve": ObjectAction(_("Approve and declare (Dimona)"), awaiting_approval),
        "request_changes": ObjectAction(_("Request changes"), awaiting_approval),
        "reject": ObjectAction(_("Reject"), awaiting_approval),
    }
    list_display = [
        "reference_display",
        "title",
        "activity",
        "owner",
        "kind",
        "status",
        "first_work_day",
        "last_work_day",
        "amount_to_invoice",
    ]
    list_filter = ["status", "kind", "first_work_day", member_filter("activity__owner_id")]
    # The owner's name (trigram index), reached through indexed keys.
    search_fields = ["activity__owner__legal_name__contains_any_case"]  # trigram index
    search_help_text = _("A part of the name of the Activity's owner.")
    list_select_related = ["activity__owner", "client"]
    ordering = ["-pk"]  # the newest first, by the primary key's index
    sortable_by = []
    inlines = [WorkerInline, AttachmentInline, EventInline]
    fields = [
        "activity",
        "client",
        "title",
        "description",
        "place",
        "kind",
        "amount_to_invoice",
        "status",
        "first_work_day",
        "last_work_day",
        "invoice",
        "order",
        "created_by",
        "created_at",
        "submitted_at",
        "approved_at",
        "approved_by",
        "owner_history",
    ]
    readonly_fields = fields
    # The page links to these, and names the Activity's owner.
    change_select_related = (
        "activity__owner",
        "client",
        "invoice",
        "order",
        "created_by",
        "approved_by",
    )

    def get_change_queryset(self, request):
        # The linked invoice's issued content (JSON snapshot) is not shown: it is not read.
        return super().get_change_queryset(request).defer("invoice__snapshot")

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("reference"), ordering="pk")
    def reference_display(self, contract: Contract) -> str:
        return contract.reference

    @admin.display(description=_("the member's other contracts"))
    def owner_history(self, contract: Contract) -> str:
        """Count the Activity owner's other contracts by state, linked to their list."""
        owner = contract.activity.owner
        counts = (
            Contract.objects.filter(activity__owner=owner)
            .exclude(pk=contract.pk)
            .values("status")
            .annotate(count=Count("pk"))
            .order_by("status")
        )
        labels = dict(Contract.Status.choices)
        parts = [f"{row['count']} {labels[row['status']].lower()}" for row in counts]
        if not parts:
            return gettext("None: this is the member's first contract.")
        url = reverse("admin:contracts_contract_changelist")
        return format_html(
            '{} — <a href="{}?{}">{}</a>',
            ", ".join(parts),
            url,
            urlencode({"q": owner.legal_name}),
            gettext("see them"),
        )

    @admin.display(description=_("owner"), ordering="activity__owner__legal_name")
    def owner(self, contract: Contract) -> str:
        return str(contract.activity.owner)


@admin.register(ContractAwaitingApproval)
class AwaitingApprovalAdmin(ContractAdmin):
    """Submitted contracts, the most urgent first, with the Activity's budget check."""

    list_display = [
        "reference_display",
        "title",
        "activity",
        "owner",
        "kind",
        "first_work_day",
        "days_left",
        "estimated_cost",
        "budget_check",
    ]
    list_filter = ["kind"]
    # Submitted contracts, by contract_status_first_idx.
    ordering = ["first_work_day", "pk"]
    sortable_by = []

    def get_queryset(self, request):
        # A subquery per contract shown: the list is read in the order of
        # contract_status_first_idx, not grouped over every submitted contract first.
        gross = (
            WorkDay.objects.filter(worker__contract=OuterRef("pk"))
            .order_by()
            .values("worker__contract")
            .annotate(
                total=Sum(
                    Cast("portion", DecimalField(max_digits=3, decimal_places=1))
                    * F("worker__daily_wage"),
                    output_field=MONEY,
                )
            )
            .values("total")
        )
        return (
            super()
            .get_queryset(request)
            .filter(status=Contract.Status.SUBMITTED)
            .annotate(
                planned_gross=Coalesce(Subquery(gross), Value(ZERO), output_field=MONEY),
                available_balance=_balance("available"),
                planned_balance=_balance("planned"),
            )
        )

    def changelist_view(self, request, extra_context=None):
        try:
            self._parameters = load_parameters(timezone.localdate())
        except ContractsError:
            self._parameters = None
        return super().changelist_view(request, extra_context)

    def _cost(self, contract) -> Decimal | None:
        parameters = getattr(self, "_parameters", None)
        if parameters is None:
            return None
        factor = parameters.artist_base_factor if contract.is_artistic else Decimal("1")
        return (contract.planned_gross * (1 + parameters.employer_rate * factor)).quantize(
            Decimal("0.01")
        )

    @admin.display(description=_("days left"), ordering="first_work_day")
    def days_left(self, contract) -> int:
        return (contract.first_work_day - timezone.localdate()).days

    @admin.display(description=_("estimated employer cost"), ordering="planned_gross")
    def estimated_cost(self, contract) -> str:
        cost = self._cost(contract)
        return "—" if cost is None else euro(cost)

    @admin.display(description=_("budget"))
    def budget_check(self, contract) -> str:
        cost = self._cost(contract)
        if cost is None:
            return "—"
        left = contract.available_balance + contract.planned_balance - cost
        if left >= 0:
            return format_html('<span style="color:#1a7f37">✔ {}</span>', gettext("covered"))
        return format_html(
            '<span style="color:#b42318">✘ {}</span>',
            gettext("short by %(amount)s") % {"amount": euro(-left)},
        )


class DatedRowAdmin(LocalisedFieldsMixin, admin.ModelAdmin):
    list_filter = ["is_unverified", "valid_from"]
    save_as = True


@admin.register(PayrollRate)
class PayrollRateAdmin(DatedRowAdmin):
    list_display = ["key", "value", "valid_from", "valid_to", "is_unverified", "source"]
    list_filter = ["key", "is_unverified", "valid_from"]
    search_fields = ["key", "source"]


@admin.register(TaxBracket)
class TaxBracketAdmin(DatedRowAdmin):
    list_display = ["valid_from", "valid_to", "lower", "upper", "rate", "is_unverified", "source"]


@admin.register(SpecialContributionBracket)
class SpecialContributionBracketAdmin(DatedRowAdmin):
    list_display = [
        "valid_from",
        "valid_to",
        "household",
        "lower",
        "upper",
        "fixed",
        "rate",
        "maximum",
        "is_unverified",
    ]
    list_filter = ["household", "is_unverified", "valid_from"]


@admin.register(TaxProfile)
class TaxProfileAdmin(PageLimitMixin, admin.ModelAdmin):
    show_full_result_count = False  # a count of the whole table is too slow
    paginator = CappedCountPaginator
    list_display = ["member", "household", "children", "is_single_parent", "other_dependants"]
    list_filter = ["household"]
    search_fields = ["member__legal_name__contains_any_case"]  # trigram index
    autocomplete_fields = ["member"]
    list_select_related = ["member"]
    ordering = ["-pk"]
    sortable_by = []


@admin.register(DimonaDeclaration)
class DimonaDeclarationAdmin(PageLimitMixin, admin.ModelAdmin):
    show_full_result_count = False  # a count of the whole table is too slow
    paginator = CappedCountPaginator
    list_display = ["acknowledgement", "kind", "worker", "start_date", "end_date", "created_at"]
    list_filter = ["kind", "joint_committee"]
    search_fields = ["worker__member__legal_name__contains_any_case"]  # trigram index
    list_select_related = ["worker__member", "worker__contract"]
    ordering = ["-pk"]  # the newest first, by the primary key's index
    sortable_by = []

    def changelist_view(self, request, extra_context=None):
        # Says where declarations go: the recording gateway sends nothing to ONSS.
        subtitle = gettext("Filed through: %(gateway)s") % {"gateway": dimona.gateway_label()}
        return super().changelist_view(request, {**(extra_context or {}), "subtitle": subtitle})

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


def date_input() -> forms.DateInput:
    # A date input reads and shows ISO dates only: a localised "07/12/2026" put back after an
    # error would show as an empty field.
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PayrollRunForm(forms.Form):
    period_start = forms.DateField(label=_("Work ended from"), widget=date_input())
    period_end = forms.DateField(label=_("Work ended until"), widget=date_input())


@admin.register(PayrollRun)
class PayrollRunAdmin(LocalisedFieldsMixin, admin.ModelAdmin):
    list_display = [
        "__str__",
        "created_at",
        "created_by",
        "payslip_count",
        "total_net",
        "total_employer_cost",
        "pdf_progress",
        "sepa_download",
    ]
    list_select_related = ["created_by"]
    readonly_fields = [
        "period_start",
        "period_end",
        "created_by",
        "created_at",
        "payslip_count",
        "total_net",
        "total_employer_cost",
        "sepa_download",
        "sepa_message_id",
    ]
    fields = readonly_fields
    actions = ["requeue_pdfs"]
    change_list_template = "contracts/admin/payrollrun_change_list.html"

    def get_queryset(self, request):
        # Counted per run shown from payslip_admin_unready_idx (the few PDFs not ready yet),
        # not by joining every payslip of every run.
        def unready(*statuses):
            payslips = Payslip.objects.filter(run=OuterRef("pk")).exclude(
                status=DocumentStatus.READY
            )
            if statuses:
                payslips = payslips.filter(status__in=statuses)
            counted = payslips.order_by().values("run").annotate(count=Count("pk"))
            return Coalesce(Subquery(counted.values("count")), Value(0))

        return (
            super()
            .get_queryset(request)
            .annotate(pdf_unready=unready(), pdf_failed=unready(DocumentStatus.FAILED))
            .annotate(pdf_ready=F("payslip_count") - F("pdf_unready"))
        )

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("PDFs ready"))
    def pdf_progress(self, run) -> str:
        text = f"{run.pdf_ready} / {run.payslip_count}"
        if run.pdf_failed:
            text += " " + gettext("(%(count)d failed)") % {"count": run.pdf_failed}
        return text

    @admin.display(description=_("SEPA file"))
    def sepa_download(self, run) -> str:
        if not run.sepa_file:
            return "—"
        url = reverse("admin:contracts_payrollrun_sepa", args=[run.pk])
        return _download_link(url, run.sepa_file.name)

    def sepa_view(self, request, pk: int):
        """The run's salary transfers (pain.001), to upload to the bank."""
        run = PayrollRun.objects.filter(pk=pk).first()
        if run is None or not run.sepa_file or not self.has_view_permission(request, run):
            raise Http404
        record_event(action="downloaded", obj=run, reason="SEPA")
        return FileResponse(
            run.sepa_file.open("rb"),
            as_attachment=True,
            filename=run.sepa_file.name.rsplit("/", 1)[-1],
            content_type="application/xml",
        )

    @admin.action(description=_("Render the PDFs still pending or failed"), permissions=["view"])
    def requeue_pdfs(self, request, queryset):
        from contracts.tasks import render_payslip_task

        pending = Payslip.objects.filter(run__in=queryset).exclude(status=DocumentStatus.READY)
        count = 0
        for pk in pending.values_list("pk", flat=True):
            render_payslip_task.delay(pk)
            count += 1
        self.message_user(
            request,
            ngettext("%(count)d PDF queued.", "%(count)d PDFs queued.", count) % {"count": count},
        )

    def get_urls(self):
        return [
            path(
                "run/",
                self.admin_site.admin_view(self.run_view),
                name="contracts_payrollrun_run",
            ),
            path(
                "<int:pk>/sepa/",
                self.admin_site.admin_view(self.sepa_view),
                name="contracts_payrollrun_sepa",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "run_url": reverse("admin:contracts_payrollrun_run"),
        }
        return super().changelist_view(request, extra_context)

    def run_view(self, request):
        """Run payroll for a period: each worker is paid once however often it runs."""
        if not self.has_view_permission(request) or not request.user.is_staff:
            return redirect("admin:index")
        form = PayrollRunForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                run = run_payroll(
                    staff_user=request.user,
                    period_start=form.cleaned_data["period_start"],
                    period_end=form.cleaned_data["period_end"],
                    today=timezone.localdate(),
                )
            except CoopError as error:
                form.add_error(None, error.message)
            else:
                self.message_user(
                    request,
                    ngettext(
                        "%(count)d payslip created; its PDF is being rendered.",
                        "%(count)d payslips created; their PDFs are being rendered.",
                        run.payslip_count,
                    )
                    % {"count": run.payslip_count},
                    messages.SUCCESS,
                )
                return redirect("admin:contracts_payrollrun_change", run.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Run payroll"),
            "form": form,
        }
        return TemplateResponse(request, "contracts/admin/run_payroll.html", context)


@admin.register(Payslip)
class PayslipAdmin(PageLimitMixin, LocalisedFieldsMixin, admin.ModelAdmin):
    show_full_result_count = False  # a count of the whole table is too slow
    paginator = CappedCountPaginator
    list_display = [
        "reference_display",
        "kind",
        "member",
        "activity",
        "pay_date",
        "gross",
        "net",
        "employer_cost",
        "status",
    ]
    list_filter = ["kind", "status", "pay_date", "run"]
    search_fields = ["member__legal_name__contains_any_case"]  # trigram index
    list_select_related = ["member", "activity"]
    ordering = ["-pk"]  # the newest first, by the primary key's index
    sortable_by = []
    readonly_fields = [
        "download" if field.name == "file" else field.name
        for field in Payslip._meta.fields
        if field.name not in ("id", "snapshot")
    ]
    fields = readonly_fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).defer("snapshot")

    @admin.display(description=_("reference"), ordering="pk")
    def reference_display(self, payslip: Payslip) -> str:
        return payslip.reference

    @admin.display(description=_("file"))
    def download(self, payslip: Payslip) -> str:
        if not payslip.file:
            return "—"
        url = reverse("contracts:payslip-download", args=[payslip.pk])
        return _download_link(url, payslip.file.name)


class ReceiptInline(ReadOnlyInline):
    model = ExpenseReceipt
    fields = [
        "spent_on",
        "description",
        "category",
        "amount",
        "vat",
        "download",
        "content_type",
        "size",
    ]
    readonly_fields = fields

    @admin.display(description=_("receipt"))
    def download(self, receipt: ExpenseReceipt) -> str:
        url = reverse("contracts:expense-receipt-download", args=[receipt.pk])
        return _download_link(url, receipt.file.name)


class AllowanceInline(ReadOnlyInline):
    model = Allowance
    fields = [
        "kind",
        "travelled_on",
        "kilometres",
        "days",
        "country",
        "rate",
        "tax_free",
        "taxable",
    ]
    readonly_fields = fields


class ExpenseClaimStatusFilter(admin.SimpleListFilter):
    """Claims sent to staff by default; drafts, which members are still writing, on request."""

    title = _("status")
    parameter_name = "status"
    ALL = "all"

    def lookups(self, request, model_admin):
        return [*ExpenseClaim.Status.choices, (self.ALL, _("All, drafts included"))]

    def choices(self, changelist):
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": _("Sent to staff (not drafts)"),
        }
        for value, label in self.lookup_choices:
            yield {
                "selected": self.value() == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset.exclude(status=ExpenseClaim.Status.DRAFT)
        if value == self.ALL:
            return queryset
        if value in ExpenseClaim.Status.values:
            return queryset.filter(status=value)
        return queryset.none()


@admin.register(ExpenseClaim)
class ExpenseClaimAdmin(
    ObjectActionsMixin, PageLimitMixin, ContractActions, LocalisedFieldsMixin, admin.ModelAdmin
):
    """Claims are approved or rejected here, from the list or from a claim's page; payroll
    reimburses the approved ones. Drafts, which members are still writing, are listed only on
    request."""

    show_full_result_count = False  # a count of the whole table is too slow
    paginator = CappedCountPaginator
    action_form = ReasonActionForm
    actions = ["approve_claims", "reject_claims"]
    object_actions = {
        "approve_claims": ObjectAction(
            _("Approve the claim"), lambda claim: claim.status == ExpenseClaim.Status.SUBMITTED
        ),
        "reject_claims": ObjectAction(
            _("Reject the claim"), lambda claim: claim.status == ExpenseClaim.Status.SUBMITTED
        ),
    }
    list_display = [
        "description",
        "member",
        "activity",
        "total",
        "total_vat",
        "status",
        "submitted_at",
    ]
    list_filter = [ExpenseClaimStatusFilter, "submitted_at"]
    search_fields = ["member__legal_name__contains_any_case"]  # trigram index
    list_select_related = ["member", "activity"]
    ordering = ["-pk"]  # the newest first, by the primary key's index
    sortable_by = []
    inlines = [ReceiptInline, AllowanceInline]
    readonly_fields = [
        "member",
        "activity",
        "description",
        "status",
        "total",
        "total_vat",
        "created_at",
        "submitted_at",
        "decided_at",
        "decided_by",
        "reason",
        "payslip",
    ]
    fields = readonly_fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description=_("Approve the selected claims"), permissions=["change"])
    def approve_claims(self, request, queryset):
        self._each(
            request,
            queryset.order_by("created_at", "pk"),
            lambda claim: expenses.approve_expense_claim(staff_user=request.user, claim=claim),
            lambda count: ngettext(
                "%(count)d claim approved.", "%(count)d claims approved.", count
            ),
        )

    @admin.action(
        description=_("Reject the selected claims (give a reason)"), permissions=["change"]
    )
    def reject_claims(self, request, queryset):
        self._each(
            request,
            queryset.order_by("created_at", "pk"),
            lambda claim: expenses.reject_expense_claim(
                staff_user=request.user, claim=claim, reason=request.POST.get("reason", "")
            ),
            lambda count: ngettext(
                "%(count)d claim rejected.", "%(count)d claims rejected.", count
            ),
        )


# The payments at risk of missing their date have their own list.
from contracts import admin_artists, admin_payday  # noqa: E402, F401 - they register their admins
