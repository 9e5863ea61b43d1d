"""Reads scoped to the requesting user, and the yearly figures of the 281.45."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet, Sum

from contracts.models import Contract
from copyrights.models import CopyrightMemberYear, CopyrightPayment, CopyrightStatement
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


def member_year(member: Member, income_year: int) -> CopyrightMemberYear | None:
    return CopyrightMemberYear.objects.filter(member=member, income_year=income_year).first()
