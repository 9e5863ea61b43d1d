"""Member pages of recurring invoices: list, set up, change, pause, resume and end."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from coop.compiled import CompiledInstances
from coop.forms import add_service_error
from coop.idempotency import one_time_form
from invoicing import selectors
from invoicing.calculation import compute_totals
from invoicing.errors import InvoicingError
from invoicing.forms import RecurringInvoiceForm, initial_lines, line_formset
from invoicing.models import RecurringInvoice, RecurringInvoiceLine
from invoicing.services import recurring as recurring_services
from invoicing.services.recurring import Schedule
from invoicing.views import (
    _onboarding_unless_active_member_or_staff,
    _preview_context,
    _vat_rows,
)
from members.models import User

PAGE_SIZE = 25
# Dates shown ahead on a recurring invoice's page.
UPCOMING = 5
# Invoices of a recurring invoice shown on its page, newest first.
RECENT_RUNS = 24


# What the pages read of a recurring invoice and its lines: compiled once per process.
_RECURRING = CompiledInstances(
    RecurringInvoice,
    lambda staff, *, user, pk: (
        selectors.recurring_invoices_visible_to(User(pk=user, is_staff=staff))
        .filter(pk=pk)
        .order_by()
    ),
    user=int,
    pk=int,
)
_LINES = CompiledInstances(
    RecurringInvoiceLine,
    lambda _shape, *, recurring: RecurringInvoiceLine.objects.filter(
        recurring_invoice_id=recurring
    ),
    recurring=int,
)


def _get_recurring(request, pk: int) -> RecurringInvoice:
    # An id beyond any bigint is no row (and no parameter PostgreSQL accepts).
    found = (
        _RECURRING.instances(request.user.is_staff, user=request.user.pk, pk=pk)
        if pk < 2**63
        else []
    )
    if not found:
        raise Http404("No RecurringInvoice matches the given query.")
    return found[0]


def _lines_of(recurring: RecurringInvoice) -> list[RecurringInvoiceLine]:
    return _LINES.instances(recurring=recurring.pk)


@login_required
def recurring_list(request):
    """List the recurring invoices of the user's Activities, newest first."""
    recurring = selectors.recurring_invoices_visible_to(request.user).order_by("-pk")
    page = Paginator(recurring, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "invoicing/recurring_list.html", {"page": page})


def _schedule_of(data: dict) -> Schedule:
    return Schedule(
        frequency=data["frequency"],
        start_date=data["start_date"],
        interval=data["interval"],
        day_of_month=data["day_of_month"],
        end_date=data["end_date"],
        count=data["count"],
    )


def _form_page(request, recurring: RecurringInvoice | None = None):
    """Show the form; save it, or add a row or refresh the totals without saving."""
    user = request.user
    lines_error = ""
    not_saved = False
    if request.method == "POST":
        form = RecurringInvoiceForm(request.POST, user=user, recurring=recurring)
        formset = line_formset(request.POST)
        adjustments = _no_adjustments()
        form_valid = form.is_valid()
        preview = _preview_context(formset, adjustments, form.cleaned_data.get("client"))
        if "add_line" in request.POST or "recalculate" in request.POST:
            initial = {name: request.POST.get(name, "") for name in form.fields}
            form = RecurringInvoiceForm(user=user, recurring=recurring, initial=initial)
            extra = 1 if "add_line" in request.POST else 0
            formset = line_formset(initial=formset.rows_as_initial(), extra=extra)
        elif form_valid & formset.is_valid():
            data = form.cleaned_data
            arguments = {
                "user": user,
                "activity": data["activity"],
                "client": data["client"],
                "title": data["title"],
                "schedule": _schedule_of(data),
                "mode": data["mode"],
                "lines": formset.line_inputs(),
                "today": timezone.localdate(),
                "buyer_reference": data["buyer_reference"],
                "order_reference": data["order_reference"],
                "notes": data["notes"],
            }
            try:
                if recurring is None:
                    recurring = recurring_services.create_recurring_invoice(**arguments)
                else:
                    recurring = recurring_services.update_recurring_invoice(
                        recurring=recurring, **arguments
                    )
            except InvoicingError as error:
                not_saved = True
                if error.field == "lines":
                    lines_error = error.message
                else:
                    add_service_error(form, error)
            else:
                messages.success(request, _("Recurring invoice saved."))
                return redirect("invoicing:recurring_detail", pk=recurring.pk)
        else:
            not_saved = True
    else:
        if recurring is None:
            initial = {name: request.GET.get(name) for name in ("client", "activity")}
            initial["start_date"] = timezone.localdate()
            form = RecurringInvoiceForm(user=user, initial=initial)
            formset = line_formset()
            totals = compute_totals([])
        else:
            lines = _lines_of(recurring)
            form = RecurringInvoiceForm(
                user=user,
                recurring=recurring,
                initial={
                    name: getattr(recurring, name)
                    for name in (
                        "title",
                        "frequency",
                        "interval",
                        "day_of_month",
                        "start_date",
                        "end_date",
                        "count",
                        "mode",
                        "buyer_reference",
                        "order_reference",
                        "notes",
                    )
                }
                | {"activity": recurring.activity_id, "client": recurring.client_id},
            )
            formset = line_formset(initial=initial_lines(lines), extra=1)
            totals = compute_totals([line.as_line() for line in lines])
        preview = {"totals": totals, "vat_rows": _vat_rows(totals)}
    context = {
        "recurring": recurring,
        "form": form,
        "formset": formset,
        "lines_error": lines_error,
        "not_saved": not_saved,
        "can_invoice": form.has_activities(),
        "has_clients": form.has_clients(),
        **preview,
    }
    return render(request, "invoicing/recurring_form.html", context)


def _no_adjustments():
    from invoicing.forms import allowance_charge_formset

    return allowance_charge_formset(initial=[])


@login_required
@require_http_methods(["GET", "POST"])
@one_time_form
def recurring_create(request):
    """Set up a recurring invoice."""
    if (response := _onboarding_unless_active_member_or_staff(request)) is not None:
        return response
    return _form_page(request)


@login_required
@require_http_methods(["GET", "POST"])
def recurring_edit(request, pk: int):
    """Change a recurring invoice that has not ended."""
    recurring = _get_recurring(request, pk)
    if recurring.is_ended:
        messages.info(request, _("This recurring invoice has ended."))
        return redirect("invoicing:recurring_detail", pk=recurring.pk)
    return _form_page(request, recurring)


@login_required
def recurring_detail(request, pk: int):
    """Show a recurring invoice: its lines, its next dates and the invoices drawn up."""
    recurring = _get_recurring(request, pk)
    lines = _lines_of(recurring)
    totals = compute_totals([line.as_line() for line in lines])
    upcoming = []
    if recurring.is_active and recurring.next_date is not None:
        upcoming = recurring_services.occurrences(
            Schedule.of(recurring), on_or_after=recurring.next_date, limit=UPCOMING
        )
    runs = list(
        recurring.runs.select_related("invoice").order_by("-period_date", "-pk")[:RECENT_RUNS]
    )
    context = {
        "recurring": recurring,
        "lines": lines,
        "totals": totals,
        "vat_rows": _vat_rows(totals),
        "upcoming": upcoming,
        "runs": runs,
    }
    return render(request, "invoicing/recurring_detail.html", context)


def _transition(request, pk: int, action: str):
    recurring = _get_recurring(request, pk)
    try:
        if action == "pause":
            recurring_services.pause_recurring_invoice(user=request.user, recurring=recurring)
            messages.success(
                request,
                _("Paused. Periods that pass while it is paused are not invoiced afterwards."),
            )
        elif action == "resume":
            recurring = recurring_services.resume_recurring_invoice(
                user=request.user, recurring=recurring, today=timezone.localdate()
            )
            messages.success(request, _("Resumed."))
        else:
            recurring_services.end_recurring_invoice(user=request.user, recurring=recurring)
            messages.success(request, _("Ended: no more invoices will be drawn up."))
    except InvoicingError as error:
        messages.error(request, error.message)
    return redirect("invoicing:recurring_detail", pk=recurring.pk)


@login_required
@require_POST
def recurring_pause(request, pk: int):
    """Pause a recurring invoice."""
    return _transition(request, pk, "pause")


@login_required
@require_POST
def recurring_resume(request, pk: int):
    """Resume a paused recurring invoice from today on."""
    return _transition(request, pk, "resume")


@login_required
@require_POST
def recurring_end(request, pk: int):
    """End a recurring invoice."""
    return _transition(request, pk, "end")
