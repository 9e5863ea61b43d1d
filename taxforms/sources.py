"""Where the yearly figures of the tax certificates come from, outside the payslips."""

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class CopyrightYear:
    """One beneficiary's copyright income of a calendar year (the 281.45's figures)."""

    member_id: int
    gross: Decimal
    lump_sum_costs: Decimal
    withholding: Decimal


def copyright_years(year: int) -> list[CopyrightYear]:
    """Return each copyright beneficiary's totals of the income year.

    Copyright payments are recorded by their own app; until it is installed beside this one
    there are none. At merge this returns ``copyrights.selectors.copyright_years(year)``.
    """
    return []
