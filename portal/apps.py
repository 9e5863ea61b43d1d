from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Client portal")

    def ready(self) -> None:
        # Invoicing never imports the portal: the portal registers what it adds to invoicing.
        from invoicing import hooks
        from portal import panels, services

        hooks.register_email_link(services.email_link)
        hooks.register_invoice_panel(panels.questions_panel)
