"""Configuration checks: a payment provider named in settings must be one that can work."""

from django.conf import settings
from django.core import checks

PROVIDERS = ("", "mollie", "simulated")


def check_payment_provider(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    provider = settings.PAYMENT_PROVIDER
    if provider not in PROVIDERS:
        return [
            checks.Error(
                f"PAYMENT_PROVIDER={provider!r} is not a payment provider.",
                hint="Leave it empty (bank transfer only), or set 'mollie' or 'simulated'.",
                id="checkout.E001",
            )
        ]
    if provider == "mollie" and not settings.MOLLIE_API_KEY.startswith(("live_", "test_")):
        return [
            checks.Error(
                "PAYMENT_PROVIDER=mollie needs MOLLIE_API_KEY (live_… or test_…).",
                hint="Without it no online payment is offered.",
                id="checkout.E002",
            )
        ]
    return []
