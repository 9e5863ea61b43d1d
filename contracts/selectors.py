"""Reads scoped to the requesting user: another member's contract or payslip is not found."""

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import OuterRef, Prefetch, QuerySet

from contracts.models import (
    Contract,
    ContractAttachment,
    ContractEvent,
    ContractWorker,
    ExpenseClaim,
    ExpenseReceipt,
    Payslip,
    WorkDay,
)
from members.models import Activity, User, of_activities_of


def contracts_visible_to(user: User) -> QuerySet[Contract]:
    """Contracts of the user's Activities or on which the user works (staff: all)."""
    contracts = Contract.objects.select_related("activity", "client", "invoice")
    if user.is_staff:
        return contracts
    return contracts.of_user(user)


def workers_with_days() -> QuerySet[ContractWorker]:
    """Workers with their member and their days (``ContractWorker.days_in_order``).

    The days come as two arrays of each worker's row, not as one more query.
    """
    days = WorkDay.objects.filter(worker=OuterRef("pk")).order_by("date", "pk")
    return ContractWorker.objects.select_related("member").annotate(
        day_dates=ArraySubquery(days.values("date")),
        day_portions=ArraySubquery(days.values("portion")),
    )


def _workers(*more) -> Prefetch:
    return Prefetch("workers", queryset=workers_with_days().prefetch_related(*more))


def contract_with_details(contracts: QuerySet[Contract]) -> QuerySet[Contract]:
    """Add the workers with their days and declarations, the history and the attachments."""
    return contracts.prefetch_related(
        _workers("declarations"),
        Prefetch("events", queryset=ContractEvent.objects.select_related("actor")),
        "attachments",
    )


def contract_with_workers_and_history(contracts: QuerySet[Contract]) -> QuerySet[Contract]:
    """Add the workers with their days, and the history: what the API shows of a contract."""
    return contracts.prefetch_related(_workers(), "events")


def with_worker_visibility(contracts: QuerySet[Contract], user: User) -> QuerySet[Contract]:
    """Annotate whether the user sees every worker, so a list asks it once, not per contract."""
    return contracts.annotate(user_sees_all_workers=of_activities_of(user))


def workers_shown_to(user: User, contract: Contract) -> list[ContractWorker]:
    """The workers of a contract that the user may see.

    Staff and the members of the contract's Activity see every worker; a member hired on
    someone else's Activity sees only their own row, since pay and declarations are personal.
    """
    workers = list(contract.workers.all())
    if user.is_staff:
        return workers
    sees_all = getattr(contract, "user_sees_all_workers", None)
    if sees_all is None:
        sees_all = Activity.objects.of_user(user).filter(pk=contract.activity_id).exists()
    if sees_all:
        return workers
    return [worker for worker in workers if worker.member.user_id == user.pk]


def attachments_visible_to(user: User) -> QuerySet[ContractAttachment]:
    return ContractAttachment.objects.filter(contract__in=contracts_visible_to(user).values("pk"))


def receipts_visible_to(user: User) -> QuerySet[ExpenseReceipt]:
    """Receipts of the claims the user sees: their own (staff: all)."""
    return ExpenseReceipt.objects.filter(claim__in=expense_claims_visible_to(user).values("pk"))


def payslips_visible_to(user: User) -> QuerySet[Payslip]:
    """The user's own payslips (staff: all): pay and tax details are personal."""
    payslips = Payslip.objects.select_related("worker__contract", "activity", "member")
    if user.is_staff:
        return payslips
    return payslips.filter(member__user=user)


def expense_claims_visible_to(user: User) -> QuerySet[ExpenseClaim]:
    """The user's own expense claims (staff: all)."""
    claims = ExpenseClaim.objects.select_related("activity", "payslip")
    if user.is_staff:
        return claims
    return claims.filter(member__user=user)
