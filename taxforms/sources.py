"""Where the yearly figures of the tax certificates come from, outside the payslips.

The 281.45's figures are the copyright payments' (copyrights app): taxforms depends on it, never
the other way round.
"""

from copyrights.selectors import CopyrightYear, copyright_years

__all__ = ["CopyrightYear", "copyright_years"]
