"""Where staff prepare the yearly tax certificates and export the Belcotax-on-web files."""

from django import forms
from django.contrib import admin, messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from audit.admin import CappedCountPaginator, PageLimitMixin
from audit.services import record_event
from contracts.models import Payslip
from coop.admin_formats import LocalisedFieldsMixin
from coop.templatetags.money import euro
from copyrights.models import CopyrightPayment
from invoicing.admin import ReadOnlyAdminMixin
from taxforms import belcotax, services
from taxforms.errors import TaxformsError
from taxforms.models import BelcotaxExport, Form, TaxCertificate


def _download_link(url: str, name: str) -> str:
    return format_html('<a href="{}">{}</a>', url, name.rsplit("/", 1)[-1])


@admin.register(TaxCertificate)
class TaxCertificateAdmin(
    PageLimitMixin, ReadOnlyAdminMixin, LocalisedFieldsMixin, admin.ModelAdmin
):
    show_full_result_count = False  # a count of the whole table is too slow
    paginator = CappedCountPaginator
    list_display = ["reference_display", "member", "year", "form", "version", "export", "status"]
    list_filter = ["year", "form", "is_current", "status"]
    search_fields = ["member__legal_name__contains_any_case"]
    list_select_related = ["member", "export"]
    ordering = ["-pk"]
    sortable_by = []
    raw_id_fields = ["member"]
    readonly_fields = [
        "reference_display",
        "form",
        "member",
        "year",
        "sequence",
        "version",
        "corrects",
        "is_current",
        "figures_shown",
        "language",
        "export",
        "status",
        "download",
        "sha256",
        "error",
        "created_at",
        "rendered_at",
    ]
    fields = readonly_fields

    def get_queryset(self, request):
        return super().get_queryset(request).defer("snapshot")

    @admin.display(description=_("reference"), ordering="pk")
    def reference_display(self, certificate: TaxCertificate) -> str:
        return certificate.reference

    @admin.display(description=_("figures"))
    def figures_shown(self, certificate: TaxCertificate) -> str:
        """The year's amounts, each under its name, written for the staff member's language."""
        model = CopyrightPayment if certificate.form == Form.COPYRIGHT else Payslip
        return format_html(
            "<table>{}</table>",
            format_html_join(
                "",
                "<tr><th scope='row'>{}</th><td class='number'>{}</td></tr>",
                (
                    (capfirst(model._meta.get_field(name).verbose_name), euro(amount))
                    for name, amount in certificate.figures.items()
                ),
            ),
        )

    @admin.display(description=_("file"))
    def download(self, certificate: TaxCertificate) -> str:
        if not certificate.file:
            return "—"
        url = reverse("taxforms:certificate-download", args=[certificate.pk])
        return _download_link(url, certificate.file.name)


class YearForm(forms.Form):
    year = forms.IntegerField(label=_("Income year"), min_value=2000, max_value=2100)
    is_test = forms.BooleanField(
        label=_("Test file (BCTEST)"),
        required=False,
        help_text=_("A test file is not a declaration: its fiches stay unsent."),
    )


@admin.register(BelcotaxExport)
class BelcotaxExportAdmin(ReadOnlyAdminMixin, LocalisedFieldsMixin, admin.ModelAdmin):
    list_display = [
        "__str__",
        "year",
        "is_test",
        "fiche_count",
        "correction_count",
        "control_total",
        "withholding_total",
        "created_at",
        "created_by",
        "file_download",
    ]
    list_filter = ["year", "is_test"]
    list_select_related = ["created_by"]
    readonly_fields = [
        "year",
        "is_test",
        "schema",
        "fiche_count",
        "correction_count",
        "sequence_total",
        "control_total",
        "withholding_total",
        "file_download",
        "sha256",
        "created_by",
        "created_at",
    ]
    fields = readonly_fields
    change_list_template = "taxforms/admin/belcotaxexport_change_list.html"

    @admin.display(description=_("file"))
    def file_download(self, export: BelcotaxExport) -> str:
        url = reverse("admin:taxforms_belcotaxexport_file", args=[export.pk])
        return _download_link(url, export.file.name)

    def get_urls(self):
        return [
            path(
                "year/",
                self.admin_site.admin_view(self.year_view),
                name="taxforms_belcotaxexport_year",
            ),
            path(
                "<int:pk>/file/",
                self.admin_site.admin_view(self.file_view),
                name="taxforms_belcotaxexport_file",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "year_url": reverse("admin:taxforms_belcotaxexport_year"),
        }
        return super().changelist_view(request, extra_context)

    def file_view(self, request, pk: int):
        """The XML file, to upload to Belcotax-on-web."""
        export = BelcotaxExport.objects.filter(pk=pk).first()
        if export is None or not self.has_view_permission(request, export):
            raise Http404
        record_event(action="downloaded", obj=export)
        return FileResponse(
            export.file.open("rb"),
            as_attachment=True,
            filename=export.file.name.rsplit("/", 1)[-1],
            content_type="application/xml",
        )

    def year_view(self, request):
        """A year's certificates: prepare them, see the file's totals, export it."""
        if not self.has_view_permission(request) or not request.user.is_staff:
            return redirect("admin:index")
        today = timezone.localdate()
        data = request.POST if request.method == "POST" else request.GET
        form = YearForm(data if "year" in data else None, initial={"year": today.year - 1})
        year = form.cleaned_data["year"] if form.is_valid() else today.year - 1
        if request.method == "POST" and form.is_valid():
            try:
                if "prepare" in request.POST:
                    prepared = services.prepare_certificates(year=year, staff_user=request.user)
                    self.message_user(
                        request,
                        gettext(
                            "Certificates of %(year)s: %(created)d new, %(corrected)d "
                            "corrected, %(replaced)d updated before sending, %(unchanged)d "
                            "unchanged."
                        )
                        % {"year": year, **prepared.__dict__},
                        messages.SUCCESS,
                    )
                    return redirect(f"{reverse('admin:taxforms_belcotaxexport_year')}?year={year}")
                export = services.export_belcotax(
                    year=year, staff_user=request.user, is_test=form.cleaned_data["is_test"]
                )
            except TaxformsError as error:
                form.add_error(None, error.message)
            else:
                self.message_user(
                    request,
                    gettext("The Belcotax-on-web file of %(year)s is ready: %(count)d fiches.")
                    % {"year": year, "count": export.fiche_count},
                    messages.SUCCESS,
                )
                return redirect("admin:taxforms_belcotaxexport_change", export.pk)
        totals, corrections = services.preview(year)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Tax certificates and Belcotax-on-web file"),
            "form": form,
            "year": year,
            "totals": totals,
            "salary_count": totals.fiches.get(Form.SALARY, 0),
            "copyright_count": totals.fiches.get(Form.COPYRIGHT, 0),
            "corrections": corrections,
            "control_total": belcotax.euros(totals.control_total),
            "withholding_total": belcotax.euros(totals.withholding_total),
            "exports": BelcotaxExport.objects.filter(year=year).select_related("created_by")[:20],
        }
        return TemplateResponse(request, "taxforms/admin/year.html", context)
