"""seed_scale builds a coherent world: counts, numbering, bookings, ledgers, frozen invoices."""

import datetime
import hashlib
import io
from collections import defaultdict
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib import admin
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.db.models import Count, Q
from django.test import RequestFactory
from django.utils import timezone

from audit.models import DataExport
from checkout.models import OnlinePayment
from contracts.models import Contract, ExpenseClaim, Payslip
from contracts.services.payroll import first_working_day_from
from coop.money import round_money
from coop.scale import BIG_TABLES, SCALE_DOMAIN, SCALE_PASSWORD, Plan, heavy_logins
from copyrights.models import CopyrightMemberYear, CopyrightPayment
from declarations.models import DmfaExport
from declarations.selectors import Quarter
from invoicing.models import (
    BankStatement,
    Invoice,
    InvoiceLine,
    InvoiceSequence,
    Payment,
    Refund,
)
from invoicing.services.payments import amount_due
from members.demo import DEMO_MEMBER, DEMO_PASSWORD, DEMO_STAFF
from members.models import Activity, ActivityBalance, LedgerEntry, Member, User
from portal.models import PortalQuestion, PortalToken
from portal.services import EMAIL_LINK_LIFETIME
from quotes.models import OrderInvoice, Quote, QuoteAwaitingConfirmation
from spaces.models import Booking, FeedToken
from taxforms.models import BelcotaxExport, TaxCertificate
from tests.conftest import make_member, make_user

SCALE = 0.0005
ZERO = Decimal("0.00")


def national_number(birth: datetime.date, serial: int) -> str:
    base = f"{birth:%y%m%d}{serial:03d}"
    return base + f"{97 - int(base) % 97:02d}"


def structures() -> set[tuple[str, str]]:
    """Every index and constraint of the tables the load writes to."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s)", [BIG_TABLES]
        )
        indexes = set(cursor.fetchall())
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid::regclass::text = ANY(%s)",
            [BIG_TABLES],
        )
        return indexes | set(cursor.fetchall())


def sql(query: str, params=None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


@pytest.fixture
def world(db):
    # What of the demo world matters here, without its minute of loading: the staff account,
    # a member (whose national number is one a generated member could have had), and an
    # invoice series already in use.
    make_user(DEMO_STAFF, is_staff=True, is_superuser=True)
    demo_member = make_member(
        DEMO_MEMBER, legal_name="Ana Peeters", niss=national_number(datetime.date(1950, 1, 2), 1)
    )
    demo_member.user.set_password(DEMO_PASSWORD)
    demo_member.user.save()
    InvoiceSequence.objects.create(
        series="2026", last_number=14, last_issue_date=datetime.date(2026, 11, 17)
    )
    before = structures()
    demo_ledger = LedgerEntry.objects.count()
    out = io.StringIO()
    call_command("seed_scale", "--scale", str(SCALE), stdout=out)
    return {"before": before, "out": out.getvalue(), "demo_ledger": demo_ledger}


def test_seed_scale_builds_a_coherent_world(world, client):
    plan = Plan.for_scale(SCALE)
    scale_members = Member.objects.filter(user__email__endswith=f"@{SCALE_DOMAIN}")
    activities = Activity.objects.filter(owner__in=scale_members)
    # What the apps' services add for the heavy members: a draft each, two credit notes.
    heavy_work = Invoice.objects.filter(activity__in=activities).filter(
        Q(status__in=[Invoice.Status.DRAFT, Invoice.Status.PENDING_REVIEW])
        | Q(kind=Invoice.Kind.CREDIT_NOTE)
    )
    invoices = Invoice.objects.filter(activity__in=activities).exclude(pk__in=heavy_work)
    # The refunded credit note's ledger entry comes on top of the planned ones.
    refund = Refund.objects.select_related("credit_note__credited_invoice", "payment_file").get()
    # So does the first heavy member's confirmed order's guaranteed budget; its deposit is drawn
    # up as a draft invoice, which writes nothing to the ledger.
    order = Quote.objects.get(status=Quote.Status.CONFIRMED, activity__in=activities)
    deposit = OrderInvoice.objects.select_related("invoice").get()
    # And the first heavy member's copyright payment: committed, then paid (three entries).
    copyright_payment = CopyrightPayment.objects.get()
    ledger = LedgerEntry.objects.exclude(
        reference__in=[refund.credit_note.number, order.number, copyright_payment.reference]
    )

    # Counts as planned, and the report gives a rate for every table.
    assert scale_members.count() == plan.members == 50
    assert activities.count() == plan.members
    assert invoices.count() == plan.invoices == 1000
    assert InvoiceLine.objects.filter(invoice__in=invoices).count() == 2 * plan.invoices
    assert ledger.filter(activity__in=activities).count() == plan.ledger == 5000
    assert ledger.count() == world["demo_ledger"] + plan.ledger
    assert Booking.objects.filter(member__in=scale_members).count() == plan.bookings
    assert sql(
        "SELECT count(*) FROM contracts_contract c JOIN members_activity a"
        " ON a.id = c.activity_id JOIN members_member m ON m.id = a.owner_id"
        " JOIN members_user u ON u.id = m.user_id WHERE u.email LIKE %s",
        [f"%@{SCALE_DOMAIN}"],
    ) == [(plan.contracts + plan.heavy,)]  # and a draft of each heavy member
    for table in ("members_user", "invoicing_invoice", "members_ledgerentry", "spaces_booking"):
        assert f"  {table}" in world["out"]
    assert "rows/s" in world["out"]
    for login in heavy_logins(plan):
        assert login in world["out"]
        member = Member.objects.get(user__email=login)
        assert invoices.filter(activity__owner=member).count() == plan.heavy_invoices
        # The heavy members' drafts and claims, for the forms and pages that show them.
        draft = heavy_work.exclude(pk=deposit.invoice_id).get(
            activity__owner=member, status=Invoice.Status.DRAFT
        )
        assert draft.lines.count() == 10
        assert draft.allowance_charges.count() == 1
        contract = Contract.objects.get(
            activity__owner=member,
            status=Contract.Status.DRAFT,
            created_at__date=timezone.localdate(),
        )
        assert contract.workers.get().days.count() == 5
        assert sorted(
            ExpenseClaim.objects.filter(member=member).values_list("status", flat=True)
        ) == ["draft", "submitted", "submitted"]
        assert FeedToken.objects.filter(user=member.user, room=None).count() == 1
        assert ledger.filter(activity__owner=member).count() == plan.heavy_ledger == 166
    # A day's bank statement for staff: transfers naming no invoice, and the bank's costs.
    statement = BankStatement.objects.get(statement_id__startswith="SCALE-")
    assert dict(statement.lines.values_list("status").annotate(count=Count("pk")).order_by()) == {
        "unmatched": 900,
        "ignored": 100,
    }
    assert order.activity.owner.user.email == heavy_logins(plan)[0]
    assert list(
        LedgerEntry.objects.filter(reference=order.number).values_list("kind", "stage", "amount")
    ) == [("client_income", "guaranteed", order.current_version.total_excl_vat)]
    # Staff's pages of orders, online payments and portal links have the first heavy member's
    # rows to show, written by the apps' services: a quote accepted and waiting for staff, the
    # order's deposit, an online payment still open, the link each questioned invoice e-mailed.
    first = Member.objects.get(user__email=heavy_logins(plan)[0])
    awaiting = Quote.objects.select_related("current_version").get(
        status=Quote.Status.ACCEPTED, activity__in=activities
    )
    assert awaiting.activity.owner == first
    # The one row of staff's queue of orders to confirm.
    queue = admin.site._registry[QuoteAwaitingConfirmation].get_queryset(RequestFactory().get("/"))
    assert list(queue.values_list("pk", flat=True)) == [awaiting.pk]
    assert (
        awaiting.current_version.accepted_by_name,
        awaiting.current_version.client_po_number,
        len(awaiting.current_version.pdf_sha256),
    ) == ("Jan Peeters", "PO-2026-112", 64)
    assert (deposit.quote, deposit.part, deposit.guarantee_released) == (order, "deposit", ZERO)
    assert deposit.amount_excl_vat == round_money(
        order.current_version.total_excl_vat * Decimal("0.30")
    )
    assert (deposit.invoice.status, deposit.invoice.activity_id) == ("draft", order.activity_id)
    assert deposit.invoice.total_excl_vat == deposit.amount_excl_vat
    online = OnlinePayment.objects.select_related("invoice__activity").get()
    assert online.invoice.activity.owner == first
    assert (online.status, online.provider, online.invoice.status) == (
        "open",
        "simulated",
        "issued",
    )
    assert online.amount == amount_due(online.invoice) == online.invoice.total_incl_vat
    questions = PortalQuestion.objects.select_related("invoice__client")
    assert sorted(question.invoice.activity.owner.user.email for question in questions) == (
        heavy_logins(plan)
    )
    tokens = PortalToken.objects.order_by("pk")
    assert sorted(token.email for token in tokens) == sorted(
        question.email for question in questions
    )
    assert {(token.kind, token.expires_at - token.created_at) for token in tokens} == {
        ("email", EMAIL_LINK_LIFETIME)
    }
    credit_note = heavy_work.get(
        kind=Invoice.Kind.CREDIT_NOTE, status=Invoice.Status.PENDING_REVIEW
    )
    assert credit_note.activity.owner.user.email == heavy_logins(plan)[0]
    # The first heavy member's data export, built in full.
    export = DataExport.objects.get()
    assert (export.user.email, export.status) == (heavy_logins(plan)[0], DataExport.Status.READY)
    with export.file.open("rb") as stored:
        assert hashlib.sha256(stored.read()).hexdigest() == export.sha256
    assert export.size > 10_000
    # The second heavy member's paid invoice, credited in full: its refund waits in a SEPA file.
    credited = refund.credit_note.credited_invoice
    assert refund.credit_note.activity.owner.user.email == heavy_logins(plan)[1]
    assert refund.status == Refund.Status.IN_PAYMENT_FILE
    assert refund.amount == credited.total_incl_vat
    assert refund.payment_file.transfer_count == 1
    assert refund.payment_file.total == refund.amount
    # The DmfA, copyright and tax-form change pages have a row each, written by the services.
    heavy = list(Member.objects.filter(user__email__in=heavy_logins(plan)).order_by("pk"))
    today = timezone.localdate()
    payment = copyright_payment
    assert (payment.member, payment.gross, payment.income_year) == (
        heavy[0],
        Decimal("4000.00"),
        today.year,
    )
    # Paid by a payroll run, unless the next pay day is in the new year (income of the year).
    if first_working_day_from(today).year == today.year:
        assert (payment.status, payment.payroll_run.payslip_count) == ("paid", 0)
    else:
        assert (payment.status, payment.payroll_run) == ("approved", None)
    member_year = CopyrightMemberYear.objects.get()
    assert (member_year.member, member_year.income_year) == (heavy[0], today.year)
    last_year = today.year - 1
    paid_last_year = set(
        Payslip.objects.filter(pay_date__year=last_year).values_list("member", flat=True)
    )
    certificates = TaxCertificate.objects.all()
    # The heavy members' certificates only, every one sent in the one Belcotax file.
    assert set(certificates.values_list("member", flat=True)) == paid_last_year & {
        member.pk for member in heavy
    }
    assert paid_last_year & {member.pk for member in heavy}
    assert set(certificates.values_list("form", "year", "version", "is_current")) == {
        ("28110", last_year, 1, True)
    }
    belcotax = BelcotaxExport.objects.get()
    assert (belcotax.year, belcotax.is_test) == (last_year, False)
    assert set(certificates.values_list("export", flat=True)) == {belcotax.pk}
    # Last quarter's DmfA, exported whole: every member paid for work that ended in it.
    quarter = Quarter.of(today).previous
    dmfa = DmfaExport.objects.get()
    assert (dmfa.year, dmfa.quarter) == (quarter.year, quarter.number)
    quarter_payslips = Payslip.objects.filter(
        worker__contract__last_work_day__range=(quarter.start, quarter.end)
    )
    assert dmfa.workers == quarter_payslips.values("member").distinct().count() > 0
    assert dmfa.gross == sum(quarter_payslips.values_list("gross", flat=True))
    with dmfa.file.open("rb") as stored:
        assert hashlib.sha256(stored.read()).hexdigest() == dmfa.sha256

    # Gapless numbers per series, dates following numbers, sequences in line with them; the
    # invoices take the years before the series already in use, which is left as it was.
    assert InvoiceSequence.objects.get(series="2026").last_number == 14
    assert set(invoices.values_list("series", flat=True)) == {"2024", "2025"}
    for series in ("2024", "2025"):
        rows = list(
            Invoice.objects.filter(series=series)
            .order_by("sequence_number")
            .values_list("sequence_number", "issue_date", "number")
        )
        assert [row[0] for row in rows] == list(range(1, len(rows) + 1)), series
        assert [row[1] for row in rows] == sorted(row[1] for row in rows), series
        sequence = InvoiceSequence.objects.get(series=series)
        assert sequence.last_number == len(rows)
        assert sequence.last_issue_date == rows[-1][1]
        assert all(number == f"{series}-{seq:06d}" for seq, _date, number in rows)

    # No two active bookings of a room overlap.
    assert sql(
        "SELECT count(*) FROM spaces_booking a JOIN spaces_booking b ON a.room_id = b.room_id"
        " AND a.id < b.id AND a.blocked_during && b.blocked_during"
        " WHERE a.state IN ('tentative', 'confirmed', 'checked_in')"
        " AND b.state IN ('tentative', 'confirmed', 'checked_in')"
    ) == [(0,)]

    # Each issued invoice's snapshot and totals agree with its lines.
    for invoice in invoices.prefetch_related("lines")[:50]:
        lines = list(invoice.lines.all())
        excl = sum((line.quantity * line.unit_price for line in lines), ZERO)
        assert invoice.total_excl_vat == excl
        assert invoice.total_vat == round_money(excl * Decimal("0.21"))
        assert invoice.snapshot["totals"]["payable"] == f"{invoice.total_incl_vat:.2f}"
        assert invoice.snapshot["number"] == invoice.number
        assert invoice.snapshot["buyer"]["name"] == invoice.client.name
        assert [line["unit_price"] for line in invoice.snapshot["lines"]] == [
            f"{line.unit_price:.2f}" for line in lines
        ]

    # Ledgers add up to what invoices, payments, payslips and bookings imply.
    expected = defaultdict(Decimal)  # (activity, kind, stage) -> sum
    paid = defaultdict(Decimal)
    for invoice_id, amount in Payment.objects.filter(invoice__in=invoices).values_list(
        "invoice", "amount"
    ):
        paid[invoice_id] += amount
    for invoice in invoices.only("pk", "activity_id", "total_excl_vat", "total_incl_vat", "status"):
        income = round_money(
            min(paid[invoice.pk], invoice.total_incl_vat)
            * invoice.total_excl_vat
            / invoice.total_incl_vat
        )
        status = {ZERO: "issued", invoice.total_incl_vat: "paid"}.get(
            paid[invoice.pk], "partially_paid"
        )
        if invoice.pk == credited.pk:
            status = "credited"
        assert invoice.status == status
        key = invoice.activity_id
        expected[key, "client_income", "planned"] += invoice.total_excl_vat - income
        expected[key, "client_income", "available"] += income
        expected[key, "cooperative_fee", "available"] -= round_money(
            income * settings.COOP_FEE_RATE
        )
    # The credit note takes back the planned income it cancels; its refund is not yet paid.
    assert list(
        LedgerEntry.objects.filter(reference=refund.credit_note.number).values_list(
            "activity", "kind", "stage", "amount"
        )
    ) == [(credited.activity_id, "client_income", "planned", -credited.total_excl_vat)]
    expected[credited.activity_id, "client_income", "planned"] -= credited.total_excl_vat
    for activity_id, cost in sql(
        "SELECT p.activity_id, sum(p.employer_cost) FROM contracts_payslip p GROUP BY p.activity_id"
    ):
        expected[activity_id, "salary_cost", "available"] -= cost
    for activity_id, planned in sql(
        "SELECT c.activity_id, sum(w.planned_employer_cost) FROM contracts_contract c"
        " JOIN contracts_contractworker w ON w.contract_id = c.id"
        " WHERE c.status IN ('approved', 'in_progress') GROUP BY c.activity_id"
    ):
        expected[activity_id, "salary_cost", "planned"] -= planned
    for activity_id, price in sql(
        "SELECT activity_id, sum(price_excl_vat) FROM spaces_booking"
        " WHERE charged_at IS NOT NULL AND activity_id IS NOT NULL GROUP BY activity_id"
    ):
        expected[activity_id, "booking_charge", "available"] -= price
    actual = defaultdict(Decimal)
    for activity_id, kind, stage, total in sql(
        "SELECT activity_id, kind, stage, sum(amount) FROM members_ledgerentry"
        " WHERE kind IN ('client_income', 'cooperative_fee', 'salary_cost', 'booking_charge')"
        " AND stage <> 'guaranteed'"
        " AND activity_id IN (SELECT id FROM members_activity WHERE owner_id IN"
        " (SELECT m.id FROM members_member m JOIN members_user u ON u.id = m.user_id"
        " WHERE u.email LIKE %s)) GROUP BY 1, 2, 3",
        [f"%@{SCALE_DOMAIN}"],
    ):
        actual[activity_id, kind, stage] = total
    scale_ids = set(activities.values_list("pk", flat=True))
    expected = {key: value for key, value in expected.items() if key[0] in scale_ids and value}
    actual = {key: value for key, value in actual.items() if value}
    assert actual == expected

    # Issued invoices stay frozen: the triggers are in place after the load.
    invoice = invoices.order_by("pk").first()
    with pytest.raises(DatabaseError), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(total_incl_vat=Decimal("1.00"))
    with pytest.raises(DatabaseError), transaction.atomic():
        InvoiceLine.objects.filter(invoice=invoice).update(unit_price=Decimal("1.00"))
    with pytest.raises(DatabaseError), transaction.atomic():
        LedgerEntry.objects.filter(activity__in=activities[:1]).update(amount=Decimal("1.00"))

    # The balance rows kept by the ledger's trigger agree with the ledger, Activity by Activity.
    checked = io.StringIO()
    call_command("check_balances", stdout=checked)
    assert checked.getvalue().endswith("balance rows differ from the ledger.\n")
    assert " 0 balance rows differ" in checked.getvalue()
    with_entries = LedgerEntry.objects.values("activity").distinct().count()
    assert ActivityBalance.objects.count() == with_entries

    # The indexes and foreign keys dropped during the load are all back.
    assert structures() == world["before"]
    assert not sql("SELECT to_regclass('seed_scale_saved_ddl')")[0][0]

    # Demo logins still work, and so do the generated ones.
    assert client.login(email=DEMO_MEMBER, password=DEMO_PASSWORD)
    assert client.login(email=heavy_logins(plan)[0], password=SCALE_PASSWORD)

    # A second world is refused.
    with pytest.raises(CommandError, match="already holds a scaled world"):
        call_command("seed_scale", "--scale", str(SCALE), stdout=io.StringIO())


def test_seed_scale_refuses_a_transaction_pooler(db, settings):
    settings.DATABASE_POOLING = "transaction"
    with pytest.raises(CommandError, match="direct connection"):
        call_command("seed_scale", "--scale", str(SCALE), stdout=io.StringIO())
    assert not User.objects.filter(email__endswith=f"@{SCALE_DOMAIN}").exists()


def test_seed_scale_refuses_real_data_without_force(db):
    make_user("someone@example.org")
    with pytest.raises(CommandError, match="real data"):
        call_command("seed_scale", "--scale", str(SCALE), stdout=io.StringIO())
    assert not User.objects.filter(email__endswith=f"@{SCALE_DOMAIN}").exists()
    assert not User.objects.filter(email__endswith="@coop.test").exists()


def test_seed_scale_command_line_refusal_is_a_message_not_a_traceback(db, capsys):
    make_user("someone@example.org")
    with pytest.raises(SystemExit) as exit_info:
        ManagementUtility(["manage.py", "seed_scale", "--scale", str(SCALE)]).execute()
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "CommandError: This database holds real data (1 user(s)" in err
    assert "--force" in err
    assert "Traceback" not in err
