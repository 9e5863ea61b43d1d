from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TaxformsConfig(AppConfig):
    name = "taxforms"
    verbose_name = _("Tax forms")
