"""Values every page's layout needs, computed once instead of on every request."""

import functools

from django.urls import get_script_prefix, get_urlconf, reverse

# The named URLs templates/base.html links to, available there as ``nav.<name>`` with "-" and
# ":" written "_".
LAYOUT_URLS = [
    "members:dashboard",
    "members:activity_list",
    "members:profile",
    "invoicing:invoice_list",
    "contracts:index",
    "contracts:payslips",
    "spaces:index",
    "spaces:queue",
    "set_language",
    "admin:index",
    "account_login",
    "account_logout",
    "account_signup",
    "api-docs",
]


@functools.lru_cache(maxsize=8)
def _layout_urls(script_prefix: str, urlconf: str | None) -> dict[str, str]:
    return {
        name.replace(":", "_").replace("-", "_"): reverse(name, urlconf=urlconf)
        for name in LAYOUT_URLS
    }


def navigation(request) -> dict:
    """The layout's links, reversed once per URL configuration and script prefix."""
    return {"nav": _layout_urls(get_script_prefix(), get_urlconf())}
