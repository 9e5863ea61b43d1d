"""Where a member stands: the figures of the home page.

The home page is the one members page that shows what the other apps hold (invoices, contracts,
payslips, claims, bookings), so this module, imported by the dashboard view alone, reads their
models; members' other modules import none of them.

Two statements, each compiled once per process (``coop.compiled``):

- the member's open invoices, one aggregate with FILTER clauses for those overdue and not. At
  SMart's size its cost is the member's invoices (2,000 rows and a thousand index probes for the
  heaviest member, 15–30 ms on the benchmark machine), so its figures are kept per process,
  keyed by the day and by how many ledger entries the member's Activities hold: issuing,
  crediting and payments each post ledger entries, so a new entry makes the next request read
  them again (and a minute at most in any case);
- the other figures, a scalar subquery each over the member's own rows, and that ledger count.
"""

import datetime
import threading
import time
from collections import OrderedDict
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
from members.models import ActivityBalance, Member
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
    return Subquery(queryset.values(json=JSONObject(**fields))[:1], output_field=JSON)


def _as_text(expression) -> Cast:
    return Cast(expression, TextField())


def _receivables(_shape, *, activities: Array, today: str):
    on_day = Cast(Value(today), DateField())
    money = Invoice._meta.get_field("total_incl_vat")
    # ``Invoice.objects.with_amounts()``'s amount due, from the three sums it is made of. An
    # invoice is issued or partially paid exactly while something is due on it
    # (``refresh_payment_status``): its status keeps the open ones.
    due = F("total_incl_vat") - F("amount_paid") - F("amount_credited") + F("amount_refunded")
    # Each open invoice is either overdue or not: summed under one FILTER or the other, its
    # amount due (three subqueries) is computed once.
    overdue = Q(due_date__lt=on_day)
    current = Q(due_date__gte=on_day) | Q(due_date__isnull=True)
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
        )
        .values("overdue_count", "overdue_total", "current_count", "current_total")
    )


_RECEIVABLES = CompiledQuery(Invoice, _receivables, activities=Array, today=str)


def _others(_shape, *, activities: Array, member: int, user: int, now: str):
    at = Cast(Value(now), DateTimeField())
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
        Member.objects.filter(pk=member)
        .order_by()
        .values(
            ledger_entries=Subquery(
                ActivityBalance.objects.filter(AnyOf("activity", activities))
                .order_by()
                .values(total=Func(F("entry_count"), function="SUM")),
                output_field=IntegerField(),
            ),
            contracts_awaiting=Subquery(
                Contract.objects.filter(
                    AnyOf("activity", activities), status=Contract.Status.SUBMITTED
                )
                .order_by()
                .values(count=Func(F("pk"), function="COUNT")),
                output_field=IntegerField(),
            ),
            claim_figures=_json(
                claims.order_by(),
                count=Func(F("pk"), function="COUNT"),
                total=_as_text(Func(F("total"), function="SUM")),
            ),
            booking_figures=_json(
                bookings.order_by(),
                count=Func(F("pk"), function="COUNT"),
                next=Func(F("during__startswith"), function="MIN"),
            ),
            work_figures=_json(
                next_work,
                contract=F("contract_id"),
                title=F("contract__title"),
                last_day=F("contract__last_work_day"),
                gross=_as_text(F("planned_gross")),
            ),
        )
    )


_OTHERS = CompiledQuery(Member, _others, activities=Array, member=int, user=int, now=str)


class _Kept:
    """The open invoices' figures of recent members, per process, by the key they were read
    under; the oldest go first beyond ``size``, and none is used after ``seconds``."""

    def __init__(self, *, size: int, seconds: float) -> None:
        self.size = size
        self.seconds = seconds
        self.rows: OrderedDict = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            kept = self.rows.get(key)
            if kept is None or kept[0] < time.monotonic():
                return None
            return kept[1]

    def put(self, key, value) -> None:
        with self.lock:
            self.rows[key] = (time.monotonic() + self.seconds, value)
            self.rows.move_to_end(key)
            while len(self.rows) > self.size:
                self.rows.popitem(last=False)


_KEPT_RECEIVABLES = _Kept(size=10_000, seconds=60)


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
    (row,) = _OTHERS.rows(activities=activities, member=member, user=user, now=now.isoformat())
    key = (member, tuple(activities), row["ledger_entries"], today)
    invoices = _KEPT_RECEIVABLES.get(key)
    if invoices is None:
        (invoices,) = _RECEIVABLES.rows(activities=activities, today=today.isoformat())
        _KEPT_RECEIVABLES.put(key, invoices)
    overdue_total = invoices["overdue_total"] or ZERO
    claims, bookings = row["claim_figures"], row["booking_figures"]
    work = row["work_figures"] or {}
    return Standing(
        open_count=invoices["overdue_count"] + invoices["current_count"],
        open_total=overdue_total + (invoices["current_total"] or ZERO),
        overdue_count=invoices["overdue_count"],
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
