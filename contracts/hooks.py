"""Extension points of payroll for the apps built on contracts.

Contracts knows nothing of the apps that depend on it (ARCHITECTURE.md). An app whose
payments go out with the salaries registers, once, from its ``AppConfig.ready``:

- ``due(pay_date=)``: whether it has anything a payroll run paying on that date would pay;
- ``pay(run=, pay_date=, actor=, now=)``: pay it inside the run's transaction (the run holds
  the payroll lock) and return the SEPA transfers that join the run's payment file.
"""

import datetime
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from contracts.models import PayrollRun
    from coop.sepa import Transfer

Due = Callable[..., bool]
Pay = Callable[..., list["Transfer"]]

_payments: list[tuple[Due, Pay]] = []


def register_payroll_payments(*, due: Due, pay: Pay) -> None:
    """Have every payroll run pay what ``pay`` pays. Registering twice registers once."""
    if (due, pay) not in _payments:
        _payments.append((due, pay))


def payments_due(*, pay_date: datetime.date) -> bool:
    return any(due(pay_date=pay_date) for due, _pay in _payments)


def pay_with_run(
    *, run: "PayrollRun", pay_date: datetime.date, actor, now: datetime.datetime
) -> list["Transfer"]:
    transfers: list[Transfer] = []
    for _due, pay in _payments:
        transfers.extend(pay(run=run, pay_date=pay_date, actor=actor, now=now))
    return transfers
