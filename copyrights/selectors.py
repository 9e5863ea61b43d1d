"""Reads scoped to the requesting user, and the yearly figures of the 281.45."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import IntegerField, QuerySet, Sum, Value
from django.db.models.functions import Cast

from contracts.models import Contract
from coop.compiled import CompiledInstances, CompiledQuery
from copyrights.models import (
    CopyrightMemberYear,
    CopyrightParameters,
    CopyrightPayment,
    CopyrightStatement,
)
from members.models import Activity, Member, User


def copyright_payments_visible_to(user: User) -> QuerySet[CopyrightPayment]:
    """The user's own copyright payments (staff: all): pay and tax details are personal."""
    payments = CopyrightPayment.objects.select_related("activity", "contract", "statement")
    if user.is_staff:
        return payments
    return payments.filter(member__user=user)


def statements_visible_to(user: User) -> QuerySet[CopyrightStatement]:
    statements = CopyrightStatement.objects.select_related("payment")
    if user.is_staff:
        return statements
    return statements.filter(payment__member__user=user)


@dataclass(frozen=True)
class CopyrightYear:
    member_id: int
    gross: Decimal
    lump_sum_costs: Decimal
    withholding: Decimal


def copyright_years(year: int) -> list[CopyrightYear]:
    """One row per beneficiary paid copyright income in the calendar year, by member id.

    One query, on the index of the paid payments by year and member (a payment is paid in its
    income year: payroll runs pay only the payments of their own year).
    """
    rows = (
        CopyrightPayment.objects.filter(status=CopyrightPayment.Status.PAID, income_year=year)
        .order_by("member_id")
        .values("member_id")
        .annotate(
            total_gross=Sum("gross"),
            total_costs=Sum("lump_sum_costs"),
            total_withholding=Sum("withholding"),
        )
        .values_list("member_id", "total_gross", "total_costs", "total_withholding")
    )
    return [
        CopyrightYear(
            member_id=member_id, gross=gross, lump_sum_costs=costs, withholding=withholding
        )
        for member_id, gross, costs, withholding in rows
    ]


def recordable_activities(user: User) -> QuerySet[Activity]:
    """The Activities a member may charge a copyright payment to: theirs and those they share."""
    return Activity.objects.of_user(user).only("pk", "name")


def recordable_contracts(user: User) -> QuerySet[Contract]:
    """The user's artistic contracts still open to a copyright payment, newest first."""
    return (
        Contract.objects.of_user(user)
        .filter(kind=Contract.Kind.ARTISTIC)
        .exclude(status__in=[Contract.Status.REJECTED, Contract.Status.CANCELLED])
        .only("pk", "title")
        .order_by("-pk")
    )


def _year(value: str) -> Cast:
    # A year sent as a parameter of a compiled query, as text: an integer stand-in, out of a
    # small integer's range, would leave the query empty.
    return Cast(Value(value), IntegerField())


# The member pages' reads, compiled once per process (coop.compiled).
_ACTIVITY_CHOICES = CompiledQuery(
    Activity,
    lambda _shape, user: (
        recordable_activities(User(pk=user)).order_by("name", "pk").values("pk", "name")
    ),
    user=int,
)
_CONTRACT_CHOICES = CompiledQuery(
    Contract,
    lambda _shape, user: recordable_contracts(User(pk=user)).values("pk", "title"),
    user=int,
)
_MEMBER_YEAR = CompiledInstances(
    CopyrightMemberYear,
    lambda _shape, member, year: CopyrightMemberYear.objects.filter(
        member_id=member, income_year=_year(year)
    ).order_by("pk")[:1],
    member=int,
    year=str,
)
_PARAMETERS = CompiledInstances(
    CopyrightParameters,
    lambda _shape, year: CopyrightParameters.objects.filter(income_year=_year(year)).order_by("pk")[
        :1
    ],
    year=str,
)
_FIRST_PAYMENTS = CompiledInstances(
    CopyrightPayment,
    # The shape: whether the user is staff, and how many rows.
    lambda shape, *, user: (
        copyright_payments_visible_to(User(pk=user, is_staff=shape[0]))
        .filter(member__user_id=user)
        .order_by("-created_at", "-pk")[: shape[1]]
    ),
    user=int,
)


def recordable_activity_rows(user: User) -> list[dict]:
    """The ``pk`` and ``name`` of ``recordable_activities``, by name: one compiled query."""
    return _ACTIVITY_CHOICES.rows(user=user.pk)


def recordable_contract_rows(user: User) -> list[dict]:
    """The ``pk`` and ``title`` of ``recordable_contracts``, newest first: one compiled query."""
    return _CONTRACT_CHOICES.rows(user=user.pk)


def first_own_payments(user: User, *, size: int) -> list[CopyrightPayment]:
    """The first ``size`` of the user's own payments, newest first, as the list shows them."""
    return _FIRST_PAYMENTS.instances((user.is_staff, size), user=user.pk)


def member_year(member: Member, income_year: int) -> CopyrightMemberYear | None:
    rows = _MEMBER_YEAR.instances(member=member.pk, year=str(income_year))
    return rows[0] if rows else None


def parameters_of(income_year: int) -> CopyrightParameters | None:
    """The copyright figures of the income year, if staff entered them."""
    rows = _PARAMETERS.instances(year=str(income_year))
    return rows[0] if rows else None
