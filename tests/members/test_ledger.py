"""The Activity ledger: one service writes it, the database refuses changes and sums it."""

from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from members import services
from members.models import Activity, LedgerEntry, LedgerEntryKind, LedgerStage
from members.services import MembersError


def post(
    activity,
    amount,
    *,
    stage=LedgerStage.AVAILABLE,
    kind=LedgerEntryKind.ADJUSTMENT,
    reference="TEST-1",
    author=None,
):
    return services.post_ledger_entry(
        activity=activity, kind=kind, stage=stage, amount=amount, reference=reference, author=author
    )


def test_entry_is_written_with_its_reference_and_source(activity, staff):
    entry = services.post_ledger_entry(
        activity=activity,
        kind=LedgerEntryKind.GRANT,
        stage=LedgerStage.AVAILABLE,
        amount=Decimal("1500.00"),
        reference="GRANT-2026-07",
        description="Creation grant",
        author=staff,
        source=activity.owner,
    )
    entry.refresh_from_db()
    assert (entry.amount, entry.reference, entry.author, entry.source) == (
        Decimal("1500.00"),
        "GRANT-2026-07",
        staff,
        activity.owner,
    )


@pytest.mark.parametrize(
    ("amount", "reference", "code"),
    [
        (12.5, "REF", "amount_type"),
        (12, "REF", "amount_type"),
        ("12.50", "REF", "amount_type"),
        (Decimal("12.345"), "REF", "amount_precision"),
        (Decimal("NaN"), "REF", "amount_precision"),
        (Decimal("0.00"), "REF", "amount_zero"),
        (Decimal("10"), "", "reference"),
        (Decimal("10"), "   ", "reference"),
        (Decimal("10"), None, "reference"),
    ],
)
def test_bad_ledger_writes_are_refused_and_nothing_is_written(activity, amount, reference, code):
    with pytest.raises(MembersError) as error:
        post(activity, amount, reference=reference)
    assert error.value.code == code
    assert LedgerEntry.objects.count() == 0


def test_update_through_raw_sql_is_refused_by_the_database(activity):
    entry = post(activity, Decimal("100.00"))
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE members_ledgerentry SET amount = 1 WHERE id = %s", [entry.pk])
    entry.refresh_from_db()
    assert entry.amount == Decimal("100.00")


def test_delete_through_raw_sql_is_refused_by_the_database(activity):
    entry = post(activity, Decimal("100.00"))
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM members_ledgerentry WHERE id = %s", [entry.pk])
    assert LedgerEntry.objects.filter(pk=entry.pk).exists()


def test_orm_save_of_an_existing_entry_is_refused(activity):
    entry = post(activity, Decimal("100.00"))
    entry.amount = Decimal("5.00")
    with pytest.raises(DatabaseError), transaction.atomic():
        entry.save()
    assert LedgerEntry.objects.get(pk=entry.pk).amount == Decimal("100.00")


def test_balances_separate_available_and_planned_money(activity, other_activity):
    post(
        activity, Decimal("1000.00"), stage=LedgerStage.PLANNED, kind=LedgerEntryKind.CLIENT_INCOME
    )
    post(
        activity, Decimal("-1000.00"), stage=LedgerStage.PLANNED, kind=LedgerEntryKind.CLIENT_INCOME
    )
    post(activity, Decimal("1000.00"), kind=LedgerEntryKind.CLIENT_INCOME)
    post(activity, Decimal("-65.00"), kind=LedgerEntryKind.COOPERATIVE_FEE)
    post(activity, Decimal("-400.10"), stage=LedgerStage.PLANNED, kind=LedgerEntryKind.SALARY_COST)
    post(other_activity, Decimal("99.99"))

    balances = Activity.objects.with_balances().get(pk=activity.pk)
    assert (balances.available_balance, balances.planned_balance) == (
        Decimal("935.00"),
        Decimal("-400.10"),
    )
    other = Activity.objects.with_balances().get(pk=other_activity.pk)
    assert (other.available_balance, other.planned_balance) == (Decimal("99.99"), Decimal("0"))


def test_activity_without_entries_has_zero_balances(activity):
    balances = Activity.objects.with_balances().get(pk=activity.pk)
    assert (balances.available_balance, balances.planned_balance) == (Decimal("0"), Decimal("0"))


def test_balances_are_read_in_one_query_without_loading_entries(activity, other_member):
    activity.co_members.add(other_member)
    for index in range(30):
        post(activity, Decimal("10.01"), reference=f"R{index}")
    user = other_member.user
    with CaptureQueriesContext(connection) as queries:
        rows = list(Activity.objects.of_user(user).with_balances())
    assert len(queries) == 1
    assert "members_activitybalance" in queries[0]["sql"]  # the trigger-kept balance row
    assert "members_ledgerentry" not in queries[0]["sql"]
    assert [(row.pk, row.available_balance) for row in rows] == [(activity.pk, Decimal("300.30"))]
