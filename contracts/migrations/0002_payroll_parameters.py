"""Seed the payroll parameter tables with the 2025 and 2026 figures of DOMAIN.md §6.

Rows marked unverified were not read in an official text; staff correct them in the admin.
"""

import datetime
from decimal import Decimal

from django.db import migrations

Y2025 = datetime.date(2025, 1, 1)
END_2025 = datetime.date(2025, 12, 31)
Y2026 = datetime.date(2026, 1, 1)
WORK_BONUS_SEPTEMBER_2026 = datetime.date(2026, 9, 1)

LAW = "ONSS instructions / law (DOMAIN.md §6 [V])"
FORMULA_2026 = "Annex III key formula 2026 via open-source payroll mirroring the FPS Finance simulator (DOMAIN.md §6 [S])"
COPY = "Not in DOMAIN.md: copied from the 2026 figure, to be checked"

# key, value, valid_from, valid_to, source, unverified
RATES = [
    ("personal_onss_rate", "0.1307", Y2025, None, LAW, False),
    ("artist_base_factor", "1.08", Y2025, None, LAW, False),
    ("employer_rate", "0.25", Y2025, None, "19.88 % basic + 5.12 % wage moderation, before reductions (DOMAIN.md §6 [S])", True),
    ("professional_expenses_rate", "0.30", Y2025, None, FORMULA_2026, False),
    ("professional_expenses_max", "5930", Y2025, END_2025, "Annex III 2025 (DOMAIN.md §6 [S])", False),
    ("professional_expenses_max", "6070", Y2026, None, FORMULA_2026, False),
    ("tax_free_reduction", "2987.98", Y2025, END_2025, COPY, True),
    ("tax_free_reduction", "2987.98", Y2026, None, FORMULA_2026, False),
    ("marital_quotient_rate", "0.30", Y2025, None, FORMULA_2026, False),
    ("marital_quotient_max", "13790", Y2025, END_2025, COPY, True),
    ("marital_quotient_max", "13790", Y2026, None, FORMULA_2026, False),
    ("child_reduction_extra", "3864", Y2025, END_2025, COPY, True),
    ("child_reduction_extra", "3864", Y2026, None, FORMULA_2026, False),
    ("dependant_reduction", "624", Y2025, END_2025, COPY, True),
    ("dependant_reduction", "624", Y2026, None, FORMULA_2026, False),
    ("minimum_daily_wage", "97.47", datetime.date(2025, 2, 1), END_2025, "RMMMG 2,111.89 €/month from 2025-02-01 × 3 / 65 (DOMAIN.md §6 [V])", False),
    ("minimum_daily_wage", "97.47", Y2026, None, "2026 RMMMG not verified: 2025 figure kept (DOMAIN.md §6 [U])", True),
]
CHILDREN = ["624", "1656", "4404", "7620", "11100", "14592", "18120", "21996"]
for count, amount in enumerate(CHILDREN, 1):
    RATES.append((f"child_reduction_{count}", amount, Y2025, END_2025, COPY, True))
    RATES.append((f"child_reduction_{count}", amount, Y2026, None, FORMULA_2026, False))

WORK_BONUS = [
    ("work_bonus_a_amount", "127.54"),
    ("work_bonus_a_threshold", "2937.93"),
    ("work_bonus_a_factor", "0.2739"),
    ("work_bonus_a_ceiling", "3403.62"),
    ("work_bonus_b_amount", "171.99"),
    ("work_bonus_b_threshold", "2300.62"),
    ("work_bonus_b_factor", "0.2699"),
    ("work_bonus_b_ceiling", "2937.93"),
    ("work_bonus_tax_rate_a", "0.3314"),
    ("work_bonus_tax_rate_b", "0.5254"),
]
for key, value in WORK_BONUS:
    RATES.append((key, value, Y2025, WORK_BONUS_SEPTEMBER_2026 - datetime.timedelta(days=1), "Earlier figures changed often in 2025-2026 and were not read: September 2026 figures used (DOMAIN.md §6 [U])", True))
    RATES.append((key, value, WORK_BONUS_SEPTEMBER_2026, None, "White-collar work bonus from 2026-09-01 (DOMAIN.md §6 [S])", False))

SCALES = [
    (Y2025, END_2025, "Annex III 2025 (DOMAIN.md §6 [S])", ["16310", "28790", "49820"]),
    (Y2026, None, FORMULA_2026, ["16710", "29500", "51050"]),
]
SCALE_RATES = ["0.2675", "0.4280", "0.4815", "0.5350"]

CONTRIBUTION_SOURCE = "Approximation: two published tables disagree (DOMAIN.md §6 [U])"
# household, lower, upper, fixed, rate, maximum
CONTRIBUTION = [
    ("single_or_one_income", "0", "1945.38", "0", "0", None),
    ("single_or_one_income", "1945.38", "2190.18", "0", "0.0760", None),
    ("single_or_one_income", "2190.18", None, "18.60", "0.0110", "60.94"),
    ("couple_two_incomes", "0", "1945.38", "0", "0", None),
    ("couple_two_incomes", "1945.38", "2190.18", "0", "0.0590", None),
    ("couple_two_incomes", "2190.18", None, "14.44", "0.0110", "51.64"),
]


def seed(apps, schema_editor):
    PayrollRate = apps.get_model("contracts", "PayrollRate")
    TaxBracket = apps.get_model("contracts", "TaxBracket")
    SpecialContributionBracket = apps.get_model("contracts", "SpecialContributionBracket")
    PayrollRate.objects.bulk_create(
        PayrollRate(
            key=key,
            value=Decimal(value),
            valid_from=valid_from,
            valid_to=valid_to,
            source=source,
            is_unverified=unverified,
        )
        for key, value, valid_from, valid_to, source, unverified in RATES
    )
    for valid_from, valid_to, source, limits in SCALES:
        bounds = ["0", *limits, None]
        TaxBracket.objects.bulk_create(
            TaxBracket(
                valid_from=valid_from,
                valid_to=valid_to,
                source=source,
                lower=Decimal(bounds[index]),
                upper=Decimal(bounds[index + 1]) if bounds[index + 1] else None,
                rate=Decimal(rate),
            )
            for index, rate in enumerate(SCALE_RATES)
        )
    SpecialContributionBracket.objects.bulk_create(
        SpecialContributionBracket(
            valid_from=Y2025,
            source=CONTRIBUTION_SOURCE,
            is_unverified=True,
            household=household,
            lower=Decimal(lower),
            upper=Decimal(upper) if upper else None,
            fixed=Decimal(fixed),
            rate=Decimal(rate),
            maximum=Decimal(maximum) if maximum else None,
        )
        for household, lower, upper, fixed, rate, maximum in CONTRIBUTION
    )


def unseed(apps, schema_editor):
    for name in ("PayrollRate", "TaxBracket", "SpecialContributionBracket"):
        apps.get_model("contracts", name).objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("contracts", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
