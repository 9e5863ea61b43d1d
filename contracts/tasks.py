"""Background work of contracts and payroll: e-mails, payslip PDFs, daily status moves."""

import datetime

from celery import shared_task
from django.utils import timezone

from contracts import payday
from contracts.models import ContractEvent, Payslip
from contracts.services import contracts, documents
from coop import recovery


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notify_contract_event_task(event_pk: int) -> None:
    """E-mail the member about a contract's step (does nothing if already sent)."""
    event = ContractEvent.objects.filter(pk=event_pk).first()
    if event is not None:
        contracts.notify_contract_event(event=event)


@shared_task(autoretry_for=(Exception,), retry_backoff=30, retry_backoff_max=1800, max_retries=8)
def render_payslip_task(payslip_pk: int) -> None:
    """Render a payslip's PDF in the member's language (queue "pdf")."""
    payslip = Payslip.objects.filter(pk=payslip_pk).first()
    if payslip is not None:
        documents.render_payslip(payslip=payslip)


@shared_task
def advance_contracts_task() -> int:
    """Start and complete contracts by their dates (daily, from Celery beat)."""
    return contracts.advance_contracts(today=timezone.localdate())


@shared_task
def pay_due_work_task() -> int:
    """Pay the work whose pay date has come (hourly, from Celery beat); return the payslips.

    However often, late or concurrently it runs, a worker is paid once (``contracts.payday``).
    """
    run = payday.pay_due_work(today=timezone.localdate())
    return run.payslip_count if run is not None else 0


def recover_lost_work(*, now: datetime.datetime, idle_queues: set[str]) -> int:
    """Enqueue again the payslip renders and contract notices whose message was lost.

    See ``coop.recovery``; a queue with messages waiting is looked at again at the next sweep.
    """
    count = 0
    if "pdf" in idle_queues:
        lost = documents.lost_payslips(now=now)
        count += recovery.requeue(lost, render_payslip_task, now=now)
    if "default" in idle_queues:
        events = ContractEvent.objects.filter(to_status__in=contracts.NOTIFIED)
        lost = recovery.lost_notices(events, now=now)
        count += recovery.requeue(lost, notify_contract_event_task, now=now)
    return count
