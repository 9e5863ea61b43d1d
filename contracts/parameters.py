"""Load the payroll figures in force on a date from the dated parameter tables."""

import datetime
import time
from decimal import Decimal

from django.conf import settings
from django.db.models import Q
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from contracts.errors import ContractsError
from contracts.models import PayrollRate, SpecialContributionBracket, TaxBracket, YearEndPremiumRule
from contracts.payroll import Bracket, ContributionBracket, Parameters, YearParameters

Key = PayrollRate.Key
# The payroll year's figures: needed only for holiday pay and declarations.
YEAR_KEYS = (
    Key.EXIT_HOLIDAY_SIMPLE_RATE,
    Key.EXIT_HOLIDAY_DOUBLE_RATE,
    Key.EXIT_HOLIDAY_COMPLEMENT_RATE,
    Key.HOLIDAY_BASE_FACTOR,
    Key.HOLIDAY_YEARLY_RATE,
    Key.HOLIDAY_QUARTERLY_RATE,
)


def _valid_on(day: datetime.date) -> Q:
    return Q(valid_from__lte=day) & (Q(valid_to__isnull=True) | Q(valid_to__gte=day))


def _incomplete(day: datetime.date, missing: str) -> ContractsError:
    return ContractsError(
        _("The payroll parameters for %(date)s are incomplete (%(missing)s).")
        % {"date": date_format(day, "SHORT_DATE_FORMAT"), "missing": missing},
        code="parameters_missing",
    )


def load_parameters(day: datetime.date) -> Parameters:
    """Return the parameters in force on ``day``; refuse when a figure is missing."""
    rates = {}
    unverified = []
    for key, value, is_unverified in (
        PayrollRate.objects.filter(_valid_on(day))
        .exclude(key__in=YEAR_KEYS)
        .values_list("key", "value", "is_unverified")
    ):
        rates[key] = value
        if is_unverified:
            unverified.append(key)
    missing = [key for key in Key.values if key not in rates and key not in YEAR_KEYS]
    brackets = tuple(
        Bracket(lower=lower, upper=upper, rate=rate)
        for lower, upper, rate in TaxBracket.objects.filter(_valid_on(day))
        .order_by("lower")
        .values_list("lower", "upper", "rate")
    )
    if missing or not brackets:
        raise _incomplete(day, ", ".join(missing) or _("tax scale"))
    contribution: dict[str, list[ContributionBracket]] = {}
    for row in SpecialContributionBracket.objects.filter(_valid_on(day)).order_by("lower"):
        contribution.setdefault(row.household, []).append(
            ContributionBracket(
                lower=row.lower,
                upper=row.upper,
                fixed=row.fixed,
                rate=row.rate,
                maximum=row.maximum,
            )
        )
        if row.is_unverified and "special_contribution" not in unverified:
            unverified.append("special_contribution")
    return Parameters(
        personal_onss_rate=rates[Key.PERSONAL_ONSS_RATE],
        artist_base_factor=rates[Key.ARTIST_BASE_FACTOR],
        employer_rate=rates[Key.EMPLOYER_RATE],
        professional_expenses_rate=rates[Key.PROFESSIONAL_EXPENSES_RATE],
        professional_expenses_max=rates[Key.PROFESSIONAL_EXPENSES_MAX],
        tax_brackets=brackets,
        tax_free_reduction=rates[Key.TAX_FREE_REDUCTION],
        marital_quotient_rate=rates[Key.MARITAL_QUOTIENT_RATE],
        marital_quotient_max=rates[Key.MARITAL_QUOTIENT_MAX],
        child_reductions=tuple(rates[f"child_reduction_{count}"] for count in range(1, 9)),
        child_reduction_extra=rates[Key.CHILD_REDUCTION_EXTRA],
        dependant_reduction=rates[Key.DEPENDANT_REDUCTION],
        work_bonus_a_amount=rates[Key.WORK_BONUS_A_AMOUNT],
        work_bonus_a_threshold=rates[Key.WORK_BONUS_A_THRESHOLD],
        work_bonus_a_factor=rates[Key.WORK_BONUS_A_FACTOR],
        work_bonus_a_ceiling=rates[Key.WORK_BONUS_A_CEILING],
        work_bonus_b_amount=rates[Key.WORK_BONUS_B_AMOUNT],
        work_bonus_b_threshold=rates[Key.WORK_BONUS_B_THRESHOLD],
        work_bonus_b_factor=rates[Key.WORK_BONUS_B_FACTOR],
        work_bonus_b_ceiling=rates[Key.WORK_BONUS_B_CEILING],
        work_bonus_tax_rate_a=rates[Key.WORK_BONUS_TAX_RATE_A],
        work_bonus_tax_rate_b=rates[Key.WORK_BONUS_TAX_RATE_B],
        minimum_daily_wage=rates[Key.MINIMUM_DAILY_WAGE].quantize(Decimal("0.01")),
        cooperative_fee_rate=settings.COOP_FEE_RATE,
        special_contribution={key: tuple(rows) for key, rows in contribution.items()},
        unverified=tuple(unverified),
    )


def load_year_parameters(day: datetime.date) -> YearParameters:
    """Return the holiday-pay figures in force on ``day``; refuse when one is missing."""
    rows = list(
        PayrollRate.objects.filter(_valid_on(day), key__in=YEAR_KEYS).values_list(
            "key", "value", "is_unverified"
        )
    )
    rates = {key: value for key, value, _unverified in rows}
    missing = [key for key in YEAR_KEYS if key not in rates]
    if missing:
        raise _incomplete(day, ", ".join(missing))
    return YearParameters(
        exit_holiday_simple_rate=rates[Key.EXIT_HOLIDAY_SIMPLE_RATE],
        exit_holiday_double_rate=rates[Key.EXIT_HOLIDAY_DOUBLE_RATE],
        exit_holiday_complement_rate=rates[Key.EXIT_HOLIDAY_COMPLEMENT_RATE],
        holiday_base_factor=rates[Key.HOLIDAY_BASE_FACTOR],
        holiday_yearly_rate=rates[Key.HOLIDAY_YEARLY_RATE],
        holiday_quarterly_rate=rates[Key.HOLIDAY_QUARTERLY_RATE],
        unverified=tuple(key for key, _value, unverified in rows if unverified),
    )


def year_end_premium_rule(day: datetime.date, joint_committee: str) -> YearEndPremiumRule | None:
    """The end-of-year premium rule of a joint committee in force on ``day``, if any."""
    return (
        YearEndPremiumRule.objects.filter(_valid_on(day), joint_committee=joint_committee)
        .order_by("-valid_from")
        .first()
    )


# Estimates shown on pages, by day: (read at, parameters). A minute old at most.
_SHOWN: dict[datetime.date, tuple[float, Parameters]] = {}
SHOWN_SECONDS = 60


def parameters_shown(day: datetime.date) -> Parameters:
    """Return the parameters in force on ``day`` for the estimates pages show (the simulator,
    a contract's estimated pay), read at most once a minute per process and day.

    Payroll and approval read them afresh (``load_parameters``): a rate staff just changed
    reaches a page's estimate within the minute, and every payslip at once.
    """
    kept = _SHOWN.get(day)
    if kept is not None and kept[0] > time.monotonic() - SHOWN_SECONDS:
        return kept[1]
    parameters = load_parameters(day)
    if len(_SHOWN) > 1000:
        _SHOWN.clear()
    _SHOWN[day] = (time.monotonic(), parameters)
    return parameters
