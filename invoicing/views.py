"""Member pages of invoicing: clients, drafts, invoices, their documents and credit notes."""

import functools
import logging
from decimal import Decimal
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import F, Q, QuerySet, TextField
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template import Context
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from audit.services import record_event
from coop.compiled import CompiledInstances, CompiledQuery
from coop.forms import add_service_error
from coop.idempotency import one_time_form
from coop.keyset import cursor_from, keyset_page
from coop.templatetags.form_fields import form_fields
from invoicing import amounts, detail, hooks, selectors, vat
from invoicing.calculation import Line, Totals, VatGroup, compute_totals
from invoicing.errors import InvoicingError
from invoicing.forms import (
    BaseAllowanceChargeFormSet,
    BaseLineFormSet,
    ClientEditForm,
    ClientForm,
    ClientLookupForm,
    ClientSearchForm,
    CreditNoteRequestForm,
    DraftForm,
    InvoiceFilterForm,
    ResendForm,
    allowance_charge_formset,
    credit_line_formset,
    initial_allowance_charges,
    initial_lines,
    line_formset,
)
from invoicing.models import (
    ZERO,
    Client,
    Invoice,
    InvoiceAllowanceCharge,
    InvoiceDocument,
    InvoiceLine,
    is_overdue,
)
from invoicing.services import clients as client_services
from invoicing.services import credit, documents, drafts, issue
from invoicing.services.drafts import AllowanceChargeInput, LineInput
from invoicing.vat import rate_name
from members.models import Activity, Member, User
from members.onboarding import onboarding_redirect
from members.selectors import member_of

logger = logging.getLogger(__name__)

PAGE_SIZE = 25
UNIT_LABELS = dict(InvoiceLine.Unit.choices)
# Snapshots hold UN/ECE rec. 20 unit codes (see invoicing.services.issue.UNIT_CODES).
SNAPSHOT_UNITS = {"HUR": "hour", "DAY": "day", "C62": "piece"}
DOWNLOADS: dict[str, tuple[str, str]] = {
    InvoiceDocument.Format.PDF: ("pdf", "application/pdf"),
    InvoiceDocument.Format.UBL: ("xml", "application/xml"),
}


def _onboarding_unless_active_member_or_staff(request) -> HttpResponse | None:
    """Let staff and active members create; send whoever is not a member yet to their
    checklist (members.onboarding); refuse suspended and departed members."""
    if request.user.is_staff:
        return None
    # The profile was read with the signed-in user (members.backends), status included.
    if (response := onboarding_redirect(request)) is not None:
        return response
    if member_of(request.user).status != Member.Status.ACTIVE:
        raise PermissionDenied(_("Your membership must be approved before you invoice."))
    return None


def _get_invoice(request, pk: int, invoices: QuerySet[Invoice] | None = None) -> Invoice:
    return get_object_or_404(selectors.invoices_visible_to(request.user, invoices), pk=pk)


def _get_invoice_to_show(request, pk: int) -> Invoice:
    """The invoice as its page shows it (``detail.invoice_shown_to``); 404 if the user does
    not see it."""
    invoice = detail.invoice_shown_to(request.user, pk)
    if invoice is None:
        raise Http404("No Invoice matches the given query.")
    return invoice


def _get_client(request, pk: int):
    return get_object_or_404(selectors.clients_visible_to(request.user), pk=pk)


# Clients


@login_required
def client_list(request):
    """List the user's clients, searched by name or VAT number."""
    search = ClientSearchForm(request.GET)
    query = search.cleaned_data["q"].strip() if search.is_valid() else ""
    clients = selectors.clients_visible_to(request.user).order_by("name", "pk")
    if query:
        condition = Q(name__icontains=query)
        compact = "".join(character for character in query if character.isalnum())
        if compact:
            condition |= Q(vat_number__icontains=compact)
        clients = clients.filter(condition)
    page = Paginator(clients, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request, "invoicing/client_list.html", {"search": search, "query": query, "page": page}
    )


def _looked_up_initial(request) -> tuple[dict, ClientLookupForm]:
    """Prefill a new client from the public identification of a VAT number, if asked."""
    lookup = ClientLookupForm(
        request.GET if "lookup-vat_number" in request.GET else None, prefix="lookup"
    )
    if not lookup.is_bound or not lookup.is_valid():
        return {}, lookup
    try:
        found = client_services.look_up_vat_number(**lookup.cleaned_data)
    except InvoicingError as error:
        add_service_error(lookup, error)
        return {}, lookup
    initial = {
        field: found[field]
        for field in ("vat_number", "peppol_id", "country", "name", "street", "postal_code", "city")
        if found.get(field)
    }
    initial["kind"] = Client.Kind.COMPANY
    if found["verified"]:
        messages.info(
            request, _("The registered name and address of this VAT number are filled in.")
        )
    else:
        messages.info(
            request,
            _("The cooperative has not checked this VAT number yet: enter the client's details."),
        )
    return initial, lookup


@login_required
@require_http_methods(["GET", "POST"])
@one_time_form
def client_create(request):
    """Add a client to the member's own records, prefilled from a VAT number if asked."""
    if (response := _onboarding_unless_active_member_or_staff(request)) is not None:
        return response
    initial, lookup = _looked_up_initial(request) if request.method == "GET" else ({}, None)
    form = ClientForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            client, created = client_services.create_client(owner=request.user, **form.cleaned_data)
        except InvoicingError as error:
            add_service_error(form, error)
        else:
            if created:
                messages.success(request, _("Client “%(name)s” added.") % {"name": client.name})
            else:
                messages.info(
                    request,
                    _("You already have this client: “%(name)s”.") % {"name": client.name},
                )
            if request.GET.get("then") == "invoice":
                query = urlencode({"client": client.pk})
                return redirect(f"{reverse('invoicing:invoice_create')}?{query}")
            return redirect("invoicing:client_list")
    lookup = lookup or ClientLookupForm(prefix="lookup")
    return render(request, "invoicing/client_form.html", {"form": form, "lookup": lookup})


@login_required
@require_http_methods(["GET", "POST"])
def client_edit(request, pk: int):
    """Correct a client's details; issued invoices keep the details they were issued with."""
    client = _get_client(request, pk)
    form = ClientEditForm(request.POST or None, initial=ClientForm.initial_from(client))
    if request.method == "POST" and form.is_valid():
        try:
            client = client_services.update_client(client=client, **form.cleaned_data)
        except InvoicingError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Client “%(name)s” saved.") % {"name": client.name})
            return redirect("invoicing:client_list")
    return render(request, "invoicing/client_form.html", {"form": form, "client": client})


# Invoice list


@functools.cache
def _invoice_list_rows() -> QuerySet[dict]:
    """What a row of the invoice list shows (see invoicing/templatetags/invoice_rows.py).

    Built once per process, never evaluated itself: callers get copies."""
    return Invoice.objects.with_settled_amounts().values(
        "pk",
        "kind",
        "status",
        "number",
        "issue_date",
        "due_date",
        "total_incl_vat",
        "amount_paid",
        "amount_credited",
        "amount_refunded",
        activity_name=F("activity__name"),
        # The list names each buyer as the invoice does, read from the frozen data in SQL: the
        # whole snapshot of each row is not loaded (its JSON costs more than the rest of the row).
        list_buyer_name=Coalesce(
            KT("snapshot__buyer__name"), F("client__name"), output_field=TextField()
        ),
    )


# The first page of a member's list, unfiltered: the one most asked for.
_FIRST_LIST_PAGE = selectors.first_page_query(_invoice_list_rows)
# The names of the user's Activities and clients, for the list's filters.
_ACTIVITY_NAMES = CompiledQuery(
    Activity,
    lambda _shape, user: Activity.objects.of_user(user).order_by("name", "pk").values("pk", "name"),
    user=int,
)
_CLIENT_NAMES = CompiledQuery(
    Client,
    lambda _shape, user: (
        Client.objects.filter(owner=user).order_by("name", "pk").values("pk", "name")
    ),
    user=int,
)


def _add_list_amounts(rows: list[dict], today) -> None:
    """Set ``amount_due``, ``amount_to_refund`` and ``overdue`` on the list's rows (as
    invoicing.amounts.add_amounts_due and Invoice.is_overdue)."""
    for invoice in rows:
        left = amounts.due(
            invoice["total_incl_vat"],
            invoice["amount_paid"],
            invoice["amount_credited"],
            invoice["amount_refunded"],
        )
        invoice["amount_due"] = left
        # As SQL's GREATEST(-due, 0): never a negative zero.
        invoice["amount_to_refund"] = -left if left < 0 else ZERO
        invoice["overdue"] = is_overdue(
            invoice["status"], invoice["kind"], invoice["due_date"], today=today
        )


@login_required
def invoice_list(request):
    """List the user's invoices and credit notes, filtered by status, dates, client, Activity."""
    user = request.user
    # The user's Activities, read once: the filter's select names them, the list is split by them.
    activities = [(row["pk"], row["name"]) for row in _ACTIVITY_NAMES.rows(user=user.pk)]
    clients = [(row["pk"], row["name"]) for row in _CLIENT_NAMES.rows(user=user.pk)]
    filters = InvoiceFilterForm(
        request.GET or None, user=user, activities=activities, clients=clients
    )
    invoices, split = selectors.invoice_list_of(
        user, _invoice_list_rows(), activity_ids=[pk for pk, _name in activities]
    )
    today = timezone.localdate()
    page = None
    if not filters.is_bound and split is not None:
        page = selectors.first_invoice_page(_FIRST_LIST_PAGE, split[1], size=PAGE_SIZE)
    if page is None:
        if filters.is_bound:
            invoices = filters.filter(invoices, today=today)
        page = keyset_page(
            invoices,
            selectors.INVOICE_KEYSET,
            size=PAGE_SIZE,
            cursor=cursor_from(request, selectors.INVOICE_KEYSET, invoices),
            split=split,
        )
    rows = page.rows
    _add_list_amounts(rows, today)
    # A page with rows says it all; an empty one asks whether there is any invoice at all.
    has_any = bool(rows) or selectors.has_invoices(user)
    context = {
        "filters": filters,
        # A filter is set: its form stays open on phones, where it is folded otherwise.
        "filtering": any(request.GET.get(name) for name in filters.fields),
        "page": page,
        "invoices": rows,
        "has_any": has_any,
    }
    return render(request, "invoicing/invoice_list.html", context)


# Drafts


def _to_line(line: LineInput) -> Line:
    return Line(
        quantity=line.quantity,
        unit_price=line.unit_price,
        vat_category=line.vat_category,
        vat_rate=line.vat_rate,
        exemption_reason=line.exemption_reason,
        allowance_percent=line.allowance_percent,
        allowance_fixed=line.allowance_amount or Decimal("0.00"),
    )


def _unchecked_totals(
    lines: list[LineInput], adjustments: list[AllowanceChargeInput], client=None
) -> tuple[Totals, str]:
    """Totals of typed lines and discounts, and the first rule they break once a client is known.

    Until the client is chosen, or when a rule is broken, the lines as typed give the totals.
    """
    totals = compute_totals(_to_line(line) for line in lines)
    problem = ""
    if client is not None and lines:
        try:
            cleaned = drafts.clean_lines(lines, client=client)
            totals = compute_totals(
                cleaned, drafts.clean_allowance_charges(adjustments, lines=cleaned)
            )
        except InvoicingError as error:
            problem = error.message
    return totals, problem


def _vat_rows(totals: Totals) -> list[dict]:
    return [
        {"label": rate_name(group.category, group.rate), "group": group}
        for group in totals.vat_breakdown
    ]


def _preview_context(
    formset: BaseLineFormSet, adjustments: BaseAllowanceChargeFormSet, client=None
) -> dict:
    """Totals of the valid rows, and the first rule they break once a client is chosen."""
    lines = formset.line_inputs()
    totals, problem = _unchecked_totals(lines, adjustments.allowance_charge_inputs(), client)
    warning = ""
    if client is not None and not problem:
        warning = vat.place_of_supply_warning(
            vat.customer_of(client), [(line.vat_category, line.supply_kind) for line in lines]
        )
    return {
        "totals": totals,
        "vat_rows": _vat_rows(totals),
        "problem": problem,
        "warning": warning,
        "incomplete": formset.has_incomplete_rows(),
    }


def _draft_page(request, invoice: Invoice | None = None):
    """Show the draft form; save it, or only add a row or refresh the totals (no JavaScript)."""
    user = request.user
    lines_error = adjustments_error = ""
    not_saved = False
    if request.method == "POST":
        form = DraftForm(request.POST, user=user, invoice=invoice)
        formset = line_formset(request.POST)
        adjustments = allowance_charge_formset(request.POST)
        form_valid = form.is_valid()
        client = form.cleaned_data.get("client")
        preview = _preview_context(formset, adjustments, client)
        if "add_line" in request.POST or "recalculate" in request.POST:
            # Show the rows again as typed, without error messages: the member is not done.
            initial = {name: request.POST.get(name, "") for name in DraftForm.base_fields}
            form = DraftForm(user=user, invoice=invoice, initial=initial)
            extra = 1 if "add_line" in request.POST else 0
            formset = line_formset(initial=formset.rows_as_initial(), extra=extra)
            adjustments = allowance_charge_formset(initial=adjustments.rows_as_initial())
        # "&": validate all three, to show every error.
        elif form_valid & formset.is_valid() & adjustments.is_valid():
            data = form.cleaned_data
            try:
                invoice = drafts.save_draft(
                    user=user,
                    activity=data["activity"],
                    client=data["client"],
                    lines=formset.line_inputs(),
                    today=timezone.localdate(),
                    invoice=invoice,
                    buyer_reference=data["buyer_reference"],
                    order_reference=data["order_reference"],
                    notes=data["notes"],
                    due_date=data["due_date"],
                    supply_date=data["supply_date"],
                    period_start=data["period_start"],
                    period_end=data["period_end"],
                    allowance_charges=adjustments.allowance_charge_inputs(),
                )
            except InvoicingError as error:
                not_saved = True
                if error.field == "lines":
                    lines_error = error.message
                elif error.field == "allowance_charges":
                    adjustments_error = error.message
                else:
                    add_service_error(form, error)
            else:
                messages.success(request, _("Draft saved. Check it, then submit it."))
                return redirect("invoicing:invoice_detail", pk=invoice.pk)
        else:
            not_saved = True
    else:
        if invoice is None:
            initial = {name: request.GET.get(name) for name in ("client", "activity")}
            form = DraftForm(user=user, invoice=invoice, initial=initial)
            formset = line_formset()
            adjustments = allowance_charge_formset()
        else:
            # The rows fill the forms and the totals: read once.
            lines = _DRAFT_LINES.instances(invoice=invoice.pk)
            items = _DRAFT_ALLOWANCE_CHARGES.instances(invoice=invoice.pk)
            form = DraftForm(
                user=user,
                invoice=invoice,
                initial={
                    "activity": invoice.activity_id,
                    "client": invoice.client_id,
                    "buyer_reference": invoice.buyer_reference,
                    "order_reference": invoice.order_reference,
                    "due_date": invoice.due_date,
                    "supply_date": invoice.supply_date,
                    "period_start": invoice.period_start,
                    "period_end": invoice.period_end,
                    "notes": invoice.notes,
                },
            )
            formset = line_formset(initial=initial_lines(lines), extra=1)
            adjustments = allowance_charge_formset(initial=initial_allowance_charges(items))
        totals = _stored_totals(lines, items) if invoice else compute_totals([])
        preview = {"totals": totals, "vat_rows": _vat_rows(totals)}
    context = {
        "invoice": invoice,
        "form": form,
        "formset": formset,
        "adjustments": adjustments,
        "lines_error": lines_error,
        "adjustments_error": adjustments_error,
        "not_saved": not_saved,
        "can_invoice": form.has_activities(),
        "has_clients": form.has_clients(),
        **preview,
    }
    return render(request, "invoicing/invoice_form.html", context)


def _stored_totals(lines, allowance_charges) -> Totals:
    """The totals of a draft as saved: its lines with their discounts, and its own."""
    return compute_totals(
        [line.as_line() for line in lines],
        [item.as_allowance_charge() for item in allowance_charges],
    )


# What the edit form reads of a draft, its lines and its discounts: compiled once per process.
_DRAFT = CompiledInstances(
    Invoice,
    lambda staff, user, pk: (
        selectors.invoices_visible_to(User(pk=user, is_staff=staff), Invoice.objects.all())
        .filter(pk=pk)
        .order_by()
    ),
    user=int,
    pk=int,
)
_DRAFT_LINES = CompiledInstances(
    InvoiceLine,
    lambda _shape, invoice: InvoiceLine.objects.filter(invoice_id=invoice),
    invoice=int,
)
_DRAFT_ALLOWANCE_CHARGES = CompiledInstances(
    InvoiceAllowanceCharge,
    lambda _shape, invoice: InvoiceAllowanceCharge.objects.filter(invoice_id=invoice),
    invoice=int,
)


def _draft_to_edit(request, pk: int) -> Invoice:
    """The invoice the user edits (only its own row); 404 if the user does not see it."""
    # An id beyond any bigint is no row (and no parameter PostgreSQL accepts).
    found = (
        _DRAFT.instances(request.user.is_staff, user=request.user.pk, pk=pk) if pk < 2**63 else []
    )
    if not found:
        raise Http404("No Invoice matches the given query.")
    return found[0]


@login_required
@require_http_methods(["GET", "POST"])
@one_time_form
def invoice_create(request):
    """Draw up a new draft invoice."""
    if (response := _onboarding_unless_active_member_or_staff(request)) is not None:
        return response
    return _draft_page(request)


@login_required
@require_http_methods(["GET", "POST"])
def invoice_edit(request, pk: int):
    """Change a draft, or an invoice staff sent back."""
    invoice = _draft_to_edit(request, pk)
    if not invoice.is_editable or invoice.is_credit_note:
        messages.info(request, _("This invoice was submitted and can no longer be edited."))
        return redirect("invoicing:invoice_detail", pk=invoice.pk)
    return _draft_page(request, invoice)


@login_required
@require_POST
def invoice_preview(request):
    """Return the totals and VAT breakdown of the posted draft form as an HTML fragment."""
    form = DraftForm(request.POST, user=request.user)
    form.is_valid()
    context = _preview_context(
        line_formset(request.POST),
        allowance_charge_formset(request.POST),
        form.cleaned_data.get("client"),
    )
    return render(request, "invoicing/_totals.html", {**context, "live": True})


@login_required
@require_http_methods(["GET", "POST"])
def invoice_delete(request, pk: int):
    """Delete a draft, after a confirmation page."""
    invoice = _get_invoice(request, pk)
    if request.method == "POST":
        try:
            drafts.delete_draft(invoice=invoice)
        except InvoicingError as error:
            messages.error(request, error.message)
            return redirect("invoicing:invoice_detail", pk=invoice.pk)
        messages.success(request, _("Draft deleted."))
        return redirect("invoicing:invoice_list")
    if not invoice.is_editable:
        messages.error(
            request,
            _("Only drafts can be deleted; issued invoices are corrected by a credit note."),
        )
        return redirect("invoicing:invoice_detail", pk=invoice.pk)
    context = {"invoice": invoice, "title": _title(invoice)}
    return render(request, "invoicing/invoice_confirm_delete.html", context)


@login_required
@require_POST
def invoice_submit(request, pk: int):
    """Submit a draft: it is issued at once, or waits for staff review.

    A second click finds the invoice already submitted: the service refuses it, we say so.
    """
    invoice = _get_invoice(request, pk)
    try:
        invoice = issue.submit_invoice(user=request.user, invoice=invoice)
    except InvoicingError as error:
        messages.error(request, error.message)
    else:
        if invoice.is_issued:
            messages.success(
                request,
                _("Issued as %(number)s. It is sent to the client as soon as it is ready.")
                % {"number": invoice.number},
            )
        else:
            messages.info(
                request,
                _("Sent to staff for review: %(reason)s.") % {"reason": invoice.review_reason_text},
            )
    return redirect("invoicing:invoice_detail", pk=invoice.pk)


# Issued invoices


def _totals_from_snapshot(snapshot: dict) -> Totals:
    totals = snapshot["totals"]
    return Totals(
        line_extension=Decimal(totals["line_extension"]),
        allowance_total=Decimal(totals.get("allowance_total", "0.00")),
        charge_total=Decimal(totals.get("charge_total", "0.00")),
        vat=Decimal(totals["vat"]),
        tax_inclusive=Decimal(totals["tax_inclusive"]),
        vat_breakdown=tuple(
            VatGroup(
                category=group["category"],
                rate=Decimal(group["rate"]),
                taxable_amount=Decimal(group["taxable_amount"]),
                vat_amount=Decimal(group["vat_amount"]),
                exemption_reason=group["exemption_reason"],
                exemption_code=group["exemption_code"],
            )
            for group in snapshot["vat_breakdown"]
        ),
    )


def _line_rows(invoice: Invoice) -> tuple[list[dict], Totals]:
    """The lines and totals the invoice shows: as issued, or as drafted."""
    if invoice.is_issued and invoice.snapshot:
        snapshot = invoice.snapshot
        rows = [
            {
                "description": line["description"],
                "quantity": Decimal(line["quantity"]),
                "unit": UNIT_LABELS.get(SNAPSHOT_UNITS.get(line["unit"], ""), line["unit"]),
                "unit_price": Decimal(line["unit_price"]),
                "net_amount": Decimal(line["net_amount"]),
                "category": rate_name(line["vat_category"], Decimal(line["vat_rate"])),
                "rate": Decimal(line["vat_rate"]),
                "exemption_reason": line["exemption_reason"],
                "allowance_amount": Decimal(line.get("allowance_amount") or "0"),
                "allowance_reason": line.get("allowance_reason", ""),
            }
            for line in snapshot["lines"]
        ]
        return rows, _totals_from_snapshot(snapshot)
    lines = list(invoice.lines.all())
    rows = [
        {
            "description": line.description,
            "quantity": line.quantity,
            "unit": line.get_unit_display(),
            "unit_price": line.unit_price,
            "net_amount": line.net_amount,
            "category": rate_name(line.vat_category, line.vat_rate),
            "rate": line.vat_rate,
            "exemption_reason": line.exemption_reason,
            "allowance_amount": line.allowance_amount,
            "allowance_reason": line.allowance_reason,
        }
        for line in lines
    ]
    return rows, _stored_totals(invoice.lines.all(), invoice.allowance_charges.all())


def _allowance_charge_rows(invoice: Invoice) -> list[dict]:
    """The discounts and charges on the whole invoice: as issued, or as drafted."""
    if invoice.is_issued and invoice.snapshot:
        items = invoice.snapshot.get("allowance_charges", [])
        return [
            {
                "is_charge": item["is_charge"],
                "reason": item["reason"],
                "amount": Decimal(item["amount"]),
                "percent": Decimal(item["percent"]) if item["percent"] else None,
                "category": rate_name(item["vat_category"], Decimal(item["vat_rate"])),
                "rate": Decimal(item["vat_rate"]),
            }
            for item in items
        ]
    return [
        {
            "is_charge": item.is_charge,
            "reason": item.reason,
            "amount": item.amount,
            "percent": item.percent,
            "category": rate_name(item.vat_category, item.vat_rate),
            "rate": item.vat_rate,
        }
        for item in invoice.allowance_charges.all()
    ]


def _title(invoice: Invoice) -> str:
    if invoice.is_credit_note:
        if invoice.number:
            return _("Credit note %(number)s") % {"number": invoice.number}
        return _("Requested credit note")
    if invoice.number:
        return _("Invoice %(number)s") % {"number": invoice.number}
    return _("Draft invoice")


def _can_credit(invoice: Invoice) -> bool:
    return (
        invoice.is_issued
        and not invoice.is_credit_note
        and invoice.status != Invoice.Status.CREDITED
    )


# The empty resend form's fields by language (see _blank_resend_form).
_BLANK_RESEND_FORMS: dict[str, SafeString] = {}


def _blank_resend_form() -> SafeString:
    """The empty resend form's fields as ``{% form_fields %}`` writes them: the same for every
    invoice and user, so written once per process and language."""
    language = translation.get_language()
    html = _BLANK_RESEND_FORMS.get(language)
    if html is None:
        html = _BLANK_RESEND_FORMS[language] = form_fields(Context(autoescape=True), ResendForm())
    return html


def _detail_context(invoice: Invoice, *, resend_form: ResendForm | None = None) -> dict:
    rows, totals = _line_rows(invoice)
    ready = set(invoice.ready_formats)
    is_invoice = not invoice.is_credit_note
    shows_payments = invoice.is_issued and is_invoice
    return {
        "invoice": invoice,
        "title": _title(invoice),
        "lines": rows,
        "allowance_charges": _allowance_charge_rows(invoice),
        "totals": totals,
        "vat_rows": _vat_rows(totals),
        "overdue": invoice.is_overdue(timezone.localdate()),
        "client_name": invoice.buyer_name,
        "documents_pending": invoice.is_issued and len(ready) < len(InvoiceDocument.Format),
        "pdf_ready": InvoiceDocument.Format.PDF in ready,
        "ubl_ready": InvoiceDocument.Format.UBL in ready,
        # What the page does not show: the payments of a credit note or of an invoice not
        # issued, the sendings of an invoice not issued (see detail.invoice_shown_to).
        "payments": invoice.payment_rows if shows_payments else [],
        "over_payment_refunds": invoice.over_payment_refund_rows if shows_payments else [],
        "refunds": invoice.refund_rows if invoice.is_issued and not is_invoice else [],
        "credit_notes": invoice.credit_note_rows if is_invoice else [],
        "dispatches": invoice.dispatch_rows if invoice.is_issued else [],
        "can_edit": invoice.is_editable and is_invoice,
        "can_delete": invoice.is_editable,
        "can_credit": _can_credit(invoice),
        "resend_form": resend_form,
        "blank_resend_form": _blank_resend_form() if resend_form is None else "",
        "place_of_supply_warning": issue.place_of_supply_warning(invoice),
    }


@login_required
def invoice_detail(request, pk: int):
    """Show an invoice or credit note, with what can be done with it now."""
    invoice = _get_invoice_to_show(request, pk)
    context = _detail_context(invoice)
    # What apps built on invoicing add to the page, such as the client's questions (portal).
    context["panels"] = hooks.invoice_panels(request, invoice)
    return render(request, "invoicing/invoice_detail.html", context)


def _download(request, pk: int, document_format: str):
    invoice = _get_invoice(request, pk)
    document = invoice.documents.filter(format=document_format).first()
    unreadable = False
    if document is not None and document.is_ready:
        extension, content_type = DOWNLOADS[document_format]
        try:
            handle = document.file.open("rb")
        except OSError:
            logger.exception("Invoice document %s cannot be read from storage", document.pk)
            unreadable = True
        else:
            record_event(action="downloaded", obj=invoice, reason=document_format)
            return FileResponse(
                handle,
                as_attachment=True,
                filename=f"{invoice.number}.{extension}",
                content_type=content_type,
            )
    context = {"invoice": invoice, "title": _title(invoice), "unreadable": unreadable}
    return render(request, "invoicing/document_pending.html", context, status=404)


@login_required
def invoice_pdf(request, pk: int):
    """Download the invoice's PDF; a page says so while it is being prepared."""
    return _download(request, pk, InvoiceDocument.Format.PDF)


@login_required
def invoice_ubl(request, pk: int):
    """Download the invoice's Peppol UBL e-invoice; a page says so while it is being prepared."""
    return _download(request, pk, InvoiceDocument.Format.UBL)


@login_required
@require_POST
def invoice_resend(request, pk: int):
    """Send an issued invoice again by e-mail, to the client or another address."""
    invoice = _get_invoice_to_show(request, pk)
    form = ResendForm(request.POST)
    if not form.is_valid():
        context = _detail_context(invoice, resend_form=form)
        context["panels"] = hooks.invoice_panels(request, invoice)
        return render(request, "invoicing/invoice_detail.html", context)
    try:
        dispatch = documents.request_resend(
            invoice=invoice, user=request.user, recipient=form.cleaned_data["recipient"]
        )
    except InvoicingError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("The invoice will be sent to %(recipient)s.") % {"recipient": dispatch.recipient},
        )
    return redirect("invoicing:invoice_detail", pk=invoice.pk)


@login_required
@require_http_methods(["GET", "POST"])
def invoice_credit(request, pk: int):
    """Ask staff for a credit note on an issued invoice: all of it, or some lines."""
    invoice = detail.invoice_to_credit(request.user, pk)
    if invoice is None:
        raise Http404("No Invoice matches the given query.")
    if not _can_credit(invoice):
        messages.error(request, _("Only issued invoices can be credited."))
        return redirect("invoicing:invoice_detail", pk=invoice.pk)
    is_post = request.method == "POST"
    # Its credit notes and the lines, in three compiled queries, then what is left to credit.
    detail.prefetch_credit_documents(invoice)
    position = credit.credit_position(invoice)
    form = CreditNoteRequestForm(request.POST if is_post else None)
    formset = credit_line_formset(invoice, request.POST if is_post else None)
    lines_error = ""
    if is_post and form.is_valid():
        full_credit = form.cleaned_data["full_credit"]
        if full_credit or formset.is_valid():
            try:
                credit.request_credit_note(
                    user=request.user,
                    invoice=invoice,
                    reason=form.cleaned_data["reason"],
                    lines=None if full_credit else formset.credit_lines(),
                )
            except InvoicingError as error:
                if error.field == "lines" or error.code == "credit_too_large":
                    lines_error = error.message
                else:
                    add_service_error(form, error)
            else:
                messages.success(request, _("Credit note requested: staff will issue it."))
                return redirect("invoicing:invoice_detail", pk=invoice.pk)
    context = {
        "invoice": invoice,
        "title": _title(invoice),
        "form": form,
        "formset": formset,
        "rows": list(zip(formset.forms, position.lines, strict=False)),
        "lines_error": lines_error,
    }
    return render(request, "invoicing/credit_note_form.html", context)
