"""The configured online payment provider, or None: then only the bank transfer is offered."""

from django.conf import settings

from checkout.providers.base import PaymentProvider


def get_provider(name: str | None = None) -> PaymentProvider | None:
    """Return the provider settings configure (PAYMENT_PROVIDER), or None when there is none.

    With ``name``, return it only if it is the configured one: a webhook for a provider that is
    no longer configured is answered 404.
    """
    configured = settings.PAYMENT_PROVIDER
    if not configured or (name is not None and name != configured):
        return None
    if configured == "mollie":
        from checkout.providers.mollie import MollieProvider

        if not settings.MOLLIE_API_KEY:
            return None
        secrets = tuple(
            secret.strip() for secret in settings.MOLLIE_WEBHOOK_SECRET.split(",") if secret
        )
        return MollieProvider(
            api_key=settings.MOLLIE_API_KEY,
            webhook_secrets=secrets,
            api_endpoint=getattr(settings, "MOLLIE_API_ENDPOINT", ""),
        )
    if configured == "simulated":
        from checkout.providers.simulated import SimulatedProvider

        return SimulatedProvider()
    return None
