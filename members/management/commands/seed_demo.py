"""Load a small, coherent demo world: staff, space managers, members, Activities, ledgers."""

import datetime
import random
from decimal import Decimal
from importlib import import_module

from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP
from django.apps import apps
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.module_loading import module_has_submodule
from stdnum import iban as iban_module

from coop.money import round_money
from members import services
from members.demo import DEMO_PASSWORD, DEMO_STAFF, DEMO_TOTP_SECRET
from members.models import LedgerEntryKind, LedgerStage, Member, MembershipEvent, User

SPACE_MANAGERS_GROUP = "Space managers"

# (first name, last name, city, language)
PEOPLE = [
    ("Ana", "Peeters", "Bruxelles", "fr"),
    ("Lucas", "Dubois", "Molenbeek-Saint-Jean", "fr"),
    ("Emma", "Maes", "Gent", "nl"),
    ("Louis", "Jacobs", "Liège", "fr"),
    ("Olivia", "Mertens", "Antwerpen", "nl"),
    ("Arthur", "Willems", "Leuven", "nl"),
    ("Mila", "Claes", "Namur", "fr"),
    ("Jules", "Goossens", "Mechelen", "nl"),
    ("Léa", "Wouters", "Ixelles", "fr"),
    ("Victor", "De Smet", "Brugge", "nl"),
    ("Alice", "Lambert", "Charleroi", "fr"),
    ("Adam", "Dupont", "Schaerbeek", "fr"),
    ("Nora", "Hermans", "Hasselt", "nl"),
    ("Liam", "Martin", "Bruxelles", "en"),
    ("Zoé", "Lemaire", "Mons", "fr"),
    ("Finn", "Vermeulen", "Kortrijk", "nl"),
    ("Inès", "Leroy", "Saint-Gilles", "fr"),
    ("Noah", "Janssens", "Anderlecht", "nl"),
    ("Elise", "Michel", "Forest", "fr"),
    ("Sam", "Desmet", "Etterbeek", "en"),
]
ACTIVITY_NAMES = [
    "Illustration",
    "Stage lighting",
    "Documentary photography",
    "Graphic design",
    "Sound engineering",
    "Ceramics workshop",
    "Theatre tour 2026",
    "Translation",
    "Video editing",
    "Dance workshops",
]
BANK_CODES = ["001", "068", "096", "363", "732"]


def national_number(rng: random.Random, index: int) -> str:
    """Return a valid national register number for someone born before 2000."""
    birth = datetime.date(1975, 1, 1) + datetime.timedelta(days=rng.randrange(0, 9000))
    base = f"{birth:%y%m%d}{(2 * index + 1):03d}"
    return base + f"{97 - int(base) % 97:02d}"


def belgian_iban(rng: random.Random) -> str:
    """Return a valid Belgian IBAN with a known bank code."""
    bban_start = rng.choice(BANK_CODES) + f"{rng.randrange(0, 10**7):07d}"
    national_check = int(bban_start) % 97 or 97
    bban = f"{bban_start}{national_check:02d}"
    check = 98 - int(f"{bban}111400") % 97
    return iban_module.compact(f"BE{check:02d}{bban}")


class Command(BaseCommand):
    help = "Load demo data (does nothing when it is already there)."

    def handle(self, *args, **options):
        if User.objects.filter(email=DEMO_STAFF).exists():
            self.stdout.write("Demo data already present: nothing to do.")
            return
        rng = random.Random(2026)
        with transaction.atomic():
            context = self.seed(rng)
            # Other apps add their part of the world from their own ``demo.seed(context)``.
            for config in apps.get_app_configs():
                if config.name == "members" or not module_has_submodule(config.module, "demo"):
                    continue
                import_module(f"{config.name}.demo").seed(context, stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))

    @cached_property
    def password_hash(self) -> str:
        # Hashing is slow by design: hash the shared demo password once.
        return make_password(DEMO_PASSWORD)

    def create_user(self, email: str, name: str, **flags) -> User:
        user = User.objects.create_user(email=email, password=None, name=name, **flags)
        user.password = self.password_hash
        user.save(update_fields=["password"])
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        return user

    def seed(self, rng: random.Random) -> dict:
        now = timezone.now()
        today = timezone.localdate()
        staff = self.create_user(DEMO_STAFF, "Camille Staff", is_staff=True, is_superuser=True)
        TOTP.activate(staff, DEMO_TOTP_SECRET)

        space_managers, _created = Group.objects.get_or_create(name=SPACE_MANAGERS_GROUP)
        for email, name in [("spaces@coop.test", "Sofia Space"), ("spaces2@coop.test", "Tom Room")]:
            self.create_user(email, name).groups.add(space_managers)

        members: list[Member] = []
        for index, (first, last, city, language) in enumerate(PEOPLE):
            email = f"{first}.{last}".lower().replace(" ", "").replace("é", "e").replace("è", "e")
            user = self.create_user(f"{email}@coop.test", f"{first} {last}")
            applied = now - datetime.timedelta(days=400 - index * 15)
            member = services.apply_for_membership(
                user=user,
                legal_name=f"{first} {last}",
                street=f"Rue de l'Exemple {10 + index}",
                postal_code=f"{1000 + index * 10}",
                city=city,
                country="BE",
                phone=f"+32 470 {rng.randrange(100000, 999999)}",
                preferred_language=language,
                iban=belgian_iban(rng),
                niss=national_number(rng, index),
                number_of_shares=rng.choice([1, 1, 1, 2, 5]),
                today=applied.date(),
                now=applied,
            )
            members.append(member)

        # Most members are approved and have paid; a few show the other states.
        for index, member in enumerate(members):
            if index == 17:  # Noah: a fresh application waiting for staff
                continue
            approved = member.created_at + datetime.timedelta(days=3)
            services.approve_application(member=member, actor=staff, now=approved)
            if index == 18:  # Elise: approved, share not paid yet
                continue
            subscription = member.shares.get()
            services.record_share_payment(
                subscription=subscription,
                paid_on=(approved + datetime.timedelta(days=4)).date(),
                actor=staff,
                now=approved + datetime.timedelta(days=4),
            )
        services.suspend_member(
            member=members[15], actor=staff, reason="Unpaid supplier invoices under review."
        )
        services.record_departure(
            member=members[16], actor=staff, reason="Founded her own company."
        )
        for member in members:
            member.refresh_from_db()

        active = [member for member in members if member.status == Member.Status.ACTIVE]
        for index, member in enumerate(active):
            co_members = [active[(index + 1) % len(active)]] if index % 4 == 0 else []
            activity = services.create_activity(
                owner=member,
                name=ACTIVITY_NAMES[index % len(ACTIVITY_NAMES)],
                description=f"{member.legal_name}'s freelance work.",
                co_members=co_members,
            )
            self.seed_ledger(rng, activity=activity, author=staff, today=today)
        # The demo's history is old news: nobody is e-mailed about it.
        MembershipEvent.objects.update(notified_at=now)
        self.stdout.write(f"{len(members)} members, {len(active)} Activities.")
        return {"rng": rng, "staff": staff, "members": active, "today": today}

    def seed_ledger(self, rng: random.Random, *, activity, author: User, today) -> None:
        """Write a plausible history: paid invoices with their fee, salaries, expenses."""
        for month in range(6, 0, -1):
            moment = timezone.now() - datetime.timedelta(days=30 * month + rng.randrange(0, 10))
            amount = Decimal(rng.randrange(80000, 450000)) / 100
            reference = f"DEMO-{moment:%Y%m}-{activity.pk:03d}"
            services.post_ledger_entry(
                activity=activity,
                kind=LedgerEntryKind.CLIENT_INCOME,
                stage=LedgerStage.PLANNED,
                amount=amount,
                reference=reference,
                description="Invoice issued",
                author=author,
                now=moment,
            )
            if month == 1:
                continue  # the latest invoice is still unpaid
            paid = moment + datetime.timedelta(days=20)
            for kind, stage, value, description in [
                (LedgerEntryKind.CLIENT_INCOME, LedgerStage.PLANNED, -amount, "Invoice paid"),
                (LedgerEntryKind.CLIENT_INCOME, LedgerStage.AVAILABLE, amount, "Invoice paid"),
                (
                    LedgerEntryKind.COOPERATIVE_FEE,
                    LedgerStage.AVAILABLE,
                    -round_money(amount * settings.COOP_FEE_RATE),
                    "Cooperative fee 6.5 %",
                ),
                (
                    LedgerEntryKind.SALARY_COST,
                    LedgerStage.AVAILABLE,
                    -round_money(amount * Decimal("0.6")),
                    "Salary, employer cost",
                ),
            ]:
                services.post_ledger_entry(
                    activity=activity,
                    kind=kind,
                    stage=stage,
                    amount=value,
                    reference=reference,
                    description=description,
                    author=author,
                    now=paid,
                )
        services.post_ledger_entry(
            activity=activity,
            kind=LedgerEntryKind.EXPENSE_REIMBURSEMENT,
            stage=LedgerStage.AVAILABLE,
            amount=-Decimal(rng.randrange(2000, 30000)) / 100,
            reference=f"DEMO-EXP-{activity.pk:03d}",
            description="Train tickets and materials",
            author=author,
        )
