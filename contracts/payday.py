"""Pay on time: the scheduled payroll run, and the payments at risk of missing their date.

The cooperative promises pay within 7 Belgian working days after the work (DOMAIN.md §1). A
worker's pay date has come once the work is over: every hour (Celery beat) ``pay_due_work`` runs
payroll over the work that ended up to yesterday, through ``run_payroll``, which takes a
transaction-level advisory lock and pays a worker once (a partial unique index on regular
payslips): running it twice, late or at the same time pays nobody twice.

``at_risk`` lists, for staff, the work that would miss its date, some working days before it
does (``COOP_PAYROLL_WARNING_WORKING_DAYS``): a contract still waiting for approval (work may
not start undeclared), a worker not declared, a member without an IBAN (the bank transfer
needs one), an Activity whose available money does not cover the salary's employer cost.
"""

import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import models
from django.db.models import Case, Exists, OuterRef, Q, Subquery, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contracts.bulk import any_of
from contracts.errors import ContractsError
from contracts.models import (
    Contract,
    ContractWorker,
    DimonaDeclaration,
    PayrollRun,
    Payslip,
)
from contracts.payroll import is_belgian_working_day, pay_date
from contracts.services.payroll import run_payroll
from members.models import ActivityBalance, Member

AWAITING_APPROVAL = [Contract.Status.SUBMITTED, Contract.Status.CHANGES_REQUESTED]
APPROVED = [Contract.Status.APPROVED, Contract.Status.IN_PROGRESS, Contract.Status.COMPLETED]


class Risk(models.TextChoices):
    NOT_APPROVED = "not_approved", _("Contract not approved")
    NOT_DECLARED = "not_declared", _("Not declared (Dimona)")
    NO_IBAN = "no_iban", _("No IBAN")
    LOW_BUDGET = "low_budget", _("Activity budget too low")


ADVICE = {
    Risk.NOT_APPROVED: _(
        "Approve the contract (or ask for changes) before its first work day: work that was "
        "not declared before it starts cannot be paid."
    ),
    Risk.NOT_DECLARED: _(
        "Look at the contract's Dimona declarations: without an accepted declaration the work "
        "cannot be paid; correct it with ONSS or cancel the contract."
    ),
    Risk.NO_IBAN: _(
        "Ask the member to enter their IBAN in their profile: the salary is paid by bank transfer."
    ),
    Risk.LOW_BUDGET: _(
        "The Activity's available money does not cover the employer cost: check that the "
        "client was invoiced and is followed up, or that the guarantee fund covers it."
    ),
}


def add_working_days(day: datetime.date, count: int) -> datetime.date:
    """The Belgian working day ``count`` working days after ``day``."""
    while count > 0:
        day += datetime.timedelta(days=1)
        if is_belgian_working_day(day):
            count -= 1
    return day


def working_days_between(start: datetime.date, end: datetime.date) -> int:
    """Belgian working days after ``start`` up to ``end`` (negative when ``end`` is earlier)."""
    sign, (low, high) = (1, (start, end)) if end >= start else (-1, (end, start))
    count, day = 0, low
    while day < high:
        day += datetime.timedelta(days=1)
        count += is_belgian_working_day(day)
    return sign * count


def pay_due_work(
    *, today: datetime.date, now: datetime.datetime | None = None
) -> PayrollRun | None:
    """Pay every declared worker whose work is over and not yet paid; None when nobody is due.

    Runs on Belgian working days only (the bank pays on those); the working days skipped do not
    count in the 7 either. Work that ended more than ``COOP_PAYROLL_CATCH_UP_DAYS`` ago is left
    to staff, who see it among the payments at risk.
    """
    if not is_belgian_working_day(today):
        return None
    try:
        return run_payroll(
            staff_user=None,
            period_start=today - datetime.timedelta(days=settings.COOP_PAYROLL_CATCH_UP_DAYS),
            period_end=today - datetime.timedelta(days=1),
            today=today,
            now=now or timezone.now(),
        )
    except ContractsError as error:
        if error.code == "nothing_to_pay":
            return None
        raise


def last_work_day_due_by(day: datetime.date) -> datetime.date:
    """The latest last work day whose pay date is on ``day`` or earlier."""
    last = day
    while pay_date(last) > day:
        last -= datetime.timedelta(days=1)
    return last


def at_risk(*, today: datetime.date, warning_days: int | None = None):
    """Workers not paid yet whose pay (or approval) date falls within the warning days, or has
    passed, and what stands in the way (``risk``, the first that applies).

    Bounded by dates on the indexed ``(status, first_work_day)`` and ``(status,
    last_work_day)`` of contracts: only the few weeks around today are read, and each of their
    workers is looked up by key (payslip, Dimona, member, Activity balance): nothing is joined
    whole. At 150,000 contracts the window holds some 10,000 contracts and 36,000 workers
    (EXPLAIN ANALYZE on a loaded machine: 0.28-0.30 s with the member joined and a sequential
    scan of 100,000 members, 0.19 s now, no sequential scan). Runs one query at once: the
    window's contracts' keys.
    """
    if warning_days is None:
        warning_days = settings.COOP_PAYROLL_WARNING_WORKING_DAYS
    horizon = add_working_days(today, warning_days)
    oldest = today - datetime.timedelta(days=settings.COOP_PAYROLL_CATCH_UP_DAYS)
    declared = DimonaDeclaration.objects.filter(worker=OuterRef("pk"))
    paid = Payslip.objects.filter(worker=OuterRef("pk"), kind=Payslip.Kind.REGULAR)
    available = ActivityBalance.objects.filter(activity=OuterRef("contract__activity")).values(
        "available"
    )[:1]
    in_window = Q(
        contract__status__in=AWAITING_APPROVAL,
        contract__first_work_day__lte=horizon,
        contract__last_work_day__gte=oldest,
    ) | Q(
        contract__status__in=APPROVED,
        contract__last_work_day__lte=last_work_day_due_by(horizon),
        contract__last_work_day__gte=oldest,
    )
    risk = Case(
        When(contract__status__in=AWAITING_APPROVAL, then=Value(Risk.NOT_APPROVED.value)),
        When(
            ~Exists(declared.filter(kind=DimonaDeclaration.Kind.DECLARATION))
            | Exists(declared.filter(kind=DimonaDeclaration.Kind.CANCELLATION)),
            then=Value(Risk.NOT_DECLARED.value),
        ),
        # A subquery on the member's primary key, not a join: a join lets the planner read all
        # the members (a sequential scan of 100,000 rows) to hash them for the few at risk.
        When(
            Exists(Member.objects.filter(pk=OuterRef("member_id"), iban="")),
            then=Value(Risk.NO_IBAN.value),
        ),
        When(
            planned_employer_cost__gt=models.functions.Coalesce(
                Subquery(available), Value(0), output_field=models.DecimalField()
            ),
            then=Value(Risk.LOW_BUDGET.value),
        ),
        default=Value(""),
        output_field=models.CharField(),
    )
    # The window's contracts first, by their indexes (some 10,000 at full size), then their
    # workers by the contract's key: joined in one query, the planner may hash all 500,000
    # workers to find them.
    contracts = Contract.objects.filter(
        Q(
            status__in=AWAITING_APPROVAL,
            first_work_day__lte=horizon,
            last_work_day__gte=oldest,
        )
        | Q(
            status__in=APPROVED,
            last_work_day__lte=last_work_day_due_by(horizon),
            last_work_day__gte=oldest,
        )
    ).values_list("pk", flat=True)
    return (
        ContractWorker.objects.filter(in_window, contract__in=any_of(contracts))
        .exclude(Exists(paid))
        .annotate(risk=risk)
        .exclude(risk="")
    )


def deadline_of(worker: ContractWorker) -> datetime.date:
    """The date that must not be missed: the first work day for a contract still awaiting
    approval, the pay date (7 working days after the work) otherwise."""
    contract = worker.contract
    first, last = contract.first_work_day, contract.last_work_day
    assert first is not None and last is not None  # a contract with workers has work days
    if contract.status in AWAITING_APPROVAL:
        return first
    return pay_date(last)


def risk_counts(*, today: datetime.date) -> dict[str, int]:
    """How many payments are at risk, per reason, in one query."""
    rows = at_risk(today=today).order_by().values("risk").annotate(count=models.Count("pk"))
    return {row["risk"]: row["count"] for row in rows}


RISK_COUNTS_SECONDS = 300


def cached_risk_counts(*, today: datetime.date) -> dict[str, int]:
    """``risk_counts`` for the staff home, shown on every admin page view: counted at most
    every five minutes (the list itself, ``at_risk``, is always counted afresh)."""
    key = ":".join(
        [
            "payday:risk_counts",
            today.isoformat(),
            str(settings.COOP_PAYROLL_WARNING_WORKING_DAYS),
            str(settings.COOP_PAYROLL_CATCH_UP_DAYS),
        ]
    )
    counts = cache.get(key)
    if counts is None:
        counts = risk_counts(today=today)
        cache.set(key, counts, RISK_COUNTS_SECONDS)
    return counts
