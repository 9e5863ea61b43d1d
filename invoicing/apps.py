from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InvoicingConfig(AppConfig):
    name = "invoicing"
    verbose_name = _("Invoicing")

    def ready(self) -> None:
        from django.core import checks

        from invoicing.bank_accounts import check_configured_accounts

        checks.register(check_configured_accounts)
