from django.apps import AppConfig, apps
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("Members and Activities")

    def ready(self) -> None:
        # django-allauth names its two-factor app "MFA" and leaves its model's name to Django
        # ("authenticators"), neither translated: the admin showed them in English. The names
        # live outside the migrations' state (Meta's original attributes), so no migration.
        from allauth.mfa.models import Authenticator

        apps.get_app_config("mfa").verbose_name = _("Two-factor authentication")
        Authenticator._meta.verbose_name = _("authenticator")
        Authenticator._meta.verbose_name_plural = _("authenticators")
