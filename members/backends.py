"""Authentication backends that load, with the signed-in user, what every request asks of them.

Each request of a signed-in person reads the user, then their member profile (language,
menus, scoping), whether they hold any permission (session time-out, API tokens), their groups
(a role such as space manager) and, for staff in the admin, whether they have an authenticator
app. Loaded together they cost one query instead of five.
"""

import functools

from allauth.account import auth_backends as allauth_backends
from django.contrib.auth import backends
from django.contrib.auth.models import Group
from django.contrib.postgres.fields import ArrayField
from django.db.models import BooleanField, CharField, QuerySet
from django.db.models.expressions import RawSQL

from coop.compiled import CompiledInstances
from members.models import User
from members.selectors import GROUP_NAMES, HAS_AUTHENTICATOR_APP, HOLDS_PERMISSIONS


def holds_permissions() -> RawSQL:
    """Whether the user (the query's ``members_user`` row) holds a permission of their own or
    through a group."""
    user = User._meta.db_table
    own = User.user_permissions.through._meta.db_table
    groups = User.groups.through._meta.db_table
    group_permissions = Group.permissions.through._meta.db_table
    return RawSQL(  # noqa: S611 (table names from the models, no input)
        f"EXISTS (SELECT 1 FROM {own} p WHERE p.user_id = {user}.id)"  # noqa: S608
        f" OR EXISTS (SELECT 1 FROM {groups} g JOIN {group_permissions} gp"
        f" ON gp.group_id = g.group_id WHERE g.user_id = {user}.id)",
        (),
        output_field=BooleanField(),
    )


def has_authenticator_app() -> RawSQL:
    """Whether the user (the query's ``members_user`` row) has a TOTP authenticator."""
    from allauth.mfa.models import Authenticator

    table = Authenticator._meta.db_table
    return RawSQL(  # noqa: S611 (table name from the model, the type as a parameter)
        f"EXISTS (SELECT 1 FROM {table} a"  # noqa: S608
        f" WHERE a.user_id = {User._meta.db_table}.id AND a.type = %s)",
        (Authenticator.Type.TOTP.value,),
        output_field=BooleanField(),
    )


def group_names() -> RawSQL:
    """The names of the user's (the query's ``members_user`` row) groups."""
    groups = User.groups.through._meta.db_table
    return RawSQL(  # noqa: S611 (table names from the models, no input)
        f"ARRAY(SELECT g.name FROM {groups} ug JOIN {Group._meta.db_table} g"  # noqa: S608
        f" ON g.id = ug.group_id WHERE ug.user_id = {User._meta.db_table}.id)",
        (),
        output_field=ArrayField(CharField()),
    )


@functools.cache
def _signed_in_users() -> QuerySet[User]:
    """Users with their member profile joined, and whether they hold any permission and have an
    authenticator app, and their groups' names, annotated.

    Built once per process and never evaluated itself (each ``get`` works on a copy): resolving
    the annotation is most of what this query costs in Python.
    """
    # The national number is read (and decrypted) only by the pages that show it.
    return (
        User._default_manager.select_related("member")
        .defer("member__niss")
        .annotate(
            **{
                HOLDS_PERMISSIONS: holds_permissions(),
                HAS_AUTHENTICATOR_APP: has_authenticator_app(),
                GROUP_NAMES: group_names(),
            }
        )
    )


# The query above, written to SQL once per process (building it costs more than running it).
_signed_in_user: CompiledInstances[User] = CompiledInstances(
    User, lambda _shape, *, user: _signed_in_users().filter(pk=user), user=int
)


class _SignedInUser:
    def get_user(self, user_id):
        users = _signed_in_user.instances(user=User._meta.pk.to_python(user_id))
        if not users:
            return None
        user = users[0]
        return user if self.user_can_authenticate(user) else None


class ModelBackend(_SignedInUser, backends.ModelBackend):
    """Django's backend (passwords, permissions), loading the user as above."""


class AuthenticationBackend(_SignedInUser, allauth_backends.AuthenticationBackend):
    """django-allauth's backend (sign-in by e-mail), loading the user as above."""
