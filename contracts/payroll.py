"""The payroll engine: pure functions of (parameters, inputs), no database, no clock.

Every rate, bracket and amount comes from ``Parameters``, which ``contracts.parameters`` loads
from the dated tables for a given date (DOMAIN.md §6). Amounts are Decimals; each figure of a
payslip is rounded half-up to the cent once, where the payslip shows it.

The withholding tax, the work bonus and the special social security contribution are monthly
items: they are computed on a member's pay of the month (``compute_payslip_in_month``), and each
payslip of the month holds the difference with what the month's earlier payslips counted. The
social security contributions are proportional and stay per payslip.
"""

import datetime
import functools
from dataclasses import dataclass, field
from decimal import Decimal

import holidays

from coop.money import round_money

ZERO = Decimal("0.00")
ONE = Decimal("1")
MONTHS = Decimal("12")


@dataclass(frozen=True)
class Bracket:
    """One band of a progressive scale: ``rate`` applies from ``lower`` up to ``upper``."""

    lower: Decimal
    upper: Decimal | None
    rate: Decimal


@dataclass(frozen=True)
class ContributionBracket:
    """One band of the special social security contribution (monthly, per household)."""

    lower: Decimal
    upper: Decimal | None
    fixed: Decimal
    rate: Decimal
    maximum: Decimal | None


@dataclass(frozen=True)
class Parameters:
    """The figures in force on one date."""

    personal_onss_rate: Decimal
    artist_base_factor: Decimal
    employer_rate: Decimal
    professional_expenses_rate: Decimal
    professional_expenses_max: Decimal
    tax_brackets: tuple[Bracket, ...]
    tax_free_reduction: Decimal
    marital_quotient_rate: Decimal
    marital_quotient_max: Decimal
    child_reductions: tuple[Decimal, ...]
    child_reduction_extra: Decimal
    dependant_reduction: Decimal
    work_bonus_a_amount: Decimal
    work_bonus_a_threshold: Decimal
    work_bonus_a_factor: Decimal
    work_bonus_a_ceiling: Decimal
    work_bonus_b_amount: Decimal
    work_bonus_b_threshold: Decimal
    work_bonus_b_factor: Decimal
    work_bonus_b_ceiling: Decimal
    work_bonus_tax_rate_a: Decimal
    work_bonus_tax_rate_b: Decimal
    minimum_daily_wage: Decimal
    cooperative_fee_rate: Decimal
    special_contribution: dict[str, tuple[ContributionBracket, ...]] = field(default_factory=dict)
    unverified: tuple[str, ...] = ()


class Household:
    """The tax situation that changes the withholding and the special contribution."""

    SINGLE = "single"
    SPOUSE_WITHOUT_INCOME = "spouse_without_income"
    SPOUSE_WITH_INCOME = "spouse_with_income"


@dataclass(frozen=True)
class TaxSituation:
    household: str = Household.SINGLE
    children: int = 0
    is_single_parent: bool = False
    is_disabled: bool = False
    other_dependants: int = 0


@dataclass(frozen=True)
class WorkBonus:
    part_a: Decimal
    part_b: Decimal

    @property
    def total(self) -> Decimal:
        return self.part_a + self.part_b


@dataclass(frozen=True)
class PayslipFigures:
    gross: Decimal
    onss_base: Decimal
    personal_onss: Decimal
    work_bonus: Decimal
    taxable: Decimal
    withholding_tax: Decimal
    special_contribution: Decimal
    expenses: Decimal
    net: Decimal
    employer_contribution: Decimal
    employer_cost: Decimal
    # Part of ``gross``, paid besides the days' wage (white-collar employees only).
    exit_holiday_pay: Decimal = ZERO
    year_end_premium: Decimal = ZERO

    def as_dict(self) -> dict[str, str]:
        """The figures as text; the extra pay only when there is some."""
        return {
            name: str(value)
            for name, value in self.__dict__.items()
            if value or name not in EXTRA_PAY
        }


EXTRA_PAY = ("exit_holiday_pay", "year_end_premium")


@dataclass(frozen=True)
class YearParameters:
    """The figures of the payroll year in force on one date (DOMAIN.md §9)."""

    exit_holiday_simple_rate: Decimal
    exit_holiday_double_rate: Decimal
    exit_holiday_complement_rate: Decimal
    holiday_base_factor: Decimal
    holiday_yearly_rate: Decimal
    holiday_quarterly_rate: Decimal
    unverified: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExitHolidayPay:
    """A white-collar employee's holiday pay on leaving: each part rounded to the cent."""

    reference_gross: Decimal
    simple: Decimal
    double: Decimal
    complement: Decimal

    @property
    def total(self) -> Decimal:
        return self.simple + self.double + self.complement


def exit_holiday_pay(reference_gross: Decimal, parameters: YearParameters) -> ExitHolidayPay:
    """The exit holiday pay on the reference gross: simple + double + complement."""
    p = parameters
    return ExitHolidayPay(
        reference_gross=reference_gross,
        simple=round_money(reference_gross * p.exit_holiday_simple_rate),
        double=round_money(reference_gross * p.exit_holiday_double_rate),
        complement=round_money(reference_gross * p.exit_holiday_complement_rate),
    )


@dataclass(frozen=True)
class HolidayContributions:
    """The employer's holiday-pay contributions of artists and blue-collar workers."""

    gross: Decimal
    base: Decimal
    quarterly: Decimal
    yearly: Decimal

    @property
    def total(self) -> Decimal:
        return self.quarterly + self.yearly


def holiday_contributions(gross: Decimal, parameters: YearParameters) -> HolidayContributions:
    """The contributions to the holiday office on a gross pay: on 108 % of it, each rate
    rounded to the cent."""
    base = round_money(gross * parameters.holiday_base_factor)
    return HolidayContributions(
        gross=gross,
        base=base,
        quarterly=round_money(base * parameters.holiday_quarterly_rate),
        yearly=round_money(base * parameters.holiday_yearly_rate),
    )


def year_end_premium(
    *,
    year_gross: Decimal,
    months_of_pay: Decimal,
    first_work_day: datetime.date | None,
    paid_on: datetime.date,
    seniority_months: int,
) -> Decimal:
    """The end-of-year premium: ``months_of_pay`` months of the year's average monthly pay.

    The year's gross divided by twelve is one month's pay for a full year and pro rata for a
    year begun or ended in its course; nothing before ``seniority_months`` of seniority on the
    day it is paid.
    """
    if first_work_day is None or year_gross <= 0:
        return ZERO
    month = first_work_day.month - 1 + seniority_months
    anniversary_year, anniversary_month = first_work_day.year + month // 12, month % 12 + 1
    last_day = (
        datetime.date(anniversary_year + anniversary_month // 12, anniversary_month % 12 + 1, 1)
        - datetime.timedelta(days=1)
    ).day
    seniority_reached = datetime.date(
        anniversary_year, anniversary_month, min(first_work_day.day, last_day)
    )
    if paid_on < seniority_reached:
        return ZERO
    return round_money(year_gross * months_of_pay / MONTHS)


@dataclass(frozen=True)
class MonthToDate:
    """What a member's payslips of one pay month counted so far (adjustments included)."""

    gross: Decimal = ZERO
    personal_onss: Decimal = ZERO
    work_bonus: Decimal = ZERO
    withholding_tax: Decimal = ZERO
    special_contribution: Decimal = ZERO
    payslips: int = 0

    def including(self, figures: PayslipFigures) -> "MonthToDate":
        """The month's totals once one more payslip is counted."""
        return MonthToDate(
            gross=self.gross + figures.gross,
            personal_onss=self.personal_onss + figures.personal_onss,
            work_bonus=self.work_bonus + figures.work_bonus,
            withholding_tax=self.withholding_tax + figures.withholding_tax,
            special_contribution=self.special_contribution + figures.special_contribution,
            payslips=self.payslips + 1,
        )

    def as_dict(self) -> dict[str, str | int]:
        return {
            name: value if isinstance(value, int) else str(value)
            for name, value in self.__dict__.items()
        }


def scale_tax(amount: Decimal, brackets: tuple[Bracket, ...]) -> Decimal:
    """Tax a yearly amount on a progressive scale, unrounded."""
    tax = ZERO
    for bracket in brackets:
        if amount <= bracket.lower:
            break
        top = amount if bracket.upper is None else min(amount, bracket.upper)
        tax += (top - bracket.lower) * bracket.rate
    return tax


def work_bonus(gross: Decimal, personal_onss: Decimal, parameters: Parameters) -> WorkBonus:
    """The work bonus (reduced personal contribution) for a monthly gross pay.

    Each part falls linearly above its threshold and is nil from its ceiling; together they
    never exceed the personal contribution due.
    """
    p = parameters

    def part(amount, threshold, factor, ceiling) -> Decimal:
        if gross <= threshold:
            return amount
        if gross >= ceiling:
            return ZERO
        return max(ZERO, round_money(amount - factor * (gross - threshold)))

    part_a = part(
        p.work_bonus_a_amount,
        p.work_bonus_a_threshold,
        p.work_bonus_a_factor,
        p.work_bonus_a_ceiling,
    )
    part_b = part(
        p.work_bonus_b_amount,
        p.work_bonus_b_threshold,
        p.work_bonus_b_factor,
        p.work_bonus_b_ceiling,
    )
    # Part A is granted first; part B only within what is left of the contribution.
    part_a = min(part_a, personal_onss)
    part_b = min(part_b, personal_onss - part_a)
    return WorkBonus(part_a=part_a, part_b=part_b)


def family_reductions(situation: TaxSituation, parameters: Parameters) -> Decimal:
    """The yearly reductions for dependants (children, single parent, disability, others)."""
    reduction = ZERO
    children = situation.children
    if children:
        table = parameters.child_reductions
        if children <= len(table):
            reduction += table[children - 1]
        else:
            reduction += table[-1] + (children - len(table)) * parameters.child_reduction_extra
    extra = (
        situation.other_dependants + int(situation.is_single_parent) + int(situation.is_disabled)
    )
    return reduction + extra * parameters.dependant_reduction


def withholding_tax(
    monthly_taxable: Decimal,
    parameters: Parameters,
    situation: TaxSituation = TaxSituation(),
    bonus: WorkBonus | None = None,
) -> Decimal:
    """The monthly withholding tax by the key formula (DOMAIN.md §6, steps 1 to 6)."""
    p = parameters
    annual = monthly_taxable * MONTHS
    expenses = min(annual * p.professional_expenses_rate, p.professional_expenses_max)
    net = max(ZERO, annual - expenses)
    if situation.household == Household.SPOUSE_WITHOUT_INCOME:
        spouse_part = min(net * p.marital_quotient_rate, p.marital_quotient_max)
        tax = scale_tax(net - spouse_part, p.tax_brackets) + scale_tax(spouse_part, p.tax_brackets)
        tax -= 2 * p.tax_free_reduction
    else:
        tax = scale_tax(net, p.tax_brackets) - p.tax_free_reduction
    tax -= family_reductions(situation, p)
    monthly = round_money(max(ZERO, tax) / MONTHS)
    if bonus is not None:
        monthly -= round_money(
            bonus.part_a * p.work_bonus_tax_rate_a + bonus.part_b * p.work_bonus_tax_rate_b
        )
    return max(ZERO, monthly)


def special_contribution(
    gross: Decimal, parameters: Parameters, situation: TaxSituation = TaxSituation()
) -> Decimal:
    """The special social security contribution withheld on a monthly pay."""
    household = (
        "couple_two_incomes"
        if situation.household == Household.SPOUSE_WITH_INCOME
        else ("single_or_one_income")
    )
    for bracket in parameters.special_contribution.get(household, ()):
        if gross >= bracket.lower and (bracket.upper is None or gross < bracket.upper):
            amount = bracket.fixed + (gross - bracket.lower) * bracket.rate
            if bracket.maximum is not None:
                amount = min(amount, bracket.maximum)
            return round_money(max(ZERO, amount))
    return ZERO


def compute_payslip(
    *,
    gross: Decimal,
    is_artistic: bool,
    parameters: Parameters,
    situation: TaxSituation = TaxSituation(),
    expenses: Decimal = ZERO,
) -> PayslipFigures:
    """Compute every figure of a payslip from its gross pay, as the month's only pay."""
    return compute_payslip_in_month(
        gross=gross,
        is_artistic=is_artistic,
        parameters=parameters,
        situation=situation,
        expenses=expenses,
        earlier=MonthToDate(),
    )


def compute_payslip_in_month(
    *,
    gross: Decimal,
    is_artistic: bool,
    parameters: Parameters,
    situation: TaxSituation = TaxSituation(),
    expenses: Decimal = ZERO,
    earlier: MonthToDate,
    exit_holiday_pay: Decimal = ZERO,
    year_end_premium: Decimal = ZERO,
) -> PayslipFigures:
    """Compute a payslip that follows the member's ``earlier`` payslips of the same pay month.

    The social security contributions are proportional: computed on this payslip alone. The work
    bonus, the withholding tax and the special contribution are computed on the month's
    cumulative pay, and the payslip holds that amount minus what the earlier payslips counted;
    a month's tax is never below zero, so a payslip refunds at most what the month withheld.
    A payslip's net pay (before expenses) is never below zero: when catching up the month would
    take it there, the payslip withholds what it can, and since every payslip counts from what
    was actually withheld, the month's next payslip catches up the rest.

    ``exit_holiday_pay`` and ``year_end_premium`` are paid on top of the days' wage ``gross``:
    they bear the social security contributions at the ordinary rates, each rounded on its
    own, and are taxed with the month's pay (the scale of exceptional allowances is not
    applied).
    """
    p = parameters
    extra = exit_holiday_pay + year_end_premium
    gross = round_money(gross)
    work_base = round_money(gross * p.artist_base_factor) if is_artistic else gross
    onss_base = work_base + extra
    personal_onss = sum(
        (
            round_money(amount * p.personal_onss_rate)
            for amount in (work_base, *extra_parts(exit_holiday_pay, year_end_premium))
        ),
        ZERO,
    )
    gross += extra
    month_gross = earlier.gross + gross
    month_bonus = work_bonus(month_gross, earlier.personal_onss + personal_onss, p)
    # The parameter tables hold more decimals than cents: show the bonus in cents.
    month_bonus_total = round_money(month_bonus.total)
    month_taxable = month_gross - earlier.personal_onss - personal_onss + month_bonus_total
    bonus = month_bonus_total - earlier.work_bonus
    tax = withholding_tax(month_taxable, p, situation, month_bonus) - earlier.withholding_tax
    contribution = special_contribution(month_gross, p, situation) - earlier.special_contribution
    shortfall = (tax + contribution) - (gross - personal_onss + bonus)
    if shortfall > 0:
        # Withhold less tax first, then less contribution, then claw back less work bonus.
        cut = min(shortfall, max(tax, ZERO))
        tax, shortfall = tax - cut, shortfall - cut
        cut = min(shortfall, max(contribution, ZERO))
        contribution, shortfall = contribution - cut, shortfall - cut
        bonus += shortfall
    taxable = gross - personal_onss + bonus
    net = taxable - tax - contribution + expenses
    employer_contribution = sum(
        (
            round_money(amount * p.employer_rate)
            for amount in (work_base, *extra_parts(exit_holiday_pay, year_end_premium))
        ),
        ZERO,
    )
    return PayslipFigures(
        gross=gross,
        onss_base=onss_base,
        personal_onss=personal_onss,
        work_bonus=bonus,
        taxable=taxable,
        withholding_tax=tax,
        special_contribution=contribution,
        expenses=expenses,
        net=net,
        employer_contribution=employer_contribution,
        employer_cost=gross + employer_contribution,
        exit_holiday_pay=exit_holiday_pay,
        year_end_premium=year_end_premium,
    )


def extra_parts(*amounts: Decimal) -> tuple[Decimal, ...]:
    """The extra pay that is there, each part to bear its contributions on its own."""
    return tuple(amount for amount in amounts if amount)


def estimate_pay(
    *,
    days: Decimal,
    daily_wage: Decimal,
    is_artistic: bool,
    parameters: Parameters,
    situation: TaxSituation = TaxSituation(),
) -> PayslipFigures:
    """Estimate a worker's payslip for their days on one contract, as the month's only pay.

    The gross is the days' wage as approval plans it; the payslip itself also counts the
    month's other pay (``compute_payslip_in_month``) and the figures in force on its date.
    """
    return compute_payslip(
        gross=round_money(days * daily_wage),
        is_artistic=is_artistic,
        parameters=parameters,
        situation=situation,
    )


def employer_cost_of(gross: Decimal, *, is_artistic: bool, parameters: Parameters) -> Decimal:
    """What a gross pay costs the Activity: gross plus the employer contribution."""
    base = gross * parameters.artist_base_factor if is_artistic else gross
    return round_money(gross) + round_money(round_money(base) * parameters.employer_rate)


def gross_for_employer_cost(
    employer_cost: Decimal, *, is_artistic: bool, parameters: Parameters
) -> Decimal:
    """The largest gross pay whose employer cost fits in a budget."""
    factor = ONE + parameters.employer_rate * (
        parameters.artist_base_factor if is_artistic else ONE
    )
    gross = round_money(employer_cost / factor)
    while gross > 0 and employer_cost_of(gross, is_artistic=is_artistic, parameters=parameters) > (
        employer_cost
    ):
        gross -= Decimal("0.01")
    return max(ZERO, gross)


@dataclass(frozen=True)
class Simulation:
    invoice_excl_vat: Decimal
    fee: Decimal
    expenses: Decimal
    budget: Decimal
    payslip: PayslipFigures

    @property
    def unspent(self) -> Decimal:
        """What is left of the budget once the gross and its employer contributions are paid
        (cents: the gross is the largest whose employer cost fits)."""
        return self.budget - self.payslip.employer_cost


def simulate(
    *,
    invoice_excl_vat: Decimal,
    expenses: Decimal,
    is_artistic: bool,
    parameters: Parameters,
    situation: TaxSituation = TaxSituation(),
) -> Simulation:
    """From an invoice amount to the net pay: fee, budget, employer cost, gross, net."""
    fee = round_money(invoice_excl_vat * parameters.cooperative_fee_rate)
    budget = max(ZERO, invoice_excl_vat - fee - expenses)
    gross = gross_for_employer_cost(budget, is_artistic=is_artistic, parameters=parameters)
    figures = compute_payslip(
        gross=gross, is_artistic=is_artistic, parameters=parameters, situation=situation
    )
    return Simulation(
        invoice_excl_vat=invoice_excl_vat,
        fee=fee,
        expenses=expenses,
        budget=budget,
        payslip=figures,
    )


_BELGIAN_HOLIDAYS: dict[int, holidays.HolidayBase] = {}


def is_belgian_working_day(day: datetime.date) -> bool:
    """Monday to Friday, except Belgian public holidays."""
    if day.weekday() >= 5:
        return False
    if day.year not in _BELGIAN_HOLIDAYS:
        _BELGIAN_HOLIDAYS[day.year] = holidays.country_holidays("BE", years=day.year)
    return day not in _BELGIAN_HOLIDAYS[day.year]


@functools.lru_cache(maxsize=4096)
def pay_date(last_work_day: datetime.date, *, working_days: int = 7) -> datetime.date:
    """The latest pay date: the given number of Belgian working days after the last work day."""
    day = last_work_day
    counted = 0
    while counted < working_days:
        day += datetime.timedelta(days=1)
        if is_belgian_working_day(day):
            counted += 1
    return day
