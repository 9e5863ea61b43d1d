"""Reads scoped to the requesting user: another member's contract or payslip is not found."""

import datetime

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import OuterRef, Prefetch, QuerySet, Value

from contracts.models import (
    C4Certificate,
    Contract,
    ContractAttachment,
    ContractEvent,
    ContractWorker,
    DimonaDeclaration,
    ExpenseClaim,
    ExpenseReceipt,
    Payslip,
    WorkDay,
)
from coop.compiled import AnyOf, Array, CompiledQuery
from invoicing.models import Client
from members.models import Activity, Member, User, of_activities_of
from members.selectors import activities_visible_to


def contracts_visible_to(user: User) -> QuerySet[Contract]:
    """Contracts of the user's Activities or on which the user works (staff: all)."""
    contracts = Contract.objects.select_related("activity", "client", "invoice")
    if user.is_staff:
        return contracts
    return contracts.of_user(user)


def days_taken(
    members: list[int], *, since: datetime.date, contract: int | None
) -> dict[int, dict[datetime.date, str]]:
    """The days each member already works on another contract than ``contract``, from
    ``since``: by member, each date with that contract's reference (one query, through the
    index of a member's days)."""
    days = WorkDay.objects.filter(
        AnyOf("member_id", members), is_active=True, date__gte=since
    ).order_by("date")
    if contract is not None:
        days = days.exclude(worker__contract_id=contract)
    taken: dict[int, dict[datetime.date, str]] = {member: {} for member in members}
    for member, date, other in days.values_list("member_id", "date", "worker__contract_id"):
        taken[member][date] = Contract(pk=other).reference
    return taken


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


# A contract's own columns as the API shows them (``ContractSerializer``).
CONTRACT_COLUMNS = (
    "pk",
    "status",
    "activity_id",
    "client_id",
    "title",
    "description",
    "place",
    "kind",
    "amount_to_invoice",
    "first_work_day",
    "last_work_day",
    "invoice_id",
)


def contract_rows(contracts: QuerySet[Contract], user: User, *more: str) -> QuerySet[dict]:
    """The contracts' own columns (and ``more``) as dicts, with whether the user sees every
    worker (``user_sees_all_workers``).

    No model instance is built: the API writes a page of them from these rows.
    """
    contracts = contracts.select_related(None)
    sees_all = Value(True) if user.is_staff else of_activities_of(user)
    return contracts.values(*CONTRACT_COLUMNS, *more, user_sees_all_workers=sees_all)


def _one_contract(is_staff: bool, *, user: int, contract: int) -> QuerySet[dict]:
    reader = User(pk=user, is_staff=is_staff)
    contracts = contracts_visible_to(reader).filter(pk=contract)
    return contract_rows(contracts, reader, "activity__name", "client__name")


_ONE_CONTRACT = CompiledQuery(Contract, _one_contract, user=int, contract=int)


def contract_row_of(user: User, pk: int) -> dict | None:
    """One contract the user sees (``contract_rows``, with ``activity__name`` and
    ``client__name``), or None: another member's contract is not found.

    The query, with its visibility filter, is compiled once per process.
    """
    rows = _ONE_CONTRACT.rows(user.is_staff, user=user.pk, contract=pk)
    return rows[0] if rows else None


def _workers_of(with_declarations: bool, *, contracts: list[int]) -> QuerySet[dict]:
    days = WorkDay.objects.filter(worker=OuterRef("pk")).order_by("date", "pk")
    arrays = {
        "day_dates": ArraySubquery(days.values("date")),
        "day_portions": ArraySubquery(days.values("portion")),
    }
    if with_declarations:
        declarations = DimonaDeclaration.objects.filter(worker=OuterRef("pk")).order_by(
            "created_at", "pk"
        )
        arrays["declaration_kinds"] = ArraySubquery(declarations.values("kind"))
        arrays["declaration_acknowledgements"] = ArraySubquery(
            declarations.values("acknowledgement")
        )
    return (
        ContractWorker.objects.filter(AnyOf("contract_id", contracts))
        .order_by("pk")
        .values(
            "contract_id",
            "member_id",
            "member__legal_name",
            "member__user_id",
            "daily_wage",
            "planned_employer_cost",
            **arrays,
        )
    )


_WORKERS = CompiledQuery(ContractWorker, _workers_of, contracts=Array)


def worker_rows_shown_to(
    user: User, contracts: list[dict], *, with_declarations: bool = False
) -> dict[int, list[dict]]:
    """The workers the user may see of each contract row (``contract_rows``), by contract id.

    The rule of ``workers_shown_to``, in one query for a whole page: every worker for staff
    and the Activity's members, their own row only for a member hired on another's Activity.
    Each worker's days come as two arrays in date order, ``day_dates`` and ``day_portions``;
    with ``with_declarations``, its Dimona declarations as ``declaration_kinds`` and
    ``declaration_acknowledgements``, oldest first.
    """
    workers = _WORKERS.rows(with_declarations, contracts=[contract["pk"] for contract in contracts])
    by_contract: dict[int, list[dict]] = {contract["pk"]: [] for contract in contracts}
    for worker in workers:
        by_contract[worker["contract_id"]].append(worker)
    for contract in contracts:
        if not contract["user_sees_all_workers"]:
            by_contract[contract["pk"]] = [
                worker
                for worker in by_contract[contract["pk"]]
                if worker["member__user_id"] == user.pk
            ]
    return by_contract


_EVENTS = CompiledQuery(
    ContractEvent,
    lambda _shape, *, contracts: (
        ContractEvent.objects.filter(AnyOf("contract_id", contracts))
        .order_by("created_at", "pk")
        .values(
            "contract_id",
            "from_status",
            "to_status",
            "reason",
            "created_at",
            "actor_id",
            "actor__name",
            "actor__email",
        )
    ),
    contracts=Array,
)


def event_rows_of(contract_pks: list[int]) -> dict[int, list[dict]]:
    """The history of contracts already checked visible, oldest first, as dicts by contract id.

    Each event has its actor's ``actor_id``, ``actor__name`` and ``actor__email`` (None for
    the system's own steps).
    """
    by_contract: dict[int, list[dict]] = {pk: [] for pk in contract_pks}
    for event in _EVENTS.rows(contracts=contract_pks):
        by_contract[event["contract_id"]].append(event)
    return by_contract


_ATTACHMENTS = CompiledQuery(
    ContractAttachment,
    lambda _shape, *, contract: (
        ContractAttachment.objects.filter(contract_id=contract)
        .order_by("uploaded_at", "pk")
        .values("pk", "file")
    ),
    contract=int,
)


def attachment_rows_of(contract_pk: int) -> list[dict]:
    """The attachments of a contract already checked visible, oldest first: ``pk``, ``file``."""
    return _ATTACHMENTS.rows(contract=contract_pk)


def claimable_activities(user: User) -> QuerySet[Activity]:
    """The Activities the user may claim expenses on: those they see, of active owners.

    Staff claim their own expenses too, on their own Activities: never a select of every
    Activity there is.
    """
    activities = activities_visible_to(user).filter(owner__status=Member.Status.ACTIVE)
    if user.is_staff:
        activities = activities.of_user(user)
    return activities


_CLAIMABLE = CompiledQuery(
    Activity,
    lambda is_staff, *, user: claimable_activities(User(pk=user, is_staff=is_staff)).values(
        "pk", "name"
    ),
    user=int,
)


def claimable_activity_choices(user: User) -> list[tuple[int, str]]:
    """The (id, name) pairs of ``claimable_activities``, by name: one query compiled once per
    process."""
    return [(row["pk"], row["name"]) for row in _CLAIMABLE.rows(user.is_staff, user=user.pk)]


def contract_form_activities(user: User, *, activity: int = 0) -> QuerySet[Activity]:
    """The Activities the contract form offers: the user's own and shared ones of active owners.

    Staff draft contracts as members on these pages, on their own Activities (others' are the
    admin's business), plus the one of the contract edited (``activity``, 0 for none).
    """
    activities = activities_visible_to(user).filter(owner__status=Member.Status.ACTIVE)
    if user.is_staff:
        activities = activities.of_user(user) | activities.filter(pk=activity)
    return activities


def contract_form_clients(user: User, *, client: int = 0) -> QuerySet[Client]:
    """The clients the contract form offers, by name: the user's own (staff: their own, plus
    the edited contract's ``client``, 0 for none)."""
    from invoicing.selectors import clients_visible_to

    clients = clients_visible_to(user)
    if user.is_staff:
        clients = clients.filter(owner=user) | clients.filter(pk=client)
    return clients.order_by("name", "pk")


def contract_form_workers(worker_ids) -> QuerySet[Member]:
    """The active members among ``worker_ids``, by name (an index lookup, never a join of the
    members to the Activities)."""
    return Member.objects.filter(pk__in=worker_ids, status=Member.Status.ACTIVE).order_by(
        "legal_name", "pk"
    )


def _form_activity_rows(is_staff: bool, *, user: int, activity: int) -> QuerySet[dict]:
    # Each Activity with the ids of its co-members: with its owner, who may work on it.
    co_members = Activity.co_members.through.objects.filter(activity_id=OuterRef("pk"))
    return contract_form_activities(User(pk=user, is_staff=is_staff), activity=activity).values(
        "pk", "name", "owner_id", co_member_ids=ArraySubquery(co_members.values("member_id"))
    )


_FORM_ACTIVITIES = CompiledQuery(Activity, _form_activity_rows, user=int, activity=int)
_FORM_CLIENTS = CompiledQuery(
    Client,
    lambda is_staff, *, user, client: contract_form_clients(
        User(pk=user, is_staff=is_staff), client=client
    ).values("pk", "name"),
    user=int,
    client=int,
)
_FORM_WORKERS = CompiledQuery(
    Member,
    lambda _shape, *, members: (
        Member.objects.filter(AnyOf("pk", members), status=Member.Status.ACTIVE)
        .order_by("legal_name", "pk")
        .values("pk", "legal_name")
    ),
    members=Array,
)


def contract_form_activity_rows(user: User, *, activity: int = 0) -> list[dict]:
    """``contract_form_activities`` as dicts of ``pk``, ``name``, ``owner_id`` and
    ``co_member_ids``, by name: one query compiled once per process."""
    return _FORM_ACTIVITIES.rows(user.is_staff, user=user.pk, activity=activity)


def contract_form_client_choices(user: User, *, client: int = 0) -> list[tuple[int, str]]:
    """The (id, name) pairs of ``contract_form_clients``: one query compiled once per process."""
    rows = _FORM_CLIENTS.rows(user.is_staff, user=user.pk, client=client)
    return [(row["pk"], row["name"]) for row in rows]


def contract_form_worker_choices(worker_ids) -> list[tuple[int, str]]:
    """The (id, name) pairs of ``contract_form_workers``: one query compiled once per process
    (none without ids)."""
    if not worker_ids:
        return []
    rows = _FORM_WORKERS.rows(members=Array(sorted(worker_ids)))
    return [(row["pk"], row["legal_name"]) for row in rows]


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


def c4_certificates_visible_to(user: User) -> QuerySet[C4Certificate]:
    """The user's own C4 certificates (staff: all)."""
    certificates = C4Certificate.objects.select_related("member")
    if user.is_staff:
        return certificates
    return certificates.filter(member__user=user)
