"""Users, members, cooperative shares, Activities and their append-only ledgers."""

import functools
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.indexes import GinIndex
from django.db import connections, models, router
from django.db.models import BooleanField, Expression, F, OuterRef, Q, Subquery, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum import iban as iban_module

from coop.fields import EncryptedCharField
from coop.models import ChoiceLabels
from coop.templatetags.money import euro

ZERO = Decimal("0.00")


class UserManager(BaseUserManager):
    """Create users identified by their e-mail address."""

    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email: str, password: str | None = None, **extra_fields):
        extra_fields["is_staff"] = True
        extra_fields["is_superuser"] = True
        return self._create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in: a member, a staff member, a space manager."""

    email = models.EmailField(_("e-mail address"), unique=True)
    name = models.CharField(_("name"), max_length=150, blank=True)
    is_staff = models.BooleanField(
        _("staff status"),
        default=False,
        help_text=_("Designates whether the user can log into the admin site."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_case_insensitive_unique")
        ]
        # The admin's user search (a part of the e-mail address or of the name, icontains).
        indexes = [
            GinIndex(fields=["email"], name="user_admin_email_trgm", opclasses=["gin_trgm_ops"]),
            GinIndex(fields=["name"], name="user_admin_name_trgm", opclasses=["gin_trgm_ops"]),
        ]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return self.name or self.email


class Language(models.TextChoices):
    FRENCH = "fr", _("French")
    DUTCH = "nl", _("Dutch")
    ENGLISH = "en", _("English")


class Member(ChoiceLabels, models.Model):
    """A cooperator: the person behind one or more Activities."""

    class Status(models.TextChoices):
        APPLICANT = "applicant", _("Applicant")
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        LEFT = "left", _("Left")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="member",
        verbose_name=_("user"),
    )
    legal_name = models.CharField(_("legal name"), max_length=200)
    street = models.CharField(_("street and number"), max_length=200)
    postal_code = models.CharField(_("postal code"), max_length=16)
    city = models.CharField(_("city"), max_length=100)
    country = models.CharField(_("country"), max_length=2, default="BE")
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    preferred_language = models.CharField(
        _("preferred language"), max_length=2, choices=Language.choices, default=Language.FRENCH
    )
    iban = models.CharField(_("IBAN"), max_length=34)
    niss = EncryptedCharField(_("national register number"), blank=True)
    niss_fingerprint = models.CharField(max_length=64, blank=True, editable=False)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.APPLICANT
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    created_at = models.DateTimeField(_("applied at"), default=timezone.now)
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True)

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["legal_name"]
        # Staff search members by a part of their name (admin search_fields, icontains).
        indexes = [
            GinIndex(fields=["legal_name"], name="member_name_trgm", opclasses=["gin_trgm_ops"]),
            # The admin's changelist reads members in this order.
            models.Index(fields=["legal_name", "id"], name="member_admin_name_idx"),
            # Staff find a member by an IBAN typed in full.
            models.Index(fields=["iban"], name="member_admin_iban_idx"),
        ]
        permissions = [
            ("view_full_niss", _("Can read national register numbers in full")),
            ("anonymise_member", _("Can anonymise members who left")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["niss_fingerprint"],
                condition=~Q(niss_fingerprint=""),
                name="member_niss_unique",
                violation_error_message=_("A member with this national register number exists."),
            ),
            models.CheckConstraint(
                condition=Q(status__in=["applicant", "left"]) | Q(approved_at__isnull=False),
                name="member_not_applicant_is_approved",
            ),
        ]

    def __str__(self) -> str:
        return self.legal_name

    @property
    def is_approved(self) -> bool:
        return self.approved_at is not None

    @property
    def iban_display(self) -> str:
        return iban_module.format(self.iban) if self.iban else ""

    @property
    def niss_masked(self) -> str:
        """Show only the check digits: the rest reveals birth date and sex."""
        if not self.niss:
            return ""
        return f"**.**.**-***.{self.niss[-2:]}"

    @property
    def iban_masked(self) -> str:
        """Show the country, the check digits and the last four digits: enough to recognise
        the account, not to use it."""
        if not self.iban:
            return ""
        return f"{self.iban[:4]} **** **** {self.iban[-4:]}"


class MembershipEvent(ChoiceLabels, models.Model):
    """One step of a member's lifecycle: who did what, when and why."""

    class Kind(models.TextChoices):
        APPLIED = "applied", _("Applied")
        APPROVED = "approved", _("Application approved")
        ACTIVATED = "activated", _("Activated")
        SUSPENDED = "suspended", _("Suspended")
        REINSTATED = "reinstated", _("Reinstated")
        LEFT = "left", _("Left the cooperative")
        ANONYMISED = "anonymised", _("Personal data anonymised")

    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="events", verbose_name=_("member")
    )
    kind = models.CharField(_("event"), max_length=16, choices=Kind.choices)
    from_status = models.CharField(_("from"), max_length=16, choices=Member.Status.choices)
    to_status = models.CharField(_("to"), max_length=16, choices=Member.Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now)
    notified_at = models.DateTimeField(_("member notified at"), null=True, blank=True)
    queued_at = models.DateTimeField(_("last enqueued again at"), null=True, blank=True)

    class Meta:
        verbose_name = _("membership event")
        verbose_name_plural = _("membership events")
        ordering = ["created_at", "pk"]
        # The recovery sweep looks for the recent events whose notice has not left.
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(notified_at__isnull=True),
                name="membership_event_unsent_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.member}: {self.get_kind_display()}"


class ShareSubscription(ChoiceLabels, models.Model):
    """Cooperative shares a member subscribed; a line of the share register."""

    class ShareClass(models.TextChoices):
        A = "A", _("Class A (members)")
        B = "B", _("Class B (staff and partners)")

    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="shares", verbose_name=_("member")
    )
    share_class = models.CharField(
        _("class"), max_length=1, choices=ShareClass.choices, default=ShareClass.A
    )
    number_of_shares = models.PositiveIntegerField(_("number of shares"))
    nominal_value = models.DecimalField(_("nominal value"), max_digits=12, decimal_places=2)
    subscribed_on = models.DateField(_("subscribed on"))
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )

    class Meta:
        verbose_name = _("share subscription")
        verbose_name_plural = _("share register")
        ordering = ["subscribed_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(number_of_shares__gt=0), name="share_subscription_positive_number"
            ),
            models.CheckConstraint(
                condition=Q(nominal_value__gt=0), name="share_subscription_positive_value"
            ),
        ]

    def __str__(self) -> str:
        return _("%(count)s × %(value)s (%(member)s)") % {
            "count": self.number_of_shares,
            "value": euro(self.nominal_value),
            "member": self.member,
        }

    @property
    def amount(self) -> Decimal:
        return self.nominal_value * self.number_of_shares

    @property
    def is_paid(self) -> bool:
        return self.paid_on is not None


class LedgerEntryKind(models.TextChoices):
    CLIENT_INCOME = "client_income", _("Client income")
    COOPERATIVE_FEE = "cooperative_fee", _("Cooperative fee")
    GRANT = "grant", _("Grant")
    SALARY_COST = "salary_cost", _("Salary cost")
    EXPENSE_REIMBURSEMENT = "expense_reimbursement", _("Expense reimbursement")
    SUPPLIER_PAYMENT = "supplier_payment", _("Supplier payment")
    BOOKING_CHARGE = "booking_charge", _("Booking charge")
    COPYRIGHT_PAYMENT = "copyright_payment", _("Copyright payment")
    ADJUSTMENT = "adjustment", _("Adjustment")


class LedgerStage(models.TextChoices):
    """Whether money has moved (available), is only committed (planned), or is promised by a
    client's confirmed order that no invoice covers yet (guaranteed).

    An order's guaranteed amount is released, by a counter-entry, as each invoice issued from
    it plans its income: the two stages never count the same euro twice.
    """

    GUARANTEED = "guaranteed", _("Guaranteed")
    PLANNED = "planned", _("Planned")
    AVAILABLE = "available", _("Available")


# Kinds whose planned entries are income the Activity expects; planned entries of the other
# kinds are costs it has committed.
INCOME_KINDS = frozenset(
    {LedgerEntryKind.CLIENT_INCOME, LedgerEntryKind.GRANT, LedgerEntryKind.ADJUSTMENT}
)
MONEY_IN = _("Money in")
MONEY_OUT = _("Money out")
INCOME_EXPECTED = _("Income expected")
INCOME_NO_LONGER_EXPECTED = _("Income no longer expected")
COST_COMMITTED = _("Cost committed")
COMMITMENT_RELEASED = _("Commitment released")
ORDER_GUARANTEED = _("Order guaranteed")
GUARANTEE_RELEASED = _("Guarantee released")


def ledger_movement(kind: str, stage: str, amount: Decimal):
    """Say what an entry does to the member's money, in words that need no sign.

    An available entry is money in or out. A planned entry either expects income (and stops
    expecting it once paid or credited) or commits a cost (and releases it once paid or
    cancelled): a payslip paid releases its planned cost (+) as its money goes out (−). A
    guaranteed entry is a confirmed order (+), released (−) as its invoices are issued.
    """
    if stage == LedgerStage.AVAILABLE:
        return MONEY_IN if amount > 0 else MONEY_OUT
    if stage == LedgerStage.GUARANTEED:
        return ORDER_GUARANTEED if amount > 0 else GUARANTEE_RELEASED
    if kind in INCOME_KINDS:
        return INCOME_EXPECTED if amount > 0 else INCOME_NO_LONGER_EXPECTED
    return COMMITMENT_RELEASED if amount > 0 else COST_COMMITTED


BALANCE_FIELD = models.DecimalField(max_digits=16, decimal_places=2)


def _balance_of(stage: str) -> Coalesce:
    # One primary-key lookup per Activity shown, whatever the planner guesses of how many
    # Activities the filters keep. No row yet (no entry yet): the balance is zero.
    row = ActivityBalance.objects.filter(activity=OuterRef("pk")).values(stage)[:1]
    return Coalesce(
        Subquery(row, output_field=BALANCE_FIELD), Value(ZERO), output_field=BALANCE_FIELD
    )


class IsAnyOf(Expression):
    """``column = ANY(ARRAY(subquery))``: the subquery runs once, first, as an InitPlan.

    PostgreSQL then plans the outer query for a handful of values and reads it through the
    column's index, where ``IN (subquery)`` or an ``OR`` of subqueries makes it expect thousands
    of rows and scan the whole table.
    """

    output_field = BooleanField()

    def __init__(self, column, subquery):
        super().__init__()
        self.column = F(column) if isinstance(column, str) else column
        self.subquery = subquery

    def get_source_expressions(self):
        return [self.column, self.subquery]

    def set_source_expressions(self, expressions):
        self.column, self.subquery = expressions

    def as_sql(self, compiler, connection):
        column_sql, column_params = compiler.compile(self.column)
        subquery_sql, subquery_params = compiler.compile(self.subquery)
        return f"{column_sql} = ANY(ARRAY{subquery_sql})", (*column_params, *subquery_params)


@functools.cache
def _activity_ids_sql() -> str:
    activity, member = Activity._meta, Member._meta
    shared = Activity.co_members.through._meta
    owner_column = activity.get_field("owner").column
    activity_column = shared.get_field("activity").column
    member_column = shared.get_field("member").column
    user_column = member.get_field("user").column
    # Only the models' own table and column names go into the text; the user is a parameter.
    return (
        f'SELECT a."{activity.pk.column}" FROM "{activity.db_table}" a'  # noqa: S608
        f' INNER JOIN "{member.db_table}" m ON a."{owner_column}" = m."{member.pk.column}"'
        f' WHERE m."{user_column}" = %s'
        f' UNION SELECT s."{activity_column}" FROM "{shared.db_table}" s'
        f' INNER JOIN "{member.db_table}" m ON s."{member_column}" = m."{member.pk.column}"'
        f' WHERE m."{user_column}" = %s'
    )


def activity_ids_of(user) -> RawSQL:
    """The ids of the Activities the user owns or shares: two index scans and a UNION.

    Written out once rather than built from two querysets and their union: every member page
    and API call filters by it, and building it cost more than the query takes to run.
    """
    user_pk = getattr(user, "pk", user)
    return RawSQL(  # noqa: S611 (model names only; the user is a parameter)
        _activity_ids_sql(), (user_pk, user_pk), output_field=models.BigIntegerField()
    )


def activity_id_list(user) -> list[int]:
    """The ids of the Activities the user owns or shares, read now by the same statement."""
    user_pk = getattr(user, "pk", user)
    with connections[router.db_for_read(Activity)].cursor() as cursor:
        cursor.execute(_activity_ids_sql(), (user_pk, user_pk))
        return [row[0] for row in cursor.fetchall()]


def of_activities_of(user, column: str = "activity_id") -> IsAnyOf:
    """A filter keeping the rows whose ``column`` is one of the user's Activities."""
    return IsAnyOf(column, activity_ids_of(user))


class ActivityQuerySet(models.QuerySet):
    def with_balances(self) -> "ActivityQuerySet":
        """Annotate ``available_balance``, ``planned_balance`` and ``guaranteed_balance``.

        They come from the Activity's row of ``ActivityBalance`` (one join), which a database
        trigger keeps equal to the sums of its ledger: no ledger row is read here.
        """
        return self.annotate(
            available_balance=_balance_of(LedgerStage.AVAILABLE),
            planned_balance=_balance_of(LedgerStage.PLANNED),
            guaranteed_balance=_balance_of(LedgerStage.GUARANTEED),
        )

    def of_user(self, user) -> "ActivityQuerySet":
        """Keep the Activities a user owns or shares."""
        return self.filter(of_activities_of(user, "pk"))


class Activity(models.Model):
    """A budget envelope run by a member inside the cooperative."""

    owner = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="activities", verbose_name=_("owner")
    )
    co_members = models.ManyToManyField(
        Member, blank=True, related_name="shared_activities", verbose_name=_("co-members")
    )
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    objects = ActivityQuerySet.as_manager()

    class Meta:
        verbose_name = _("Activity")
        verbose_name_plural = _("Activities")
        ordering = ["name", "pk"]
        indexes = [
            GinIndex(fields=["name"], name="activity_name_trgm", opclasses=["gin_trgm_ops"]),
            # The admin's changelist reads Activities in this order.
            models.Index(fields=["name", "id"], name="activity_admin_name_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                "owner",
                Lower("name"),
                name="activity_name_unique_per_owner",
                violation_error_message=_("You already have an Activity with this name."),
            )
        ]

    def __str__(self) -> str:
        return self.name


class LedgerEntry(ChoiceLabels, models.Model):
    """One movement of money in an Activity. Rows are never updated or deleted.

    A database trigger refuses UPDATE and DELETE; corrections are new entries.
    """

    activity = models.ForeignKey(
        Activity,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
        verbose_name=_("Activity"),
    )
    kind = models.CharField(_("kind"), max_length=32, choices=LedgerEntryKind.choices)
    stage = models.CharField(_("stage"), max_length=16, choices=LedgerStage.choices)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    description = models.CharField(_("description"), max_length=255, blank=True)
    reference = models.CharField(_("reference"), max_length=100)
    source_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    source_id = models.PositiveBigIntegerField(null=True, blank=True)
    source = GenericForeignKey("source_type", "source_id")
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author"),
    )

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["activity", "stage"], name="ledger_activity_stage_idx"),
            # An Activity's ledger and the dashboard's latest entries, newest first, by keyset.
            models.Index(
                fields=["activity", "-created_at", "-id"], name="ledger_activity_newest_idx"
            ),
            # The admin finds an entry by its exact reference.
            models.Index(fields=["reference"], name="ledger_admin_reference_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="ledger_entry_amount_not_zero"),
            models.CheckConstraint(condition=~Q(reference=""), name="ledger_entry_has_reference"),
        ]

    def __str__(self) -> str:
        return f"{self.reference}: {euro(self.amount)}"

    @property
    def movement(self):
        """What the entry does to the member's money (``ledger_movement``)."""
        return ledger_movement(self.kind, self.stage, self.amount)


class ActivityBalance(models.Model):
    """The running totals of one Activity's ledger, per stage: what pages show as its balances.

    Never written by Python code: the statement-level trigger ``members_ledgerentry_balance``
    (see migration ``0008_activity_balance``) adds every inserted ledger entry to its Activity's
    row in the same transaction. The ledger is append-only, so inserts are the only change.
    ``manage.py check_balances`` compares these rows with the ledger's sums (``--rebuild``
    recomputes them).
    """

    activity = models.OneToOneField(
        Activity,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="balance",
        verbose_name=_("Activity"),
    )
    available = models.DecimalField(_("available"), max_digits=16, decimal_places=2, default=ZERO)
    planned = models.DecimalField(_("planned"), max_digits=16, decimal_places=2, default=ZERO)
    guaranteed = models.DecimalField(_("guaranteed"), max_digits=16, decimal_places=2, default=ZERO)
    entry_count = models.PositiveBigIntegerField(_("ledger entries"), default=0)

    class Meta:
        verbose_name = _("Activity balance")
        verbose_name_plural = _("Activity balances")

    def __str__(self) -> str:
        return f"{self.activity_id}: {euro(self.available)} / {euro(self.planned)}"


class ApiToken(models.Model):
    """A key that lets other software use the API on a user's behalf, until it expires.

    Only the key's SHA-256 is stored; its first characters (``prefix``) let the owner recognise
    it. ``second_factor_verified`` records that the owner entered their TOTP code when the
    token was created: staff and space managers reach the API only with such a token.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("user"),
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=12)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    second_factor_verified = models.BooleanField(
        _("created after a second-factor check"), default=False
    )

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "-created_at"], name="api_token_user_created_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")),
                name="api_token_expires_after_creation",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_usable(self, now) -> bool:
        return self.revoked_at is None and self.expires_at > now
