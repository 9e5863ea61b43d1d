"""The guarantee fund's figures: computed by PostgreSQL every few minutes, read in one query.

Summing what each open invoice still owes (its payments, credit notes and refunds) takes seconds
at SMart's size (400,000 open invoices), too long for a page. ``refresh`` (Celery beat, every five
minutes, or a staff member's "Refresh now") computes every figure in one SQL statement (ageing
buckets, totals, per buyer or client without a buyer, per member) and replaces the rows of
``GuaranteeFundFigure`` in one transaction, so a reader sees the previous figures or the new ones,
never a mix. ``receivables`` reads the totals and one page of each table in one indexed query,
whatever the number of invoices; the page says when its figures were computed.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Count, DecimalField, F, OuterRef, Q, Subquery, Sum
from django.utils import timezone

from coop.db import read_alias
from invoicing import hooks
from invoicing.models import Buyer, Client, GuaranteeFundFigure, Invoice, Payment
from members.models import Activity, ActivityBalance, Member

ZERO = Decimal("0.00")
PAGE_SIZE = 50
# Transaction-level advisory lock (PgBouncer transaction pooling keeps no session lock): one
# refresh at a time; another that finds it taken skips, the figures being computed anyway.
REFRESH_LOCK = 7_340_011
REFRESH_BATCH = 5_000

# (key, first day late, last day late); None: open-ended.
BUCKET_BOUNDS = [
    ("not_due", None, 0),
    ("days_1_30", 1, 30),
    ("days_31_60", 31, 60),
    ("days_61_90", 61, 90),
    ("days_over_90", 91, None),
]
BUCKET_KEYS = [key for key, _low, _high in BUCKET_BOUNDS]
# The columns the refresh writes, in the order its SELECT gives them.
COLUMNS = [
    "kind",
    "position",
    "name",
    "invoice_count",
    "outstanding",
    "overdue",
    *BUCKET_KEYS,
    "paid_this_year",
    "as_of",
    "computed_at",
    "guaranteed",
]


@dataclass
class ExposureRow:
    name: str
    count: int
    outstanding: Decimal
    overdue: Decimal
    guaranteed: Decimal = ZERO


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
    paid_this_year: Decimal = ZERO
    # Clients' confirmed orders not yet invoiced: the Activities' guaranteed budget.
    guaranteed: Decimal = ZERO
    as_of: datetime.date | None = None
    computed_at: datetime.datetime | None = None


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


def _sums(today: datetime.date):
    """The sums of one group of open invoices: outstanding, overdue and each ageing bucket."""
    sql = [
        "COUNT(*) AS n",
        "COALESCE(SUM(due), 0) AS outstanding",
        "COALESCE(SUM(due) FILTER (WHERE due_date < %s), 0) AS overdue",
    ]
    params = [today]
    for key, low, high in BUCKET_BOUNDS:
        condition, condition_params = _bucket_filter(low, high, today)
        sql.append(f"COALESCE(SUM(due) FILTER (WHERE {condition}), 0) AS {key}")
        params += condition_params
    return ", ".join(sql), params


def figures_sql(*, today: datetime.date, now: datetime.datetime):
    """The SELECT of every figure (in ``COLUMNS`` order) and its parameters.

    One statement, so the totals, both tables and the year's payments are one snapshot.
    ``position`` numbers each table's rows in the order the page shows them."""
    base_sql, base_params = open_receivables_sql()
    orders_sql, orders_params = hooks.guaranteed_per_client_sql()
    sums, sums_params = _sums(today)
    buyers, members = Buyer._meta.db_table, Member._meta.db_table
    clients = Client._meta.db_table
    balances, activities = ActivityBalance._meta.db_table, Activity._meta.db_table
    payments = Payment._meta.db_table
    # Only table names and fixed fragments are formatted in; every value is a parameter.
    sql = f"""
        WITH open_invoices (due_date, client_id, buyer_id, client_name, owner_id, due)
        AS MATERIALIZED (
            {base_sql}
        ),
        r AS MATERIALIZED (SELECT * FROM open_invoices WHERE due > 0),
        per_client AS (
            SELECT buyer_id, CASE WHEN buyer_id IS NULL THEN client_id END AS client_id,
                   MIN(client_name) AS client_name, {sums}
            FROM r
            GROUP BY 1, 2
        ),
        per_member AS (
            SELECT owner_id, {sums}
            FROM r
            GROUP BY owner_id
        ),
        -- The clients' confirmed orders not yet invoiced, from the app that keeps them (an
        -- index-only sum), grouped like the receivables: per buyer, or client without one.
        guaranteed_orders (client_id, guaranteed) AS MATERIALIZED (
            {orders_sql}
        ),
        guaranteed_clients AS (
            SELECT c.buyer_id, CASE WHEN c.buyer_id IS NULL THEN c.id END AS client_id,
                   MIN(c.name) AS client_name, SUM(g.guaranteed) AS guaranteed
            FROM guaranteed_orders g JOIN {clients} c ON c.id = g.client_id
            GROUP BY 1, 2
        ),
        client_rows AS (
            SELECT COALESCE(p.buyer_id, g.buyer_id) AS buyer_id,
                   COALESCE(p.client_id, g.client_id) AS client_id,
                   COALESCE(p.client_name, g.client_name) AS client_name,
                   COALESCE(p.n, 0) AS n, COALESCE(p.outstanding, 0) AS outstanding,
                   COALESCE(p.overdue, 0) AS overdue,
                   {", ".join(f"COALESCE(p.{key}, 0) AS {key}" for key in BUCKET_KEYS)},
                   COALESCE(g.guaranteed, 0) AS guaranteed
            FROM per_client p FULL OUTER JOIN guaranteed_clients g
              ON COALESCE('b' || p.buyer_id, 'c' || p.client_id)
               = COALESCE('b' || g.buyer_id, 'c' || g.client_id)
        ),
        -- The guaranteed budget of confirmed orders, from the Activities' balance rows (kept
        -- by the ledger's trigger): invoicing reads the figure, not the orders behind it.
        guaranteed AS MATERIALIZED (
            SELECT a.owner_id, SUM(g.guaranteed) AS guaranteed
            FROM {balances} g JOIN {activities} a ON a.id = g.activity_id
            WHERE g.guaranteed <> 0
            GROUP BY a.owner_id
        ),
        member_rows AS (
            SELECT COALESCE(m.owner_id, g.owner_id) AS owner_id,
                   COALESCE(m.n, 0) AS n, COALESCE(m.outstanding, 0) AS outstanding,
                   COALESCE(m.overdue, 0) AS overdue,
                   {", ".join(f"COALESCE(m.{key}, 0) AS {key}" for key in BUCKET_KEYS)},
                   COALESCE(g.guaranteed, 0) AS guaranteed
            FROM per_member m FULL OUTER JOIN guaranteed g ON g.owner_id = m.owner_id
        )
        SELECT 'total', 0, '', {sums},
               (SELECT COALESCE(SUM(amount), 0) FROM {payments}
                WHERE received_on >= %s AND received_on < %s),
               %s::date, %s::timestamptz,
               (SELECT COALESCE(SUM(guaranteed), 0) FROM guaranteed)
        FROM r
        UNION ALL
        -- One buyer, whichever members invoice it: the cooperative's exposure to it.
        SELECT 'client',
               row_number() OVER (ORDER BY c.outstanding DESC, c.guaranteed DESC,
                                  c.buyer_id NULLS LAST, c.client_id),
               CASE WHEN b.vat_number IS NOT NULL
                    THEN COALESCE(NULLIF(b.legal_name, ''),
                                  c.client_name || ' (' || b.vat_number || ')')
                    ELSE c.client_name END,
               c.n, c.outstanding, c.overdue, {", ".join(f"c.{key}" for key in BUCKET_KEYS)},
               NULL, %s::date, %s::timestamptz, c.guaranteed
        FROM client_rows c LEFT JOIN {buyers} b ON b.id = c.buyer_id
        UNION ALL
        SELECT 'member',
               row_number() OVER (ORDER BY m.outstanding DESC, m.guaranteed DESC, m.owner_id),
               COALESCE(NULLIF(o.legal_name, ''), '—'),
               m.n, m.outstanding, m.overdue, {", ".join(f"m.{key}" for key in BUCKET_KEYS)},
               NULL, %s::date, %s::timestamptz, m.guaranteed
        FROM member_rows m LEFT JOIN {members} o ON o.id = m.owner_id
    """  # noqa: S608
    year_start = datetime.date(today.year, 1, 1)
    params = [
        *base_params,
        *sums_params,
        *sums_params,
        *orders_params,
        *sums_params,
        year_start,
        datetime.date(today.year + 1, 1, 1),
        today,
        now,
        today,
        now,
        today,
        now,
    ]
    return sql, params


def refresh(*, today: datetime.date | None = None, now: datetime.datetime | None = None) -> bool:
    """Compute every figure again and replace the stored ones; False if a refresh is running.

    Reads where ``coop.db.read_alias`` says (the replica inside ``reads_from_replica``), writes
    to default, under a transaction-level advisory lock: two refreshes never run at once."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    source = read_alias()  # before the transaction: inside one, every read stays on default
    select_sql, params = figures_sql(today=today, now=now)
    table = GuaranteeFundFigure._meta.db_table
    columns = ", ".join(COLUMNS)
    with (
        transaction.atomic(using=DEFAULT_DB_ALIAS),
        connections[DEFAULT_DB_ALIAS].cursor() as cursor,
    ):
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [REFRESH_LOCK])
        if not cursor.fetchone()[0]:
            return False
        if source == DEFAULT_DB_ALIAS:
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608
            cursor.execute(f"INSERT INTO {table} ({columns}) {select_sql}", params)
            return True
        cursor.execute(f"DELETE FROM {table}")  # noqa: S608
        # ~350,000 rows at full size: turned into Python tuples a batch at a time and copied.
        with (
            connections[source].cursor() as replica,
            cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            replica.execute(select_sql, params)
            while rows := replica.fetchmany(REFRESH_BATCH):
                for row in rows:
                    copy.write_row(row)
    return True


def receivables(
    *, client_page=1, member_page=1, page_size: int = PAGE_SIZE, using: str | None = None
) -> Receivables | None:
    """The last computed totals and one page of each table, in one query; None if none yet.

    A page is a range of positions on the (kind, position) unique index."""
    client_page, member_page = _page_number(client_page), _page_number(member_page)

    def page_of(kind, number):
        first = (number - 1) * page_size
        # One row more than the page: whether there is a next one.
        return Q(kind=kind, position__gt=first, position__lte=first + page_size + 1)

    Kind = GuaranteeFundFigure.Kind
    rows = list(
        GuaranteeFundFigure.objects.using(using or read_alias())
        .filter(
            Q(kind=Kind.TOTAL)
            | page_of(Kind.CLIENT, client_page)
            | page_of(Kind.MEMBER, member_page)
        )
        .order_by("kind", "position")
    )
    totals = [row for row in rows if row.kind == Kind.TOTAL]
    if not totals:
        return None
    total = totals[0]
    result = Receivables(
        count=total.invoice_count,
        outstanding=total.outstanding,
        overdue=total.overdue,
        buckets={key: getattr(total, key) for key in BUCKET_KEYS},
        paid_this_year=total.paid_this_year,
        guaranteed=total.guaranteed,
        as_of=total.as_of,
        computed_at=total.computed_at,
    )
    for kind, number, attribute in (
        (Kind.CLIENT, client_page, "per_client"),
        (Kind.MEMBER, member_page, "per_member"),
    ):
        exposures = [
            ExposureRow(row.name, row.invoice_count, row.outstanding, row.overdue, row.guaranteed)
            for row in rows
            if row.kind == kind
        ]
        page = ExposurePage(exposures[:page_size], number, has_next=len(exposures) > page_size)
        setattr(result, attribute, page)
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


@dataclass(frozen=True)
class CreditStanding:
    """What the cooperative knows of a client's credit: the buyer's (every member's clients
    with its VAT number) when the client has one, else the client's own invoices."""

    is_buyer: bool  # figures across every member's clients of the same buyer
    open_count: int
    exposure: Decimal  # what open invoices still owe
    overdue: Decimal  # of which past due
    paid_count: int  # invoices paid in full over the last year
    paid_late_count: int  # of which the last payment came after the due date

    @property
    def behaviour(self) -> str:
        """The share of the last year's paid invoices that were paid late, as "2/10"."""
        return f"{self.paid_late_count}/{self.paid_count}" if self.paid_count else "—"


def credit_standing(*, client_ids: list[int], today: datetime.date) -> dict[int, CreditStanding]:
    """The credit standing of each client, computed now: two grouped queries for all of them
    (a page of a staff queue), over the open and the last year's paid invoices of the clients
    or buyers concerned, through the invoice's client index."""
    from invoicing.models import Client

    clients = dict(Client.objects.filter(pk__in=client_ids).values_list("pk", "buyer_id"))
    buyers = {buyer for buyer in clients.values() if buyer is not None}
    alone = [pk for pk, buyer in clients.items() if buyer is None]
    scope = Q(client__buyer_id__in=buyers) | Q(client_id__in=alone)
    due = F("total_incl_vat") - F("amount_paid") - F("amount_credited") + F("amount_refunded")
    money = DecimalField(max_digits=14, decimal_places=2)
    open_rows = (
        Invoice.objects.filter(
            scope,
            kind=Invoice.Kind.INVOICE,
            status__in=[Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID],
        )
        .with_settled_amounts()
        .order_by()
        .values(buyer_key=F("client__buyer_id"), client_key=F("client_id"))
        .annotate(
            count=Count("pk"),
            exposure=Sum(due, output_field=money),
            overdue=Sum(due, filter=Q(due_date__lt=today), output_field=money),
        )
    )
    last_payment = (
        Payment.objects.filter(invoice=OuterRef("pk"))
        .order_by("-received_on")
        .values("received_on")[:1]
    )
    paid_rows = (
        Invoice.objects.filter(
            scope,
            kind=Invoice.Kind.INVOICE,
            status=Invoice.Status.PAID,
            issue_date__gte=today - datetime.timedelta(days=365),
        )
        .annotate(paid_on=Subquery(last_payment))
        .order_by()
        .values(buyer_key=F("client__buyer_id"), client_key=F("client_id"))
        .annotate(
            count=Count("pk"),
            late=Count("pk", filter=Q(paid_on__gt=F("due_date"))),
        )
    )
    figures: dict[tuple, list] = {}

    def key_of(row) -> tuple:
        buyer = row["buyer_key"]
        return ("buyer", buyer) if buyer is not None else ("client", row["client_key"])

    for row in open_rows:
        entry = figures.setdefault(key_of(row), [0, ZERO, ZERO, 0, 0])
        entry[0] += row["count"]
        entry[1] += row["exposure"] or ZERO
        entry[2] += row["overdue"] or ZERO
    for row in paid_rows:
        entry = figures.setdefault(key_of(row), [0, ZERO, ZERO, 0, 0])
        entry[3] += row["count"]
        entry[4] += row["late"]
    result = {}
    for pk, buyer in clients.items():
        key = ("buyer", buyer) if buyer is not None else ("client", pk)
        count, exposure, overdue, paid, late = figures.get(key, [0, ZERO, ZERO, 0, 0])
        result[pk] = CreditStanding(
            is_buyer=buyer is not None,
            open_count=count,
            exposure=exposure,
            overdue=overdue,
            paid_count=paid,
            paid_late_count=late,
        )
    return result
