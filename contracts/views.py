"""Member pages for contracts, payslips and the salary simulator."""

import functools
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from audit.services import record_event
from contracts import selectors
from contracts.errors import ContractsError
from contracts.forms import (
    AttachmentForm,
    ContractForm,
    ExpenseClaimForm,
    FormChoices,
    ReasonForm,
    SimulatorForm,
    WorkerFormSet,
    days_text,
    expense_receipt_formset,
)
from contracts.models import (
    Contract,
    ContractWorker,
    DimonaDeclaration,
    ExpenseClaim,
    ExpenseReceipt,
    TaxProfile,
)
from contracts.parameters import parameters_shown
from contracts.payroll import TaxSituation, estimate_pay, simulate
from contracts.services import contracts as services
from contracts.services import expenses
from contracts.services.payroll import tax_situation
from coop.compiled import CompiledInstances
from coop.documents import DocumentStatus
from coop.errors import CoopError
from coop.idempotency import one_time_form
from coop.pagination import Paginator
from members.models import Member, User
from members.onboarding import onboarding_redirect
from members.selectors import is_active_member

PAGE_SIZE = 25


def _show_error(form, error: CoopError) -> None:
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)


def _get_contract(request, pk: int) -> Contract:
    return get_object_or_404(selectors.contracts_visible_to(request.user), pk=pk)


# What the edit form reads of a contract and its workers with their days: compiled once per
# process (building these querysets cost more than running them).
_CONTRACT_TO_EDIT = CompiledInstances(
    Contract,
    lambda staff, user, pk: (
        selectors.contracts_visible_to(User(pk=user, is_staff=staff)).filter(pk=pk).order_by()
    ),
    user=int,
    pk=int,
)
_WORKERS_TO_EDIT = CompiledInstances(
    ContractWorker,
    lambda _shape, contract: selectors.workers_with_days().filter(contract_id=contract),
    contract=int,
)


# The claim the page shows, with its member, Activity and payslip (not the payslip's snapshot).
_CLAIM_SHOWN = CompiledInstances(
    ExpenseClaim,
    lambda staff, user, pk: (
        selectors.expense_claims_visible_to(User(pk=user, is_staff=staff))
        .select_related("member", "allowance")
        .defer("payslip__snapshot")
        .filter(pk=pk)
        .order_by()
    ),
    user=int,
    pk=int,
)


def _contract_to_edit(request, pk: int) -> Contract:
    """The contract the user edits; 404 if the user does not see it."""
    # An id beyond any bigint is no row (and no parameter PostgreSQL accepts).
    found = (
        _CONTRACT_TO_EDIT.instances(request.user.is_staff, user=request.user.pk, pk=pk)
        if pk < 2**63
        else []
    )
    if not found:
        raise Http404(CONTRACT_NOT_FOUND)
    return found[0]


@login_required
def index(request):
    """The user's contracts, newest work first, filtered by status."""
    # Of the related rows the list shows the Activity's name only: no client nor invoice.
    contracts = selectors.contracts_visible_to(request.user).select_related(None)
    contracts = contracts.select_related("activity").order_by("-first_work_day", "-pk")
    status = request.GET.get("status", "")
    if status in Contract.Status.values:
        contracts = contracts.filter(status=status)
    page = Paginator(contracts, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "contracts/contract_list.html",
        {
            "contracts": page,
            "page": page,
            "statuses": Contract.Status.choices,
            "status": status,
        },
    )


def _save(request, contract: Contract | None):
    choices = FormChoices(request.user, contract)
    if contract is None:
        initial, workers_initial = {}, []
        if hasattr(request.user, "member"):
            workers_initial = [{"member": request.user.member}]
    else:
        initial = {
            "activity": contract.activity,
            "client": contract.client,
            "title": contract.title,
            "description": contract.description,
            "place": contract.place,
            "kind": contract.kind,
            "amount_to_invoice": contract.amount_to_invoice,
        }
        workers_initial = [
            {"member": worker.member, "daily_wage": worker.daily_wage, "days": days_text(worker)}
            for worker in _WORKERS_TO_EDIT.instances(contract=contract.pk)
        ]
    data = request.POST if request.method == "POST" else None
    form = ContractForm(data, initial=initial, choices=choices)
    formset = WorkerFormSet(
        data, initial=workers_initial, prefix="workers", form_kwargs={"choices": choices}
    )
    _show_days_taken(formset, contract)
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            saved = services.save_contract(
                user=request.user,
                contract=contract,
                workers=formset.inputs(),
                today=timezone.localdate(),
                **form.cleaned_data,
            )
        except ContractsError as error:
            _show_error(form, error)
        else:
            messages.success(request, _("Contract saved. Submit it for approval when ready."))
            return redirect("contracts:detail", saved.pk)
    return render(
        request,
        "contracts/contract_form.html",
        {"form": form, "formset": formset, "contract": contract},
    )


def _show_days_taken(formset, contract: Contract | None) -> None:
    """Show in each worker's calendar the days the worker already works on another contract,
    before the service refuses them on saving."""
    members = {}
    for form in formset.forms:
        member = form["member"].value()
        member = getattr(member, "pk", member)
        if str(member).isdigit():
            members[form] = int(member)
    if not members:
        return
    taken = selectors.days_taken(
        sorted(set(members.values())),
        since=timezone.localdate(),
        contract=contract.pk if contract is not None else None,
    )
    for form, member in members.items():
        form.show_taken(taken[member])


@login_required
@require_http_methods(["GET", "POST"])
@one_time_form
def contract_create(request):
    """Record a new contract as a draft."""
    if (response := onboarding_redirect(request)) is not None:
        return response
    # The profile read with the user tells whether the member is active (``is_active_member``).
    if request.user.member.status != Member.Status.ACTIVE:
        raise PermissionDenied(_("Only the Activities of active members can record contracts."))
    return _save(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def contract_edit(request, pk: int):
    """Change a draft, or a contract sent back for changes."""
    contract = _contract_to_edit(request, pk)
    if not contract.is_editable:
        messages.error(request, _("This contract can no longer be edited."))
        return redirect("contracts:detail", contract.pk)
    return _save(request, contract)


# What ``get_object_or_404`` says of a contract (a claim) the user does not see.
CONTRACT_NOT_FOUND = f"No {Contract._meta.object_name} matches the given query."
CLAIM_NOT_FOUND = f"No {ExpenseClaim._meta.object_name} matches the given query."
DECLARATION_KINDS = dict(DimonaDeclaration.Kind.choices)
STATUSES = dict(Contract.Status.choices)


@login_required
def contract_detail(request, pk: int):
    """A contract with its workers, days, declarations, attachments and history."""
    row = selectors.contract_row_of(request.user, pk)
    if row is None:
        raise Http404(CONTRACT_NOT_FOUND)
    # Four queries compiled once per process, and dicts: no model instance but the contract's.
    contract = Contract(**{column: row[column] for column in selectors.CONTRACT_COLUMNS})
    workers = selectors.worker_rows_shown_to(request.user, [row], with_declarations=True)[pk]
    return render(
        request,
        "contracts/contract_detail.html",
        {
            "contract": contract,
            "activity_name": row["activity__name"],
            "client_name": row["client__name"],
            "workers": [
                {
                    "name": worker["member__legal_name"],
                    "daily_wage": worker["daily_wage"],
                    "planned_employer_cost": worker["planned_employer_cost"],
                    "days": [
                        {"date": date, "portion": portion}
                        for date, portion in zip(
                            worker["day_dates"], worker["day_portions"], strict=True
                        )
                    ],
                    "declarations": [
                        {"kind": DECLARATION_KINDS.get(kind, kind), "acknowledgement": number}
                        for kind, number in zip(
                            worker["declaration_kinds"],
                            worker["declaration_acknowledgements"],
                            strict=True,
                        )
                    ],
                }
                for worker in workers
            ],
            "estimates": _pay_estimates(request.user, contract, workers),
            "attachments": [
                {"pk": attachment["pk"], "name": attachment["file"].rsplit("/", 1)[-1]}
                for attachment in selectors.attachment_rows_of(pk)
            ],
            "events": [
                {
                    "created_at": event["created_at"],
                    "to_status": STATUSES.get(event["to_status"], event["to_status"]),
                    # ``User.get_full_name``: the name, else the e-mail address.
                    "actor": None
                    if event["actor_id"] is None
                    else event["actor__name"] or event["actor__email"],
                    "reason": event["reason"],
                }
                for event in selectors.event_rows_of([pk])[pk]
            ],
            "cancel_form": ReasonForm(),
            "attachment_form": AttachmentForm(),
            "can_cancel": contract.status
            in (
                Contract.Status.DRAFT,
                Contract.Status.SUBMITTED,
                Contract.Status.CHANGES_REQUESTED,
                Contract.Status.APPROVED,
            ),
            "can_invoice": contract.client_id
            and not contract.invoice_id
            and contract.status
            in (Contract.Status.APPROVED, Contract.Status.IN_PROGRESS, Contract.Status.COMPLETED),
        },
    )


def _pay_estimates(user, contract: Contract, workers: list[dict]) -> list[dict]:
    """Each worker's estimated gross, employer contributions and cost, and, for the reader's
    own work, net pay.

    At the rates in force on the first work day; the net pay follows the reader's tax profile
    and is personal: another worker's is None. Nothing when there is no work day yet or no
    payroll figures for that date.
    """
    if contract.first_work_day is None or not workers:
        return []
    try:
        parameters = parameters_shown(contract.first_work_day)
    except ContractsError:
        return []
    own = [worker["member__user_id"] == user.pk for worker in workers]
    situation = (
        tax_situation(TaxProfile.objects.filter(member__user=user).first())
        if any(own)
        else TaxSituation()
    )
    estimates = []
    for worker, is_own in zip(workers, own, strict=True):
        figures = estimate_pay(
            days=sum((Decimal(portion) for portion in worker["day_portions"]), Decimal("0")),
            daily_wage=worker["daily_wage"],
            is_artistic=contract.is_artistic,
            parameters=parameters,
            situation=situation if is_own else TaxSituation(),
        )
        estimates.append(
            {
                "name": worker["member__legal_name"],
                "gross": figures.gross,
                "employer_contribution": figures.employer_contribution,
                "employer_cost": figures.employer_cost,
                "net": figures.net if is_own else None,
            }
        )
    return estimates


def _act(request, pk: int, action, success: str):
    contract = _get_contract(request, pk)
    try:
        action(contract)
    except ContractsError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success)
    return redirect("contracts:detail", contract.pk)


@login_required
@require_POST
def contract_submit(request, pk: int):
    """Send the contract to staff for approval."""
    return _act(
        request,
        pk,
        lambda contract: services.submit_contract(
            user=request.user, contract=contract, today=timezone.localdate()
        ),
        _("Contract submitted: staff will check it before the first work day."),
    )


@login_required
@require_POST
def contract_cancel(request, pk: int):
    """Cancel the contract (with a reason) before work starts."""
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _act(
        request,
        pk,
        lambda contract: services.cancel_contract(
            user=request.user, contract=contract, reason=reason, today=timezone.localdate()
        ),
        _("Contract cancelled."),
    )


@login_required
@require_POST
def contract_invoice(request, pk: int):
    """Draft the contract's invoice and open it."""
    contract = _get_contract(request, pk)
    try:
        invoice = services.create_invoice_from_contract(
            user=request.user, contract=contract, today=timezone.localdate()
        )
    except CoopError as error:
        messages.error(request, error.message)
        return redirect("contracts:detail", contract.pk)
    messages.success(request, _("Invoice drafted from the contract: check it and submit it."))
    return redirect("invoicing:invoice_detail", invoice.pk)


@login_required
@require_POST
def attachment_add(request, pk: int):
    """Attach a signed quote."""
    contract = _get_contract(request, pk)
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose a file to upload."))
        return redirect("contracts:detail", contract.pk)
    try:
        services.add_attachment(
            user=request.user, contract=contract, upload=form.cleaned_data["file"]
        )
    except ContractsError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Document attached."))
    return redirect("contracts:detail", contract.pk)


@login_required
def attachment_download(request, pk: int):
    attachment = get_object_or_404(selectors.attachments_visible_to(request.user), pk=pk)
    record_event(action="downloaded", obj=attachment)
    return FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=str(attachment),
        content_type=attachment.content_type,
    )


@login_required
def payslips(request):
    """The user's payslips, newest first."""
    # The list shows each payslip's contract, not its Activity nor member (nor their columns).
    payslips = selectors.payslips_visible_to(request.user).select_related(None)
    page = Paginator(
        payslips.select_related("worker__contract").order_by("-pay_date", "-pk"), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    return render(request, "contracts/payslip_list.html", {"payslips": page, "page": page})


@login_required
def payslip_download(request, pk: int):
    payslip = get_object_or_404(selectors.payslips_visible_to(request.user), pk=pk)
    if payslip.status != DocumentStatus.READY:
        messages.info(request, _("This payslip is being prepared; try again in a minute."))
        return redirect("contracts:payslips")
    record_event(action="downloaded", obj=payslip)
    return FileResponse(
        payslip.file.open("rb"),
        as_attachment=True,
        filename=f"{payslip.reference}.pdf",
        content_type="application/pdf",
    )


@login_required
def simulator(request):
    """From an invoice amount to the net salary, with the payroll engine itself."""
    form = SimulatorForm(request.GET or None)
    result = None
    error = None
    if form.is_valid():
        data = form.cleaned_data
        try:
            parameters = parameters_shown(timezone.localdate())
        except ContractsError as problem:
            error = problem.message
        else:
            result = simulate(
                invoice_excl_vat=data["invoice_excl_vat"],
                expenses=data["expenses"],
                is_artistic=data["kind"] == Contract.Kind.ARTISTIC,
                parameters=parameters,
                situation=TaxSituation(household=data["household"], children=data["children"]),
            )
    return render(
        request,
        "contracts/simulator.html",
        {"form": form, "result": result, "error": error},
    )


RECEIPT_ROWS = 3


def _receipt_rows(request) -> int:
    """How many receipt rows the claim form shows: ``?rows=N`` (clamped by the formset)."""
    try:
        return int(request.GET.get("rows", RECEIPT_ROWS))
    except ValueError:
        return RECEIPT_ROWS


def _receipt_inputs(formset) -> list[expenses.ReceiptInput]:
    return [
        expenses.ReceiptInput(
            upload=receipt["receipt"],
            description=receipt["receipt_description"],
            category=receipt["category"],
            spent_on=receipt["spent_on"],
            amount=receipt["amount"],
            vat=receipt["vat"],
        )
        for receipt in formset.cleaned_data
        if receipt
    ]


@functools.lru_cache(maxsize=64)
def _blank_receipt_rows(rows: int, language: str) -> str:
    """The receipt rows of the blank claim form, the same for everyone: rendered once per
    process, number of rows and language (contracts/_receipt_rows.html)."""
    formset = expense_receipt_formset(rows)(prefix="receipts")
    return render_to_string("contracts/_receipt_rows.html", {"formset": formset})


CLAIM_SENT = gettext_lazy("Claim sent: once staff approve it, it is paid with your next salary.")


@login_required
@require_http_methods(["GET", "POST"])
@one_time_form
def expense_claims(request):
    """The user's expense claims, and a form to claim receipts at once or start a draft."""
    if request.method == "POST" and not is_active_member(request.user):
        raise PermissionDenied(_("Only active members can claim expenses."))
    form = ExpenseClaimForm(
        request.POST or None,
        activities=selectors.claimable_activities(request.user),
        read_choices=lambda: selectors.claimable_activity_choices(request.user),
    )
    rows = _receipt_rows(request)
    as_draft = "draft" in request.POST
    formset = expense_receipt_formset(rows, required=not as_draft)(
        request.POST or None, request.FILES or None, prefix="receipts"
    )
    if request.method == "POST" and form.is_valid() & formset.is_valid():
        data = form.cleaned_data
        receipts = _receipt_inputs(formset)
        try:
            if as_draft:
                claim = expenses.start_expense_claim(
                    user=request.user,
                    activity=data["activity"],
                    description=data["description"],
                    receipts=receipts,
                    today=timezone.localdate(),
                )
            else:
                expenses.submit_expense_claim(
                    user=request.user,
                    activity=data["activity"],
                    description=data["description"],
                    receipts=receipts,
                    today=timezone.localdate(),
                )
        except ContractsError as error:
            _show_error(form, error)
        else:
            if as_draft:
                messages.success(
                    request, _("Draft saved: add receipts whenever you like, then send it.")
                )
                return redirect("contracts:expense-claim", pk=claim.pk)
            messages.success(request, str(CLAIM_SENT))
            return redirect("contracts:expenses")
    blank_rows = None
    if not formset.is_bound:
        blank_rows = _blank_receipt_rows(max(1, min(rows, expenses.MAX_RECEIPTS)), get_language())
    claims = selectors.expense_claims_visible_to(request.user).order_by("-created_at", "-pk")
    page = Paginator(claims, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "contracts/expense_claims.html",
        {
            "form": form,
            "formset": formset,
            "more_rows": min(formset.total_form_count() + 1, expenses.MAX_RECEIPTS),
            "blank_receipt_rows": blank_rows,
            "claims": page,
            "page": page,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def expense_claim_detail(request, pk: int):
    """One claim with its receipts; a draft takes more receipts here."""
    # An id beyond any bigint is no row (and no parameter PostgreSQL accepts).
    found = (
        _CLAIM_SHOWN.instances(request.user.is_staff, user=request.user.pk, pk=pk)
        if pk < 2**63
        else []
    )
    if not found:
        raise Http404(CLAIM_NOT_FOUND)
    claim = found[0]
    is_own_draft = claim.status == claim.Status.DRAFT and claim.member.user_id == request.user.pk
    rows = _receipt_rows(request)
    formset = None
    if is_own_draft:
        formset = expense_receipt_formset(rows)(
            request.POST or None, request.FILES or None, prefix="receipts"
        )
    if request.method == "POST":
        if formset is None:
            raise Http404
        if formset.is_valid():
            try:
                expenses.add_receipts(
                    user=request.user,
                    claim=claim,
                    receipts=_receipt_inputs(formset),
                    today=timezone.localdate(),
                )
            except ContractsError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, _("Receipts added to the draft."))
                return redirect("contracts:expense-claim", pk=claim.pk)
    return render(
        request,
        "contracts/expense_claim_detail.html",
        {
            "claim": claim,
            "receipts": claim.receipts.all(),
            "is_own_draft": is_own_draft,
            "formset": formset,
            "blank_receipt_rows": (
                _blank_receipt_rows(max(1, min(rows, expenses.MAX_RECEIPTS)), get_language())
                if formset is not None and not formset.is_bound
                else None
            ),
            "more_rows": min(rows + 1, expenses.MAX_RECEIPTS),
        },
    )


@login_required
@require_POST
def expense_claim_submit(request, pk: int):
    """Send a draft claim to staff."""
    claim = get_object_or_404(selectors.expense_claims_visible_to(request.user), pk=pk)
    try:
        expenses.submit_draft_claim(user=request.user, claim=claim)
    except ContractsError as error:
        messages.error(request, error.message)
        return redirect("contracts:expense-claim", pk=claim.pk)
    messages.success(request, str(CLAIM_SENT))
    return redirect("contracts:expenses")


@login_required
@require_http_methods(["GET", "POST"])
def expense_claim_delete(request, pk: int):
    """Delete a draft claim, after confirming."""
    claim = get_object_or_404(selectors.expense_claims_visible_to(request.user), pk=pk)
    if request.method == "POST":
        try:
            expenses.delete_draft_claim(user=request.user, claim=claim)
        except ContractsError as error:
            messages.error(request, error.message)
            return redirect("contracts:expense-claim", pk=claim.pk)
        messages.success(request, _("Draft deleted."))
        return redirect("contracts:expenses")
    return render(request, "contracts/expense_claim_confirm_delete.html", {"claim": claim})


@login_required
def expense_receipt_download(request, pk: int):
    """The scan of a receipt, for the member who claimed it and for staff."""
    receipt = get_object_or_404(selectors.receipts_visible_to(request.user), pk=pk)
    record_event(action="downloaded", obj=receipt)
    return FileResponse(
        receipt.file.open("rb"),
        as_attachment=True,
        filename=receipt.file.name.rsplit("/", 1)[-1],
        content_type=receipt.content_type,
    )


@login_required
@require_POST
def expense_receipt_remove(request, pk: int):
    """Take a receipt out of a draft claim."""
    receipt = get_object_or_404(
        ExpenseReceipt.objects.select_related("claim"),
        pk=pk,
        claim__in=selectors.expense_claims_visible_to(request.user),
    )
    try:
        expenses.remove_receipt(user=request.user, receipt=receipt)
    except ContractsError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Receipt removed."))
    return redirect("contracts:expense-claim", pk=receipt.claim_id)
