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
    JSONField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    TextField,
    Value,
)
from django.db.models.functions import Cast, JSONObject, Upper

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
JSON = JSONField()


def _json(queryset: QuerySet, **fields) -> Subquery:
    """One subquery for several figures of the same rows: a JSON object (numbers as text, so
    that no amount is read as a float)."""
    return Subquery(queryset.order_by().values(json=JSONObject(**fields))[:1], output_field=JSON)


def _as_text(expression) -> Cast:
    return Cast(expression, TextField())


def _standing(_shape, *, activities: Array, member: int, user: int, today: str, now: str):
    on_day = Cast(Value(today), DateField())
    at = Cast(Value(now), DateTimeField())
    money = Invoice._meta.get_field("total_incl_vat")
    # ``Invoice.objects.with_amounts()``'s amount due, from the three sums it is made of. An
    # invoice is issued or partially paid exactly while something is due on it
    # (``refresh_payment_status``): its status finds the open ones through their index.
    due = F("total_incl_vat") - F("amount_paid") - F("amount_credited") + F("amount_refunded")
    # Each open invoice is either overdue or not: summed under one FILTER or the other, its
    # amount due (three subqueries) is computed once.
    overdue = Q(due_date__lt=on_day)
    current = Q(due_date__gte=on_day) | Q(due_date__isnull=True)
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
            overdue_count=Count("pk", filter=overdue),
            overdue_total=Sum(due, filter=overdue, output_field=money),
            current_count=Count("pk", filter=current),
            current_total=Sum(due, filter=current, output_field=money),
            contracts_awaiting=Subquery(
                Contract.objects.filter(
                    AnyOf("activity", activities), status=Contract.Status.SUBMITTED
                )
                .order_by()
                .values(count=Func(F("pk"), function="COUNT")),
                output_field=IntegerField(),
            ),
            claims=_json(
                claims,
                count=Func(F("pk"), function="COUNT"),
                total=_as_text(Func(F("total"), function="SUM")),
            ),
            bookings=_json(
                bookings,
                count=Func(F("pk"), function="COUNT"),
                next=Func(F("during__startswith"), function="MIN"),
            ),
            next_work=_json(
                next_work,
                contract=F("contract_id"),
                title=F("contract__title"),
                last_day=F("contract__last_work_day"),
                gross=_as_text(F("planned_gross")),
            ),
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
        "overdue_count",
        "overdue_total",
        "current_count",
        "current_total",
        "contracts_awaiting",
        "claims",
        "bookings",
        "next_work",
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
    overdue_total = row["overdue_total"] or ZERO
    claims, bookings, work = row["claims"], row["bookings"], row["next_work"] or {}
    return Standing(
        open_count=row["overdue_count"] + row["current_count"],
        open_total=overdue_total + (row["current_total"] or ZERO),
        overdue_count=row["overdue_count"],
        overdue_total=overdue_total,
        contracts_awaiting=row["contracts_awaiting"],
        claims_count=claims["count"],
        claims_total=Decimal(claims["total"] or ZERO),
        bookings_count=bookings["count"],
        next_booking=(
            datetime.datetime.fromisoformat(bookings["next"]) if bookings["next"] else None
        ),
        next_work_contract=work.get("contract"),
        next_work_title=work.get("title", ""),
        next_work_gross=Decimal(work.get("gross", ZERO)),
        next_pay_date=(
            pay_date(datetime.date.fromisoformat(work["last_day"]))
            if work.get("last_day")
            else None
        ),
    )
