"""Pay on time: the scheduled run pays due work exactly once; staff see the payments at risk."""

import datetime
from decimal import Decimal

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.core.cache import cache
from django.urls import reverse

from contracts import payday
from contracts.models import DimonaDeclaration, PayrollRun, Payslip
from contracts.services.contracts import approve_contract, submit_contract
from contracts.tasks import pay_due_work_task
from members.models import LedgerEntryKind, LedgerStage, Member
from members.services import create_activity, post_ledger_entry
from tests.conftest import NOW, make_member, run_at_once
from tests.contracts.conftest import TODAY, make_contract, worker

D = Decimal
# The approved fixture's work: 9 to 20 March 2026; its pay date, 7 working days on: 31 March.
MONDAY_AFTER = datetime.date(2026, 3, 23)
PAY_BY = datetime.date(2026, 3, 31)
MARCH_16 = datetime.date(2026, 3, 16)


def fund(activity, amount="20000.00"):
    post_ledger_entry(
        activity=activity,
        kind=LedgerEntryKind.ADJUSTMENT,
        stage=LedgerStage.AVAILABLE,
        amount=D(amount),
        reference="TEST",
        author=None,
        now=NOW,
    )


def test_pay_date_is_seven_belgian_working_days_after_the_work():
    from contracts.payroll import pay_date

    assert pay_date(datetime.date(2026, 3, 20)) == PAY_BY
    # Easter Monday (6 April 2026) is a Belgian public holiday: not a working day.
    assert pay_date(datetime.date(2026, 3, 31)) == datetime.date(2026, 4, 10)
    assert payday.add_working_days(datetime.date(2026, 4, 3), 1) == datetime.date(2026, 4, 7)
    assert payday.working_days_between(datetime.date(2026, 3, 26), PAY_BY) == 3
    assert payday.working_days_between(PAY_BY, datetime.date(2026, 3, 26)) == -3


def test_scheduled_run_pays_due_work_once_when_run_twice(approved):
    first = payday.pay_due_work(today=MONDAY_AFTER, now=NOW)
    again = payday.pay_due_work(today=MONDAY_AFTER, now=NOW)
    payslip = Payslip.objects.get()
    assert first is not None and again is None
    assert (first.payslip_count, first.created_by) == (1, None)
    assert (payslip.run, payslip.pay_date, payslip.gross) == (first, MONDAY_AFTER, D("4000.00"))
    assert PayrollRun.objects.count() == 1


def test_scheduled_run_waits_for_the_work_to_end_and_catches_up_when_late(approved):
    # The last work day (Friday 20 March) is not over yet on that day.
    assert payday.pay_due_work(today=datetime.date(2026, 3, 20), now=NOW) is None
    # Saturday: the bank pays on working days; nothing is run.
    assert payday.pay_due_work(today=datetime.date(2026, 3, 21), now=NOW) is None
    assert not Payslip.objects.exists()
    # The beat missed a week: the next run still pays, before the pay date.
    run = payday.pay_due_work(today=datetime.date(2026, 3, 30), now=NOW)
    assert run.payslip_count == 1
    assert Payslip.objects.get().pay_date == datetime.date(2026, 3, 30) < PAY_BY


def test_scheduled_run_leaves_a_member_without_iban_to_staff(approved, member):
    member.iban = ""
    member.save(update_fields=["iban"])
    assert payday.pay_due_work(today=MONDAY_AFTER, now=NOW) is None
    assert not Payslip.objects.exists()
    [at_risk] = payday.at_risk(today=MONDAY_AFTER, warning_days=6)
    assert at_risk.risk == payday.Risk.NO_IBAN


@pytest.mark.django_db(transaction=True)
def test_scheduled_runs_at_the_same_time_pay_once(approved):
    def run() -> str:
        result = payday.pay_due_work(today=MONDAY_AFTER, now=NOW)
        return "nothing" if result is None else f"paid {result.payslip_count}"

    assert run_at_once(run, times=3) == ["nothing", "nothing", "paid 1"]
    assert Payslip.objects.count() == 1
    assert PayrollRun.objects.count() == 1


def test_beat_runs_the_task_hourly(db, settings):
    entry = settings.CELERY_BEAT_SCHEDULE["pay-due-work"]
    assert entry["task"] == "contracts.tasks.pay_due_work_task"
    assert entry["schedule"].minute == {40}
    assert entry["schedule"].hour == set(range(24))
    assert pay_due_work_task() == 0


def approved_for(staff, person, activity, *, start, count):
    contract = make_contract(person, activity, workers=[worker(person, start=start, count=count)])
    submit_contract(user=person.user, contract=contract, today=TODAY, now=NOW)
    return approve_contract(staff_user=staff, contract=contract, today=TODAY, now=NOW)


def submitted_for(person, activity, *, start, count):
    contract = make_contract(person, activity, workers=[worker(person, start=start, count=count)])
    return submit_contract(user=person.user, contract=contract, today=TODAY, now=NOW)


@pytest.fixture
def world(staff, member, activity, approved, other_member, other_activity):
    """Work at every stage around Thursday 26 March 2026 (warned 3 working days before)."""
    noor = make_member("noor@coop.test", legal_name="Noor Janssens", niss="90020199704")
    jan = make_member("jan@coop.test", legal_name="Jan Claes", niss="75121508359")
    sound = create_activity(owner=noor, name="Sound")
    costumes = create_activity(owner=jan, name="Costumes")
    puppets = create_activity(owner=member, name="Puppets")
    for funded in (activity, other_activity, sound, costumes):
        fund(funded)
    # 16–20 March, paid by 31 March; the member has no IBAN.
    no_iban = approved_for(staff, other_member, other_activity, start=MARCH_16, count=5)
    other_member.iban = ""
    other_member.save(update_fields=["iban"])
    # 16–19 March, paid by 30 March; its declaration was cancelled.
    undeclared = approved_for(staff, noor, sound, start=MARCH_16, count=4)
    declaration = DimonaDeclaration.objects.get(worker__contract=undeclared)
    DimonaDeclaration.objects.create(
        worker=declaration.worker,
        kind=DimonaDeclaration.Kind.CANCELLATION,
        start_date=declaration.start_date,
        end_date=declaration.end_date,
        worker_type=declaration.worker_type,
        joint_committee=declaration.joint_committee,
        acknowledgement="CANCEL-TEST",
    )
    # Awaiting approval: from Friday 27 March, and from 7 April (beyond the warning).
    waiting = submitted_for(jan, costumes, start=datetime.date(2026, 3, 27), count=2)
    later = submitted_for(jan, costumes, start=datetime.date(2026, 4, 7), count=2)
    # 3–6 March on an Activity without money: paid by 17 March.
    poor = approved_for(staff, member, puppets, start=datetime.date(2026, 3, 3), count=4)
    return {
        "fine": approved,
        "no_iban": no_iban,
        "undeclared": undeclared,
        "waiting": waiting,
        "later": later,
        "poor": poor,
    }


def found(day):
    return {row.contract_id: row.risk for row in payday.at_risk(today=day)}


def test_payments_at_risk_show_what_stands_in_the_way(world):
    thursday = datetime.date(2026, 3, 26)
    assert found(thursday) == {
        world["no_iban"].pk: payday.Risk.NO_IBAN,
        world["undeclared"].pk: payday.Risk.NOT_DECLARED,
        world["waiting"].pk: payday.Risk.NOT_APPROVED,
        world["poor"].pk: payday.Risk.LOW_BUDGET,
    }
    assert payday.risk_counts(today=thursday) == {
        "no_iban": 1,
        "not_declared": 1,
        "not_approved": 1,
        "low_budget": 1,
    }
    # A week earlier only the work already late shows: the rest is more than 3 working days off.
    assert found(datetime.date(2026, 3, 19)) == {world["poor"].pk: payday.Risk.LOW_BUDGET}


def test_the_staff_homes_counts_are_counted_once_in_five_minutes(world, django_assert_num_queries):
    thursday = datetime.date(2026, 3, 26)
    counts = {"no_iban": 1, "not_declared": 1, "not_approved": 1, "low_budget": 1}
    cache.clear()
    assert payday.cached_risk_counts(today=thursday) == counts
    Member.objects.filter(contract_work__contract=world["no_iban"]).update(iban="BE68539007547034")
    # Within five minutes the staff home shows the counts it had; the list counts afresh.
    with django_assert_num_queries(1):  # the cache's read
        assert payday.cached_risk_counts(today=thursday) == counts
    assert "no_iban" not in payday.risk_counts(today=thursday)
    cache.clear()
    assert payday.cached_risk_counts(today=thursday) == {
        "not_declared": 1,
        "not_approved": 1,
        "low_budget": 1,
    }


def test_the_dates_to_keep(world):
    rows = {row.contract_id: row for row in payday.at_risk(today=datetime.date(2026, 3, 26))}
    assert payday.deadline_of(rows[world["no_iban"].pk]) == PAY_BY
    assert payday.deadline_of(rows[world["undeclared"].pk]) == datetime.date(2026, 3, 30)
    assert payday.deadline_of(rows[world["waiting"].pk]) == datetime.date(2026, 3, 27)
    assert payday.deadline_of(rows[world["poor"].pk]) == datetime.date(2026, 3, 17)


def test_paid_work_leaves_the_list(world):
    # The guarantee fund pays the poor Activity's salary: the run pays every payable worker.
    run = payday.pay_due_work(today=datetime.date(2026, 3, 26), now=NOW)
    assert run.payslip_count == 2  # the approved fixture and the poor Activity's work
    assert found(datetime.date(2026, 3, 26)) == {
        world["no_iban"].pk: payday.Risk.NO_IBAN,
        world["undeclared"].pk: payday.Risk.NOT_DECLARED,
        world["waiting"].pk: payday.Risk.NOT_APPROVED,
    }


def test_staff_see_the_payments_at_risk_with_what_to_do(world, client, staff, settings):
    settings.COOP_PAYROLL_CATCH_UP_DAYS = 3660  # the world's March is months ago
    TOTP.activate(staff, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    client.force_login(staff)
    url = reverse("admin:contracts_paymentatrisk_changelist")
    page = client.get(url, {"risk": "no_iban"}).content.decode()
    assert "Lucas Dubois" in page
    assert "Ask the member to enter their IBAN in their profile" in page
    assert "Noor Janssens" not in page
    assert "overdue" in page
    page = client.get(url).content.decode()
    for name in ("Lucas Dubois", "Noor Janssens", "Jan Claes", "Ana Peeters"):
        assert name in page
    home = client.get(reverse("admin:index")).content.decode()
    assert f'href="{url}?risk=no_iban">No IBAN</a>: 1' in home
    assert f'href="{url}?risk=not_approved">Contract not approved</a>: 2' in home
    assert "Recording gateway (development — nothing is sent to ONSS)" in home
