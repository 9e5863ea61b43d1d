"""The admin of allowance rates, the mileage system of each year, allowances and C4s."""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from audit.admin import CappedCountPaginator, PageLimitMixin
from contracts.c4 import produce_c4
from contracts.errors import ContractsError
from contracts.forms import C4Form
from contracts.models import Allowance, AllowanceRate, C4Certificate, MileageSystem
from coop.admin_formats import LocalisedFieldsMixin


@admin.register(AllowanceRate)
class AllowanceRateAdmin(LocalisedFieldsMixin, admin.ModelAdmin):
    list_display = ["key", "country", "value", "valid_from", "valid_to", "is_unverified", "source"]
    list_filter = ["key", "is_unverified", "valid_from"]
    search_fields = ["key", "country", "source"]
    save_as = True


@admin.register(MileageSystem)
class MileageSystemAdmin(admin.ModelAdmin):
    list_display = ["year", "system"]


@admin.register(Allowance)
class AllowanceAdmin(PageLimitMixin, LocalisedFieldsMixin, admin.ModelAdmin):
    """Allowances are claimed by members and decided on their expense claim: read here."""

    show_full_result_count = False  # a count of the whole table is too slow
    paginator = CappedCountPaginator
    list_display = ["claim", "member", "kind", "travelled_on", "amount", "tax_free", "taxable"]
    list_filter = ["kind"]
    list_select_related = ["claim", "member"]
    ordering = ["-pk"]
    sortable_by = []
    fields = [
        "claim",
        "member",
        "kind",
        "travelled_on",
        "kilometres",
        "tax_free_kilometres",
        "days",
        "country",
        "rate",
        "amount",
        "tax_free",
        "taxable",
        "is_unverified",
        "source",
    ]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(C4Certificate)
class C4CertificateAdmin(PageLimitMixin, LocalisedFieldsMixin, admin.ModelAdmin):
    """Staff produce a C4 for an ended, paid engagement: choose the worker (the contract's
    worker row) and the reason; its content is frozen then and the member downloads it."""

    show_full_result_count = False  # a count of the whole table is too slow
    paginator = CappedCountPaginator
    form = C4Form
    raw_id_fields = ["worker"]
    list_display = ["reference_shown", "member", "worker", "end_reason", "created_at", "downloads"]
    list_select_related = ["member", "worker__contract", "worker__member"]
    ordering = ["-pk"]
    sortable_by = []

    @admin.display(description=_("reference"))
    def reference_shown(self, certificate: C4Certificate) -> str:
        return certificate.reference

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["worker", "end_reason"]
        return [
            "member",
            "worker",
            "end_reason",
            "language",
            "created_by",
            "created_at",
            "downloads",
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return self.get_fields(request, obj)

    @admin.display(description=_("documents"))
    def downloads(self, certificate: C4Certificate) -> str:
        return format_html(
            '<a href="{}">PDF</a> · <a href="{}">JSON</a>',
            reverse("contracts:c4-pdf", args=[certificate.pk]),
            reverse("contracts:c4-data", args=[certificate.pk]),
        )

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        if change:
            return
        try:
            certificate = produce_c4(
                staff_user=request.user,
                worker=form.cleaned_data["worker"],
                end_reason=form.cleaned_data["end_reason"],
                today=timezone.localdate(),
            )
        except ContractsError as error:
            # Checked by the form; only a race (another staff member at once) lands here.
            messages.error(request, error.message)
            raise
        obj.pk = certificate.pk
        obj.__dict__.update(
            {key: value for key, value in certificate.__dict__.items() if key != "_state"}
        )
        obj._state.adding = False
