"""Where staff see the payments at risk of missing their date, and what to do about each."""

from django.contrib import admin
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from audit.admin import CappedCountPaginator, PageLimitMixin
from contracts import payday
from contracts.models import PaymentAtRisk


class RiskFilter(admin.SimpleListFilter):
    title = _("what stands in the way")
    parameter_name = "risk"

    def lookups(self, request, model_admin):
        return payday.Risk.choices

    def queryset(self, request, queryset):
        if self.value() in payday.Risk.values:
            return queryset.filter(risk=self.value())
        return queryset


@admin.register(PaymentAtRisk)
class PaymentAtRiskAdmin(PageLimitMixin, admin.ModelAdmin):
    """Unpaid work whose pay or approval date is near or past, and what stands in the way."""

    show_full_result_count = False
    paginator = CappedCountPaginator
    list_display = [
        "member",
        "contract_link",
        "activity",
        "deadline",
        "working_days_left",
        "risk_display",
        "advice",
    ]
    list_filter = [RiskFilter]
    list_select_related = ["member", "contract__activity"]
    list_display_links = None
    actions = None
    ordering = ["contract__last_work_day", "pk"]
    sortable_by = []
    # A report: nothing is edited here (it has no change page), so no field lists rows.
    fields = readonly_fields = ("member", "contract")

    def get_urls(self):
        # A report: the list alone, each row linking to its contract.
        name = f"{self.opts.app_label}_{self.opts.model_name}_changelist"
        return [path("", self.admin_site.admin_view(self.changelist_view), name=name)]

    def get_queryset(self, request):
        return payday.at_risk(today=timezone.localdate()).select_related(
            "member", "contract__activity"
        )

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description=_("contract"))
    def contract_link(self, worker: PaymentAtRisk) -> str:
        url = reverse("admin:contracts_contract_change", args=[worker.contract_id])
        return format_html('<a href="{}">{}</a>', url, worker.contract)

    @admin.display(description=_("Activity"))
    def activity(self, worker: PaymentAtRisk) -> str:
        return str(worker.contract.activity)

    @admin.display(description=_("date to keep"))
    def deadline(self, worker: PaymentAtRisk) -> str:
        day = payday.deadline_of(worker)
        if worker.contract.status in payday.AWAITING_APPROVAL:
            label = gettext("first work day %(date)s")
        else:
            label = gettext("pay by %(date)s")
        return label % {"date": date_format(day, "SHORT_DATE_FORMAT")}

    @admin.display(description=_("working days left"))
    def working_days_left(self, worker: PaymentAtRisk) -> str:
        left = payday.working_days_between(timezone.localdate(), payday.deadline_of(worker))
        if left < 0:
            return gettext("overdue")
        return str(left)

    @admin.display(description=_("what stands in the way"))
    def risk_display(self, worker: PaymentAtRisk) -> str:
        return str(payday.Risk(worker.risk).label)  # type: ignore[attr-defined]

    @admin.display(description=_("what to do"))
    def advice(self, worker: PaymentAtRisk) -> str:
        return str(payday.ADVICE[payday.Risk(worker.risk)])  # type: ignore[attr-defined]
