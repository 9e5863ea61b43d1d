"""Reads scoped to the requesting user: another member's object is simply not found."""

import dataclasses
import functools
from decimal import Decimal

from django.contrib.auth.models import Permission
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import OuterRef, Q, QuerySet

from coop.compiled import CompiledQuery
from coop.keyset import Cursor, Keyset, KeysetPage, keyset_page
from members.models import (
    ZERO,
    Activity,
    ApiToken,
    LedgerEntry,
    LedgerEntryKind,
    Member,
    ShareSubscription,
    User,
    of_activities_of,
)

# Whether the user holds any permission, annotated by members.backends on the request's user.
HOLDS_PERMISSIONS = "_coop_holds_permissions"
# Whether the user has a TOTP authenticator, annotated likewise.
HAS_AUTHENTICATOR_APP = "_coop_has_authenticator_app"
# The names of the user's groups, annotated likewise (a role such as space manager is a group).
GROUP_NAMES = "_coop_group_names"


def member_of(user: User) -> Member | None:
    """Return the user's member profile, or None."""
    if not user.is_authenticated:
        return None
    try:
        # Joined when the user was signed in (members.backends); one query otherwise, and
        # remembered on the user object either way.
        return user.member
    except Member.DoesNotExist:
        return None


def is_active_member(user: User) -> bool:
    """Whether the user is a member whose membership is approved and in force.

    Applicants (and suspended or departed members) may read what is theirs, never create.
    """
    if not user.is_authenticated:
        return False
    return Member.objects.filter(user=user, status=Member.Status.ACTIVE).exists()


@functools.cache
def _activities_with_balances() -> QuerySet[Activity]:
    # Built once per process and never evaluated itself: callers get copies.
    return Activity.objects.select_related("owner").with_balances()


def activities_visible_to(user: User) -> QuerySet[Activity]:
    """Activities the user owns or shares (staff: all), with their balances."""
    activities = _activities_with_balances()
    if user.is_staff:
        return activities.all()
    return activities.of_user(user)


ACTIVITY_KEYSET = Keyset("created_at")


def activity_page_of(user: User, *, size: int, cursor: Cursor | None = None) -> KeysetPage:
    """One page of the Activities the user owns or shares (staff: theirs only), newest first,
    with their balances and owners.

    The user's Activity ids are looked up first (``activity_ids_of``): the page reads those
    rows by primary key, whatever the number of Activities in the cooperative.
    """
    activities = _activities_with_balances().of_user(user)
    return keyset_page(activities, ACTIVITY_KEYSET, size=size, cursor=cursor)


def _one_activity(is_staff: bool, *, user: int, activity: int) -> QuerySet[dict]:
    co_members = Member.objects.filter(shared_activities=OuterRef("pk")).order_by("legal_name")
    return (
        activities_visible_to(User(pk=user, is_staff=is_staff))
        .filter(pk=activity)
        .values(
            "pk",
            "name",
            "description",
            "available_balance",
            "planned_balance",
            "guaranteed_balance",
            "owner__legal_name",
            co_member_names=ArraySubquery(co_members.values("legal_name")),
        )
    )


_ONE_ACTIVITY = CompiledQuery(Activity, _one_activity, user=int, activity=int)


def activity_row_of(user: User, pk: int) -> dict | None:
    """One Activity the user may see (``activities_visible_to``) as a dict, or None.

    With its balances, its owner's ``owner__legal_name`` and its ``co_member_names`` in the
    order of ``activity.co_members.all()``; the query is compiled once per process.
    """
    rows = _ONE_ACTIVITY.rows(user.is_staff, user=user.pk, activity=pk)
    return rows[0] if rows else None


def takes_part_in(user: User, activity: Activity) -> bool:
    """Whether the user owns or co-owns the Activity (staff included: their role does not count).

    Segregation of duties rests on this: nobody decides on money that reaches an Activity of
    their own.
    """
    return Activity.objects.of_user(user).filter(pk=activity.pk).exists()


LEDGER_KEYSET = Keyset("created_at")


def ledger_entries_of(activity: Activity) -> QuerySet[LedgerEntry]:
    """The ledger of an Activity already checked visible, newest first."""
    return LedgerEntry.objects.filter(activity=activity).select_related("author")


def ledger_page_of(activity: Activity, *, size: int, cursor: Cursor | None = None) -> KeysetPage:
    """One page of an Activity's ledger, newest first, read through its index range only.

    The entries come without their authors, which the Activity page does not show.
    """
    entries = LedgerEntry.objects.filter(activity=activity)
    return keyset_page(entries, LEDGER_KEYSET, size=size, cursor=cursor)


def recent_ledger_entries_for(activity_ids: list[int], *, limit: int = 10) -> list[LedgerEntry]:
    """The latest entries across the given Activities (the user's, already looked up).

    Each Activity's latest entries come from its own index range and are merged: the ledger
    itself is never scanned.
    """
    entries = LedgerEntry.objects.select_related("activity")
    return keyset_page(entries, LEDGER_KEYSET, size=limit, split=("activity_id", activity_ids)).rows


def shares_of(member: Member) -> QuerySet[ShareSubscription]:
    """A member's share subscriptions, oldest first."""
    return ShareSubscription.objects.filter(member=member).order_by("subscribed_on", "pk")


def has_elevated_powers(user: User) -> bool:
    """Tell whether the user can do more than a member: staff, or any granted permission.

    Space managers hold their powers through permissions of their group, so any permission
    counts; members hold none.
    """
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_staff or user.is_superuser:
        return True
    holds_permissions = getattr(user, HOLDS_PERMISSIONS, None)
    if holds_permissions is not None:
        # Annotated when the request's user was loaded (members.backends).
        return holds_permissions
    # One query for the user's own and their groups' permissions (asked on every API request).
    return Permission.objects.filter(Q(user=user) | Q(group__user=user)).exists()


def api_tokens_of(user: User) -> QuerySet[ApiToken]:
    """The user's API tokens that were not revoked, newest first (expired ones included)."""
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).order_by(
        "-created_at", "-pk"
    )


def totp_authenticator_of(user: User):
    """The user's authenticator app (allauth.mfa TOTP), or None."""
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()


# The steps from signing up to the first invoice, in order (templates/members/onboarding.html).
ONBOARDING_STEPS = ("apply", "approval", "share", "activity", "invoice")


@dataclasses.dataclass(frozen=True)
class OnboardingStep:
    """One step of the way in: ``done``, or ``current`` (the first step not done), or to come."""

    key: str
    done: bool
    current: bool


@dataclasses.dataclass(frozen=True)
class Onboarding:
    """Where someone stands on the way in, and what their share subscriptions still owe."""

    steps: list[OnboardingStep]
    share_due: Decimal
    shares_unpaid: int


def onboarding_of(user: User, member: Member | None) -> Onboarding:
    """Tell which steps of the way in the user has taken: applied, approved by staff, a share
    paid, an Activity opened (their own or shared) and a first invoice issued (its planned
    income in one of their Activities' ledgers).

    Without a member profile nothing is read; otherwise at most three small queries, each
    through the member's or their Activities' indexes.
    """
    subscriptions = list(shares_of(member)) if member is not None else []
    unpaid = [subscription for subscription in subscriptions if not subscription.is_paid]
    has_activity = member is not None and Activity.objects.of_user(user).exists()
    has_invoice = (
        has_activity
        and LedgerEntry.objects.filter(
            of_activities_of(user), kind=LedgerEntryKind.CLIENT_INCOME
        ).exists()
    )
    done = {
        "apply": member is not None,
        "approval": member is not None and member.is_approved,
        "share": len(unpaid) < len(subscriptions),
        "activity": has_activity,
        "invoice": has_invoice,
    }
    current = next((key for key in ONBOARDING_STEPS if not done[key]), None)
    return Onboarding(
        steps=[OnboardingStep(key, done[key], key == current) for key in ONBOARDING_STEPS],
        share_due=sum((subscription.amount for subscription in unpaid), start=ZERO),
        shares_unpaid=sum(subscription.number_of_shares for subscription in unpaid),
    )
