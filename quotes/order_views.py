"""The member's orders (confirmed quotes): their list, an order's page with what is ordered,
invoiced and left, its invoices and contracts, and the buttons that draw up the next invoice or
a contract (on the work days the member chooses)."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from contracts.errors import ContractsError
from contracts.services.contracts import create_contract_from_order, order_work_days
from coop.errors import CoopError
from coop.keyset import cursor_from, keyset_page
from quotes import order_pages, orders, pages, selectors
from quotes.models import OrderInvoice, Quote
from quotes.pdf import schedule_rows
from quotes.schedule import deposit_of

ORDER_NOT_FOUND = "No order matches the given query."
PAGE_SIZE = 25


@login_required
@require_GET
def order_list(request):
    """The user's orders, newest first, one page at a time; ``?activity=`` narrows to one."""
    user = request.user
    activity = order_pages.visible_activity(user, request.GET.get("activity"))
    split = selectors.order_list_split(
        user, activity_ids=[activity.pk] if activity is not None else None
    )
    cursor = cursor_from(request, selectors.QUOTE_KEYSET, Quote.objects.all())
    # The first page, the one most asked for, by its query compiled once (the same SQL).
    page = order_pages.first_order_page(split, size=PAGE_SIZE) if cursor is None else None
    if page is None:
        rows = selectors.order_list_rows()
        page = keyset_page(rows, selectors.QUOTE_KEYSET, size=PAGE_SIZE, cursor=cursor, split=split)
    labels = dict(Quote.Status.choices)
    # Each order's address: the list's one reversal, around the order's id.
    before, after = order_pages.order_url_around()
    for row in page.rows:
        row["url"] = f"{before}{row['pk']}{after}"
        row["number"] = f"{row['series']}-{row['sequence_number']:06d}"
        row["status_label"] = labels.get(row["status"], row["status"])
        row["remaining"] = row["ordered"] - row["invoiced"] - row["in_draft"]
    return render(
        request,
        "quotes/order_list.html",
        {"page": page, "orders": page.rows, "activity": activity},
    )


def _get_order(request, pk: int) -> Quote:
    order = pages.order_shown_to(request.user, pk)
    if order is None:
        raise Http404(ORDER_NOT_FOUND)
    return order


@login_required
@require_GET
def order_detail(request, pk: int):
    """An order: ordered, invoiced and remaining (excl. VAT), its invoices and contracts."""
    order = _get_order(request, pk)
    version = order.ordered_version
    invoices = pages.order_invoices_of(order)
    figures = orders.order_figures(order, invoices)
    invoiced_steps = {row.schedule_step for row in invoices if row.schedule_step is not None}
    has_deposit = any(row.part == OrderInvoice.Part.DEPOSIT for row in invoices)
    deposit_percent, deposit_step = deposit_of(version.deposit_percent, version.schedule)
    schedule = [
        {
            **row,
            "index": index,
            "done": index in invoiced_steps or (index == deposit_step and has_deposit),
            # Invoiced through the deposit's button.
            "is_deposit": index == deposit_step,
        }
        for index, row in enumerate(schedule_rows(version.schedule or []))
    ]
    contracts = pages.contracts_of(order)
    deposit_done = has_deposit or (deposit_step is not None and deposit_step in invoiced_steps)
    context = {
        "order": order,
        "version": version,
        # A newer version under way (sent to the client, accepted, waiting for staff…).
        "amendment": order.current_version if order.current_version_id != version.pk else None,
        "figures": figures,
        "invoices": invoices,
        "schedule": schedule,
        "contracts": contracts,
        "deposit_percent": deposit_percent,
        # With a schedule, its first step due at the order is the deposit: one button, not two.
        "can_invoice_deposit": bool(deposit_percent) and not deposit_done,
        "can_invoice_balance": figures.remaining > 0,
        "can_make_contract": version.work_start is not None and version.work_end is not None,
    }
    return render(request, "quotes/order_detail.html", context)


@login_required
@require_POST
def order_invoice(request, pk: int):
    """Draw up the deposit, a part of the schedule or the balance as a draft invoice."""
    order = _get_order(request, pk)
    part = request.POST.get("part", "")
    index = request.POST.get("index")
    try:
        schedule_index = int(index) if index not in (None, "") else None
    except ValueError:
        schedule_index = -1
    try:
        link = orders.create_order_invoice(
            user=request.user,
            quote=order,
            part=part,
            today=timezone.localdate(),
            schedule_index=schedule_index,
        )
    except CoopError as error:
        messages.error(request, error.message)
        return redirect("orders:order_detail", pk=order.pk)
    messages.success(request, _("The invoice is drawn up as a draft: check it, then submit it."))
    return redirect("invoicing:invoice_detail", pk=link.invoice_id)


def _chosen_days(request) -> tuple[list[datetime.date], bool]:
    """The days ticked on the form, and whether one could not be read."""
    chosen, unreadable = [], False
    for raw in request.POST.getlist("days"):
        if not raw.strip():
            continue
        try:
            chosen.append(datetime.date.fromisoformat(raw))
        except ValueError:
            unreadable = True
    return chosen, unreadable


@login_required
@require_http_methods(["GET", "POST"])
def order_contract(request, pk: int):
    """Choose the work days (the order's weekdays, ticked unless the member already works that
    day on another contract), then draw up a draft contract for the order, linked to it."""
    order = order_pages.order_shown_to(request.user, pk)
    if order is None:
        raise Http404(ORDER_NOT_FOUND)
    today = timezone.localdate()
    proposed = order_work_days(order, today=today)
    error = ""
    chosen = None
    if request.method == "POST":
        chosen, unreadable = _chosen_days(request)
        if unreadable:
            error = _("A work day could not be read: tick the days again.")
        else:
            try:
                contract = create_contract_from_order(
                    user=request.user, order=order, today=today, days=chosen
                )
            except ContractsError as refusal:
                error = refusal.message
            else:
                done = _(
                    "The contract is drawn up as a draft from the order: check its days and wage."
                )
                messages.success(request, done)
                return redirect("contracts:edit", pk=contract.pk)
    days = sorted(set(proposed) | set(chosen or []))
    taken = order_pages.taken_days(request.user, days)
    ticked = set(chosen) if chosen is not None else {day for day in proposed if day not in taken}
    rows = [{"date": day, "ticked": day in ticked, "taken_by": taken.get(day)} for day in days]
    context = {
        "order": order,
        "version": order.ordered_version,
        "days": rows,
        "error": error,
    }
    return render(request, "quotes/order_contract.html", context, status=400 if error else 200)
