"""The contracts part of the demo world: contracts in every state, expense claims and a
completed payroll run."""

import datetime
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from contracts import demo_artists
from contracts.models import Contract, ContractEvent, TaxProfile
from contracts.services import contracts as services
from contracts.services import expenses
from contracts.services.contracts import DayInput, WorkerInput
from contracts.services.payroll import run_payroll
from members.models import Activity

JOBS = [
    ("Lighting design for 'Les Bonnes'", "Théâtre des Galeries, Bruxelles", "artistic"),
    ("Illustrations for a children's book", "Home studio", "artistic"),
    ("Sound engineering, summer festival", "Parc de Forest", "artistic"),
    ("Website for a bakery", "Remote", "non_artistic"),
    ("Photography workshop", "LaVallée, Molenbeek", "artistic"),
    ("Translation of an exhibition catalogue", "Remote", "non_artistic"),
    ("Dance performance, three nights", "Kaaitheater, Brussel", "artistic"),
    ("Set building", "Atelier 210, Etterbeek", "non_artistic"),
]
# What happens to each demo contract, and where its work falls relative to today.
STATES = [
    ("paid", -40),
    ("paid", -25),
    ("paid", -12),
    ("in_progress", -1),
    ("approved", 9),
    ("submitted", 16),
    ("submitted", 23),
    ("changes_requested", 30),
    ("rejected", 37),
    ("draft", 44),
    ("cancelled", 51),
]


def _weekdays(start: datetime.date, count: int) -> list[datetime.date]:
    days, day = [], start
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += datetime.timedelta(days=1)
    return days


def seed(context: dict, *, stdout) -> None:
    """Add contracts in every state to the demo Activities and pay the finished ones."""
    rng, staff, today = context["rng"], context["staff"], context["today"]
    now = timezone.now()
    pairs = []
    for member in context["members"]:
        activity = Activity.objects.filter(owner=member).order_by("pk").first()
        if activity is not None and member.niss:
            pairs.append((member, activity))
    if not pairs:
        return
    TaxProfile.objects.bulk_create(
        TaxProfile(member=member, household=rng.choice(["single", "single", "spouse_with_income"]))
        for member, _activity in pairs
    )
    created = 0
    # A few members get the whole cycle; a member's jobs are a week apart, never overlapping.
    plan = [(pair, state, offset) for pair in pairs[:4] for state, offset in STATES]
    for index, ((member, activity), state, offset) in enumerate(plan):
        title, place, kind = JOBS[index % len(JOBS)]
        start = today + datetime.timedelta(days=offset)
        length = 3 if state == "in_progress" else rng.choice([1, 2, 3, 5])
        days = _weekdays(start, length)
        recorded_on = min(days[0], today) - datetime.timedelta(days=10)
        contract = services.save_contract(
            user=member.user,
            activity=activity,
            title=title,
            place=place,
            kind=kind,
            amount_to_invoice=Decimal(rng.randrange(60, 300)) * 10,
            workers=[
                WorkerInput(
                    member=member,
                    daily_wage=Decimal(rng.choice([150, 180, 220, 260, 300])),
                    days=[DayInput(date=day) for day in days],
                )
            ],
            today=recorded_on,
        )
        created += 1
        if state == "draft":
            continue
        services.submit_contract(user=member.user, contract=contract, today=recorded_on)
        if state == "submitted":
            continue
        if state == "changes_requested":
            services.request_changes(
                staff_user=staff, contract=contract, reason="Please attach the signed quote."
            )
            continue
        if state == "rejected":
            services.reject_contract(
                staff_user=staff,
                contract=contract,
                reason="The Activity's budget does not cover this salary.",
            )
            continue
        services.approve_contract(
            staff_user=staff, contract=contract, today=recorded_on + datetime.timedelta(days=2)
        )
        if state == "cancelled":
            services.cancel_contract(
                user=member.user, contract=contract, reason="The client cancelled.", today=today
            )
        elif state == "in_progress":
            services.start_contract(contract=contract, today=max(today, days[0]))
    claims = _seed_expense_claims(pairs[:3], staff=staff, today=today)
    run = run_payroll(
        staff_user=staff,
        period_start=today - datetime.timedelta(days=90),
        period_end=today - datetime.timedelta(days=1),
        today=today,
    )
    demo_artists.seed(context, stdout=stdout)
    # The demo's history is old news: nobody is e-mailed about it.
    ContractEvent.objects.filter(notified_at__isnull=True).update(notified_at=now)
    stdout.write(
        f"{created} contracts, payroll run with {run.payslip_count} payslips "
        f"({Contract.objects.filter(status=Contract.Status.COMPLETED).count()} completed), "
        f"{claims} expense claims."
    )


# What each receipt of a demo claim is: description, category, days ago, amount, VAT.
RECEIPTS = [
    ("Train Brussels–Antwerp, return", "travel", 20, Decimal("31.80"), Decimal("1.80")),
    ("Gaffer tape and gels", "supplies", 18, Decimal("64.13"), Decimal("11.13")),
    ("Hotel night before the première", "accommodation", 15, Decimal("98.00"), Decimal("5.55")),
    ("Sketchbooks and inks", "supplies", 9, Decimal("42.35"), Decimal("7.35")),
    ("Prepaid phone card", "communication", 4, Decimal("15.00"), Decimal("2.60")),
]


def _receipt_file(name: str) -> SimpleUploadedFile:
    """A one-line PDF standing in for a scanned receipt."""
    return SimpleUploadedFile(
        f"{name}.pdf", b"%PDF-1.4\n% demo receipt\n%%EOF\n", content_type="application/pdf"
    )


def _seed_expense_claims(pairs, *, staff, today: datetime.date, approve: bool = True) -> int:
    """Give members claims in each state: approved (paid by the run), sent, and a draft.

    Without ``approve`` the first claim stays sent too: nothing reaches the ledger."""
    count = 0
    for index, (member, activity) in enumerate(pairs):
        receipts = [
            expenses.ReceiptInput(
                upload=_receipt_file(f"receipt-{index}-{position}"),
                description=description,
                category=category,
                spent_on=today - datetime.timedelta(days=days_ago),
                amount=amount,
                vat=vat,
            )
            for position, (description, category, days_ago, amount, vat) in enumerate(RECEIPTS)
        ]
        approved = expenses.submit_expense_claim(
            user=member.user,
            activity=activity,
            description="Tour expenses",
            receipts=receipts[:2],
            today=today,
        )
        if approve:
            expenses.approve_expense_claim(staff_user=staff, claim=approved)
        expenses.submit_expense_claim(
            user=member.user,
            activity=activity,
            description="Première week",
            receipts=receipts[2:3],
            today=today,
        )
        expenses.start_expense_claim(
            user=member.user,
            activity=activity,
            description="Next month's material",
            receipts=receipts[3:],
            today=today,
        )
        count += 3
    return count


def seed_heavy(context: dict, *, stdout) -> None:
    """Give each heavy member of a scaled world a draft contract, sent expense claims and a
    draft one: the contract form and the claims' pages have rows to show."""
    staff, today = context["staff"], context["today"]
    pairs = []
    for member in context["members"]:
        activity = Activity.objects.filter(owner=member).order_by("pk").first()
        if activity is not None and member.niss:
            pairs.append((member, activity))
    for index, (member, activity) in enumerate(pairs):
        title, place, kind = JOBS[index % len(JOBS)]
        # Far enough ahead to clash with none of the generated contracts' days.
        days = _weekdays(today + datetime.timedelta(days=120 + 7 * index), 5)
        services.save_contract(
            user=member.user,
            activity=activity,
            title=title,
            place=place,
            kind=kind,
            amount_to_invoice=Decimal("2400.00"),
            workers=[
                WorkerInput(
                    member=member,
                    daily_wage=Decimal("220.00"),
                    days=[DayInput(date=day) for day in days],
                )
            ],
            today=today,
        )
    # The scaled ledgers stay as loaded: the claims are sent, not approved.
    claims = _seed_expense_claims(pairs, staff=staff, today=today, approve=False)
    stdout.write(f"{len(pairs)} draft contracts and {claims} expense claims of heavy members.")
