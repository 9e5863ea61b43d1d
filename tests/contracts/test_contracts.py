"""Recording contracts and their life cycle: dates, wages, overlaps, approval, Dimona, ledger."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail

from contracts.errors import ContractsError
from contracts.models import Contract, ContractEvent, DimonaDeclaration, WorkDay
from contracts.services.contracts import (
    approve_contract,
    cancel_contract,
    create_invoice_from_contract,
    reject_contract,
    request_changes,
    submit_contract,
)
from contracts.tasks import notify_contract_event_task
from members.models import LedgerEntry, LedgerStage
from members.services import create_activity
from tests.conftest import NOW
from tests.contracts.conftest import NEXT_MONDAY, TODAY, make_contract, worker

D = Decimal


def test_save_contract_records_workers_and_days(contract, member):
    assert contract.status == Contract.Status.DRAFT
    assert contract.first_work_day == NEXT_MONDAY
    assert contract.last_work_day == datetime.date(2026, 3, 20)
    row = contract.workers.get()
    assert (row.member, row.daily_wage, row.days.count()) == (member, D("400.00"), 10)


def test_half_days_count_half(member, activity):
    contract = make_contract(member, activity, workers=[worker(member, count=1)])
    day = contract.workers.get().days.get()
    day.portion = WorkDay.Portion.HALF
    assert day.fraction == D("0.5")


@pytest.mark.parametrize(
    ("given", "code"),
    [
        ({"days": [TODAY]}, "day_in_past"),
        ({"days": [datetime.date(2026, 2, 27)]}, "day_in_past"),
        ({"wage": "97.46"}, "wage_below_minimum"),
        ({"wage": "120.005"}, "decimals"),
        ({"days": []}, "no_days"),
    ],
)
def test_bad_workers_are_refused_and_nothing_written(member, activity, given, code):
    with pytest.raises(ContractsError) as error:
        make_contract(member, activity, workers=[worker(member, **given)])
    assert error.value.code == code
    assert error.value.field == "workers"
    assert not Contract.objects.exists()
    assert not WorkDay.objects.exists()


def test_minimum_wage_is_accepted(member, activity):
    contract = make_contract(member, activity, workers=[worker(member, wage="97.47")])
    assert contract.workers.get().daily_wage == D("97.47")


def test_same_worker_cannot_work_two_contracts_the_same_day(member, activity, contract):
    with pytest.raises(ContractsError) as error:
        make_contract(member, activity, workers=[worker(member, days=[datetime.date(2026, 3, 12)])])
    assert error.value.code == "day_overlap"
    assert str(contract.reference) in error.value.message
    assert Contract.objects.count() == 1


def test_worker_must_belong_to_the_activity(member, activity, other_member):
    with pytest.raises(ContractsError) as error:
        make_contract(member, activity, workers=[worker(other_member)])
    assert error.value.code == "worker_not_in_activity"


def test_co_member_can_work_on_the_contract(member, other_member):
    shared = create_activity(owner=member, name="Festival", co_members=[other_member])
    contract = make_contract(member, shared, workers=[worker(member), worker(other_member)])
    assert contract.workers.count() == 2


def test_another_members_activity_is_unknown(other_member, activity):
    with pytest.raises(ContractsError) as error:
        make_contract(other_member, activity, workers=[worker(other_member)])
    assert error.value.code == "activity"


def test_editing_replaces_days(member, activity, contract):
    edited = make_contract(
        member,
        activity,
        contract=contract,
        workers=[worker(member, start=datetime.date(2026, 4, 1), count=2)],
    )
    assert edited.pk == contract.pk
    assert list(WorkDay.objects.values_list("date", flat=True)) == [
        datetime.date(2026, 4, 1),
        datetime.date(2026, 4, 2),
    ]
    assert edited.first_work_day == datetime.date(2026, 4, 1)


def test_submit_then_approve_declares_and_plans_cost(
    staff, member, submitted, activity, django_capture_on_commit_callbacks
):
    assert submitted.status == Contract.Status.SUBMITTED
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        approved = approve_contract(staff_user=staff, contract=submitted, today=TODAY, now=NOW)
    assert len(callbacks) == 1
    assert approved.status == Contract.Status.APPROVED
    assert approved.approved_by == staff
    declaration = DimonaDeclaration.objects.get()
    assert declaration.kind == DimonaDeclaration.Kind.DECLARATION
    assert (declaration.start_date, declaration.end_date) == (
        NEXT_MONDAY,
        datetime.date(2026, 3, 20),
    )
    assert declaration.acknowledgement.startswith("REC-20260309-")
    row = approved.workers.get()
    assert (row.planned_gross, row.planned_employer_cost) == (D("4000.00"), D("5000.00"))
    entry = LedgerEntry.objects.get(activity=activity)
    assert (entry.stage, entry.amount, entry.reference) == (
        LedgerStage.PLANNED,
        D("-5000.00"),
        approved.reference,
    )
    events = list(approved.events.values_list("from_status", "to_status", "actor__email"))
    assert events == [
        ("draft", "submitted", "ana@coop.test"),
        ("submitted", "approved", "staff@coop.test"),
    ]
    event = approved.events.get(to_status="approved")
    notify_contract_event_task(event.pk)
    notify_contract_event_task(event.pk)  # a redelivered task sends nothing more
    assert len(mail.outbox) == 1
    # The member reads French (their preferred language), whatever language the staff used.
    assert mail.outbox[0].subject == f"[coop] Contrat {approved.reference}\u00a0: Approuvé"
    assert "Le travail est déclaré à la sécurité sociale (Dimona)." in mail.outbox[0].body
    assert mail.outbox[0].to == ["ana@coop.test"]


def test_artistic_planned_cost_uses_108_percent_base(staff, member, activity):
    contract = make_contract(member, activity, kind="artistic")
    submit_contract(user=member.user, contract=contract, today=TODAY, now=NOW)
    approve_contract(staff_user=staff, contract=contract, today=TODAY, now=NOW)
    assert contract.workers.get().planned_employer_cost == D("5080.00")
    assert DimonaDeclaration.objects.get().joint_committee == "304"


def test_approval_on_or_after_first_work_day_is_refused(staff, submitted):
    with pytest.raises(ContractsError) as error:
        approve_contract(staff_user=staff, contract=submitted, today=NEXT_MONDAY, now=NOW)
    assert error.value.code == "too_late"
    submitted.refresh_from_db()
    assert submitted.status == Contract.Status.SUBMITTED
    assert not DimonaDeclaration.objects.exists()
    assert not LedgerEntry.objects.exists()


def test_approval_needs_the_national_number(staff, member, submitted):
    from contracts.models import ContractWorker

    type(member).objects.filter(pk=member.pk).update(niss="", niss_fingerprint="")
    assert ContractWorker.objects.count() == 1
    with pytest.raises(ContractsError) as error:
        approve_contract(staff_user=staff, contract=submitted, today=TODAY, now=NOW)
    assert error.value.code == "niss_missing"
    assert not DimonaDeclaration.objects.exists()


def test_draft_cannot_be_approved(staff, contract):
    with pytest.raises(ContractsError) as error:
        approve_contract(staff_user=staff, contract=contract, today=TODAY, now=NOW)
    assert error.value.code == "invalid_transition"


def test_reject_needs_a_reason_and_frees_the_days(staff, member, activity, submitted):
    with pytest.raises(ContractsError):
        reject_contract(staff_user=staff, contract=submitted, reason="  ")
    rejected = reject_contract(staff_user=staff, contract=submitted, reason="No signed quote")
    assert rejected.status == Contract.Status.REJECTED
    assert rejected.events.last().reason == "No signed quote"
    again = make_contract(member, activity)
    assert again.first_work_day == NEXT_MONDAY


def test_changes_requested_then_edited_and_resubmitted(staff, member, activity, submitted):
    request_changes(staff_user=staff, contract=submitted, reason="Wrong place", now=NOW)
    make_contract(member, activity, contract=submitted, place="Bozar")
    resubmitted = submit_contract(user=member.user, contract=submitted, today=TODAY, now=NOW)
    assert resubmitted.place == "Bozar"
    assert list(resubmitted.events.values_list("to_status", flat=True)) == [
        "submitted",
        "changes_requested",
        "submitted",
    ]


def test_submitted_contract_cannot_be_edited(member, activity, submitted):
    with pytest.raises(ContractsError) as error:
        make_contract(member, activity, contract=submitted)
    assert error.value.code == "not_editable"


def test_cancel_approved_withdraws_dimona_and_releases_cost(member, approved, activity):
    cancel_contract(user=member.user, contract=approved, reason="Show cancelled", today=TODAY)
    approved.refresh_from_db()
    assert approved.status == Contract.Status.CANCELLED
    assert list(DimonaDeclaration.objects.values_list("kind", flat=True)) == [
        "declaration",
        "cancellation",
    ]
    assert sum(LedgerEntry.objects.filter(activity=activity).values_list("amount", flat=True)) == 0
    assert not WorkDay.objects.filter(is_active=True).exists()


def test_started_contract_cannot_be_cancelled(member, approved):
    with pytest.raises(ContractsError) as error:
        cancel_contract(user=member.user, contract=approved, reason="x", today=NEXT_MONDAY)
    assert error.value.code == "started"
    assert ContractEvent.objects.filter(to_status="cancelled").count() == 0


def test_invoice_drafted_from_approved_contract(member, approved, belgian_client):
    invoice = create_invoice_from_contract(user=member.user, contract=approved, today=TODAY)
    approved.refresh_from_db()
    assert approved.invoice == invoice
    assert invoice.client == belgian_client
    assert invoice.total_excl_vat == D("6000.00")
    assert invoice.buyer_reference == approved.reference
    with pytest.raises(ContractsError) as error:
        create_invoice_from_contract(user=member.user, contract=approved, today=TODAY)
    assert error.value.code == "already_invoiced"


def test_draft_contract_cannot_be_invoiced(member, contract):
    with pytest.raises(ContractsError) as error:
        create_invoice_from_contract(user=member.user, contract=contract, today=TODAY)
    assert error.value.code == "not_approved"


def test_daily_advance_starts_then_completes_by_the_dates(approved):
    from contracts.services.contracts import advance_contracts

    assert advance_contracts(today=TODAY) == 0
    assert advance_contracts(today=NEXT_MONDAY) == 1
    approved.refresh_from_db()
    assert approved.status == Contract.Status.IN_PROGRESS
    assert advance_contracts(today=datetime.date(2026, 3, 21)) == 1
    approved.refresh_from_db()
    assert approved.status == Contract.Status.COMPLETED
    assert list(approved.events.values_list("to_status", flat=True))[-2:] == [
        "in_progress",
        "completed",
    ]


def test_rejection_mail_is_in_the_members_language(staff, member, submitted):
    member.preferred_language = "fr"
    member.save(update_fields=["preferred_language"])
    reject_contract(staff_user=staff, contract=submitted, reason="Pas de devis signé")
    notify_contract_event_task(submitted.events.get(to_status="rejected").pk)
    assert "Pas de devis signé" in mail.outbox[0].body
