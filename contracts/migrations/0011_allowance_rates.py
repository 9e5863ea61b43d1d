"""Seed the allowance and cachet-rule rates of DOMAIN.md §9, each with its source.

Rows marked unverified were not read in an official text (a later period's figure carried
forward, or a start date not checked); staff correct them in the admin. The per-country table of
per-diems abroad is not seeded: its amounts were not read; until staff enter a country's row,
the flat rate applies.
"""

import datetime

from django.db import migrations

MILEAGE = "Federal reference for mileage (FPS BOSA circular), DOMAIN.md §9 [S]"
CARRIED = "Not found: the previous period's figure carried forward, to be checked"
PER_DIEM = "Tax lump sum for per-diems in Belgium (FPS Finance), DOMAIN.md §9 [S]"
CACHET = (
    "Cachet rule: gross ÷ (reference wage ÷ 26), 76.70 from 1.11.2023 "
    "(ONEM; amplo.be FAQ 'la règle du cachet'), DOMAIN.md §9 [S]"
)


def _day(text):
    return datetime.date.fromisoformat(text)


# key, country, value, valid_from, valid_to, source, unverified
RATES = [
    ("mileage_quarterly", "", "0.4309", "2025-07-01", "2025-09-30", MILEAGE, False),
    ("mileage_quarterly", "", "0.4312", "2025-10-01", "2025-12-31", MILEAGE, False),
    ("mileage_quarterly", "", "0.4326", "2026-01-01", "2026-03-31", MILEAGE, False),
    ("mileage_quarterly", "", "0.4326", "2026-04-01", None, CARRIED, True),
    ("mileage_yearly", "", "0.4449", "2025-07-01", "2026-06-30", MILEAGE, False),
    ("mileage_yearly", "", "0.4449", "2026-07-01", None, CARRIED, True),
    ("mileage_km_max", "", "24000", "2025-01-01", None, "Lump sum accepted up to 24,000 km a year, DOMAIN.md §9 [S]", False),
    ("per_diem_belgium", "", "21.22", "2025-03-01", None, PER_DIEM + ", trips of 6 hours or more", False),
    ("per_diem_belgium_month_max", "", "339.52", "2025-03-01", None, PER_DIEM, False),
    ("per_diem_belgium_onss", "", "19.00", "2026-01-01", None, "ONSS: 10 + 9 a day for non-sedentary workers, DOMAIN.md §9 [S]", False),
    ("per_diem_abroad", "", "37.18", "2025-08-01", None, "Flat per-diem abroad, DOMAIN.md §9 [S]; start date not checked", True),
    ("cachet_reference", "", "76.70", "2023-11-01", "2025-12-31", CACHET, False),
    ("cachet_reference", "", "76.70", "2026-01-01", None, "2026 reference amount not found: the 1.11.2023 figure carried forward (DOMAIN.md §9 [U])", True),
    ("artist_allowance_days", "", "156", "2023-11-01", None, "Artist allowance: 156 days in 24 months, DOMAIN.md §9 [S]", False),
    ("cachet_quarter_max_days", "", "78", "2023-11-01", None, CACHET + "; at most 78 days a quarter", False),
]


def seed(apps, schema_editor):
    AllowanceRate = apps.get_model("contracts", "AllowanceRate")
    MileageSystem = apps.get_model("contracts", "MileageSystem")
    AllowanceRate.objects.bulk_create(
        AllowanceRate(
            key=key,
            country=country,
            value=value,
            valid_from=_day(start),
            valid_to=_day(end) if end else None,
            source=source,
            is_unverified=unverified,
        )
        for key, country, value, start, end, source, unverified in RATES
    )
    MileageSystem.objects.bulk_create(
        [MileageSystem(year=2025, system="quarterly"), MileageSystem(year=2026, system="quarterly")]
    )


def unseed(apps, schema_editor):
    apps.get_model("contracts", "AllowanceRate").objects.all().delete()
    apps.get_model("contracts", "MileageSystem").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("contracts", "0010_allowances_statements_c4")]

    operations = [migrations.RunPython(seed, unseed)]
