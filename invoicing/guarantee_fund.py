"""The guarantee fund's figures, computed by PostgreSQL in one pass over the open invoices.

What clients still owe is summed per ageing bucket, per buyer (or client without a buyer) and per
member by aggregates grouped in SQL; only one page of each table, its biggest exposures first,
comes back to Python. No invoice row, and no issued content (JSON snapshot), is loaded.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connections
from django.db.models import Sum

from coop.db import read_alias
from invoicing.models import Buyer, Invoice, Payment
from members.models import Member

ZERO = Decimal("0.00")
PAGE_SIZE = 50

# (key, first day late, last day late); None: open-ended.
BUCKET_BOUNDS = [
    ("not_due", None, 0),
    ("days_1_30", 1, 30),
    ("days_31_60", 31, 60),
    ("days_61_90", 61, 90),
    ("days_over_90", 91, None),
]


@dataclass
class ExposureRow:
    name: str
    count: int
    outstanding: Decimal
    overdue: Decimal


@dataclass
class ExposurePage:
    rows: list[ExposureRow]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1


@dataclass
class Receivables:
    count: int = 0
    outstanding: Decimal = ZERO
    overdue: Decimal = ZERO
    buckets: dict[str, Decimal] = field(default_factory=dict)
    per_client: ExposurePage | None = None
    per_member: ExposurePage | None = None


def open_receivables_sql():
    """The SQL of the open invoices with what is still due: the columns grouped on, no more.

    Not filtered on what is due: the caller keeps the rows with something due once the sums
    are made (filtering here would make PostgreSQL sum each invoice's payments twice)."""
    queryset = (
        Invoice.objects.filter(
            kind=Invoice.Kind.INVOICE,
            status__in=[Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID],
        )
        .with_amounts()
        .order_by()
        .values(
            "due_date",
            "client_id",
            "client__buyer_id",
            "client__name",
            "activity__owner_id",
            "amount_due",
        )
    )
    return queryset.query.sql_with_params()


def _bucket_filter(low: int | None, high: int | None, today: datetime.date):
    """A SQL condition on ``due_date`` (and its parameters) for days late in [low, high]."""
    conditions, params = [], []
    if low is None:
        conditions.append("due_date IS NULL")
    if high is not None:
        # days late <= high  <=>  due_date >= today - high
        conditions.append("due_date >= %s")
        params.append(today - datetime.timedelta(days=high))
    if low is not None:
        conditions.append("due_date <= %s")
        params.append(today - datetime.timedelta(days=low))
    joiner = " OR " if low is None else " AND "
    return "(" + joiner.join(conditions) + ")", params


def _page_number(raw) -> int:
    try:
        number = int(raw)
    except (TypeError, ValueError):
        return 1
    return min(max(number, 1), 10_000)


def receivables(
    *, today: datetime.date, client_page: int = 1, member_page: int = 1, page_size: int = PAGE_SIZE
) -> Receivables:
    """Totals, ageing buckets and one page of each exposure table, in one query."""
    base_sql, base_params = open_receivables_sql()
    client_page, member_page = _page_number(client_page), _page_number(member_page)
    bucket_sql, bucket_params = [], []
    for key, low, high in BUCKET_BOUNDS:
        condition, params = _bucket_filter(low, high, today)
        bucket_sql.append(f"COALESCE(SUM(due) FILTER (WHERE {condition}), 0) AS {key}")
        bucket_params += params
    buyers, members = Buyer._meta.db_table, Member._meta.db_table
    # Only table names and fixed fragments are formatted in; every value is a parameter.
    sql = f"""
        WITH open_invoices (due_date, client_id, buyer_id, client_name, owner_id, due)
        AS MATERIALIZED (
            {base_sql}
        ),
        r AS MATERIALIZED (SELECT * FROM open_invoices WHERE due > 0),
        totals AS (
            SELECT COUNT(*) AS n, COALESCE(SUM(due), 0) AS outstanding,
                   COALESCE(SUM(due) FILTER (WHERE due_date < %s), 0) AS overdue,
                   {", ".join(bucket_sql)}
            FROM r
        ),
        per_client AS (
            SELECT buyer_id, CASE WHEN buyer_id IS NULL THEN client_id END AS client_id,
                   MIN(client_name) AS client_name, COUNT(*) AS n, SUM(due) AS outstanding,
                   COALESCE(SUM(due) FILTER (WHERE due_date < %s), 0) AS overdue
            FROM r
            GROUP BY 1, 2
            ORDER BY outstanding DESC, buyer_id NULLS LAST, client_id
            LIMIT %s OFFSET %s
        ),
        per_member AS (
            SELECT owner_id, COUNT(*) AS n, SUM(due) AS outstanding,
                   COALESCE(SUM(due) FILTER (WHERE due_date < %s), 0) AS overdue
            FROM r
            GROUP BY owner_id
            ORDER BY outstanding DESC, owner_id
            LIMIT %s OFFSET %s
        )
        SELECT 0 AS part, n, outstanding, overdue, NULL, NULL, NULL,
               {", ".join(key for key, _low, _high in BUCKET_BOUNDS)}
        FROM totals
        UNION ALL
        SELECT 1, c.n, c.outstanding, c.overdue, c.client_name, b.legal_name, b.vat_number,
               {", ".join("NULL" for _bucket in BUCKET_BOUNDS)}
        FROM per_client c LEFT JOIN {buyers} b ON b.id = c.buyer_id
        UNION ALL
        SELECT 2, m.n, m.outstanding, m.overdue, o.legal_name, NULL, NULL,
               {", ".join("NULL" for _bucket in BUCKET_BOUNDS)}
        FROM per_member m LEFT JOIN {members} o ON o.id = m.owner_id
        ORDER BY 1, 3 DESC
    """  # noqa: S608
    params = [
        *base_params,
        today,
        *bucket_params,
        today,
        page_size + 1,
        (client_page - 1) * page_size,
        today,
        page_size + 1,
        (member_page - 1) * page_size,
    ]
    # Raw SQL bypasses the router: coop.db says where a report's reads go (the replica inside
    # ``reads_from_replica`` when one is configured).
    with connections[read_alias()].cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    result = Receivables()
    clients, members_rows = [], []
    for part, count, outstanding, overdue, name, legal_name, vat_number, *buckets in rows:
        if part == 0:
            result.count, result.outstanding, result.overdue = count, outstanding, overdue
            keys = [key for key, _low, _high in BUCKET_BOUNDS]
            result.buckets = dict(zip(keys, buckets, strict=True))
        elif part == 1:
            # One buyer, whichever members invoice it: the cooperative's exposure to it.
            if vat_number is not None:
                name = legal_name or f"{name} ({vat_number})"
            clients.append(ExposureRow(name, count, outstanding, overdue))
        else:
            members_rows.append(ExposureRow(name or "—", count, outstanding, overdue))
    result.per_client = ExposurePage(
        clients[:page_size], client_page, has_next=len(clients) > page_size
    )
    result.per_member = ExposurePage(
        members_rows[:page_size], member_page, has_next=len(members_rows) > page_size
    )
    return result


def formal_notices(limit: int = PAGE_SIZE):
    """The open invoices whose formal notice is due, oldest notice first (one page)."""
    return list(
        Invoice.objects.filter(
            kind=Invoice.Kind.INVOICE,
            status__in=[Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID],
            formal_notice_due_at__isnull=False,
        )
        .with_amounts()
        .filter(amount_due__gt=0)
        .select_related("client")
        .only("pk", "number", "client__name", "total_incl_vat", "formal_notice_due_at")
        .order_by("formal_notice_due_at", "pk")[:limit]
    )


def paid_in_year(year: int) -> Decimal:
    start, end = datetime.date(year, 1, 1), datetime.date(year + 1, 1, 1)
    total = Payment.objects.filter(received_on__gte=start, received_on__lt=end).aggregate(
        total=Sum("amount")
    )["total"]
    return total or ZERO
