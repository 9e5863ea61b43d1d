"""Member pages: their copyright payments, recording one, and the statements' PDFs."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.services import record_event
from contracts.forms import ReasonForm
from coop.documents import DocumentStatus
from coop.errors import CoopError
from coop.forms import add_service_error
from coop.idempotency import one_time_form
from coop.pagination import Paginator
from copyrights import selectors, services
from copyrights.forms import CopyrightPaymentForm
from members.models import Member
from members.onboarding import onboarding_redirect
from members.selectors import member_of

PAGE_SIZE = 25


@login_required
@require_GET
def index(request):
    """The user's copyright payments, newest first, with what this year still allows."""
    payments = selectors.copyright_payments_visible_to(request.user).filter(
        member__user=request.user
    )
    number = request.GET.get("page")
    paginator = Paginator(payments.order_by("-created_at", "-pk"), PAGE_SIZE)
    if number in (None, "", "1"):
        # The first page by a compiled query, with one row more to know whether it is the only.
        rows = selectors.first_own_payments(request.user, size=PAGE_SIZE + 1)
        if len(rows) <= PAGE_SIZE:
            paginator = Paginator(rows, PAGE_SIZE)
        paginator.validate_number(1)
        page = paginator._get_page(rows[:PAGE_SIZE], 1, paginator)
    else:
        page = paginator.get_page(number)
    year = timezone.localdate().year
    member = member_of(request.user)
    total = selectors.member_year(member, year) if member is not None else None
    parameters = selectors.parameters_of(year)
    return render(
        request,
        "copyrights/payment_list.html",
        {
            "payments": page,
            "page": page,
            "year": year,
            "year_gross": total.gross if total is not None else None,
            "parameters": parameters,
            "room": (
                max(parameters.ceiling - (total.gross if total else 0), 0) if parameters else None
            ),
            "can_record": member is not None and member.status == Member.Status.ACTIVE,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
@one_time_form
def record(request):
    """Record a copyright payment for one's own work, to be approved by staff."""
    if (response := onboarding_redirect(request)) is not None:
        return response
    member = request.user.member
    if member.status != Member.Status.ACTIVE:
        raise PermissionDenied(_("Only active members can record copyright payments."))
    form = CopyrightPaymentForm(
        request.POST or None,
        activities=selectors.recordable_activities(request.user),
        contracts=selectors.recordable_contracts(request.user),
        user=request.user,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            payment = services.record_copyright_payment(
                user=request.user,
                member=member,
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
            messages.success(
                request,
                _("Copyright payment %(reference)s recorded: staff will approve it.")
                % {"reference": payment.reference},
            )
            return redirect("copyrights:index")
    year = timezone.localdate().year
    parameters = selectors.parameters_of(year)
    rates = {}
    if parameters is not None:
        rates = {
            name: services.percent_label(getattr(parameters, field))
            for name, field in [
                ("first", "first_bracket_rate"),
                ("second", "second_bracket_rate"),
                ("withholding", "withholding_rate"),
                ("share", "salary_share_cap"),
            ]
        }
    return render(
        request,
        "copyrights/payment_form.html",
        {"form": form, "year": year, "parameters": parameters, "rates": rates},
    )


@login_required
@require_POST
def cancel(request, pk: int):
    """Cancel one's own payment while it awaits approval."""
    payment = get_object_or_404(
        selectors.copyright_payments_visible_to(request.user).filter(member__user=request.user),
        pk=pk,
    )
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a reason."))
        return redirect("copyrights:index")
    try:
        services.cancel_copyright_payment(
            user=request.user, payment=payment, reason=form.cleaned_data["reason"]
        )
    except CoopError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Copyright payment cancelled."))
    return redirect("copyrights:index")


@login_required
@require_GET
def statement_download(request, pk: int):
    """Download the statement of a paid copyright payment."""
    statement = get_object_or_404(selectors.statements_visible_to(request.user), payment=pk)
    if statement.status != DocumentStatus.READY:
        messages.info(request, _("This statement is being prepared; try again in a minute."))
        return redirect("copyrights:index")
    record_event(action="downloaded", obj=statement)
    return FileResponse(
        statement.file.open("rb"),
        as_attachment=True,
        filename=f"{statement.reference}.pdf",
        content_type="application/pdf",
    )
