"""Where a member stands: the figures of the home page, read in one statement.

The home page is the one members page that shows what the other apps hold (invoices, contracts,
payslips, claims, bookings), so this module, imported by the dashboard view alone, reads their
models; members' other modules import none of them.

The statement is an aggregate over the member's open invoices, with FILTER clauses for those
overdue, and one scalar subquery for each other figure; every part reads an index range of the
member's own rows (their Activities' invoices and contracts, their claims, bookings and work),
never a big table. It is compiled once per process (``coop.compiled``).
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    Count,
    DateField,
    DateTimeField,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Upper

from contracts.models import Contract, ContractWorker, ExpenseClaim, Payslip
from contracts.payroll import pay_date
from coop.compiled import AnyOf, Array, CompiledQuery
from invoicing.models import ZERO, Invoice
from spaces.models import ACTIVE_STATES, Booking

# Contracts whose work is approved: their workers are paid once the work is done.
PAYABLE_CONTRACT_STATUSES = [
    Contract.Status.APPROVED,
    Contract.Status.IN_PROGRESS,
    Contract.Status.COMPLETED,
]
# Claims sent and not yet reimbursed.
CLAIMS_IN_PROGRESS = [ExpenseClaim.Status.SUBMITTED, ExpenseClaim.Status.APPROVED]


def _count(queryset: QuerySet) -> Subquery:
    counted = queryset.order_by().values(n=Func(F("pk"), function="COUNT"))
    return Subquery(counted, output_field=IntegerField())


def _first(queryset: QuerySet, column: str, output_field) -> Subquery:
    return Subquery(queryset.values(column)[:1], output_field=output_field)


def _standing(_shape, *, activities: Array, member: int, user: int, today: str, now: str):
    on_day = Cast(Value(today), DateField())
    at = Cast(Value(now), DateTimeField())
    money = Invoice._meta.get_field("total_incl_vat")
    # ``Invoice.objects.with_amounts()``'s amount due, from the three sums it is made of. An
    # invoice is issued or partially paid exactly while something is due on it
    # (``refresh_payment_status``): its status finds the open ones through their index.
    due = F("total_incl_vat") - F("amount_paid") - F("amount_credited") + F("amount_refunded")
    overdue = Q(due_date__lt=on_day)
    next_work = (
        ContractWorker.objects.filter(member=member, contract__status__in=PAYABLE_CONTRACT_STATUSES)
        .exclude(Exists(Payslip.objects.filter(worker=OuterRef("pk"), kind=Payslip.Kind.REGULAR)))
        .order_by("contract__last_work_day", "pk")
    )
    claims = ExpenseClaim.objects.filter(member=member, status__in=CLAIMS_IN_PROGRESS)
    bookings = (
        Booking.objects.filter(
            Q(created_by=user) | AnyOf("activity", activities),
            state__in=ACTIVE_STATES,
        )
        .annotate(end=Upper("during"))
        .filter(end__gt=at)
    )
    return (
        Invoice.objects.filter(
            AnyOf("activity", activities),
            kind=Invoice.Kind.INVOICE,
            status__in=[Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID],
            total_incl_vat__gt=0,
        )
        .with_settled_amounts()
        .order_by()
        # Grouped by a constant, which Django leaves out of GROUP BY: one row, whatever the
        # number of open invoices (none included).
        .annotate(every=Value(1))
        .values("every")
        .annotate(
            open_count=Count("pk"),
            open_total=Sum(due, output_field=money),
            overdue_count=Count("pk", filter=overdue),
            overdue_total=Sum(due, filter=overdue, output_field=money),
            contracts_awaiting=_count(
                Contract.objects.filter(
                    AnyOf("activity", activities), status=Contract.Status.SUBMITTED
                )
            ),
            claims_count=_count(claims),
            claims_total=Subquery(
                claims.order_by().values(total_sum=Func(F("total"), function="SUM")),
                output_field=money,
            ),
            bookings_count=_count(bookings),
            next_booking=_first(bookings.order_by("during"), "during__startswith", DateTimeField()),
            next_work_contract=_first(next_work, "contract_id", IntegerField()),
            next_work_title=_first(next_work, "contract__title", Contract._meta.get_field("title")),
            next_work_day=_first(next_work, "contract__last_work_day", DateField()),
            next_work_gross=_first(next_work, "planned_gross", money),
        )
        .values(*Standing.READ)
    )


_STANDING = CompiledQuery(
    Invoice, _standing, activities=Array, member=int, user=int, today=str, now=str
)


@dataclass(frozen=True)
class Standing:
    """What the home page tells a member of where they stand."""

    open_count: int
    open_total: Decimal
    overdue_count: int
    overdue_total: Decimal
    contracts_awaiting: int
    claims_count: int
    claims_total: Decimal
    bookings_count: int
    next_booking: datetime.datetime | None
    next_work_contract: int | None
    next_work_title: str
    next_work_gross: Decimal
    # The latest date the next pay is due: seven Belgian working days after the work.
    next_pay_date: datetime.date | None

    # The columns of the statement.
    READ = (
        "open_count",
        "open_total",
        "overdue_count",
        "overdue_total",
        "contracts_awaiting",
        "claims_count",
        "claims_total",
        "bookings_count",
        "next_booking",
        "next_work_contract",
        "next_work_title",
        "next_work_day",
        "next_work_gross",
    )


def standing_of(
    *,
    activities: list[int],
    member: int,
    user: int,
    today: datetime.date,
    now: datetime.datetime,
) -> Standing:
    """Read where the member stands: invoices awaiting payment and overdue, contracts awaiting
    approval, claims in progress, upcoming bookings, and the next pay for work not yet paid.

    ``activities``: the ids of the Activities the member owns or shares, already read.
    """
    (row,) = _STANDING.rows(
        activities=activities,
        member=member,
        user=user,
        today=today.isoformat(),
        now=now.isoformat(),
    )
    last_day = row["next_work_day"]
    return Standing(
        open_count=row["open_count"],
        open_total=row["open_total"] or ZERO,
        overdue_count=row["overdue_count"],
        overdue_total=row["overdue_total"] or ZERO,
        contracts_awaiting=row["contracts_awaiting"],
        claims_count=row["claims_count"],
        claims_total=row["claims_total"] or ZERO,
        bookings_count=row["bookings_count"],
        next_booking=row["next_booking"],
        next_work_contract=row["next_work_contract"],
        next_work_title=row["next_work_title"] or "",
        next_work_gross=row["next_work_gross"] or ZERO,
        next_pay_date=pay_date(last_day) if last_day else None,
    )
