"""Contract fixtures: a contract of the member persona, in the states tests start from."""

import datetime
from decimal import Decimal

import pytest

from contracts.services.contracts import (
    DayInput,
    WorkerInput,
    approve_contract,
    save_contract,
    submit_contract,
)
from tests.conftest import NOW
from tests.invoicing.conftest import belgian_client  # noqa: F401 - shared fixture

TODAY = NOW.date()  # Monday 2 March 2026
NEXT_MONDAY = datetime.date(2026, 3, 9)


def weekdays(start: datetime.date, count: int) -> list[datetime.date]:
    days, day = [], start
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += datetime.timedelta(days=1)
    return days


def worker(member, *, wage="400.00", days=None, start=NEXT_MONDAY, count=10):
    dates = days if days is not None else weekdays(start, count)
    return WorkerInput(
        member=member, daily_wage=Decimal(wage), days=[DayInput(date=day) for day in dates]
    )


def make_contract(member, activity, *, workers=None, client=None, kind="non_artistic", **extra):
    return save_contract(
        user=member.user,
        activity=activity,
        client=client,
        title=extra.pop("title", "Lighting for 'Les Bonnes'"),
        place=extra.pop("place", "Théâtre des Galeries, Brussels"),
        kind=kind,
        amount_to_invoice=extra.pop("amount_to_invoice", Decimal("6000.00")),
        workers=workers or [worker(member)],
        today=extra.pop("today", TODAY),
        **extra,
    )


@pytest.fixture
def contract(member, activity, belgian_client):  # noqa: F811
    return make_contract(member, activity, client=belgian_client)


@pytest.fixture
def submitted(member, contract):
    return submit_contract(user=member.user, contract=contract, today=TODAY, now=NOW)


@pytest.fixture
def approved(staff, submitted):
    return approve_contract(staff_user=staff, contract=submitted, today=TODAY, now=NOW)
