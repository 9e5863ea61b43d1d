"""The demo world is coherent, can be loaded twice, and its advertised logins work."""

from decimal import Decimal

from django.core.management import call_command

from members.demo import DEMO_LOGINS, DEMO_STAFF
from members.models import Activity, LedgerEntry, Member, User


def test_seed_demo_builds_a_coherent_world_once(client, db):
    call_command("seed_demo")
    counts = (User.objects.count(), Member.objects.count(), LedgerEntry.objects.count())
    call_command("seed_demo")
    assert (User.objects.count(), Member.objects.count(), LedgerEntry.objects.count()) == counts

    # 20 freelancers, and the cooperative's own account for LaVallée's rentals
    assert Member.objects.count() == 21
    statuses = dict(
        (status, Member.objects.filter(status=status).count()) for status in Member.Status.values
    )
    assert statuses == {"applicant": 2, "active": 17, "suspended": 1, "left": 1}
    # One per active member, and the copyright artist's second (copyrights/demo.py).
    assert Activity.objects.count() == 18
    freelancers = Member.objects.exclude(user__email=DEMO_STAFF)
    assert all(member.niss and member.iban for member in freelancers)
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


def test_seed_demo_shows_invoices_in_every_state(db):
    from invoicing.models import Invoice, Reminder

    call_command("seed_demo")
    statuses = set(Invoice.objects.values_list("status", flat=True))
    assert {"draft", "pending_review", "issued", "paid", "partially_paid"} <= statuses
    credit_note = Invoice.objects.get(kind="credit_note")
    assert credit_note.number.startswith("NC-")
    assert credit_note.credited_invoice.status == "credited"
    assert Reminder.objects.exists()
    numbers = list(
        Invoice.objects.filter(kind="invoice", number__isnull=False)
        .order_by("sequence_number")
        .values_list("issue_date", flat=True)
    )
    assert numbers == sorted(numbers)
