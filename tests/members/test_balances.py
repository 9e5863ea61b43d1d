"""Balances come from one row per Activity that a trigger keeps equal to the ledger's sums."""

import threading
import time
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.urls import reverse

from audit.models import AuditEvent
from coop.templatetags.money import euro
from members import services
from members.models import ActivityBalance, LedgerEntry, LedgerEntryKind, LedgerStage
from tests.conftest import api_client_for

D = Decimal


def entry(activity, amount, stage=LedgerStage.AVAILABLE, reference="REF"):
    return LedgerEntry(
        activity=activity,
        kind=LedgerEntryKind.ADJUSTMENT,
        stage=stage,
        amount=D(amount),
        reference=reference,
    )


def ledger_sums(activity) -> tuple[Decimal, Decimal, int]:
    """What pages showed before the balance table: the sums of the ledger itself."""
    entries = LedgerEntry.objects.filter(activity=activity)
    return (
        entries.filter(stage="available").aggregate(t=Sum("amount"))["t"] or D("0.00"),
        entries.filter(stage="planned").aggregate(t=Sum("amount"))["t"] or D("0.00"),
        entries.count(),
    )


def stored(activity) -> tuple[Decimal, Decimal, int] | None:
    row = ActivityBalance.objects.filter(activity=activity).first()
    return None if row is None else (row.available, row.planned, row.entry_count)


def test_one_entry_creates_the_balance_row(activity):
    assert stored(activity) is None
    services.post_ledger_entry(
        activity=activity,
        kind=LedgerEntryKind.GRANT,
        stage=LedgerStage.PLANNED,
        amount=D("1500.25"),
        reference="GRANT-1",
        author=None,
    )
    assert stored(activity) == (D("0.00"), D("1500.25"), 1)
    services.post_ledger_entry(
        activity=activity,
        kind=LedgerEntryKind.GRANT,
        stage=LedgerStage.AVAILABLE,
        amount=D("-0.01"),
        reference="GRANT-1",
        author=None,
    )
    assert stored(activity) == (D("-0.01"), D("1500.25"), 2)
    assert stored(activity) == ledger_sums(activity)


def test_bulk_insert_over_several_activities_adds_each_activitys_share(activity, other_activity):
    LedgerEntry.objects.bulk_create(
        [entry(activity, "100.10"), entry(activity, "-0.10", "planned")]
        + [entry(other_activity, "33.33") for _ in range(3)]
        + [entry(activity, "-50.00"), entry(other_activity, "7.77", "planned")]
    )
    assert stored(activity) == (D("50.10"), D("-0.10"), 3)
    assert stored(other_activity) == (D("99.99"), D("7.77"), 4)
    LedgerEntry.objects.bulk_create([entry(other_activity, "0.01"), entry(activity, "1.00")])
    assert stored(activity) == (D("51.10"), D("-0.10"), 4) == ledger_sums(activity)
    assert stored(other_activity) == (D("100.00"), D("7.77"), 5) == ledger_sums(other_activity)


def test_a_rolled_back_insert_leaves_the_balances_unchanged(activity, other_activity):
    LedgerEntry.objects.bulk_create([entry(activity, "10.00")])
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.bulk_create([entry(activity, "5.00"), entry(other_activity, "6.00")])
        assert stored(activity) == (D("15.00"), D("0.00"), 2)  # seen inside the transaction
        entry(activity, "0.00").save()  # refused by the ledger's check constraint
    assert stored(activity) == (D("10.00"), D("0.00"), 1)
    assert stored(other_activity) is None


def _in_thread(work, errors):
    def run():
        try:
            work()
        except Exception as error:  # reported by the test
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_transactions_are_both_counted(member):
    activity = services.create_activity(owner=member, name="Concurrent", description="")
    first_inserted = threading.Event()
    errors: list[Exception] = []

    def first():
        with transaction.atomic():
            LedgerEntry.objects.bulk_create([entry(activity, "100.00")])
            first_inserted.set()
            time.sleep(0.5)  # the second transaction inserts meanwhile and waits for this one

    def second():
        first_inserted.wait(timeout=10)
        with transaction.atomic():
            LedgerEntry.objects.bulk_create(
                [entry(activity, "0.50"), entry(activity, "-2", "planned")]
            )

    threads = [_in_thread(first, errors), _in_thread(second, errors)]
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert stored(activity) == (D("100.50"), D("-2.00"), 3) == ledger_sums(activity)


@pytest.mark.django_db(transaction=True)
def test_crossed_bulk_inserts_on_two_activities_do_not_deadlock(member):
    one = services.create_activity(owner=member, name="One", description="")
    two = services.create_activity(owner=member, name="Two", description="")
    barrier = threading.Barrier(2)
    errors: list[Exception] = []

    def insert(first, second):
        def work():
            barrier.wait(timeout=10)
            for _round in range(20):
                with transaction.atomic():
                    LedgerEntry.objects.bulk_create(
                        [entry(first, "1.00"), entry(second, "2.00", "planned")]
                    )
                    time.sleep(0.005)

        return work

    threads = [_in_thread(insert(one, two), errors), _in_thread(insert(two, one), errors)]
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert stored(one) == (D("20.00"), D("40.00"), 40) == ledger_sums(one)
    assert stored(two) == (D("20.00"), D("40.00"), 40) == ledger_sums(two)


def test_check_balances_passes_on_exact_balances(activity, other_activity, capsys):
    LedgerEntry.objects.bulk_create([entry(activity, "1.00"), entry(other_activity, "2.00")])
    call_command("check_balances")
    assert "2 Activities checked, 0 balance rows differ" in capsys.readouterr().out


def test_check_balances_names_a_tampered_activity_and_rebuild_fixes_it(
    activity, other_activity, capsys
):
    LedgerEntry.objects.bulk_create(
        [entry(activity, "10.00"), entry(activity, "-3.00", "planned"), entry(other_activity, "2")]
    )
    ActivityBalance.objects.filter(activity=activity).update(available=D("11.00"))
    with pytest.raises(CommandError) as raised:
        call_command("check_balances")
    assert raised.value.returncode == 1
    output = capsys.readouterr()
    assert "2 Activities checked, 1 balance rows differ" in output.out
    assert output.err.strip() == (
        f"MISMATCH Activity {activity.pk}: ledger available 10.00, planned -3.00, "
        "guaranteed 0.00, 2 entries; balance row available 11.00, planned -3.00, "
        "guaranteed 0.00, 2 entries"
    )

    call_command("check_balances", "--rebuild")
    output = capsys.readouterr()
    assert (
        f"Rebuilt Activity {activity.pk}: 11.00 / -3.00 / 0.00 (2 entries) -> 10.00 / -3.00 / 0.00"
        in output.out
    )
    assert "2 Activities checked, 0 balance rows differ" in output.out
    assert stored(activity) == (D("10.00"), D("-3.00"), 2)
    event = AuditEvent.objects.get(object_type="members.activitybalance")
    assert (event.action, event.reason) == ("changed", "manage.py check_balances --rebuild")
    assert event.changes == {
        "corrected": [None, 1],
        "removed": [None, 0],
        f"activity {activity.pk}": [
            "11.00 / -3.00 / 0.00 (2 entries)",
            "10.00 / -3.00 / 0.00 (2 entries)",
        ],
    }


def test_check_balances_exits_with_status_1_on_a_missing_or_stray_row(activity, other_activity):
    LedgerEntry.objects.bulk_create([entry(activity, "10.00")])
    ActivityBalance.objects.filter(activity=activity).delete()
    ActivityBalance.objects.create(activity=other_activity, available=D("1.00"), entry_count=1)
    with pytest.raises(CommandError) as raised:  # manage.py exits with its returncode
        call_command("check_balances")
    assert raised.value.returncode == 1

    call_command("check_balances", "--rebuild")
    assert stored(activity) == (D("10.00"), D("0.00"), 1)
    assert stored(other_activity) is None
    call_command("check_balances")  # no CommandError: exit status 0


def test_rebuild_after_a_load_with_triggers_off(activity, other_activity):
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        LedgerEntry.objects.bulk_create([entry(activity, "4.00"), entry(other_activity, "5.00")])
        cursor.execute("SET LOCAL session_replication_role = origin")
    assert stored(activity) is None
    call_command("check_balances", "--rebuild")
    assert stored(activity) == (D("4.00"), D("0.00"), 1)
    assert stored(other_activity) == (D("5.00"), D("0.00"), 1)


def test_pages_and_api_show_the_ledgers_sums(client, member, activity):
    shared = services.create_activity(owner=member, name="Second line", description="")
    services.post_ledger_entry(
        activity=activity,
        kind=LedgerEntryKind.CLIENT_INCOME,
        stage=LedgerStage.AVAILABLE,
        amount=D("1234.50"),
        reference="INV-1",
        author=None,
    )
    LedgerEntry.objects.bulk_create(
        [entry(activity, "-234.49"), entry(activity, "-99.99", "planned")]
        + [entry(shared, "0.07", "planned") for _ in range(3)]
    )
    available, planned, _count = ledger_sums(activity)
    assert (available, planned) == (D("1000.01"), D("-99.99"))
    figures = [euro(available), euro(planned), euro(D("0.00")), euro(D("0.21"))]

    client.force_login(member.user)
    dashboard = client.get(reverse("members:dashboard")).content.decode()
    assert all(figure in dashboard for figure in figures)
    detail = client.get(reverse("members:activity_detail", args=[activity.pk])).content.decode()
    assert euro(available) in detail and euro(planned) in detail

    api = api_client_for(member.user)
    rows = api.get("/api/v1/activities/").json()["results"]
    assert {row["pk"]: (row["available_balance"], row["planned_balance"]) for row in rows} == {
        activity.pk: ("1000.01", "-99.99"),
        shared.pk: ("0.00", "0.21"),
    }
    one = api.get(f"/api/v1/activities/{activity.pk}/").json()
    assert (one["available_balance"], one["planned_balance"]) == ("1000.01", "-99.99")


def test_guaranteed_entries_keep_their_own_balance_and_rebuild_checks_it(
    activity, other_activity, capsys
):
    for stage, amount in [
        (LedgerStage.GUARANTEED, "1000.00"),
        (LedgerStage.GUARANTEED, "-300.00"),
        (LedgerStage.PLANNED, "300.00"),
    ]:
        services.post_ledger_entry(
            activity=activity,
            kind=LedgerEntryKind.CLIENT_INCOME,
            stage=stage,
            amount=D(amount),
            reference="D-2026-000001",
            author=None,
        )
    row = ActivityBalance.objects.get(activity=activity)
    assert (row.available, row.planned, row.guaranteed, row.entry_count) == (
        D("0.00"),
        D("300.00"),
        D("700.00"),
        3,
    )
    ActivityBalance.objects.filter(activity=activity).update(guaranteed=D("1.00"))
    with pytest.raises(CommandError):
        call_command("check_balances")
    assert "guaranteed 700.00, 3 entries; balance row" in capsys.readouterr().err
    call_command("check_balances", "--rebuild")
    assert ActivityBalance.objects.get(activity=activity).guaranteed == D("700.00")
    call_command("check_balances")
