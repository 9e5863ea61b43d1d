"""The member's artist pages: the work statement, C4 certificates and allowance claims."""

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from audit.services import record_event
from contracts import selectors
from contracts.allowances import AllowanceInput, claim_allowance
from contracts.c4 import c4_data, render_c4_pdf
from contracts.errors import ContractsError
from contracts.forms import AllowanceForm
from contracts.models import C4Certificate
from contracts.statements import work_statement
from coop.compiled import CompiledInstances
from coop.pdf import render_pdf
from members.models import Language, Member, User
from members.selectors import is_active_member, member_of

LANGUAGES = dict(Language.choices)

# The member's latest C4 certificates on the statement page: what it shows of them, by a query
# compiled once per process (the shape: whether the user is staff).
_CERTIFICATES = CompiledInstances(
    C4Certificate,
    lambda is_staff, *, user, member: (
        selectors.c4_certificates_visible_to(User(pk=user, is_staff=is_staff))
        .filter(member_id=member)
        .select_related(None)
        .only("pk", "created_at")
        .order_by("-created_at", "-pk")[:50]
    ),
    user=int,
    member=int,
)


def _statement_context(member: Member) -> dict:
    seller = settings.COOP_SELLER
    return {
        "statement": work_statement(member, today=timezone.localdate()),
        "employer": {
            "name": seller["name"],
            "address": f"{seller['street']}, {seller['postal_code']} {seller['city']}",
            "enterprise_number": seller["enterprise_number"],
        },
    }


@login_required
@require_GET
def statement(request):
    """The member's days and pay per quarter over 24 months, and their C4 certificates."""
    member = member_of(request.user)
    context = {"member": member, "languages": Language.choices}
    if member is not None:
        context |= _statement_context(member)
        context["certificates"] = _CERTIFICATES.instances(
            request.user.is_staff, user=request.user.pk, member=member.pk
        )
    return render(request, "contracts/work_statement.html", context)


@login_required
@require_GET
def statement_pdf(request):
    """The work statement as a PDF, in the language asked (the member's own by default)."""
    member = Member.objects.filter(user=request.user).first()
    if member is None:
        raise Http404
    language = request.GET.get("language") or member.preferred_language
    if language not in LANGUAGES:
        raise Http404
    context = _statement_context(member)
    today = context["statement"].end
    context["reference"] = f"{member.pk}-{today:%Y%m%d}"
    content = render_pdf("contracts/pdf/work_statement.html", context, language=language)
    record_event(action="downloaded", obj=member, reason="work statement")
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="work-statement-{today:%Y-%m-%d}-{language}.pdf"'
    )
    return response


@login_required
@require_GET
def c4_pdf(request, pk: int):
    certificate = get_object_or_404(selectors.c4_certificates_visible_to(request.user), pk=pk)
    record_event(action="downloaded", obj=certificate)
    response = HttpResponse(render_c4_pdf(certificate), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{certificate.reference}.pdf"'
    return response


@login_required
@require_GET
def c4_json(request, pk: int):
    """The C4's structured data for the electronic filing (the national number in full for
    staff who may read it)."""
    certificate = get_object_or_404(selectors.c4_certificates_visible_to(request.user), pk=pk)
    in_full = request.user.is_staff and request.user.has_perm("members.view_full_niss")
    record_event(
        action="downloaded",
        obj=certificate,
        reason="structured data, national number in full" if in_full else "structured data",
    )
    response = HttpResponse(
        json.dumps(
            c4_data(certificate, with_national_number=in_full), indent=2, ensure_ascii=False
        ),
        content_type="application/json",
    )
    response["Content-Disposition"] = f'attachment; filename="{certificate.reference}.json"'
    return response


@login_required
def allowance_claim(request):
    """Claim a mileage or per-diem allowance: the amount is computed from the dated rates."""
    if request.method == "POST" and not is_active_member(request.user):
        raise PermissionDenied(_("Only active members can claim expenses."))
    form = AllowanceForm(
        request.POST or None,
        activities=selectors.claimable_activities(request.user),
        read_choices=lambda: selectors.claimable_activity_choices(request.user),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            claim = claim_allowance(
                user=request.user,
                activity=data["activity"],
                allowance=AllowanceInput(
                    kind=data["kind"],
                    travelled_on=data["travelled_on"],
                    description=data["description"],
                    kilometres=data["kilometres"],
                    days=data["days"],
                    country=data["country"] or "",
                ),
                today=timezone.localdate(),
            )
        except ContractsError as error:
            field = error.field if error.field in form.fields else None
            form.add_error(field, error.message)
        else:
            messages.success(request, _("Allowance sent to staff for approval."))
            return redirect("contracts:expense-claim", pk=claim.pk)
    return render(request, "contracts/allowance_form.html", {"form": form})
