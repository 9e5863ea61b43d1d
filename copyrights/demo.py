"""The copyright part of the demo world: an artist paid part of her work as copyright income,
across two Activities, paid by a payroll run, with one more payment awaiting approval."""

import datetime
from decimal import Decimal

from contracts.services.payroll import first_working_day_from, run_payroll
from copyrights.services import (
    approve_copyright_payment,
    copyright_payments_due,
    record_copyright_payment,
)
from members.models import Activity
from members.services import create_activity

# Work, kind, gross, salary paid beside it, approved (and paid) or left awaiting approval.
PAYMENTS = [
    ("Illustrations for 'Le Petit Loup'", "visual", Decimal("12000.00"), Decimal("0"), True),
    ("Song lyrics for the album 'Canal'", "music", Decimal("9500.00"), Decimal("0"), True),
    ("Poster for the Kanal festival", "visual", Decimal("1200.00"), Decimal("3000.00"), False),
]


def seed(context: dict, *, stdout) -> None:
    """Record, approve and pay copyright payments of one demo artist."""
    staff, today = context["staff"], context["today"]
    artists = [member for member in context["members"] if member.niss and member.iban]
    if not artists:
        return
    artist = artists[min(5, len(artists) - 1)]
    first = Activity.objects.filter(owner=artist).order_by("pk").first()
    if first is None:
        return
    second = create_activity(
        owner=artist, name="Music and lyrics", description="Songs written for other artists."
    )
    payments = []
    for index, (title, kind, gross, salary, approve) in enumerate(PAYMENTS):
        payment = record_copyright_payment(
            user=artist.user,
            member=artist,
            activity=first if index % 2 == 0 else second,
            work_kind=kind,
            work_title=title,
            gross=gross,
            salary_gross=salary,
            today=today,
        )
        if approve:
            approve_copyright_payment(staff_user=staff, payment=payment)
        payments.append(payment)
    yesterday = today - datetime.timedelta(days=1)
    # Near New Year the run pays in the next year: this year's payments wait for staff.
    if copyright_payments_due(pay_date=first_working_day_from(today)):
        run_payroll(staff_user=staff, period_start=yesterday, period_end=yesterday, today=today)
    stdout.write(
        f"{len(payments)} copyright payments of {artist.legal_name}, "
        f"{sum(1 for *_rest, approve in PAYMENTS if approve)} paid."
    )


def seed_heavy(context: dict, *, stdout) -> None:
    """Pay the first heavy member of a scaled world a copyright payment, through a payroll run
    of a day without work (only the copyright payment is due): its payment, member year and
    statement pages have a row to show."""
    members = [member for member in context["members"] if member.niss and member.iban]
    if not members:
        return
    member = members[0]
    activity = Activity.objects.filter(owner=member).order_by("pk").first()
    if activity is None:
        return
    today = context["today"]
    payment = record_copyright_payment(
        user=member.user,
        member=member,
        activity=activity,
        work_kind="visual",
        work_title="Illustrations for a scaled world",
        gross=Decimal("4000.00"),
        today=today,
    )
    approve_copyright_payment(staff_user=context["second_staff"], payment=payment)
    if not copyright_payments_due(pay_date=first_working_day_from(today)):
        stdout.write(f"  a copyright payment of {member.legal_name}, approved (paid next year)")
        return
    # No scaled contract ends on the first of January 2001: the run pays the copyright only.
    quiet_day = datetime.date(2001, 1, 1)
    run_payroll(
        staff_user=context["staff"], period_start=quiet_day, period_end=quiet_day, today=today
    )
    stdout.write(f"  a copyright payment of {member.legal_name}, approved and paid")
