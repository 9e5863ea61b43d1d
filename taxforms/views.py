"""Member pages: the yearly tax certificates, beside the payslips."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from audit.services import record_event
from coop.documents import DocumentStatus
from taxforms import selectors

PAGE_SIZE = 25


@login_required
def certificates(request):
    """The user's tax certificates, newest income year first."""
    listed = selectors.certificates_visible_to(request.user).order_by("-year", "form", "-pk")
    if request.user.is_staff:
        # Staff read every member's certificates in the admin; here, their own.
        listed = listed.filter(member__user=request.user)
    page = Paginator(listed, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "taxforms/certificate_list.html", {"certificates": page, "page": page})


@login_required
def certificate_download(request, pk: int):
    certificate = get_object_or_404(selectors.certificates_visible_to(request.user), pk=pk)
    if certificate.status != DocumentStatus.READY:
        messages.info(request, _("This certificate is being prepared; try again in a minute."))
        return redirect("taxforms:certificates")
    record_event(action="downloaded", obj=certificate)
    return FileResponse(
        certificate.file.open("rb"),
        as_attachment=True,
        filename=certificate.filename,
        content_type="application/pdf",
    )
