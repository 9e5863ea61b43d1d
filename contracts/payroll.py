"""The payroll engine: pure functions of (parameters, inputs), no database, no clock.

Every rate, bracket and amount comes from ``Parameters``, which ``contracts.parameters`` loads
from the dated tables for a given date (DOMAIN.md §6). Amounts are Decimals; each figure of a
payslip is rounded half-up to the cent once, where the payslip shows it.
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

    def as_dict(self) -> dict[str, str]:
        return {name: str(value) for name, value in self.__dict__.items()}


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
    """Compute every figure of a payslip from its gross pay."""
    p = parameters
    gross = round_money(gross)
    onss_base = round_money(gross * p.artist_base_factor) if is_artistic else gross
    personal_onss = round_money(onss_base * p.personal_onss_rate)
    bonus = work_bonus(gross, personal_onss, p)
    taxable = gross - personal_onss + bonus.total
    tax = withholding_tax(taxable, p, situation, bonus)
    contribution = special_contribution(gross, p, situation)
    net = taxable - tax - contribution + expenses
    employer_contribution = round_money(onss_base * p.employer_rate)
    return PayslipFigures(
        gross=gross,
        onss_base=onss_base,
        personal_onss=personal_onss,
        work_bonus=bonus.total,
        taxable=taxable,
        withholding_tax=tax,
        special_contribution=contribution,
        expenses=expenses,
        net=net,
        employer_contribution=employer_contribution,
        employer_cost=gross + employer_contribution,
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
