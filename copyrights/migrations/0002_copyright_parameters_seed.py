"""The copyright regime's figures per income year, with their sources."""

from decimal import Decimal

from django.db import migrations

RATES = {
    "first_bracket_rate": Decimal("0.50"),
    "second_bracket_rate": Decimal("0.25"),
    "withholding_rate": Decimal("0.15"),
    "salary_share_cap": Decimal("0.30"),
}
YEARS = [
    (
        2024,
        Decimal("73070.00"),
        Decimal("19480.00"),
        Decimal("38970.00"),
        "Programme law of 26.12.2022 (art. 17 §1 5°, 37 and 269 CIR 92), indexed amounts for "
        "income 2024 as published by the FPS Finance and repeated by secondary sources",
        False,
    ),
    (
        2025,
        Decimal("75360.00"),
        Decimal("20090.00"),
        Decimal("40180.00"),
        "Income 2025: indexed amounts from a secondary source, not checked against the FPS "
        "Finance's publication",
        True,
    ),
    (
        2026,
        Decimal("77230.00"),
        Decimal("20590.00"),
        Decimal("41190.00"),
        "Income 2026: first bracket from a payroll implementation; ceiling and second bracket "
        "extrapolated from income 2024 by the same index. Check before relying on them",
        True,
    ),
]


def seed(apps, schema_editor):
    CopyrightParameters = apps.get_model("copyrights", "CopyrightParameters")
    for year, ceiling, first, second, source, is_unverified in YEARS:
        CopyrightParameters.objects.update_or_create(
            income_year=year,
            defaults={
                "ceiling": ceiling,
                "first_bracket_limit": first,
                "second_bracket_limit": second,
                "source": source,
                "is_unverified": is_unverified,
                **RATES,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("copyrights", "0001_copyright_payments")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
