"""Payroll: pay the workers of contracts whose work ended in a period, exactly once."""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import Count, Exists, F, Min, OuterRef, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from audit.services import record_event
from contracts import hooks, sepa
from contracts.allowances import allowances_of, payslip_allowances
from contracts.bulk import any_of, copy_insert
from contracts.dimona import DEFAULT_JOINT_COMMITTEE
from contracts.errors import ContractsError
from contracts.models import (
    Contract,
    ContractEvent,
    ContractWorker,
    DimonaDeclaration,
    ExpenseClaim,
    PayrollRun,
    Payslip,
    TaxProfile,
    WorkDay,
    YearEndPremiumRule,
)
from contracts.parameters import load_parameters, load_year_parameters, year_end_premium_rule
from contracts.payroll import (
    MonthToDate,
    Parameters,
    PayslipFigures,
    TaxSituation,
    YearParameters,
    compute_payslip_in_month,
    exit_holiday_pay,
    is_belgian_working_day,
    pay_date,
    year_end_premium,
)
from coop.money import round_money
from coop.templatetags.money import euro
from members.models import ActivityBalance, LedgerEntryKind, LedgerStage, User
from members.services import ledger_entry, post_ledger_entries, post_ledger_entry

ZERO = Decimal("0.00")
PAYABLE = [Contract.Status.APPROVED, Contract.Status.IN_PROGRESS, Contract.Status.COMPLETED]
# Any constant: serialises payroll runs so two of them never pay the same worker.
PAYROLL_LOCK = 7_340_001
FIGURES = [
    "gross",
    "personal_onss",
    "work_bonus",
    "taxable",
    "withholding_tax",
    "special_contribution",
    "expenses",
    "net",
    "employer_cost",
    "exit_holiday_pay",
    "year_end_premium",
]


def first_working_day_from(day: datetime.date) -> datetime.date:
    while not is_belgian_working_day(day):
        day += datetime.timedelta(days=1)
    return day


def month_bounds(day: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The first day of the month of ``day`` and the first day of the next month."""
    start = day.replace(day=1)
    return start, (start + datetime.timedelta(days=32)).replace(day=1)


def month_to_date(
    *, members: Iterable[int], pay_date: datetime.date, excluding: Payslip | None = None
) -> dict[int, MonthToDate]:
    """What each member's payslips of the pay month of ``pay_date`` counted, in one query.

    The withholding tax follows the date of payment, so a payslip belongs to the month of its
    pay date; an adjustment belongs to the month of the payslip it corrects, because a
    correction redoes that month's calculation (``correct_payslip``). ``excluding`` leaves out
    a payslip and its adjustments.
    """
    start, end = month_bounds(pay_date)
    payslips = Payslip.objects.annotate(
        month_pay_date=Coalesce("corrects__pay_date", "pay_date")
    ).filter(member__in=any_of(members), month_pay_date__gte=start, month_pay_date__lt=end)
    if excluding is not None:
        payslips = payslips.exclude(Q(pk=excluding.pk) | Q(corrects=excluding.pk))
    rows = (
        payslips.order_by()
        .values("member")
        .annotate(
            total_gross=Sum("gross"),
            total_personal_onss=Sum("personal_onss"),
            total_work_bonus=Sum("work_bonus"),
            total_withholding_tax=Sum("withholding_tax"),
            total_special_contribution=Sum("special_contribution"),
            regular_count=Count("pk", filter=Q(kind=Payslip.Kind.REGULAR)),
        )
    )
    return {
        row["member"]: MonthToDate(
            gross=row["total_gross"],
            personal_onss=row["total_personal_onss"],
            work_bonus=row["total_work_bonus"],
            withholding_tax=row["total_withholding_tax"],
            special_contribution=row["total_special_contribution"],
            payslips=row["regular_count"],
        )
        for row in rows
    }


@dataclass
class YearToDate:
    """A member's white-collar pay of one calendar year (by pay date), as exit holiday pay and
    the end-of-year premium need it."""

    wage: Decimal = ZERO  # the days' wages, without exit holiday pay nor premium
    wage_since_exit: Decimal = ZERO  # the part paid after the year's last exit holiday pay
    premium: Decimal = ZERO  # the end-of-year premium already paid in the year
    first_work_day: datetime.date | None = None


def year_to_date(*, members: Iterable[int], year: int) -> dict[int, YearToDate]:
    """Each member's white-collar pay of ``year`` and first work day with the cooperative."""
    members = list(members)
    years: dict[int, YearToDate] = {}
    if not members:
        return years
    rows = (
        Payslip.objects.filter(
            member__in=any_of(members),
            pay_date__gte=datetime.date(year, 1, 1),
            pay_date__lt=datetime.date(year + 1, 1, 1),
            worker__contract__kind=Contract.Kind.NON_ARTISTIC,
            worker__contract__employee_category=Contract.EmployeeCategory.WHITE_COLLAR,
        )
        .order_by()
        .values("member", "pay_date")
        .annotate(
            wage=Sum(F("gross") - F("exit_holiday_pay") - F("year_end_premium")),
            holiday=Sum("exit_holiday_pay"),
            premium=Sum("year_end_premium"),
        )
        .order_by("member", "pay_date")
    )
    for row in rows:
        year_row = years.setdefault(row["member"], YearToDate())
        year_row.wage += row["wage"]
        year_row.premium += row["premium"]
        year_row.wage_since_exit = (
            ZERO if row["holiday"] else year_row.wage_since_exit + row["wage"]
        )
    for member, first in (
        Payslip.objects.filter(member__in=any_of(members), kind=Payslip.Kind.REGULAR)
        .order_by()
        .values("member")
        .annotate(first=Min("worker__contract__first_work_day"))
        .values_list("member", "first")
    ):
        years.setdefault(member, YearToDate()).first_work_day = first
    return years


def _extra_pay(
    worker: ContractWorker,
    *,
    wage: Decimal,
    paid_on: datetime.date,
    year: YearToDate,
    year_parameters: YearParameters,
    rule: YearEndPremiumRule | None,
) -> tuple[dict[str, Decimal], dict]:
    """The exit holiday pay and end-of-year premium a white-collar payslip adds to the wage,
    and what its snapshot records of them; updates ``year`` with this payslip."""
    contract = worker.contract
    extra: dict[str, Decimal] = {}
    recorded: dict = {}
    if contract.ends_engagement:
        holiday = exit_holiday_pay(year.wage_since_exit + wage, year_parameters)
        extra["exit_holiday_pay"] = holiday.total
        recorded["exit_holiday_pay"] = {
            "reference_gross": str(holiday.reference_gross),
            "simple": str(holiday.simple),
            "double": str(holiday.double),
            "complement": str(holiday.complement),
        }
    if rule is not None and (
        paid_on.month == 12 or (contract.ends_engagement and rule.is_paid_at_exit)
    ):
        first = min(filter(None, [year.first_work_day, contract.first_work_day]), default=None)
        due = year_end_premium(
            year_gross=year.wage + wage,
            months_of_pay=rule.months_of_pay,
            first_work_day=first,
            paid_on=paid_on,
            seniority_months=rule.seniority_months,
        )
        premium = max(ZERO, due - year.premium)
        if premium:
            extra["year_end_premium"] = premium
            recorded["year_end_premium"] = {
                "joint_committee": rule.joint_committee,
                "year_gross": str(year.wage + wage),
                "months_of_pay": str(rule.months_of_pay),
                "already_paid": str(year.premium),
                "source": rule.source,
                "unverified": rule.is_unverified,
            }
            year.premium += premium
    year.wage += wage
    year.wage_since_exit = ZERO if contract.ends_engagement else year.wage_since_exit + wage
    if year.first_work_day is None or (
        contract.first_work_day and contract.first_work_day < year.first_work_day
    ):
        year.first_work_day = contract.first_work_day
    return extra, recorded


def tax_situation(profile: TaxProfile | None) -> TaxSituation:
    if profile is None:
        return TaxSituation()
    return TaxSituation(
        household=profile.household,
        children=profile.children,
        is_single_parent=profile.is_single_parent,
        is_disabled=profile.is_disabled,
        other_dependants=profile.other_dependants,
    )


def payable_workers(*, period_start: datetime.date, period_end: datetime.date):
    """Declared workers of approved contracts whose work ended in the period, not yet paid.

    A member without an IBAN waits (the bank transfer needs one): staff see them among the
    payments at risk (``contracts.payday``).
    """
    declarations = DimonaDeclaration.objects.filter(worker=OuterRef("pk"))
    paid = Payslip.objects.filter(worker=OuterRef("pk"), kind=Payslip.Kind.REGULAR)
    return (
        ContractWorker.objects.filter(
            contract__status__in=PAYABLE,
            contract__last_work_day__gte=period_start,
            contract__last_work_day__lte=period_end,
        )
        .filter(Exists(declarations.filter(kind=DimonaDeclaration.Kind.DECLARATION)))
        .exclude(Exists(declarations.filter(kind=DimonaDeclaration.Kind.CANCELLATION)))
        .exclude(Exists(paid))
        .exclude(member__iban="")
    )


def month_snapshot(pay_date: datetime.date, month: MonthToDate) -> dict:
    """The pay month's totals up to and including a payslip, as its PDF shows them."""
    return {"start": month_bounds(pay_date)[0].isoformat(), **month.as_dict()}


def _snapshot(
    worker: ContractWorker,
    days: list[tuple[datetime.date, str]],
    figures: PayslipFigures,
    parameters: Parameters,
    *,
    paid_on: datetime.date,
    deadline: datetime.date,
    month: MonthToDate,
) -> dict:
    contract, member = worker.contract, worker.member
    return {
        "employer": {
            "name": settings.COOP_SELLER["name"],
            "enterprise_number": settings.COOP_SELLER["enterprise_number"],
            "address": f"{settings.COOP_SELLER['street']}, {settings.COOP_SELLER['postal_code']} "
            f"{settings.COOP_SELLER['city']}",
        },
        "member": {
            "name": member.legal_name,
            "address": f"{member.street}, {member.postal_code} {member.city}",
            "niss": member.niss_masked,
            "iban": member.iban_display,
        },
        "contract": {
            "reference": contract.reference,
            "title": contract.title,
            "kind": contract.kind,
            "place": contract.place,
            "activity": contract.activity.name,
        },
        "days": [[date.isoformat(), portion] for date, portion in days],
        "daily_wage": str(worker.daily_wage),
        "figures": figures.as_dict(),
        "month": month_snapshot(paid_on, month),
        "pay_date": paid_on.isoformat(),
        "deadline": deadline.isoformat(),
        "unverified": list(parameters.unverified),
    }


@transaction.atomic
def run_payroll(
    *,
    staff_user: User | None,
    period_start: datetime.date,
    period_end: datetime.date,
    today: datetime.date,
    now: datetime.datetime | None = None,
) -> PayrollRun:
    """Pay every declared worker whose contract's work ended in the period and is not yet paid.

    Creates the payslips (once per worker, however often it runs), debits the employer cost
    from each Activity and releases the planned cost, writes the SEPA file and queues the PDFs.
    A member's payslips of one pay month are computed cumulatively (``month_to_date``).
    """
    now = now or timezone.now()
    if period_end < period_start:
        raise ContractsError(_("The period ends before it starts."), code="period")
    if period_end >= today:
        raise ContractsError(
            _("Only work that is over can be paid: end the period before today."), code="period"
        )
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PAYROLL_LOCK])
    _remove_sepa_files_of_unrecorded_runs()
    workers = list(
        payable_workers(period_start=period_start, period_end=period_end)
        .select_related("contract__activity", "member__tax_profile")
        .order_by("contract__last_work_day", "pk")
    )
    paid_on = first_working_day_from(today)
    if not workers and not hooks.payments_due(pay_date=paid_on):
        raise ContractsError(
            _("Nothing to pay: no approved work ended between %(start)s and %(end)s.")
            % {"start": period_start, "end": period_end},
            code="nothing_to_pay",
        )
    run = PayrollRun.objects.create(
        period_start=period_start, period_end=period_end, created_by=staff_user, created_at=now
    )
    # Tuples, not model instances: a run reads some 175,000 work days.
    days_of: dict[int, list[tuple[datetime.date, str]]] = {}
    for worker_pk, date, portion in (
        WorkDay.objects.filter(worker__in=any_of(worker.pk for worker in workers))
        .order_by("worker", "date")
        .values_list("worker", "date", "portion")
    ):
        days_of.setdefault(worker_pk, []).append((date, portion))
    claims = _claims_to_reimburse(workers)
    allowances = allowances_of([claim.pk for queue in claims.pending.values() for claim in queue])
    months = month_to_date(members={worker.member_id for worker in workers}, pay_date=paid_on)
    # Exit holiday pay and the end-of-year premium: white-collar workers leaving, or paid in
    # December.
    leaving_or_december = {
        worker.member_id
        for worker in workers
        if worker.contract.is_white_collar
        and (worker.contract.ends_engagement or paid_on.month == 12)
    }
    years = year_to_date(members=leaving_or_december, year=paid_on.year)
    year_parameters: YearParameters | None = None
    # White-collar work falls under the default joint committee (contracts.dimona).
    premium_rule = (
        year_end_premium_rule(paid_on, DEFAULT_JOINT_COMMITTEE) if leaving_or_december else None
    )
    parameters_by_day: dict[datetime.date, Parameters] = {}
    payslips = []
    reimbursed: list[tuple[ExpenseClaim, Payslip]] = []
    vat_recovered: dict[int, Decimal] = {}
    for worker in workers:
        contract = worker.contract
        last_day = contract.last_work_day
        if last_day not in parameters_by_day:
            parameters_by_day[last_day] = load_parameters(last_day)
        parameters = parameters_by_day[last_day]
        days = days_of.get(worker.pk, [])
        count = sum((Decimal(portion) for _date, portion in days), Decimal("0"))
        earlier = months.get(worker.member_id, MonthToDate())
        wage = round_money(count * worker.daily_wage)
        situation = tax_situation(getattr(worker.member, "tax_profile", None))
        extra: dict[str, Decimal] = {}
        recorded: dict = {}
        if contract.is_white_collar and (contract.ends_engagement or paid_on.month == 12):
            year_parameters = year_parameters or load_year_parameters(paid_on)
            extra, recorded = _extra_pay(
                worker,
                wage=wage,
                paid_on=paid_on,
                year=years.setdefault(worker.member_id, YearToDate()),
                year_parameters=year_parameters,
                rule=premium_rule,
            )
        figures = compute_payslip_in_month(
            gross=wage,
            is_artistic=contract.is_on_increased_base,
            parameters=parameters,
            situation=situation,
            earlier=earlier,
            **extra,
        )
        paid_claims = claims.take(worker, employer_cost=figures.employer_cost)
        paid_allowances = payslip_allowances(paid_claims, allowances)
        # Allowances beyond their tax-free limits are pay: taxed and subject to social security.
        beyond_limits = Decimal(paid_allowances["taxable"])
        if beyond_limits:
            with_allowances = compute_payslip_in_month(
                gross=wage + beyond_limits,
                is_artistic=contract.is_on_increased_base,
                parameters=parameters,
                situation=situation,
                earlier=earlier,
                **extra,
            )
            claims.charge(worker, with_allowances.employer_cost - figures.employer_cost)
            figures = with_allowances
        months[worker.member_id] = earlier.including(figures)
        if paid_claims:
            expenses = sum((claim.total for claim in paid_claims), ZERO) - beyond_limits
            figures = replace(figures, expenses=expenses, net=figures.net + expenses)
        payslips.append(
            Payslip(
                run=run,
                worker=worker,
                member=worker.member,
                activity=contract.activity,
                pay_date=paid_on,
                days=count,
                language=worker.member.preferred_language,
                created_at=now,
                snapshot=_snapshot(
                    worker,
                    days,
                    figures,
                    parameters,
                    paid_on=paid_on,
                    deadline=pay_date(last_day),
                    month=months[worker.member_id],
                )
                | ({"allowances": paid_allowances} if paid_allowances["lines"] else {})
                | recorded,
                **{name: getattr(figures, name) for name in FIGURES},
            )
        )
        for claim in paid_claims:
            reimbursed.append((claim, payslips[-1]))
            vat_recovered[claim.activity_id] = (
                vat_recovered.get(claim.activity_id, ZERO) + claim.total_vat
            )
    copy_insert(Payslip, payslips)
    for claim, payslip in reimbursed:
        claim.status = ExpenseClaim.Status.REIMBURSED
        claim.payslip = payslip
        claim.save(update_fields=["status", "payslip"])
    _post_run_to_ledgers(run, payslips, vat_recovered, author=staff_user, now=now)
    run.payslip_count = len(payslips)
    run.total_net = sum((payslip.net for payslip in payslips), ZERO)
    run.total_employer_cost = sum((payslip.employer_cost for payslip in payslips), ZERO)
    # Other pay that goes out with the salaries (copyright payments) joins the same file.
    more_transfers = hooks.pay_with_run(run=run, pay_date=paid_on, actor=staff_user, now=now)
    _attach_sepa_file(run, payslips, more_transfers)
    run.save()
    changes = {"payslip_count": [None, run.payslip_count], "total_net": [None, run.total_net]}
    record_event(action="created", obj=run, actor=staff_user, changes=changes)
    _complete_contracts([worker.contract_id for worker in workers], actor=staff_user, now=now)
    _queue_rendering([payslip.pk for payslip in payslips])
    return run


class _Claims:
    """Approved expense claims, paid from money the Activity actually received."""

    def __init__(self, pending: dict[tuple[int, int], list[ExpenseClaim]], available) -> None:
        self.pending = pending
        self.available = available

    def take(self, worker: ContractWorker, *, employer_cost: Decimal) -> list[ExpenseClaim]:
        """Charge this payslip's cost, then take the claims the Activity's money still covers."""
        activity_pk = worker.contract.activity_id
        if activity_pk not in self.available:
            return []
        self.available[activity_pk] -= employer_cost
        queue = self.pending.get((worker.member_id, activity_pk), [])
        taken = []
        while queue and queue[0].total <= self.available[activity_pk]:
            claim = queue.pop(0)
            self.available[activity_pk] -= claim.total
            taken.append(claim)
        return taken

    def charge(self, worker: ContractWorker, amount: Decimal) -> None:
        """Charge a further cost of this payslip (the employer's part on taxable allowances)."""
        self.available[worker.contract.activity_id] -= amount


def _claims_to_reimburse(workers: list[ContractWorker]) -> _Claims:
    pending: dict[tuple[int, int], list[ExpenseClaim]] = {}
    for claim in (
        ExpenseClaim.objects.select_for_update()
        .filter(
            status=ExpenseClaim.Status.APPROVED,
            member__in={worker.member_id for worker in workers},
            activity__in={worker.contract.activity_id for worker in workers},
        )
        .order_by("created_at", "pk")
    ):
        pending.setdefault((claim.member_id, claim.activity_id), []).append(claim)
    available: dict[int, Decimal] = {}
    if pending:
        activities = {activity_pk for _member_pk, activity_pk in pending}
        available = dict.fromkeys(activities, ZERO)
        # The balance rows a trigger keeps equal to the ledger's sums (in this transaction too).
        available.update(
            ActivityBalance.objects.filter(activity__in=activities).values_list(
                "activity", "available"
            )
        )
    return _Claims(pending, available)


def _post_run_to_ledgers(
    run: PayrollRun,
    payslips: list[Payslip],
    vat_recovered: dict[int, Decimal],
    *,
    author: User | None,
    now: datetime.datetime,
) -> None:
    """Debit each Activity once per run: the salaries' employer cost and the expenses paid,
    and release the salary cost planned when the contracts were approved."""
    totals: dict[int, dict[str, Decimal]] = {}
    activities = {}
    for payslip in payslips:
        activities[payslip.activity_id] = payslip.activity
        total = totals.setdefault(
            payslip.activity_id, {"cost": ZERO, "expenses": ZERO, "planned": ZERO, "count": 0}
        )
        total["cost"] += payslip.employer_cost
        total["expenses"] += payslip.expenses
        total["planned"] += payslip.worker.planned_employer_cost
        total["count"] += 1
    reference = _("Payroll run %(number)d") % {"number": run.pk}
    # A run debits thousands of Activities: their entries go in a few statements, not one each.
    ledger = []
    for activity_pk, total in totals.items():
        entries = [
            (
                LedgerEntryKind.SALARY_COST,
                LedgerStage.AVAILABLE,
                -total["cost"],
                ngettext(
                    "Salaries: %(count)d payslip", "Salaries: %(count)d payslips", total["count"]
                )
                % {"count": total["count"]},
            ),
            (
                LedgerEntryKind.EXPENSE_REIMBURSEMENT,
                LedgerStage.AVAILABLE,
                -total["expenses"],
                _("Expenses reimbursed with the salaries"),
            ),
            (
                LedgerEntryKind.ADJUSTMENT,
                LedgerStage.AVAILABLE,
                vat_recovered.get(activity_pk, ZERO),
                _("VAT on the reimbursed receipts, recovered"),
            ),
            (
                LedgerEntryKind.SALARY_COST,
                LedgerStage.PLANNED,
                total["planned"],
                _("Planned salary cost released: paid"),
            ),
        ]
        ledger.extend(
            ledger_entry(
                activity=activities[activity_pk],
                kind=kind,
                stage=stage,
                amount=amount,
                reference=reference,
                description=description,
                author=author,
                source=run,
                now=now,
            )
            for kind, stage, amount, description in entries
            if amount
        )
    post_ledger_entries(ledger)


def _attach_sepa_file(
    run: PayrollRun, payslips: list[Payslip], more_transfers: list[sepa.Transfer]
) -> None:
    transfers = [
        sepa.Transfer(
            name=payslip.member.legal_name,
            iban=payslip.member.iban,
            amount=payslip.net,
            execution_date=payslip.pay_date,
            description=_("Salary %(payslip)s, contract %(contract)s")
            % {"payslip": payslip.reference, "contract": payslip.worker.contract.reference},
            end_to_end_id=payslip.reference,
        )
        for payslip in payslips
        if payslip.net > 0
    ] + more_transfers
    if not transfers:
        return
    content, run.sepa_message_id = sepa.pay_from_cooperative(transfers)
    run.sepa_file.save(f"payroll-{run.pk}.xml", ContentFile(content), save=False)


def _remove_sepa_files_of_unrecorded_runs() -> None:
    """Delete the SEPA files that runs killed before their commit left in storage.

    A run writes its file inside its transaction; when the process dies before the commit,
    the run is rolled back but the file stays, under the number of no recorded run, where
    someone could take it to the bank. Runs hold PAYROLL_LOCK, so no other run writes one now.
    """
    folder = PayrollRun._meta.get_field("sepa_file").upload_to.split("/", 1)[0]
    recorded = set(PayrollRun.objects.exclude(sepa_file="").values_list("sepa_file", flat=True))
    try:
        years, _files = default_storage.listdir(folder)
    except FileNotFoundError:
        return
    for year in years:
        _folders, names = default_storage.listdir(f"{folder}/{year}")
        for name in names:
            path = f"{folder}/{year}/{name}"
            if path not in recorded:
                default_storage.delete(path)


def _complete_contracts(contract_pks: list[int], *, actor: User | None, now) -> None:
    """Mark the paid contracts completed, with their history rows, in a few statements."""
    moving = list(
        Contract.objects.select_for_update()
        .filter(
            pk__in=any_of(contract_pks),
            status__in=[Contract.Status.APPROVED, Contract.Status.IN_PROGRESS],
        )
        .values_list("pk", "status")
    )
    Contract.objects.filter(pk__in=any_of(pk for pk, _status in moving)).update(
        status=Contract.Status.COMPLETED
    )
    copy_insert(
        ContractEvent,
        [
            ContractEvent(
                contract_id=pk,
                from_status=status,
                to_status=Contract.Status.COMPLETED,
                actor=actor,
                reason=_("Paid"),
                created_at=now,
            )
            for pk, status in moving
        ],
    )


def _queue_rendering(payslip_pks: list[int]) -> None:
    from contracts.tasks import render_payslip_task

    def enqueue() -> None:
        for pk in payslip_pks:
            render_payslip_task.delay(pk)

    transaction.on_commit(enqueue, robust=True)


@transaction.atomic
def correct_payslip(
    *,
    staff_user: User,
    payslip: Payslip,
    days: Decimal,
    daily_wage: Decimal,
    reason: str,
    today: datetime.date,
    now: datetime.datetime | None = None,
) -> Payslip:
    """Correct a payslip with an adjustment payslip holding the differences; the original stays.

    The corrected payslip is recomputed in its own pay month, after every other payslip of that
    month, so the month's payslips and adjustments add up to the month's figures; the
    adjustment counts in that month.
    """
    now = now or timezone.now()
    if not reason.strip():
        raise ContractsError(_("Give a reason."), code="reason", field="reason")
    # A correction changes a member's month totals, which a payroll run reads.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PAYROLL_LOCK])
    original = (
        Payslip.objects.select_for_update()
        .select_related("worker__contract__activity", "member")
        .get(pk=payslip.pk)
    )
    if original.kind != Payslip.Kind.REGULAR:
        raise ContractsError(_("Correct the original payslip."), code="not_regular")
    if days < 0 or daily_wage <= 0:
        raise ContractsError(_("Days and wage must be positive."), code="range")
    contract = original.worker.contract
    parameters = load_parameters(contract.last_work_day)
    if daily_wage < parameters.minimum_daily_wage:
        raise ContractsError(
            _("The gross daily wage is below the legal minimum of %(minimum)s.")
            % {"minimum": euro(parameters.minimum_daily_wage)},
            code="wage_below_minimum",
        )
    earlier = month_to_date(
        members=[original.member_id], pay_date=original.pay_date, excluding=original
    ).get(original.member_id, MonthToDate())
    # Allowances the payslip paid beyond their limits stay part of its taxable pay.
    beyond_limits = Decimal(original.snapshot.get("allowances", {}).get("taxable", "0"))
    paid = {name: getattr(original, name) for name in FIGURES}
    paid_days = original.days
    for adjustment in original.adjustments.all():
        for name in FIGURES:
            paid[name] += getattr(adjustment, name)
        paid_days += adjustment.days
    # A correction redoes the days' wage; the exit holiday pay, premium and allowances paid beyond
    # their limits stay as they were.
    corrected = compute_payslip_in_month(
        gross=round_money(days * daily_wage) + beyond_limits,
        is_artistic=contract.is_on_increased_base,
        parameters=parameters,
        situation=tax_situation(TaxProfile.objects.filter(member=original.member).first()),
        expenses=original.expenses,
        earlier=earlier,
        exit_holiday_pay=paid["exit_holiday_pay"],
        year_end_premium=paid["year_end_premium"],
    )
    delta = {name: getattr(corrected, name) - paid[name] for name in FIGURES}
    if not any(delta.values()):
        raise ContractsError(_("This correction changes nothing."), code="no_change")
    adjustment = Payslip.objects.create(
        worker=original.worker,
        member=original.member,
        activity=original.activity,
        kind=Payslip.Kind.ADJUSTMENT,
        corrects=original,
        reason=reason.strip()[:255],
        pay_date=first_working_day_from(today),
        days=days - paid_days,
        language=original.language,
        created_at=now,
        snapshot={
            **original.snapshot,
            "figures": {name: str(value) for name, value in delta.items()},
            "month": month_snapshot(original.pay_date, earlier.including(corrected)),
            "corrects": original.reference,
            "reason": reason.strip(),
        },
        **delta,
    )
    if delta["employer_cost"]:
        post_ledger_entry(
            activity=original.activity,
            kind=LedgerEntryKind.SALARY_COST,
            stage=LedgerStage.AVAILABLE,
            amount=-delta["employer_cost"],
            reference=f"{adjustment.reference} {contract.reference}",
            description=_("Payslip correction: %(reason)s") % {"reason": reason.strip()},
            author=staff_user,
            source=adjustment,
            now=now,
        )
    record_event(action="created", obj=adjustment, actor=staff_user, reason=adjustment.reason)
    _queue_rendering([adjustment.pk])
    return adjustment
