from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CopyrightsConfig(AppConfig):
    name = "copyrights"
    verbose_name = _("Copyright payments")

    def ready(self) -> None:
        from contracts.hooks import register_payroll_payments
        from copyrights.services import copyright_payments_due, pay_copyright_payments

        # A payroll run pays the approved copyright payments in its SEPA file, without
        # contracts importing this app (contracts/hooks.py).
        register_payroll_payments(due=copyright_payments_due, pay=pay_copyright_payments)
