from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

SPACE_MANAGERS_GROUP = "Space managers"
# What the "Space managers" group may do: run the sites, not the rest of the cooperative.
MANAGER_PERMISSIONS = [
    "manage_bookings",
    *(
        f"{action}_{model}"
        for model in ("site", "openinghours", "closedday", "room", "roomprice", "booking", "lease")
        for action in ("add", "change", "view")
    ),
    "view_bookingseries",
    "view_bookingevent",
    "view_leasecharge",
]


def grant_space_manager_permissions(sender, using="default", **kwargs) -> None:
    """Create the "Space managers" group with its permissions (idempotent)."""
    from django.contrib.auth.models import Group, Permission

    group, _created = Group.objects.using(using).get_or_create(name=SPACE_MANAGERS_GROUP)
    permissions = Permission.objects.using(using).filter(
        content_type__app_label="spaces", codename__in=MANAGER_PERMISSIONS
    )
    group.permissions.add(*permissions)


class SpacesConfig(AppConfig):
    name = "spaces"
    verbose_name = _("Spaces and bookings")

    def ready(self) -> None:
        post_migrate.connect(grant_space_manager_permissions, sender=self)
