"""The demo world is coherent, can be loaded twice, and its advertised logins work."""

from decimal import Decimal

from django.core.management import call_command

from members.demo import DEMO_LOGINS
from members.models import Activity, LedgerEntry, Member, User


def test_seed_demo_builds_a_coherent_world_once(client, db):
    call_command("seed_demo")
    counts = (User.objects.count(), Member.objects.count(), LedgerEntry.objects.count())
    call_command("seed_demo")
    assert (User.objects.count(), Member.objects.count(), LedgerEntry.objects.count()) == counts

    assert Member.objects.count() == 20
    statuses = dict(
        (status, Member.objects.filter(status=status).count()) for status in Member.Status.values
    )
    assert statuses == {"applicant": 2, "active": 16, "suspended": 1, "left": 1}
    assert Activity.objects.count() == 16
    assert all(member.niss and member.iban for member in Member.objects.all())
    assert User.objects.filter(groups__name="Space managers").count() == 2

    for _role, email, password in DEMO_LOGINS:
        assert client.login(email=email, password=password), email

    activity = Activity.objects.with_balances().order_by("pk").first()
    entries = LedgerEntry.objects.filter(activity=activity)
    assert activity.available_balance == sum(
        (entry.amount for entry in entries if entry.stage == "available"), Decimal(0)
    )
    # The last invoice of each Activity is still planned, the others were paid.
    assert activity.planned_balance > 0
