"""The member's page of an order (a confirmed quote): what is ordered, invoiced and left, its
invoices and contracts, and the buttons that draw up the next invoice or a contract."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from contracts.errors import ContractsError
from contracts.services.contracts import create_contract_from_order
from coop.errors import CoopError
from quotes import orders, pages, selectors
from quotes.models import OrderInvoice, Quote
from quotes.pdf import schedule_rows

ORDER_NOT_FOUND = "No order matches the given query."


def _get_order(request, pk: int) -> Quote:
    if pk >= 2**63:
        raise Http404(ORDER_NOT_FOUND)
    order = (
        selectors.quotes_visible_to(request.user)
        .filter(pk=pk, status=Quote.Status.CONFIRMED)
        .select_related("client", "activity", "current_version")
        .defer("current_version__snapshot", "current_version__signature")
        .first()
    )
    if order is None:
        raise Http404(ORDER_NOT_FOUND)
    return order


@login_required
@require_GET
def order_detail(request, pk: int):
    """An order: ordered, invoiced and remaining (excl. VAT), its invoices and contracts."""
    order = pages.order_shown_to(request.user, pk)
    if order is None:
        raise Http404(ORDER_NOT_FOUND)
    version = order.current_version
    invoices = pages.order_invoices_of(order)
    figures = orders.figures_of(
        order,
        ((row.amount_excl_vat, row.guarantee_released, row.invoice.number) for row in invoices),
    )
    invoiced_parts = {(row.part, row.label) for row in invoices}
    schedule = [
        {
            **row,
            "index": index,
            "done": (OrderInvoice.Part.INSTALMENT, f"{index + 1}. {row['label']}".strip())
            in invoiced_parts,
        }
        for index, row in enumerate(schedule_rows(version.schedule or []))
    ]
    contracts = pages.contracts_of(order)
    has_deposit = any(row.part == OrderInvoice.Part.DEPOSIT for row in invoices)
    context = {
        "order": order,
        "version": version,
        "figures": figures,
        "invoices": invoices,
        "schedule": schedule,
        "contracts": contracts,
        "can_invoice_deposit": bool(version.deposit_percent) and not has_deposit,
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


@login_required
@require_POST
def order_contract(request, pk: int):
    """Draw up a draft contract for the order's work, linked to it."""
    order = _get_order(request, pk)
    try:
        contract = create_contract_from_order(
            user=request.user, order=order, today=timezone.localdate()
        )
    except ContractsError as error:
        messages.error(request, error.message)
        return redirect("orders:order_detail", pk=order.pk)
    messages.success(
        request,
        _("The contract is drawn up as a draft from the order: check its days and wage."),
    )
    return redirect("contracts:edit", pk=contract.pk)
