"""A demo quarter: the first quarter of 2026, with an artist, a white-collar employee who leaves
and a blue-collar worker, all paid on 23 March 2026."""

import datetime
from decimal import Decimal

import pytest
from allauth.mfa.totp.internal.auth import TOTP

from contracts.models import Contract
from contracts.services.contracts import approve_contract, submit_contract
from contracts.services.payroll import run_payroll
from declarations.services import set_engagement_terms
from tests.conftest import NOW
from tests.contracts.conftest import TODAY, make_contract, worker

PAY_DAY = datetime.date(2026, 3, 23)
MARCH = {"period_start": datetime.date(2026, 3, 1), "period_end": datetime.date(2026, 3, 22)}


def approved_job(staff, member, activity, *, kind, wage, start, count, **terms):
    contract = make_contract(
        member,
        activity,
        kind=kind,
        workers=[worker(member, wage=wage, start=start, count=count)],
        title=f"{kind} job",
    )
    if terms:
        contract = set_engagement_terms(staff_user=staff, contract=contract, **terms)
    submit_contract(user=member.user, contract=contract, today=TODAY, now=NOW)
    return approve_contract(staff_user=staff, contract=contract, today=TODAY, now=NOW)


@pytest.fixture
def quarter_jobs(staff, member, other_member, activity, other_activity):
    """Q1 2026: Ana works as an artist (9 to 20 March, 10 days at €400) and as a white-collar
    employee who leaves (3 to 6 March, 4 days at €300); Lucas as a blue-collar worker (9 to
    12 March, 4 days at €250)."""
    return {
        "artistic": approved_job(
            staff,
            member,
            activity,
            kind=Contract.Kind.ARTISTIC,
            wage="400.00",
            start=datetime.date(2026, 3, 9),
            count=10,
        ),
        "leaving": approved_job(
            staff,
            member,
            activity,
            kind=Contract.Kind.NON_ARTISTIC,
            wage="300.00",
            start=datetime.date(2026, 3, 3),
            count=4,
            ends_engagement=True,
        ),
        "blue_collar": approved_job(
            staff,
            other_member,
            other_activity,
            kind=Contract.Kind.NON_ARTISTIC,
            wage="250.00",
            start=datetime.date(2026, 3, 9),
            count=4,
            employee_category=Contract.EmployeeCategory.BLUE_COLLAR,
        ),
    }


@pytest.fixture
def quarter_paid(staff, quarter_jobs):
    pay(staff)
    return quarter_jobs


def pay(staff):
    return run_payroll(staff_user=staff, today=PAY_DAY, now=NOW, **MARCH)


ZERO = Decimal("0.00")


@pytest.fixture
def staff_client(client, staff):
    """A browser signed in as staff, with the second factor the admin requires."""
    TOTP.activate(staff, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    client.force_login(staff)
    return client
