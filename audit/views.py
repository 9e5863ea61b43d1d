"""A member's exports of their own data: request, follow, download."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from audit import privacy
from audit.models import AuditAction, DataExport
from audit.services import record_event
from coop.errors import CoopError

EXPORTS_SHOWN = 10


@login_required
@require_http_methods(["GET", "POST"])
def data_exports(request):
    """List the user's recent exports; a POST asks for a new one."""
    if request.method == "POST":
        try:
            privacy.request_data_export(user=request.user)
        except CoopError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                _("Your data export is being prepared. This page shows when it is ready."),
            )
        return redirect("audit:data_exports")
    exports = DataExport.objects.filter(user=request.user).order_by("-created_at", "-pk")[
        :EXPORTS_SHOWN
    ]
    return render(
        request,
        "audit/data_exports.html",
        {"exports": exports, "lifetime_days": privacy.EXPORT_LIFETIME.days},
    )


@login_required
@require_http_methods(["GET", "HEAD"])
def data_export_download(request, pk: int):
    """The zip, for the user who asked for it, until it expires."""
    export = get_object_or_404(DataExport.objects.filter(user=request.user), pk=pk)
    if not export.is_downloadable():
        raise Http404(_("This export is not available."))
    try:
        handle = export.file.open("rb")
    except OSError as error:
        raise Http404(_("This export is not available.")) from error
    record_event(action=AuditAction.DOWNLOADED, obj=export)
    return FileResponse(
        handle,
        as_attachment=True,
        filename=f"my-data-{export.created_at:%Y-%m-%d}.zip",
        content_type="application/zip",
    )
