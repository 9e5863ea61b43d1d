"""Recording contracts and moving them through their life: submit, approve, reject, cancel…"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from audit.services import diff_fields, field_values, record_event
from contracts import dimona
from contracts.errors import ContractsError
from contracts.models import (
    Contract,
    ContractAttachment,
    ContractEvent,
    ContractWorker,
    DimonaDeclaration,
    WorkDay,
)
from contracts.parameters import load_parameters
from contracts.payroll import employer_cost_of
from coop import bounds
from coop.money import has_at_most_cents, round_money
from coop.templatetags.money import euro
from members.models import Activity, LedgerEntryKind, LedgerStage, Member, User
from members.selectors import takes_part_in
from members.services import post_ledger_entry
from quotes.selectors import quotes_visible_to

ZERO = Decimal("0.00")
MAX_DAYS_PER_WORKER = 366
MAX_AMOUNT = Decimal("999999999.99")
MAX_ATTACHMENT_SIZE = 10 * 1024 * 1024
# Recognised by their first bytes, not by the name or the type the browser claims.
ATTACHMENT_SIGNATURES = {
    b"%PDF-": "application/pdf",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
}
Status = Contract.Status


@dataclass(frozen=True)
class DayInput:
    date: datetime.date
    portion: str = WorkDay.Portion.FULL


@dataclass(frozen=True)
class WorkerInput:
    member: Member
    daily_wage: Decimal
    days: list[DayInput] = field(default_factory=list)
    # Artistic work paid for a task: its days count by the cachet rule (contracts.statements).
    is_task_based: bool = False


def _amount(value, *, label: str, field_name: str) -> Decimal:
    if isinstance(value, float | bool):
        raise ContractsError(
            _("The %(label)s must be an exact decimal number.") % {"label": label},
            code="decimal",
            field=field_name,
        )
    try:
        amount = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError) as error:
        raise ContractsError(
            _("The %(label)s is not a number.") % {"label": label}, code="decimal", field=field_name
        ) from error
    if not amount.is_finite() or not has_at_most_cents(amount):
        raise ContractsError(
            _("The %(label)s has more than two decimals.") % {"label": label},
            code="decimals",
            field=field_name,
        )
    if amount < 0 or amount > MAX_AMOUNT:
        raise ContractsError(
            _("The %(label)s is out of range.") % {"label": label}, code="range", field=field_name
        )
    return amount


def _check_activity(user: User, activity: Activity) -> Activity:
    from members.selectors import activities_visible_to

    activity = activities_visible_to(user).filter(pk=activity.pk).first()
    if activity is None:
        raise ContractsError(_("Unknown Activity."), code="activity", field="activity")
    if activity.owner.status != Member.Status.ACTIVE:
        raise ContractsError(
            _("Only the Activities of active members can record contracts."),
            code="member_not_active",
            field="activity",
        )
    return activity


def _check_workers(
    activity: Activity, workers: list[WorkerInput], *, today: datetime.date
) -> list[tuple[WorkerInput, Decimal]]:
    if not workers:
        raise ContractsError(_("Add at least one worker."), code="no_workers", field="workers")
    allowed = {activity.owner_id, *activity.co_members.values_list("pk", flat=True)}
    seen: set[int] = set()
    cleaned = []
    for worker in workers:
        member = worker.member
        if member.pk not in allowed:
            raise ContractsError(
                _("%(name)s is not a member of this Activity.") % {"name": member},
                code="worker_not_in_activity",
                field="workers",
            )
        if member.pk in seen:
            raise ContractsError(
                _("%(name)s is listed twice.") % {"name": member},
                code="worker_twice",
                field="workers",
            )
        seen.add(member.pk)
        if Member.objects.filter(pk=member.pk).values_list("status", flat=True).first() != (
            Member.Status.ACTIVE
        ):
            raise ContractsError(
                _("%(name)s is not an active member.") % {"name": member},
                code="worker_not_active",
                field="workers",
            )
        wage = _amount(worker.daily_wage, label=_("daily wage"), field_name="workers")
        if not worker.days:
            raise ContractsError(
                _("Give the work days of %(name)s.") % {"name": member},
                code="no_days",
                field="workers",
            )
        if len(worker.days) > MAX_DAYS_PER_WORKER:
            raise ContractsError(
                _("A contract covers at most %(count)d days.") % {"count": MAX_DAYS_PER_WORKER},
                code="too_many_days",
                field="workers",
            )
        dates = [day.date for day in worker.days]
        if len(set(dates)) != len(dates):
            raise ContractsError(
                _("A work day of %(name)s is listed twice.") % {"name": member},
                code="day_twice",
                field="workers",
            )
        if any(day.portion not in WorkDay.Portion.values for day in worker.days):
            raise ContractsError(
                _("A work day is a full or a half day."), code="portion", field="workers"
            )
        for day in dates:
            try:
                bounds.check_work_day(day, today=today)
            except bounds.OutOfBounds as error:
                raise ContractsError(error.message, code="day_bounds", field="workers") from None
        first_day = min(dates)
        if first_day <= today:
            raise ContractsError(
                _(
                    "Work days must be after today (%(date)s is not): the contract must be "
                    "approved before work starts."
                )
                % {"date": date_format(first_day, "SHORT_DATE_FORMAT")},
                code="day_in_past",
                field="workers",
            )
        minimum = load_parameters(first_day).minimum_daily_wage
        if wage < minimum:
            raise ContractsError(
                _("The gross daily wage of %(name)s is below the legal minimum of %(minimum)s.")
                % {"name": member, "minimum": euro(minimum)},
                code="wage_below_minimum",
                field="workers",
            )
        cleaned.append((worker, wage))
    return cleaned


def _check_overlaps(workers: list[WorkerInput], *, contract: Contract | None) -> None:
    for worker in workers:
        taken = WorkDay.objects.filter(
            member=worker.member, is_active=True, date__in=[day.date for day in worker.days]
        )
        if contract is not None:
            taken = taken.exclude(worker__contract=contract)
        clash = taken.select_related("worker__contract").order_by("date").first()
        if clash is not None:
            raise ContractsError(
                _("%(name)s already works on contract %(reference)s on %(date)s.")
                % {
                    "name": worker.member,
                    "reference": clash.worker.contract.reference,
                    "date": date_format(clash.date, "SHORT_DATE_FORMAT"),
                },
                code="day_overlap",
                field="workers",
            )


@transaction.atomic
def save_contract(
    *,
    user: User,
    activity: Activity,
    title: str,
    place: str,
    kind: str,
    amount_to_invoice: Decimal,
    workers: list[WorkerInput],
    today: datetime.date,
    client=None,
    description: str = "",
    contract: Contract | None = None,
) -> Contract:
    """Create or replace a contract still in draft (or sent back for changes)."""
    activity = _check_activity(user, activity)
    if contract is not None:
        contract = Contract.objects.select_for_update().get(pk=contract.pk)
        if not contract.is_editable:
            raise ContractsError(
                _("This contract is %(status)s and can no longer be edited.")
                % {"status": contract.get_status_display().lower()},
                code="not_editable",
            )
    if client is not None:
        from invoicing.selectors import clients_visible_to

        if not clients_visible_to(user).filter(pk=client.pk).exists():
            raise ContractsError(_("Unknown client."), code="client", field="client")
    title, place = title.strip(), place.strip()
    if not title:
        raise ContractsError(_("Give the contract a title."), code="title", field="title")
    if not place:
        raise ContractsError(_("Say where the work takes place."), code="place", field="place")
    if kind not in Contract.Kind.values:
        raise ContractsError(_("Choose artistic or non-artistic."), code="kind", field="kind")
    amount = _amount(
        amount_to_invoice, label=_("amount to invoice"), field_name="amount_to_invoice"
    )
    texts = [
        ("title", title, bounds.TITLE_MAX_LENGTH, _("Title")),
        ("place", place, bounds.TITLE_MAX_LENGTH, _("Place of work")),
        ("description", description.strip(), bounds.DESCRIPTION_MAX_LENGTH, _("Description")),
    ]
    for name, text, limit, label in texts:
        try:
            bounds.check_text_length(text, limit=limit, label=label)
        except bounds.OutOfBounds as error:
            raise ContractsError(error.message, code=name, field=name) from None
    cleaned = _check_workers(activity, workers, today=today)
    _check_overlaps(workers, contract=contract)
    all_dates = [day.date for worker in workers for day in worker.days]
    fields = {
        "activity": activity,
        "client": client,
        "title": title,
        "description": description.strip(),
        "place": place,
        "kind": kind,
        "amount_to_invoice": amount,
        "first_work_day": min(all_dates),
        "last_work_day": max(all_dates),
    }
    if contract is None:
        contract = Contract.objects.create(created_by=user, **fields)
        record_event(action="created", obj=contract, actor=user)
    else:
        before = field_values(contract, fields)
        for name, value in fields.items():
            setattr(contract, name, value)
        contract.save(update_fields=list(fields))
        contract.workers.all().delete()
        changes = diff_fields(before, field_values(contract, fields))
        record_event(action="changed", obj=contract, actor=user, changes=changes)
    try:
        with transaction.atomic():
            for worker, wage in cleaned:
                row = ContractWorker.objects.create(
                    contract=contract,
                    member=worker.member,
                    daily_wage=wage,
                    is_task_based=worker.is_task_based and kind == Contract.Kind.ARTISTIC,
                )
                WorkDay.objects.bulk_create(
                    WorkDay(worker=row, member=worker.member, date=day.date, portion=day.portion)
                    for day in sorted(worker.days, key=lambda day: day.date)
                )
    except IntegrityError as error:
        # Another contract took one of these days between the check and the insert.
        raise ContractsError(
            _("A worker already works on another contract on one of these days."),
            code="day_overlap",
            field="workers",
        ) from error
    return contract


def _attachment_type(head: bytes) -> str | None:
    for signature, content_type in ATTACHMENT_SIGNATURES.items():
        if head.startswith(signature):
            return content_type
    return None


@transaction.atomic
def add_attachment(
    *, user: User, contract: Contract, upload: UploadedFile, now: datetime.datetime | None = None
) -> ContractAttachment:
    """Attach a signed quote (PDF, PNG or JPEG, at most 10 MB) to a contract not yet decided."""
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    if contract.status not in (Status.DRAFT, Status.CHANGES_REQUESTED, Status.SUBMITTED):
        raise ContractsError(
            _("Documents can be added only until the contract is decided."), code="not_editable"
        )
    if upload.size is None or upload.size == 0:
        raise ContractsError(_("The file is empty."), code="empty_file", field="file")
    if upload.size > MAX_ATTACHMENT_SIZE:
        raise ContractsError(
            _("The file is larger than %(size)d MB.")
            % {"size": MAX_ATTACHMENT_SIZE // (1024 * 1024)},
            code="file_too_large",
            field="file",
        )
    upload.seek(0)
    content_type = _attachment_type(upload.read(16))
    upload.seek(0)
    if content_type is None:
        raise ContractsError(_("Upload a PDF, PNG or JPEG file."), code="file_type", field="file")
    return ContractAttachment.objects.create(
        contract=contract,
        file=upload,
        content_type=content_type,
        size=upload.size,
        uploaded_by=user,
        uploaded_at=now or timezone.now(),
    )


# Transitions the member who recorded the contract hears about by e-mail.
NOTIFIED = {Status.APPROVED, Status.REJECTED, Status.CHANGES_REQUESTED, Status.CANCELLED}


AUDIT_ACTIONS = {
    Status.SUBMITTED: "submitted",
    Status.APPROVED: "approved",
    Status.REJECTED: "rejected",
    Status.CANCELLED: "cancelled",
}


def _lock(contract: Contract) -> Contract:
    return Contract.objects.select_for_update().select_related("activity").get(pk=contract.pk)


def _move(
    contract: Contract,
    *,
    allowed_from: Iterable[str],
    to_status: str,
    actor: User | None,
    reason: str,
    now: datetime.datetime,
    extra_fields: Iterable[str] = (),
) -> ContractEvent:
    """Check the transition, save the status and write the history row (contract is locked)."""
    if contract.status not in allowed_from:
        raise ContractsError(
            _("A contract that is %(status)s cannot become %(target)s.")
            % {
                "status": contract.get_status_display().lower(),
                "target": Status(to_status).label.lower(),
            },
            code="invalid_transition",
        )
    from_status = contract.status
    contract.status = to_status
    contract.save(update_fields=["status", *extra_fields])
    event = ContractEvent.objects.create(
        contract=contract,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        reason=reason.strip(),
        created_at=now,
    )
    action = AUDIT_ACTIONS.get(to_status, "changed")
    changes = {"status": [from_status, to_status]}
    record_event(action=action, obj=contract, actor=actor, changes=changes, reason=event.reason)
    if to_status in NOTIFIED:
        from contracts.tasks import notify_contract_event_task

        transaction.on_commit(lambda: notify_contract_event_task.delay(event.pk), robust=True)
    return event


def _require_reason(reason: str) -> None:
    if not reason.strip():
        raise ContractsError(_("Give a reason."), code="reason", field="reason")


def _release_days(contract: Contract) -> None:
    WorkDay.objects.filter(worker__contract=contract).update(is_active=False)


@transaction.atomic
def submit_contract(
    *, user: User, contract: Contract, today: datetime.date, now: datetime.datetime | None = None
) -> Contract:
    """Send a draft to staff for approval; its work must not have started."""
    contract = _lock(contract)
    if not contract.workers.exists():
        raise ContractsError(_("Add at least one worker."), code="no_workers")
    if contract.first_work_day is None or contract.first_work_day <= today:
        raise ContractsError(
            _("The first work day has passed: change the dates before submitting."),
            code="day_in_past",
        )
    contract.submitted_at = now or timezone.now()
    _move(
        contract,
        allowed_from=[Status.DRAFT, Status.CHANGES_REQUESTED],
        to_status=Status.SUBMITTED,
        actor=user,
        reason="",
        now=contract.submitted_at,
        extra_fields=["submitted_at"],
    )
    return contract


def planned_cost(contract: Contract) -> list[tuple[ContractWorker, Decimal, Decimal]]:
    """Each worker with the planned gross and employer cost, at the rates of the first day."""
    parameters = load_parameters(contract.first_work_day)
    result = []
    for worker in contract.workers.select_related("member").prefetch_related("days"):
        days = sum((day.fraction for day in worker.days.all()), Decimal("0"))
        gross = round_money(days * worker.daily_wage)
        cost = employer_cost_of(gross, is_artistic=contract.is_artistic, parameters=parameters)
        result.append((worker, gross, cost))
    return result


def _check_independent(staff_user: User, contract: Contract) -> None:
    """Refuse the approval of a contract its approver wrote, works on or shares the Activity of."""
    if (
        contract.created_by_id == staff_user.pk
        or contract.workers.filter(member__user=staff_user).exists()
        or takes_part_in(staff_user, contract.activity)
    ):
        raise ContractsError(
            _(
                "You take part in this contract (you wrote it, work on it or share its "
                "Activity): another staff member must approve it."
            ),
            code="own_contract",
        )


@transaction.atomic
def approve_contract(
    *,
    staff_user: User,
    contract: Contract,
    today: datetime.date,
    reason: str = "",
    now: datetime.datetime | None = None,
    gateway: dimona.DimonaGateway | None = None,
) -> Contract:
    """Approve before the first work day: declare each worker, post the planned salary cost."""
    now = now or timezone.now()
    contract = _lock(contract)
    _check_independent(staff_user, contract)
    if contract.status == Status.SUBMITTED and today >= contract.first_work_day:
        raise ContractsError(
            _(
                "Work started on %(date)s: a contract must be approved and declared before its "
                "first work day."
            )
            % {"date": date_format(contract.first_work_day, "SHORT_DATE_FORMAT")},
            code="too_late",
        )
    workers = planned_cost(contract) if contract.status == Status.SUBMITTED else []
    missing = [worker.member for worker, _gross, _cost in workers if not worker.member.niss]
    if missing:
        raise ContractsError(
            _("No national register number for %(names)s: the work cannot be declared.")
            % {"names": ", ".join(str(member) for member in missing)},
            code="niss_missing",
        )
    contract.approved_at = now
    contract.approved_by = staff_user
    _move(
        contract,
        allowed_from=[Status.SUBMITTED],
        to_status=Status.APPROVED,
        actor=staff_user,
        reason=reason,
        now=now,
        extra_fields=["approved_at", "approved_by"],
    )
    gateway = gateway or dimona.get_gateway()
    joint_committee = (
        dimona.ARTISTIC_JOINT_COMMITTEE if contract.is_artistic else dimona.DEFAULT_JOINT_COMMITTEE
    )
    total = ZERO
    for worker, gross, cost in workers:
        days = [day.date for day in worker.days.all()]
        start, end = min(days), max(days)
        worker_type = "ART" if contract.is_artistic else "OTH"
        acknowledgement = gateway.declare(
            member=worker.member,
            start_date=start,
            end_date=end,
            worker_type=worker_type,
            joint_committee=joint_committee,
        )
        DimonaDeclaration.objects.create(
            worker=worker,
            kind=DimonaDeclaration.Kind.DECLARATION,
            start_date=start,
            end_date=end,
            worker_type=worker_type,
            joint_committee=joint_committee,
            acknowledgement=acknowledgement,
            created_at=now,
        )
        worker.planned_gross = gross
        worker.planned_employer_cost = cost
        worker.save(update_fields=["planned_gross", "planned_employer_cost"])
        total += cost
    if total:
        post_ledger_entry(
            activity=contract.activity,
            kind=LedgerEntryKind.SALARY_COST,
            stage=LedgerStage.PLANNED,
            amount=-total,
            reference=contract.reference,
            description=_("Planned salary cost: %(title)s") % {"title": contract.title},
            author=staff_user,
            source=contract,
            now=now,
        )
    return contract


@transaction.atomic
def reject_contract(
    *, staff_user: User, contract: Contract, reason: str, now: datetime.datetime | None = None
) -> Contract:
    """Refuse a submitted contract, with the reason; its days are free again."""
    _require_reason(reason)
    contract = _lock(contract)
    _move(
        contract,
        allowed_from=[Status.SUBMITTED],
        to_status=Status.REJECTED,
        actor=staff_user,
        reason=reason,
        now=now or timezone.now(),
    )
    _release_days(contract)
    return contract


@transaction.atomic
def request_changes(
    *, staff_user: User, contract: Contract, reason: str, now: datetime.datetime | None = None
) -> Contract:
    """Send a submitted contract back to the member, saying what to change."""
    _require_reason(reason)
    contract = _lock(contract)
    _move(
        contract,
        allowed_from=[Status.SUBMITTED],
        to_status=Status.CHANGES_REQUESTED,
        actor=staff_user,
        reason=reason,
        now=now or timezone.now(),
    )
    return contract


@transaction.atomic
def cancel_contract(
    *,
    user: User,
    contract: Contract,
    reason: str,
    today: datetime.date,
    now: datetime.datetime | None = None,
    gateway: dimona.DimonaGateway | None = None,
) -> Contract:
    """Cancel a contract before its work starts; an approved one is withdrawn from Dimona and
    its planned cost released."""
    _require_reason(reason)
    now = now or timezone.now()
    contract = _lock(contract)
    was_approved = contract.status == Status.APPROVED
    if was_approved and today >= contract.first_work_day:
        raise ContractsError(
            _("Work has started: the contract can no longer be cancelled."), code="started"
        )
    _move(
        contract,
        allowed_from=[Status.DRAFT, Status.SUBMITTED, Status.CHANGES_REQUESTED, Status.APPROVED],
        to_status=Status.CANCELLED,
        actor=user,
        reason=reason,
        now=now,
    )
    _release_days(contract)
    if was_approved:
        gateway = gateway or dimona.get_gateway()
        total = ZERO
        for worker in contract.workers.prefetch_related("declarations"):
            for declaration in worker.declarations.all():
                if declaration.kind != DimonaDeclaration.Kind.DECLARATION:
                    continue
                DimonaDeclaration.objects.create(
                    worker=worker,
                    kind=DimonaDeclaration.Kind.CANCELLATION,
                    start_date=declaration.start_date,
                    end_date=declaration.end_date,
                    worker_type=declaration.worker_type,
                    joint_committee=declaration.joint_committee,
                    acknowledgement=gateway.cancel(acknowledgement=declaration.acknowledgement),
                    created_at=now,
                )
            total += worker.planned_employer_cost
        if total:
            post_ledger_entry(
                activity=contract.activity,
                kind=LedgerEntryKind.SALARY_COST,
                stage=LedgerStage.PLANNED,
                amount=total,
                reference=contract.reference,
                description=_("Planned salary cost released: contract cancelled"),
                author=user,
                source=contract,
                now=now,
            )
    return contract


@transaction.atomic
def start_contract(
    *, contract: Contract, today: datetime.date, actor: User | None = None, now=None
) -> Contract:
    """Mark an approved contract in progress once its first work day has come."""
    contract = _lock(contract)
    if contract.status == Status.APPROVED and today < contract.first_work_day:
        raise ContractsError(_("Work has not started yet."), code="not_started")
    _move(
        contract,
        allowed_from=[Status.APPROVED],
        to_status=Status.IN_PROGRESS,
        actor=actor,
        reason="",
        now=now or timezone.now(),
    )
    return contract


@transaction.atomic
def complete_contract(
    *,
    contract: Contract,
    today: datetime.date,
    actor: User | None = None,
    reason: str = "",
    now=None,
) -> Contract:
    """Mark a contract completed once its last work day has passed."""
    contract = _lock(contract)
    if contract.status in (Status.APPROVED, Status.IN_PROGRESS) and today < (
        contract.last_work_day
    ):
        raise ContractsError(_("Work is not finished yet."), code="not_finished")
    _move(
        contract,
        allowed_from=[Status.APPROVED, Status.IN_PROGRESS],
        to_status=Status.COMPLETED,
        actor=actor,
        reason=reason,
        now=now or timezone.now(),
    )
    return contract


def advance_contracts(*, today: datetime.date) -> int:
    """Start contracts whose first day has come and complete those whose work is over."""
    moved = 0
    for contract in Contract.objects.filter(
        status__in=[Status.APPROVED, Status.IN_PROGRESS], last_work_day__lt=today
    ).only("pk"):
        complete_contract(contract=contract, today=today)
        moved += 1
    for contract in Contract.objects.filter(status=Status.APPROVED, first_work_day__lte=today).only(
        "pk"
    ):
        start_contract(contract=contract, today=today)
        moved += 1
    return moved


@transaction.atomic
def create_invoice_from_contract(*, user: User, contract: Contract, today: datetime.date):
    """Draft the invoice of an approved contract for its client, and link it to the contract."""
    from invoicing.services.drafts import LineInput, save_draft

    contract = _lock(contract)
    if contract.invoice_id is not None:
        raise ContractsError(_("This contract already has an invoice."), code="already_invoiced")
    if contract.status not in (Status.APPROVED, Status.IN_PROGRESS, Status.COMPLETED):
        raise ContractsError(_("Only approved contracts can be invoiced."), code="not_approved")
    if contract.client is None:
        raise ContractsError(
            _("Choose the contract's client before invoicing."), code="no_client", field="client"
        )
    if contract.amount_to_invoice <= 0:
        raise ContractsError(_("There is nothing to invoice."), code="nothing_to_invoice")
    invoice = save_draft(
        user=user,
        activity=contract.activity,
        client=contract.client,
        lines=[
            LineInput(
                description=f"{contract.title} ({contract.first_work_day:%d/%m/%Y}"
                f" – {contract.last_work_day:%d/%m/%Y}, {contract.place})",
                quantity=Decimal("1"),
                unit="piece",
                unit_price=contract.amount_to_invoice,
            )
        ],
        today=today,
        buyer_reference=contract.reference,
    )
    contract.invoice = invoice
    contract.save(update_fields=["invoice"])
    return invoice


@transaction.atomic
def notify_contract_event(*, event: ContractEvent, now: datetime.datetime | None = None) -> bool:
    """E-mail the member who recorded the contract about a step, once."""
    event = (
        ContractEvent.objects.select_for_update()
        .select_related("contract__created_by", "contract__activity__owner")
        .get(pk=event.pk)
    )
    if event.notified_at is not None or event.to_status not in NOTIFIED:
        return False
    contract = event.contract
    user = contract.created_by
    member = Member.objects.filter(user=user).first() or contract.activity.owner
    with translation.override(member.preferred_language):
        context = {"contract": contract, "event": event, "site_url": settings.SITE_URL}
        subject = render_to_string("contracts/emails/event_subject.txt", context).strip()
        body = render_to_string("contracts/emails/event.txt", context)
    send_mail(subject, body, None, [user.email])
    event.notified_at = now or timezone.now()
    event.save(update_fields=["notified_at"])
    return True


def order_work_days(order, *, today: datetime.date) -> list[datetime.date]:
    """The weekdays of the order's work dates, from tomorrow at the earliest: the days a
    contract from the order proposes."""
    version = order.ordered_version
    if version is None or version.work_start is None or version.work_end is None:
        return []
    first = max(version.work_start, today + datetime.timedelta(days=1))
    return [
        first + datetime.timedelta(days=offset)
        for offset in range((version.work_end - first).days + 1)
        if (first + datetime.timedelta(days=offset)).weekday() < 5
    ][:MAX_DAYS_PER_WORKER]


@transaction.atomic
def create_contract_from_order(
    *, user: User, order, today: datetime.date, days: list[datetime.date] | None = None
) -> Contract:
    """Draw up a draft contract for a client's confirmed order: its Activity and client, its
    title and description, the amount ordered (excl. VAT), and the member's work on ``days``
    (by default each weekday of the order's work dates, from tomorrow at the earliest) at the
    legal minimum daily wage, for the member to adjust before submitting it. The contract
    links the order. A day the member already works on another contract is refused, named.
    """
    order = (
        quotes_visible_to(user)
        .select_for_update(of=("self",))
        .select_related("ordered_version", "client", "activity")
        .filter(pk=order.pk, ordered_version__isnull=False)
        .first()
    )
    if order is None:
        raise ContractsError(_("Only a confirmed order leads to a contract."), code="order")
    version = order.ordered_version
    if days is None:
        days = order_work_days(order, today=today)
        if version.work_start is not None and version.work_end is not None and not days:
            raise ContractsError(
                _("The order's work dates are past: record the contract with its days yourself."),
                code="order_dates",
            )
    if not days:
        if version.work_start is None or version.work_end is None:
            raise ContractsError(
                _("The order gives no work dates: record the contract with its days yourself."),
                code="order_dates",
            )
        raise ContractsError(_("Choose at least one work day."), code="no_days", field="days")
    member = Member.objects.filter(user=user).first() or order.activity.owner
    day_inputs = [DayInput(date=day) for day in sorted(set(days))]
    contract = save_contract(
        user=user,
        activity=order.activity,
        title=version.title,
        place=order.client.city or order.client.name,
        kind=Contract.Kind.NON_ARTISTIC,
        amount_to_invoice=version.total_excl_vat,
        workers=[
            WorkerInput(
                member=member,
                daily_wage=load_parameters(day_inputs[0].date).minimum_daily_wage,
                days=day_inputs,
            )
        ],
        today=today,
        client=order.client,
        description=version.description,
    )
    contract.order = order
    contract.save(update_fields=["order"])
    record_event(
        action="linked_to_order",
        obj=contract,
        actor=user,
        changes={"order": [None, order.number]},
    )
    return contract
