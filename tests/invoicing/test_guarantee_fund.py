"""The guarantee fund's figures: SQL aggregates computed by a refresh, one page per table.

The page reads the figures the last refresh stored; the refresh runs once at a time."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from invoicing import guarantee_fund
from invoicing.models import GuaranteeFundFigure
from invoicing.services.clients import create_client
from invoicing.services.drafts import save_draft
from invoicing.services.issue import submit_invoice
from invoicing.services.payments import record_payment
from invoicing.tasks import refresh_guarantee_fund_task
from tests.conftest import NOW
from tests.invoicing.conftest import TODAY, days, line


def issue(member, activity, client, price, today, quantity="1"):
    draft = save_draft(
        user=member.user,
        activity=activity,
        client=client,
        lines=[line(quantity=quantity, price=price)],
        today=today,
        buyer_reference="PO-2026-77",
    )
    return submit_invoice(user=member.user, invoice=draft, today=today, now=NOW)


def other_galeries_client(other_member):
    """Another member's client record of the same buyer (same VAT number)."""
    client, _created = create_client(
        owner=other_member.user,
        kind="company",
        name="Galeries (billetterie)",
        street="Galerie du Roi 32",
        postal_code="1000",
        city="Bruxelles",
        country="BE",
        email="billets@galeries.example",
        language="fr",
        vat_number="BE1000000021",
    )
    return client


def build_receivables(
    staff, member, activity, other_member, other_activity, belgian_client, private_client
):
    """Four invoices: one partly paid, one paid in full, two open; two buyers, two members."""
    # Issued in date order: a later number is never older.
    very_late = issue(member, activity, private_client, "100.00", TODAY - days(80))  # 121.00
    late = issue(member, activity, belgian_client, "100.00", TODAY, quantity="10")  # 1210.00
    record_payment(invoice=late, amount=Decimal("200.00"), received_on=TODAY + days(5), actor=staff)
    paid = issue(member, activity, private_client, "10.00", TODAY)  # 12.10, paid in full
    record_payment(invoice=paid, amount=Decimal("12.10"), received_on=TODAY, actor=staff)
    galeries = other_galeries_client(other_member)
    not_due = issue(other_member, other_activity, galeries, "50.00", TODAY + days(40))  # 60.50
    return late, very_late, paid, not_due


def test_the_figures_are_exact_sums_per_bucket_buyer_and_member(
    staff,
    member,
    activity,
    other_member,
    other_activity,
    belgian_client,
    private_client,
    no_review,
):
    late, very_late, _paid, not_due = build_receivables(
        staff, member, activity, other_member, other_activity, belgian_client, private_client
    )
    today = TODAY + days(45)
    # By hand: due dates are the issue date plus the clients' 30 days.
    assert (late.due_date, very_late.due_date, not_due.due_date) == (
        TODAY + days(30),
        TODAY - days(50),
        TODAY + days(70),
    )

    assert guarantee_fund.refresh(today=today, now=NOW) is True
    figures = guarantee_fund.receivables()

    # 1210.00 - 200.00 = 1010.00 (15 days late), 121.00 (95 days late), 60.50 (not due).
    assert figures.count == 3
    assert figures.outstanding == Decimal("1191.50")
    assert figures.overdue == Decimal("1131.00")
    assert figures.buckets == {
        "not_due": Decimal("60.50"),
        "days_1_30": Decimal("1010.00"),
        "days_31_60": Decimal("0"),
        "days_61_90": Decimal("0"),
        "days_over_90": Decimal("121.00"),
    }
    # One buyer across both members: 1010.00 + 60.50; the private client has no buyer. A buyer
    # without a registered name goes by the first of its clients' names, alphabetically.
    assert [
        (row.name, row.count, row.outstanding, row.overdue) for row in figures.per_client.rows
    ] == [
        ("Galeries (billetterie) (BE1000000021)", 2, Decimal("1070.50"), Decimal("1010.00")),
        ("Jan Janssens", 1, Decimal("121.00"), Decimal("121.00")),
    ]
    assert [
        (row.name, row.count, row.outstanding, row.overdue) for row in figures.per_member.rows
    ] == [
        ("Ana Peeters", 2, Decimal("1131.00"), Decimal("1131.00")),
        ("Lucas Dubois", 1, Decimal("60.50"), Decimal("0.00")),
    ]
    assert not figures.per_client.has_next and not figures.per_member.has_next
    assert guarantee_fund.paid_in_year(TODAY.year) == Decimal("212.10")
    assert figures.paid_this_year == Decimal("212.10")
    assert (figures.as_of, figures.computed_at) == (today, NOW)


def test_each_table_shows_one_page_biggest_exposure_first(
    staff,
    member,
    activity,
    other_member,
    other_activity,
    belgian_client,
    private_client,
    no_review,
):
    build_receivables(
        staff, member, activity, other_member, other_activity, belgian_client, private_client
    )
    guarantee_fund.refresh(today=TODAY + days(45), now=NOW)

    first = guarantee_fund.receivables(page_size=1)
    second = guarantee_fund.receivables(client_page=2, member_page="2", page_size=1)
    beyond = guarantee_fund.receivables(client_page=3, page_size=1)

    assert [row.outstanding for row in first.per_client.rows] == [Decimal("1070.50")]
    assert first.per_client.has_next and not first.per_client.has_previous
    assert [row.outstanding for row in second.per_client.rows] == [Decimal("121.00")]
    assert [row.name for row in second.per_member.rows] == ["Lucas Dubois"]
    assert not second.per_client.has_next and second.per_client.has_previous
    assert beyond.per_client.rows == []
    # The totals do not depend on the page.
    assert first.outstanding == second.outstanding == beyond.outstanding == Decimal("1191.50")
    # A page number that is not one is the first page.
    assert guarantee_fund.receivables(client_page="x").per_client.number == 1


def test_the_page_reads_no_invoice_snapshot_and_its_query_count_is_flat(
    staff_client,
    staff,
    member,
    activity,
    other_member,
    other_activity,
    belgian_client,
    private_client,
    no_review,
):
    url = reverse("guarantee_fund")
    staff_client.get(url)  # sessions, permissions and the second factor settle first
    with CaptureQueriesContext(connection) as empty:
        assert staff_client.get(url).status_code == 200
    build_receivables(
        staff, member, activity, other_member, other_activity, belgian_client, private_client
    )
    for _more in range(3):
        issue(member, activity, belgian_client, "10.00", TODAY + days(40))

    guarantee_fund.refresh()

    with CaptureQueriesContext(connection) as full:
        page = staff_client.get(url + "?client_page=1&member_page=1").content.decode()

    assert "Galeries (billetterie) (BE1000000021)" in page and "Lucas Dubois" in page
    assert len(full.captured_queries) == len(empty.captured_queries) <= 12
    assert not any("snapshot" in query["sql"] for query in full.captured_queries)


def test_the_page_query_count_is_the_same_with_1_and_50_open_invoices(
    staff_client, staff, member, activity, belgian_client, no_review
):
    url = reverse("guarantee_fund")
    issue(member, activity, belgian_client, "10.00", TODAY)
    staff_client.get(url)  # the first visit computes the figures; the session settles
    guarantee_fund.refresh()
    with CaptureQueriesContext(connection) as one:
        assert staff_client.get(url).status_code == 200
    for _more in range(49):
        issue(member, activity, belgian_client, "10.00", TODAY)
    guarantee_fund.refresh()

    with CaptureQueriesContext(connection) as fifty:
        page = staff_client.get(url).content.decode()

    assert guarantee_fund.receivables().count == 50
    assert "605,00" in page or "605.00" in page  # 50 x 12.10
    assert len(fifty.captured_queries) == len(one.captured_queries) <= 12
    # The receivables come from the stored figures, in one query.
    table = GuaranteeFundFigure._meta.db_table
    assert [table in query["sql"] for query in fifty.captured_queries].count(True) == 1


def test_a_payment_changes_the_figures_at_the_next_refresh_and_the_page_says_when(
    staff_client, staff, member, activity, belgian_client, no_review
):
    invoice = issue(member, activity, belgian_client, "100.00", TODAY)  # 121.00
    computed_at = timezone.now() - datetime.timedelta(minutes=7)
    guarantee_fund.refresh(now=computed_at)

    record_payment(invoice=invoice, amount=Decimal("21.00"), received_on=TODAY, actor=staff)

    assert guarantee_fund.receivables().outstanding == Decimal("121.00")
    page = staff_client.get(reverse("guarantee_fund")).content.decode()
    assert timezone.localtime(computed_at).strftime("%H:%M") in page
    assert "7\xa0minute" in page
    guarantee_fund.refresh()
    assert guarantee_fund.receivables().outstanding == Decimal("100.00")


def test_the_first_visit_computes_the_figures_once(
    staff_client, member, activity, belgian_client, no_review
):
    issue(member, activity, belgian_client, "100.00", TODAY)
    assert not GuaranteeFundFigure.objects.exists()

    response = staff_client.get(reverse("guarantee_fund"))

    assert response.status_code == 200
    assert "Figures as of" in response.content.decode()
    assert guarantee_fund.receivables().outstanding == Decimal("121.00")


def test_refresh_now_enqueues_the_refresh(staff_client, monkeypatch):
    queued = []
    monkeypatch.setattr(
        "invoicing.admin.refresh_guarantee_fund_task.delay", lambda: queued.append(True)
    )
    url = reverse("guarantee_fund")

    response = staff_client.post(url)

    assert response.status_code == 302 and response["Location"] == url
    assert queued == [True]


@pytest.mark.django_db(transaction=True)
def test_two_refreshes_at_once_one_computes_and_the_other_skips(
    member, activity, belgian_client, no_review
):
    issue(member, activity, belgian_client, "100.00", TODAY)
    table = GuaranteeFundFigure._meta.db_table
    results = []

    def first_refresh():
        try:
            results.append(guarantee_fund.refresh())
        finally:
            connections[DEFAULT_DB_ALIAS].close()

    with transaction.atomic(), connection.cursor() as cursor:
        # The first refresh takes the lock, then waits on this lock before replacing the rows.
        cursor.execute(f"LOCK TABLE {table} IN SHARE MODE")
        thread = threading.Thread(target=first_refresh)
        thread.start()
        for _wait in range(500):
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s"
                " AND granted AND pid <> pg_backend_pid()",
                [guarantee_fund.REFRESH_LOCK],
            )
            if cursor.fetchone()[0]:
                break
            thread.join(0.01)
        else:
            pytest.fail("the first refresh never took the lock")
        second = guarantee_fund.refresh()
    thread.join(10)

    assert second is False
    assert results == [True]
    assert GuaranteeFundFigure.objects.filter(kind="total").count() == 1
    assert guarantee_fund.receivables().outstanding == Decimal("121.00")


def test_beat_computes_the_figures_every_five_minutes(
    settings, member, activity, belgian_client, no_review
):
    issue(member, activity, belgian_client, "100.00", TODAY)

    assert refresh_guarantee_fund_task() is True

    assert guarantee_fund.receivables().outstanding == Decimal("121.00")
    schedule = settings.CELERY_BEAT_SCHEDULE["refresh-guarantee-fund"]
    assert schedule == {"task": "invoicing.tasks.refresh_guarantee_fund_task", "schedule": 5 * 60}
