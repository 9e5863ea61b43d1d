"""The payroll year: exit holiday pay, holiday contributions and the end-of-year premium.

Seeds the dated rows of DOMAIN.md §9; rows marked unverified were not read in an official text.
"""

import datetime


import contracts.models
import django.contrib.postgres.constraints
from decimal import Decimal
from django.db import migrations, models


Y2025 = datetime.date(2025, 1, 1)
EXIT_SOURCE = (
    "White-collar exit holiday pay 15.34 % = 7.67 % simple + 6.80 % double + 0.87 % complement "
    "(DOMAIN.md §9 [S], derived from a payroll implementation's rates)"
)
HOLIDAY_SOURCE = "Holiday office (ONVA/RJV) contributions on 108 % of gross (DOMAIN.md §9 [S])"
RATES = [
    ("exit_holiday_simple_rate", "0.0767", EXIT_SOURCE, True),
    ("exit_holiday_double_rate", "0.0680", EXIT_SOURCE, True),
    ("exit_holiday_complement_rate", "0.0087", EXIT_SOURCE, True),
    ("holiday_base_factor", "1.08", HOLIDAY_SOURCE, False),
    (
        "holiday_yearly_rate",
        "0.1027",
        "Yearly holiday contribution 10.27 % (DOMAIN.md §9 [S]); not verified for 2026",
        True,
    ),
    (
        "holiday_quarterly_rate",
        "0.0600",
        "Quarterly holiday contribution: the 2026 rate was not found (DOMAIN.md §9 [U]); "
        "6.00 % is a placeholder to be checked against the ONSS rate tables",
        True,
    ),
]
PREMIUM_SOURCE = (
    "CP 200 end-of-year premium: one month's pay, 6 months' seniority, pro rata for entries "
    "and exits (DOMAIN.md §9 [S], 2017 rules). Which joint committee the cooperative applies "
    "(200 or 304) was not found in the sources searched: unverified"
)


def seed(apps, schema_editor):
    PayrollRate = apps.get_model("contracts", "PayrollRate")
    YearEndPremiumRule = apps.get_model("contracts", "YearEndPremiumRule")
    for key, value, source, unverified in RATES:
        PayrollRate.objects.get_or_create(
            key=key,
            valid_from=Y2025,
            defaults={"value": value, "source": source, "is_unverified": unverified},
        )
    YearEndPremiumRule.objects.get_or_create(
        joint_committee="200",
        valid_from=Y2025,
        defaults={
            "months_of_pay": "1.00",
            "seniority_months": 6,
            "is_paid_at_exit": True,
            "source": PREMIUM_SOURCE,
            "is_unverified": True,
        },
    )


class Migration(migrations.Migration):
    dependencies = [
        ("contracts", "0012_payments_at_risk"),
    ]

    operations = [
        migrations.AddField(
            model_name="contract",
            name="employee_category",
            field=models.CharField(
                choices=[
                    ("white_collar", "White-collar employee"),
                    ("blue_collar", "Blue-collar worker"),
                ],
                default="white_collar",
                max_length=16,
                verbose_name="employee category",
            ),
        ),
        migrations.AddField(
            model_name="contract",
            name="ends_engagement",
            field=models.BooleanField(
                default=False,
                help_text="The worker leaves at the end of this contract: a white-collar employee's last payslip pays the exit holiday pay (and the end-of-year premium pro rata).",
                verbose_name="ends the engagement",
            ),
        ),
        migrations.AddField(
            model_name="payslip",
            name="exit_holiday_pay",
            field=models.DecimalField(
                decimal_places=2,
                default=Decimal("0.00"),
                max_digits=12,
                verbose_name="exit holiday pay",
            ),
        ),
        migrations.AddField(
            model_name="payslip",
            name="year_end_premium",
            field=models.DecimalField(
                decimal_places=2,
                default=Decimal("0.00"),
                max_digits=12,
                verbose_name="end-of-year premium",
            ),
        ),
        migrations.AlterField(
            model_name="payrollrate",
            name="key",
            field=models.CharField(
                choices=[
                    ("personal_onss_rate", "Personal social security rate"),
                    ("artist_base_factor", "Artists: social security base factor"),
                    ("employer_rate", "Employer contribution rate"),
                    ("professional_expenses_rate", "Flat expenses rate"),
                    ("professional_expenses_max", "Flat expenses maximum"),
                    ("tax_free_reduction", "Tax-free sum reduction (yearly)"),
                    ("marital_quotient_rate", "Marital quotient rate"),
                    ("marital_quotient_max", "Marital quotient maximum"),
                    ("child_reduction_1", "Reduction: 1 child"),
                    ("child_reduction_2", "Reduction: 2 children"),
                    ("child_reduction_3", "Reduction: 3 children"),
                    ("child_reduction_4", "Reduction: 4 children"),
                    ("child_reduction_5", "Reduction: 5 children"),
                    ("child_reduction_6", "Reduction: 6 children"),
                    ("child_reduction_7", "Reduction: 7 children"),
                    ("child_reduction_8", "Reduction: 8 children"),
                    ("child_reduction_extra", "Reduction: each further child"),
                    ("dependant_reduction", "Reduction: other dependant"),
                    ("work_bonus_a_amount", "Work bonus A: amount"),
                    ("work_bonus_a_threshold", "Work bonus A: gross threshold"),
                    ("work_bonus_a_factor", "Work bonus A: reduction per euro"),
                    ("work_bonus_a_ceiling", "Work bonus A: nil from"),
                    ("work_bonus_b_amount", "Work bonus B: amount"),
                    ("work_bonus_b_threshold", "Work bonus B: gross threshold"),
                    ("work_bonus_b_factor", "Work bonus B: reduction per euro"),
                    ("work_bonus_b_ceiling", "Work bonus B: nil from"),
                    ("work_bonus_tax_rate_a", "Work bonus A: tax reduction rate"),
                    ("work_bonus_tax_rate_b", "Work bonus B: tax reduction rate"),
                    ("minimum_daily_wage", "Minimum gross daily wage"),
                    ("exit_holiday_simple_rate", "Exit holiday pay: simple"),
                    ("exit_holiday_double_rate", "Exit holiday pay: double"),
                    ("exit_holiday_complement_rate", "Exit holiday pay: complement"),
                    ("holiday_base_factor", "Holiday contributions: base factor"),
                    ("holiday_yearly_rate", "Holiday contributions: yearly rate"),
                    ("holiday_quarterly_rate", "Holiday contributions: quarterly rate"),
                ],
                max_length=40,
                verbose_name="parameter",
            ),
        ),
        migrations.CreateModel(
            name="YearEndPremiumRule",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("valid_from", models.DateField(verbose_name="valid from")),
                ("valid_to", models.DateField(blank=True, null=True, verbose_name="valid until")),
                ("source", models.CharField(max_length=255, verbose_name="source")),
                (
                    "is_unverified",
                    models.BooleanField(
                        default=False,
                        help_text="Not checked against an official text: shown as such to members.",
                        verbose_name="unverified",
                    ),
                ),
                ("joint_committee", models.CharField(max_length=8, verbose_name="joint committee")),
                (
                    "months_of_pay",
                    models.DecimalField(
                        decimal_places=2, max_digits=5, verbose_name="months of pay"
                    ),
                ),
                (
                    "seniority_months",
                    models.PositiveSmallIntegerField(verbose_name="seniority required (months)"),
                ),
                (
                    "is_paid_at_exit",
                    models.BooleanField(
                        default=True,
                        help_text="A worker leaving during the year receives the premium on the last payslip.",
                        verbose_name="paid pro rata at exit",
                    ),
                ),
            ],
            options={
                "verbose_name": "end-of-year premium rule",
                "verbose_name_plural": "end-of-year premium rules",
                "ordering": ["joint_committee", "-valid_from"],
                "constraints": [
                    django.contrib.postgres.constraints.ExclusionConstraint(
                        expressions=[
                            ("joint_committee", "="),
                            (
                                contracts.models.DateRange(
                                    "valid_from", "valid_to", models.Value("[]")
                                ),
                                "&&",
                            ),
                        ],
                        name="year_end_premium_no_overlap",
                        violation_error_message="Another row is valid on some of these days.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("valid_to__isnull", True),
                            ("valid_to__gte", models.F("valid_from")),
                            _connector="OR",
                        ),
                        name="year_end_premium_valid_range",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("months_of_pay__gte", 0)),
                        name="year_end_premium_not_negative",
                    ),
                ],
            },
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
