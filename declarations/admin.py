"""Staff screens: a quarter's DmfA totals before export, the exported files, premium rules."""

from django import forms
from django.contrib import admin, messages
from django.db.models import Exists, OuterRef
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from audit.admin import CappedCountPaginator, PageLimitMixin
from audit.services import record_event
from contracts.admin import DatedRowAdmin
from contracts.models import Contract, Payslip, YearEndPremiumRule
from coop.admin_formats import LocalisedFieldsMixin
from coop.errors import CoopError
from declarations.dmfa import SCHEMA_VERSION
from declarations.errors import DeclarationsError
from declarations.models import DmfaExport, EngagementTerms
from declarations.selectors import Quarter, quarter_totals
from declarations.services import export_dmfa, set_engagement_terms


class QuarterForm(forms.Form):
    quarter = forms.CharField(
        label=_("Quarter"),
        max_length=7,
        help_text=_("Year and quarter, such as 2026-3."),
    )

    def clean_quarter(self) -> Quarter:
        try:
            return Quarter.parse(self.cleaned_data["quarter"])
        except DeclarationsError as error:
            raise forms.ValidationError(error.message) from error


@admin.register(DmfaExport)
class DmfaExportAdmin(LocalisedFieldsMixin, admin.ModelAdmin):
    list_display = [
        "reference_display",
        "quarter_display",
        "created_at",
        "created_by",
        "workers",
        "days",
        "gross",
        "contributions",
        "file_download",
    ]
    list_select_related = ["created_by"]
    readonly_fields = [
        "year",
        "quarter",
        "schema_version",
        "workers",
        "days",
        "gross",
        "contributions",
        "sha256",
        "created_by",
        "created_at",
        "file_download",
    ]
    fields = readonly_fields
    sortable_by = []
    show_full_result_count = False
    change_list_template = "declarations/admin/dmfaexport_change_list.html"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("reference"), ordering="pk")
    def reference_display(self, export: DmfaExport) -> str:
        return export.reference

    @admin.display(description=_("quarter"))
    def quarter_display(self, export: DmfaExport) -> str:
        return f"{export.year}-{export.quarter}"

    @admin.display(description=_("file"))
    def file_download(self, export: DmfaExport) -> str:
        if not export.pk or not export.file:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:declarations_dmfaexport_file", args=[export.pk]),
            export.filename,
        )

    def get_urls(self):
        return [
            path(
                "quarter/",
                self.admin_site.admin_view(self.quarter_view),
                name="declarations_dmfaexport_quarter",
            ),
            path(
                "<int:pk>/file/",
                self.admin_site.admin_view(self.file_view),
                name="declarations_dmfaexport_file",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "quarter_url": reverse("admin:declarations_dmfaexport_quarter"),
        }
        return super().changelist_view(request, extra_context)

    def quarter_view(self, request):
        """The quarter's totals (workers, days, gross, contributions, holiday contributions),
        and the export of its DmfA file."""
        if not self.has_view_permission(request) or not request.user.is_staff:
            return redirect("admin:index")
        today = timezone.localdate()
        data = request.POST if request.method == "POST" else request.GET
        totals = None
        if "quarter" not in data:
            # The totals on demand only: a quarter's work at full size is some 60,000 payslips
            # (EXPLAIN ANALYZE in contracts/migrations/0014_contract_last_work_day_index.py),
            # too much to sum on every opening of the page.
            form = QuarterForm(initial={"quarter": str(Quarter.of(today).previous)})
        else:
            form = QuarterForm(data)
        if form.is_bound and form.is_valid():
            quarter = form.cleaned_data["quarter"]
            if request.method == "POST":
                try:
                    export = export_dmfa(staff_user=request.user, quarter=quarter, today=today)
                except CoopError as error:
                    form.add_error(None, error.message)
                else:
                    self.message_user(
                        request,
                        gettext("The DmfA file of %(quarter)s is ready: %(file)s.")
                        % {"quarter": quarter, "file": export.filename},
                        messages.SUCCESS,
                    )
                    return redirect("admin:declarations_dmfaexport_change", export.pk)
            try:
                totals = quarter_totals(quarter)
            except CoopError as error:
                form.add_error(None, error.message)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("DmfA quarter"),
            "form": form,
            "totals": totals,
            "schema_version": SCHEMA_VERSION,
        }
        return TemplateResponse(request, "declarations/admin/dmfa_quarter.html", context)

    def file_view(self, request, pk: int):
        """The exported DmfA file, to upload to ONSS."""
        export = DmfaExport.objects.filter(pk=pk).first()
        if export is None or not export.file or not self.has_view_permission(request, export):
            raise Http404
        record_event(action="downloaded", obj=export, reason="DmfA")
        return FileResponse(
            export.file.open("rb"),
            as_attachment=True,
            filename=export.filename,
            content_type="application/xml",
        )


@admin.register(YearEndPremiumRule)
class YearEndPremiumRuleAdmin(DatedRowAdmin):
    fields = [
        "joint_committee",
        "months_of_pay",
        "seniority_months",
        "is_paid_at_exit",
        "valid_from",
        "valid_to",
        "source",
        "is_unverified",
    ]
    list_display = [name for name in fields if name != "source"]


UNPAID = [
    Contract.Status.DRAFT,
    Contract.Status.SUBMITTED,
    Contract.Status.CHANGES_REQUESTED,
    Contract.Status.APPROVED,
    Contract.Status.IN_PROGRESS,
]


class EngagementTermsForm(forms.ModelForm):
    class Meta:
        model = EngagementTerms
        fields = ["employee_category", "ends_engagement"]


@admin.register(EngagementTerms)
class EngagementTermsAdmin(PageLimitMixin, LocalisedFieldsMixin, admin.ModelAdmin):
    """Non-artistic contracts not yet paid: white- or blue-collar, and whether the worker
    leaves at their end (exit holiday pay on the last payslip)."""

    show_full_result_count = False
    paginator = CappedCountPaginator
    form = EngagementTermsForm
    list_display = [
        "reference_display",
        "title",
        "activity",
        "status",
        "last_work_day",
        "employee_category",
        "ends_engagement",
    ]
    list_select_related = ["activity"]
    search_fields = ["activity__owner__legal_name__contains_any_case"]  # trigram index
    search_help_text = _("A part of the name of the Activity's owner.")
    ordering = ["-pk"]
    sortable_by = []
    fields = [
        "reference_display",
        "title",
        "activity",
        "last_work_day",
        *EngagementTermsForm.Meta.fields,
    ]
    readonly_fields = ["reference_display", "title", "activity", "last_work_day"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(status__in=UNPAID, kind=Contract.Kind.NON_ARTISTIC)
            .exclude(Exists(Payslip.objects.filter(worker__contract=OuterRef("pk"))))
        )

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("reference"), ordering="pk")
    def reference_display(self, contract: Contract) -> str:
        return contract.reference

    def save_model(self, request, obj, form, change) -> None:
        """Change the terms through the service (checks, lock, audit row), never directly."""
        try:
            set_engagement_terms(
                staff_user=request.user,
                contract=obj,
                employee_category=form.cleaned_data["employee_category"],
                ends_engagement=form.cleaned_data["ends_engagement"],
            )
        except CoopError as error:
            self.message_user(request, error.message, messages.ERROR)
