"""Artists' work statements: days worked and pay per quarter over the last 24 months.

A member builds their artist-allowance file with it: the allowance needs 156 days of work in
24 months (DOMAIN.md §9). Pay counts in the month of the contract's last work day, from the
member's payslips (adjustments included), without the allowances paid as taxable pay.

- Work paid by the day counts its days of work (the payslips' days).
- Work paid per task (``ContractWorker.is_task_based``) counts its days by the cachet rule:
  gross ÷ the reference daily amount in force in the month of the work (``AllowanceRate``,
  76.70 from 1.11.2023). The quotients of a quarter are added, and the sum is rounded down to
  the whole day: the rule's sources read (ONEM's rule as amplo.be and bruxelles-j.be explain
  it) give the division but no rounding, so the statement never claims a day the member did not
  reach (an unverified choice, said on the statement). The result is at most 78 days a quarter,
  and no quarter counts more than 78 days in all.

The figures come from one aggregate query over the member's payslips, through the index on
(member, pay date): a payslip is paid after its work, so the window's payslips are the only ones
that can hold its work. It and the read of the dated figures are compiled once per process
(coop.compiled), the window's dates sent as parameters.
"""

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

from django.db.models import DateField, DecimalField, F, Q, Sum, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce, TruncMonth

from contracts.models import AllowanceRate, Payslip
from coop.compiled import CompiledInstances, CompiledQuery
from members.models import Member

ZERO = Decimal("0.00")
MONTHS = 24
Key = AllowanceRate.Key


def shown(value: Decimal) -> Decimal:
    """A count of days or a rate as people read it: 195 rather than 195.0, 76.70 not 76.7000."""
    if value == value.to_integral_value():
        return value.quantize(Decimal("1"))
    return value.quantize(Decimal("0.01")) if value.as_tuple().exponent < -1 else value


@dataclass(frozen=True)
class Reference:
    """A dated figure the statement used, as it shows it."""

    label: str
    value: Decimal
    valid_from: datetime.date
    valid_to: datetime.date | None
    source: str
    is_unverified: bool


@dataclass
class Quarter:
    start: datetime.date
    contract_days: Decimal = Decimal("0")
    contract_gross: Decimal = ZERO
    task_gross: Decimal = ZERO
    task_quotient: Decimal = Decimal("0")
    cachet_days: int = 0
    is_capped: bool = False

    @property
    def label(self) -> str:
        return f"{self.start.year} Q{(self.start.month - 1) // 3 + 1}"

    @property
    def gross(self) -> Decimal:
        return self.contract_gross + self.task_gross

    @property
    def days(self) -> Decimal:
        return shown(self.contract_days + self.cachet_days)


@dataclass
class WorkStatement:
    member: Member
    start: datetime.date
    end: datetime.date
    quarters: list[Quarter]
    threshold: int
    quarter_max_days: int
    references: list[Reference] = field(default_factory=list)
    # Task-paid work in a month no reference amount covers: its days could not be counted.
    missing_reference: bool = False

    @property
    def total_days(self) -> Decimal:
        return shown(sum((quarter.days for quarter in self.quarters), Decimal("0")))

    @property
    def total_gross(self) -> Decimal:
        return sum((quarter.gross for quarter in self.quarters), ZERO)

    @property
    def missing_days(self) -> Decimal:
        return shown(max(Decimal("0"), self.threshold - self.total_days))

    @property
    def reaches_threshold(self) -> bool:
        return self.total_days >= self.threshold

    @property
    def has_unverified(self) -> bool:
        return any(reference.is_unverified for reference in self.references)


def window(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The 24 calendar months up to and including today's: from the first day of the month 23
    months back to today."""
    months = today.year * 12 + today.month - 1 - (MONTHS - 1)
    return datetime.date(months // 12, months % 12 + 1, 1), today


def quarter_start(day: datetime.date) -> datetime.date:
    return datetime.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def _day(value: str) -> Cast:
    """A date sent as a parameter of a compiled query (its ISO text, cast by PostgreSQL)."""
    return Cast(Value(value), DateField())


# The dated figures of the statement, of all three keys, in force at some time in a window.
_RATES = CompiledInstances(
    AllowanceRate,
    lambda _shape, start, end: (
        AllowanceRate.objects.filter(
            key__in=[Key.CACHET_REFERENCE, Key.CACHET_QUARTER_MAX_DAYS, Key.ARTIST_ALLOWANCE_DAYS],
            country="",
            valid_from__lte=_day(end),
        )
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=_day(start)))
        .order_by("valid_from", "pk")
    ),
    start=str,
    end=str,
)


def _rates(start: datetime.date, end: datetime.date) -> dict[str, list[AllowanceRate]]:
    """The statement's figures by key, by date: in one query, those in force at some time in
    the window."""
    rows: dict[str, list[AllowanceRate]] = {key: [] for key in Key.values}
    for row in _RATES.instances(start=start.isoformat(), end=end.isoformat()):
        rows[row.key].append(row)
    return rows


def _in_force(rows: list[AllowanceRate], day: datetime.date) -> AllowanceRate | None:
    for row in rows:
        if row.valid_from <= day and (row.valid_to is None or row.valid_to >= day):
            return row
    return None


def _monthly_pay_query(member: int, start: str, end: str):
    beyond_limits = Coalesce(
        Cast(KT("snapshot__allowances__taxable"), DecimalField(max_digits=12, decimal_places=2)),
        Value(ZERO),
    )
    return (
        Payslip.objects.filter(
            member_id=member,
            pay_date__gte=_day(start),
            worker__contract__last_work_day__gte=_day(start),
            worker__contract__last_work_day__lte=_day(end),
        )
        .annotate(
            month=TruncMonth("worker__contract__last_work_day", output_field=DateField()),
            is_task_based=F("worker__is_task_based"),
        )
        .order_by()
        .values("month", "is_task_based")
        .annotate(gross=Sum(F("gross") - beyond_limits), days=Sum("days"))
        .order_by("month", "is_task_based")
    )


_MONTHLY_PAY = CompiledQuery(
    Payslip,
    lambda _shape, member, start, end: _monthly_pay_query(member, start, end),
    member=int,
    start=str,
    end=str,
)


def monthly_pay(member: Member, start: datetime.date, end: datetime.date) -> list[dict]:
    """The member's pay and days by month of work and basis (per day or per task), in one
    aggregate query compiled once per process."""
    return _MONTHLY_PAY.rows(member=member.pk, start=start.isoformat(), end=end.isoformat())


def cachet_days(quotient: Decimal, *, maximum: int) -> tuple[int, bool]:
    """Whole days from the quarter's sum of gross ÷ reference, rounded down, at most
    ``maximum``; and whether the maximum cut them."""
    days = int(quotient.to_integral_value(rounding=ROUND_DOWN))
    return min(days, maximum), days > maximum


def work_statement(member: Member, *, today: datetime.date) -> WorkStatement:
    """The member's days and pay per quarter over the last 24 months."""
    start, end = window(today)
    rates = _rates(start, end)
    references = rates[Key.CACHET_REFERENCE]
    # The limits in force at the window's end.
    maxima, thresholds = (
        [row for row in rates[key] if row.valid_to is None or row.valid_to >= end]
        for key in (Key.CACHET_QUARTER_MAX_DAYS, Key.ARTIST_ALLOWANCE_DAYS)
    )
    quarter_max = int(maxima[-1].value) if maxima else 78
    threshold = int(thresholds[-1].value) if thresholds else 156
    quarters: dict[datetime.date, Quarter] = {}
    day = quarter_start(start)
    while day <= end:
        quarters[day] = Quarter(start=day)
        day = datetime.date(day.year + (day.month + 2) // 12, (day.month + 2) % 12 + 1, 1)
    used: dict[int, AllowanceRate] = {}
    missing_reference = False
    for row in monthly_pay(member, start, end):
        month = row["month"]
        quarter = quarters[quarter_start(month)]
        if row["is_task_based"]:
            quarter.task_gross += row["gross"]
            reference = _in_force(references, month)
            if reference is None:
                missing_reference = True
                continue
            used[reference.pk] = reference
            quarter.task_quotient += row["gross"] / reference.value
        else:
            quarter.contract_gross += row["gross"]
            quarter.contract_days += row["days"]
    for quarter in quarters.values():
        quarter.contract_days = shown(min(quarter.contract_days, Decimal(quarter_max)))
        room = quarter_max - int(quarter.contract_days.to_integral_value(rounding=ROUND_DOWN))
        quarter.cachet_days, quarter.is_capped = cachet_days(
            quarter.task_quotient, maximum=min(quarter_max, room)
        )
    figures_used = [*used.values(), *maxima[-1:], *thresholds[-1:]]
    return WorkStatement(
        member=member,
        start=start,
        end=end,
        quarters=list(quarters.values()),
        threshold=threshold,
        quarter_max_days=quarter_max,
        references=[
            Reference(
                label=str(row.get_key_display()),
                value=shown(row.value),
                valid_from=row.valid_from,
                valid_to=row.valid_to,
                source=row.source,
                is_unverified=row.is_unverified,
            )
            for row in sorted(figures_used, key=lambda row: (row.key, row.valid_from))
        ],
        missing_reference=missing_reference,
    )
