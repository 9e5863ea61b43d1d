from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CheckoutConfig(AppConfig):
    name = "checkout"
    verbose_name = _("Online payment")

    def ready(self) -> None:
        from django.core import checks

        from checkout.checks import check_payment_provider
        from checkout.emails import pay_link_for_email
        from invoicing.links import register_invoice_link

        # Invoicing's e-mail shows the pay link without importing this app (invoicing/links.py).
        register_invoice_link(pay_link_for_email)
        checks.register(check_payment_provider)
