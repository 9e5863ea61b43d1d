from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QuotesConfig(AppConfig):
    name = "quotes"
    verbose_name = _("Quotes")

    def ready(self) -> None:
        # Orders register invoicing's checks of the invoices drawn up from them, their admin
        # queue and their tasks (invoicing imports nothing of quotes).
        from quotes import admin_orders, orders, reminders  # noqa: F401
