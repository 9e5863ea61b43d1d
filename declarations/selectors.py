"""Reads for declarations: a quarter's workers and pay, a member's year.

A payslip belongs to the period of its work: the quarter (and year) of its contract's last work
day, adjustments included with the payslip they correct. Every figure comes from the stored
payslips; nothing is computed again here but the holiday contributions, from dated rows.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, F, OuterRef, QuerySet, Subquery, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import ExtractYear
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from contracts.dimona import ARTISTIC_JOINT_COMMITTEE, DEFAULT_JOINT_COMMITTEE
from contracts.models import Contract, DimonaDeclaration, PayrollRate, Payslip
from contracts.parameters import load_year_parameters
from contracts.payroll import HolidayContributions, holiday_contributions
from declarations.errors import DeclarationsError
from members.models import Member, User

ZERO = Decimal("0.00")
DAYS_ZERO = Decimal("0.0")


class Category:
    """How a worker is declared: artists (art. 1bis) and blue-collar workers get their holiday
    pay from the holiday office; white-collar employees from the employer."""

    ARTIST = "artist"
    WHITE_COLLAR = "white_collar"
    BLUE_COLLAR = "blue_collar"

    HOLIDAY_OFFICE = (ARTIST, BLUE_COLLAR)


@dataclass(frozen=True)
class Quarter:
    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> "Quarter":
        """Read "2026-3" (or "20263"); refuse anything else."""
        cleaned = (text or "").strip().replace("-", "").replace("Q", "").replace("/", "")
        if len(cleaned) != 5 or not cleaned.isdigit() or cleaned[4] not in "1234":
            raise DeclarationsError(
                _("Choose a quarter such as 2026-3 (year, then quarter 1 to 4)."), code="quarter"
            )
        year = int(cleaned[:4])
        if not 2003 <= year <= 2999:
            raise DeclarationsError(_("The DmfA exists from 2003 on."), code="quarter")
        return cls(year=year, number=int(cleaned[4]))

    @classmethod
    def of(cls, day: datetime.date) -> "Quarter":
        return cls(year=day.year, number=(day.month - 1) // 3 + 1)

    @property
    def start(self) -> datetime.date:
        return datetime.date(self.year, 3 * self.number - 2, 1)

    @property
    def end(self) -> datetime.date:
        following = self.number * 3 + 1
        if following > 12:
            return datetime.date(self.year, 12, 31)
        return datetime.date(self.year, following, 1) - datetime.timedelta(days=1)

    @property
    def code(self) -> str:
        """The DmfA's quarter: year and quarter number, e.g. 20263."""
        return f"{self.year}{self.number}"

    @property
    def previous(self) -> "Quarter":
        if self.number == 1:
            return Quarter(self.year - 1, 4)
        return Quarter(self.year, self.number - 1)

    def __str__(self) -> str:
        return f"{self.year}-{self.number}"


@dataclass
class Occupation:
    """One contract of a worker in the quarter: its payslip and adjustments together."""

    contract_pk: int
    first_work_day: datetime.date | None
    last_work_day: datetime.date
    joint_committee: str
    days: Decimal = DAYS_ZERO
    gross: Decimal = ZERO  # everything paid, exit holiday pay and premium included
    exit_holiday_pay: Decimal = ZERO
    year_end_premium: Decimal = ZERO
    onss_base: Decimal = ZERO
    personal_onss: Decimal = ZERO
    employer_contribution: Decimal = ZERO

    @property
    def wage(self) -> Decimal:
        """The days' wage: the gross without exit holiday pay nor premium."""
        return self.gross - self.exit_holiday_pay - self.year_end_premium

    @property
    def contract_reference(self) -> str:
        return f"C{self.contract_pk:06d}"


@dataclass
class WorkerRecord:
    """A member's occupations of one category in the quarter (a DmfA worker record)."""

    member_pk: int
    category: str
    occupations: list[Occupation] = field(default_factory=list)
    niss: str = ""
    name: str = ""

    def total(self, name: str) -> Decimal:
        return sum((getattr(occupation, name) for occupation in self.occupations), ZERO)

    @property
    def contributions(self) -> Decimal:
        return self.total("personal_onss") + self.total("employer_contribution")


@dataclass
class QuarterDeclaration:
    quarter: Quarter
    records: list[WorkerRecord]

    def total(self, name: str) -> Decimal:
        return sum((record.total(name) for record in self.records), ZERO)

    @property
    def workers(self) -> int:
        return len({record.member_pk for record in self.records})

    @property
    def contributions(self) -> Decimal:
        return sum((record.contributions for record in self.records), ZERO)


def category_of(kind: str, employee_category: str) -> str:
    if kind == Contract.Kind.ARTISTIC:
        return Category.ARTIST
    if employee_category == Contract.EmployeeCategory.BLUE_COLLAR:
        return Category.BLUE_COLLAR
    return Category.WHITE_COLLAR


def _payslip_rows(payslips: QuerySet[Payslip]) -> Iterable[dict]:
    declared = DimonaDeclaration.objects.filter(
        worker=OuterRef("worker"), kind=DimonaDeclaration.Kind.DECLARATION
    ).order_by("pk")
    return (
        payslips.order_by()
        .annotate(
            contract_pk=F("worker__contract"),
            kind_of_work=F("worker__contract__kind"),
            employee_category=F("worker__contract__employee_category"),
            first_work_day=F("worker__contract__first_work_day"),
            last_work_day=F("worker__contract__last_work_day"),
            onss_base=KeyTextTransform("onss_base", KeyTextTransform("figures", "snapshot")),
            joint_committee=Subquery(declared.values("joint_committee")[:1]),
        )
        .values(
            "member",
            "worker",
            "contract_pk",
            "kind_of_work",
            "employee_category",
            "first_work_day",
            "last_work_day",
            "joint_committee",
            "days",
            "gross",
            "exit_holiday_pay",
            "year_end_premium",
            "onss_base",
            "personal_onss",
            "employer_cost",
        )
        .order_by("member", "last_work_day", "worker", "pk")
    )


def _records(payslips: QuerySet[Payslip]) -> list[WorkerRecord]:
    """Group payslips by member, category and contract, in the members' order."""
    records: dict[tuple[int, str], WorkerRecord] = {}
    occupations: dict[int, Occupation] = {}
    for row in _payslip_rows(payslips):
        category = category_of(row["kind_of_work"], row["employee_category"])
        record = records.get((row["member"], category))
        if record is None:
            record = records[(row["member"], category)] = WorkerRecord(
                member_pk=row["member"], category=category
            )
        occupation = occupations.get(row["worker"])
        if occupation is None:
            joint_committee = row["joint_committee"] or (
                ARTISTIC_JOINT_COMMITTEE if category == Category.ARTIST else DEFAULT_JOINT_COMMITTEE
            )
            occupation = occupations[row["worker"]] = Occupation(
                contract_pk=row["contract_pk"],
                first_work_day=row["first_work_day"],
                last_work_day=row["last_work_day"],
                joint_committee=joint_committee,
            )
            record.occupations.append(occupation)
        gross = row["gross"]
        occupation.days += row["days"]
        occupation.gross += gross
        occupation.exit_holiday_pay += row["exit_holiday_pay"]
        occupation.year_end_premium += row["year_end_premium"]
        occupation.onss_base += Decimal(row["onss_base"]) if row["onss_base"] else gross
        occupation.personal_onss += row["personal_onss"]
        occupation.employer_contribution += row["employer_cost"] - gross
    members = {
        member.pk: member
        for member in Member.objects.filter(pk__in=list({key[0] for key in records})).only(
            "pk", "legal_name", "niss"
        )
    }
    for record in records.values():
        member = members[record.member_pk]
        record.niss, record.name = member.niss, member.legal_name
    return list(records.values())


def quarter_payslips(quarter: Quarter) -> QuerySet[Payslip]:
    """The payslips (and adjustments) of the work that ended in the quarter."""
    return Payslip.objects.filter(
        worker__contract__last_work_day__gte=quarter.start,
        worker__contract__last_work_day__lte=quarter.end,
    )


def quarter_declaration(quarter: Quarter) -> QuarterDeclaration:
    """The quarter's worker records, as its DmfA declares them."""
    return QuarterDeclaration(quarter=quarter, records=_records(quarter_payslips(quarter)))


CATEGORY_LABELS = {
    Category.ARTIST: _lazy("Artists (art. 1bis)"),
    Category.WHITE_COLLAR: _lazy("White-collar employees"),
    Category.BLUE_COLLAR: _lazy("Blue-collar workers"),
}


@dataclass
class CategoryTotals:
    category: str
    workers: int
    days: Decimal
    gross: Decimal
    exit_holiday_pay: Decimal
    year_end_premium: Decimal
    personal_onss: Decimal
    employer_contribution: Decimal

    @property
    def label(self) -> str:
        return str(CATEGORY_LABELS[self.category])

    @property
    def contributions(self) -> Decimal:
        return self.personal_onss + self.employer_contribution


@dataclass
class QuarterTotals:
    """What the quarter's DmfA will declare, summed in the database per category."""

    quarter: Quarter
    workers: int
    rows: list[CategoryTotals]
    holiday: HolidayContributions | None
    holiday_unverified: tuple[str, ...]

    def total(self, name: str) -> Decimal:
        return sum((getattr(row, name) for row in self.rows), ZERO)

    @property
    def days(self) -> Decimal:
        return sum((row.days for row in self.rows), DAYS_ZERO)

    @property
    def gross(self) -> Decimal:
        return self.total("gross")

    @property
    def contributions(self) -> Decimal:
        return self.total("contributions")


def quarter_totals(quarter: Quarter) -> QuarterTotals:
    """The quarter's workers, days, gross and contributions per category, and the holiday
    contributions of artists and blue-collar workers (two aggregate queries)."""
    payslips = quarter_payslips(quarter)
    by_category: dict[str, CategoryTotals] = {}
    for row in (
        payslips.order_by()
        .values("worker__contract__kind", "worker__contract__employee_category")
        .annotate(
            members=Count("member", distinct=True),
            total_days=Sum("days"),
            total_gross=Sum("gross"),
            total_exit=Sum("exit_holiday_pay"),
            total_premium=Sum("year_end_premium"),
            total_personal=Sum("personal_onss"),
            total_employer=Sum(F("employer_cost") - F("gross")),
        )
    ):
        category = category_of(
            row["worker__contract__kind"], row["worker__contract__employee_category"]
        )
        totals = by_category.get(category)
        if totals is None:
            totals = by_category[category] = CategoryTotals(
                category, 0, DAYS_ZERO, ZERO, ZERO, ZERO, ZERO, ZERO
            )
        totals.workers += row["members"]
        totals.days += row["total_days"]
        totals.gross += row["total_gross"]
        totals.exit_holiday_pay += row["total_exit"]
        totals.year_end_premium += row["total_premium"]
        totals.personal_onss += row["total_personal"]
        totals.employer_contribution += row["total_employer"]
    rows = [
        by_category[category]
        for category in (Category.WHITE_COLLAR, Category.BLUE_COLLAR, Category.ARTIST)
        if category in by_category
    ]
    holiday_gross = sum(
        (row.gross for row in rows if row.category in Category.HOLIDAY_OFFICE), ZERO
    )
    holiday, unverified = None, ()
    if holiday_gross:
        parameters = load_year_parameters(quarter.end)
        holiday = holiday_contributions(holiday_gross, parameters)
        labels = dict(PayrollRate.Key.choices)
        unverified = tuple(
            str(labels.get(key, key)) for key in parameters.unverified if key.startswith("holiday_")
        )
    return QuarterTotals(
        quarter=quarter,
        workers=payslips.order_by().aggregate(count=Count("member", distinct=True))["count"],
        rows=rows,
        holiday=holiday,
        holiday_unverified=unverified,
    )


@dataclass
class QuarterOfYear:
    number: int
    days: Decimal = DAYS_ZERO
    gross: Decimal = ZERO
    personal_onss: Decimal = ZERO
    withholding_tax: Decimal = ZERO
    special_contribution: Decimal = ZERO
    net: Decimal = ZERO


@dataclass
class YearAccount:
    """A member's individual account of one year, by quarter of the work."""

    member: Member
    year: int
    quarters: list[QuarterOfYear]
    exit_holiday_pay: Decimal
    year_end_premium: Decimal
    holiday_days: Decimal  # artists' and blue-collar days, for the holiday certificate
    holiday_gross: Decimal
    holiday_base: Decimal = ZERO  # what the holiday office counts: 108 % of the gross

    def total(self, name: str) -> Decimal:
        return sum((getattr(quarter, name) for quarter in self.quarters), ZERO)

    @property
    def days(self) -> Decimal:
        return sum((quarter.days for quarter in self.quarters), DAYS_ZERO)

    @property
    def gross(self) -> Decimal:
        return self.total("gross")

    @property
    def personal_onss(self) -> Decimal:
        return self.total("personal_onss")

    @property
    def withholding_tax(self) -> Decimal:
        return self.total("withholding_tax")

    @property
    def special_contribution(self) -> Decimal:
        return self.total("special_contribution")

    @property
    def net(self) -> Decimal:
        return self.total("net")

    @property
    def is_empty(self) -> bool:
        return not any(quarter.days or quarter.gross for quarter in self.quarters)


def year_account(member: Member, year: int) -> YearAccount:
    """Sum the member's payslips of the work of ``year`` per quarter."""
    quarters = [QuarterOfYear(number=number) for number in range(1, 5)]
    account = YearAccount(
        member=member,
        year=year,
        quarters=quarters,
        exit_holiday_pay=ZERO,
        year_end_premium=ZERO,
        holiday_days=DAYS_ZERO,
        holiday_gross=ZERO,
    )
    rows = (
        Payslip.objects.filter(
            member=member,
            worker__contract__last_work_day__gte=datetime.date(year, 1, 1),
            worker__contract__last_work_day__lte=datetime.date(year, 12, 31),
        )
        .order_by()
        .values_list(
            "worker__contract__last_work_day",
            "worker__contract__kind",
            "worker__contract__employee_category",
            "days",
            "gross",
            "personal_onss",
            "withholding_tax",
            "special_contribution",
            "net",
            "expenses",
            "exit_holiday_pay",
            "year_end_premium",
        )
    )
    for (
        last_day,
        kind,
        employee_category,
        days,
        gross,
        personal_onss,
        withholding_tax,
        special_contribution,
        net,
        expenses,
        exit_holiday,
        premium,
    ) in rows:
        quarter = quarters[(last_day.month - 1) // 3]
        quarter.days += days
        quarter.gross += gross
        quarter.personal_onss += personal_onss
        quarter.withholding_tax += withholding_tax
        quarter.special_contribution += special_contribution
        quarter.net += net - expenses
        account.exit_holiday_pay += exit_holiday
        account.year_end_premium += premium
        if category_of(kind, employee_category) in Category.HOLIDAY_OFFICE:
            account.holiday_days += days
            account.holiday_gross += gross
    if account.holiday_gross:
        parameters = load_year_parameters(datetime.date(year, 12, 31))
        account.holiday_base = holiday_contributions(account.holiday_gross, parameters).base
    return account


def account_years(member: Member) -> list[int]:
    """The years of the member's paid work, newest first."""
    return list(
        Payslip.objects.filter(member=member, kind=Payslip.Kind.REGULAR)
        .annotate(year=ExtractYear("worker__contract__last_work_day"))
        .order_by("-year")
        .values_list("year", flat=True)
        .distinct()
    )


def account_member_for(user: User, member_pk: str | None) -> Member:
    """The member whose account the user may read: their own; staff any, by primary key."""
    if user.is_staff and member_pk:
        if not str(member_pk).isdigit():
            raise Member.DoesNotExist
        return Member.objects.get(pk=int(member_pk))
    return Member.objects.get(user=user)
