"""Contracts (the jobs members record), their workers and work days, employment declarations,
payroll parameters in dated tables, payroll runs and payslips."""

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateRangeField, RangeOperators
from django.db import models
from django.db.models import Func, Q
from django.utils import timezone
from django.utils.formats import date_format, localize
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from coop.documents import DocumentBase
from coop.models import ChoiceLabels
from coop.templatetags.money import euro
from members.models import Activity, IsAnyOf, Language, Member, of_activities_of

ZERO = Decimal("0.00")
MONEY = {"max_digits": 12, "decimal_places": 2}


class DateRange(Func):
    function = "DATERANGE"
    output_field = DateRangeField()


def _validity_exclusion(name: str, *key_fields: str) -> ExclusionConstraint:
    """Two rows for the same key may not be valid on the same day."""
    return ExclusionConstraint(
        name=name,
        expressions=[
            *((key, RangeOperators.EQUAL) for key in key_fields),
            (DateRange("valid_from", "valid_to", models.Value("[]")), RangeOperators.OVERLAPS),
        ],
        violation_error_message=_("Another row is valid on some of these days."),
    )


def _valid_range(name: str) -> models.CheckConstraint:
    """A row's validity does not end before it starts."""
    return models.CheckConstraint(
        condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")), name=name
    )


def _value_since(row: "PayrollRate | AllowanceRate") -> str:
    """A dated row's value and start, as people read them."""
    value, since = (
        localize(row.value.normalize()),
        date_format(row.valid_from, "SHORT_DATE_FORMAT"),
    )
    return f"{value} ({since})"


class DatedRow(models.Model):
    """A row of a parameter table: in force from ``valid_from`` to ``valid_to`` (inclusive)."""

    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid until"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=255)
    is_unverified = models.BooleanField(
        _("unverified"),
        default=False,
        help_text=_("Not checked against an official text: shown as such to members."),
    )

    class Meta:
        abstract = True


class PayrollRate(DatedRow):
    """One named payroll figure (a rate or an amount) for a period."""

    class Key(models.TextChoices):
        PERSONAL_ONSS_RATE = "personal_onss_rate", _("Personal social security rate")
        ARTIST_BASE_FACTOR = "artist_base_factor", _("Artists: social security base factor")
        EMPLOYER_RATE = "employer_rate", _("Employer contribution rate")
        PROFESSIONAL_EXPENSES_RATE = "professional_expenses_rate", _("Flat expenses rate")
        PROFESSIONAL_EXPENSES_MAX = "professional_expenses_max", _("Flat expenses maximum")
        TAX_FREE_REDUCTION = "tax_free_reduction", _("Tax-free sum reduction (yearly)")
        MARITAL_QUOTIENT_RATE = "marital_quotient_rate", _("Marital quotient rate")
        MARITAL_QUOTIENT_MAX = "marital_quotient_max", _("Marital quotient maximum")
        CHILD_REDUCTION_1 = "child_reduction_1", _("Reduction: 1 child")
        CHILD_REDUCTION_2 = "child_reduction_2", _("Reduction: 2 children")
        CHILD_REDUCTION_3 = "child_reduction_3", _("Reduction: 3 children")
        CHILD_REDUCTION_4 = "child_reduction_4", _("Reduction: 4 children")
        CHILD_REDUCTION_5 = "child_reduction_5", _("Reduction: 5 children")
        CHILD_REDUCTION_6 = "child_reduction_6", _("Reduction: 6 children")
        CHILD_REDUCTION_7 = "child_reduction_7", _("Reduction: 7 children")
        CHILD_REDUCTION_8 = "child_reduction_8", _("Reduction: 8 children")
        CHILD_REDUCTION_EXTRA = "child_reduction_extra", _("Reduction: each further child")
        DEPENDANT_REDUCTION = "dependant_reduction", _("Reduction: other dependant")
        WORK_BONUS_A_AMOUNT = "work_bonus_a_amount", _("Work bonus A: amount")
        WORK_BONUS_A_THRESHOLD = "work_bonus_a_threshold", _("Work bonus A: gross threshold")
        WORK_BONUS_A_FACTOR = "work_bonus_a_factor", _("Work bonus A: reduction per euro")
        WORK_BONUS_A_CEILING = "work_bonus_a_ceiling", _("Work bonus A: nil from")
        WORK_BONUS_B_AMOUNT = "work_bonus_b_amount", _("Work bonus B: amount")
        WORK_BONUS_B_THRESHOLD = "work_bonus_b_threshold", _("Work bonus B: gross threshold")
        WORK_BONUS_B_FACTOR = "work_bonus_b_factor", _("Work bonus B: reduction per euro")
        WORK_BONUS_B_CEILING = "work_bonus_b_ceiling", _("Work bonus B: nil from")
        WORK_BONUS_TAX_RATE_A = "work_bonus_tax_rate_a", _("Work bonus A: tax reduction rate")
        WORK_BONUS_TAX_RATE_B = "work_bonus_tax_rate_b", _("Work bonus B: tax reduction rate")
        MINIMUM_DAILY_WAGE = "minimum_daily_wage", _("Minimum gross daily wage")
        # The payroll year (DOMAIN.md §9): read by ``contracts.parameters.load_year_parameters``.
        EXIT_HOLIDAY_SIMPLE_RATE = "exit_holiday_simple_rate", _("Exit holiday pay: simple")
        EXIT_HOLIDAY_DOUBLE_RATE = "exit_holiday_double_rate", _("Exit holiday pay: double")
        EXIT_HOLIDAY_COMPLEMENT_RATE = (
            "exit_holiday_complement_rate",
            _("Exit holiday pay: complement"),
        )
        HOLIDAY_BASE_FACTOR = "holiday_base_factor", _("Holiday contributions: base factor")
        HOLIDAY_YEARLY_RATE = "holiday_yearly_rate", _("Holiday contributions: yearly rate")
        HOLIDAY_QUARTERLY_RATE = (
            "holiday_quarterly_rate",
            _("Holiday contributions: quarterly rate"),
        )

    key = models.CharField(_("parameter"), max_length=40, choices=Key.choices)
    value = models.DecimalField(_("value"), max_digits=12, decimal_places=6)

    class Meta:
        verbose_name = _("payroll rate")
        verbose_name_plural = _("payroll rates")
        ordering = ["key", "-valid_from"]
        constraints = [
            _validity_exclusion("payroll_rate_no_overlap", "key"),
            _valid_range("payroll_rate_valid_range"),
            models.CheckConstraint(condition=Q(value__gte=0), name="payroll_rate_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.get_key_display()} = {_value_since(self)}"


class YearEndPremiumRule(DatedRow):
    """The end-of-year premium of one joint committee, as its collective agreement sets it."""

    joint_committee = models.CharField(_("joint committee"), max_length=8)
    months_of_pay = models.DecimalField(_("months of pay"), max_digits=5, decimal_places=2)
    seniority_months = models.PositiveSmallIntegerField(_("seniority required (months)"))
    is_paid_at_exit = models.BooleanField(
        _("paid pro rata at exit"),
        default=True,
        help_text=_("A worker leaving during the year receives the premium on the last payslip."),
    )

    class Meta:
        verbose_name = _("end-of-year premium rule")
        verbose_name_plural = _("end-of-year premium rules")
        ordering = ["joint_committee", "-valid_from"]
        constraints = [
            _validity_exclusion("year_end_premium_no_overlap", "joint_committee"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="year_end_premium_valid_range",
            ),
            models.CheckConstraint(
                condition=Q(months_of_pay__gte=0), name="year_end_premium_not_negative"
            ),
        ]

    def __str__(self) -> str:
        since = date_format(self.valid_from, "SHORT_DATE_FORMAT")
        return f"CP {self.joint_committee} ({since})"


class TaxBracket(DatedRow):
    """A band of the withholding tax scale (yearly amounts)."""

    lower = models.DecimalField(_("from"), **MONEY)
    upper = models.DecimalField(_("to"), **MONEY, null=True, blank=True)
    rate = models.DecimalField(_("rate"), max_digits=7, decimal_places=6)

    class Meta:
        verbose_name = _("withholding tax bracket")
        verbose_name_plural = _("withholding tax brackets")
        ordering = ["-valid_from", "lower"]
        constraints = [
            models.UniqueConstraint(fields=["valid_from", "lower"], name="tax_bracket_unique"),
            models.CheckConstraint(
                condition=Q(upper__isnull=True) | Q(upper__gt=models.F("lower")),
                name="tax_bracket_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{euro(self.lower)}–{euro(self.upper) or '…'}: {localize(self.rate.normalize())}"


class SpecialContributionBracket(DatedRow):
    """A band of the special social security contribution, per household and monthly gross."""

    class Household(models.TextChoices):
        SINGLE_OR_ONE_INCOME = "single_or_one_income", _("Single, or couple with one income")
        COUPLE_TWO_INCOMES = "couple_two_incomes", _("Couple with two incomes")

    household = models.CharField(_("household"), max_length=24, choices=Household.choices)
    lower = models.DecimalField(_("monthly gross from"), **MONEY)
    upper = models.DecimalField(_("monthly gross to"), **MONEY, null=True, blank=True)
    fixed = models.DecimalField(_("fixed amount"), **MONEY, default=ZERO)
    rate = models.DecimalField(_("rate on the excess"), max_digits=7, decimal_places=6)
    maximum = models.DecimalField(_("maximum"), **MONEY, null=True, blank=True)

    class Meta:
        verbose_name = _("special social security contribution bracket")
        verbose_name_plural = _("special social security contribution brackets")
        ordering = ["-valid_from", "household", "lower"]
        constraints = [
            models.UniqueConstraint(
                fields=["valid_from", "household", "lower"], name="special_contribution_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_household_display()} {euro(self.lower)}–{euro(self.upper) or '…'}"


class TaxProfile(models.Model):
    """What a member declared for the withholding tax (household, dependants)."""

    class Household(models.TextChoices):
        SINGLE = "single", _("Single")
        SPOUSE_WITHOUT_INCOME = "spouse_without_income", _("Married, spouse without income")
        SPOUSE_WITH_INCOME = "spouse_with_income", _("Married, spouse with an income")

    member = models.OneToOneField(
        Member, on_delete=models.CASCADE, related_name="tax_profile", verbose_name=_("member")
    )
    household = models.CharField(
        _("household"), max_length=24, choices=Household.choices, default=Household.SINGLE
    )
    children = models.PositiveSmallIntegerField(_("dependent children"), default=0)
    is_single_parent = models.BooleanField(_("single parent"), default=False)
    is_disabled = models.BooleanField(_("disabled beneficiary"), default=False)
    other_dependants = models.PositiveSmallIntegerField(_("other dependants"), default=0)

    class Meta:
        verbose_name = _("tax profile")
        verbose_name_plural = _("tax profiles")

    def __str__(self) -> str:
        return str(self.member)


class ContractQuerySet(models.QuerySet):
    def of_user(self, user) -> "ContractQuerySet":
        """Contracts on the user's Activities, or on which the user works.

        The ids come first, as a UNION of two index scans (``= ANY(ARRAY(...))``): an ``OR``
        of a join and a subquery made PostgreSQL scan every contract.
        """
        on_activities = Contract.objects.filter(of_activities_of(user)).order_by().values("pk")
        worked_on = (
            ContractWorker.objects.filter(member__user=user).order_by().values("contract_id")
        )
        return self.filter(IsAnyOf("pk", models.Subquery(on_activities.union(worked_on))))


class Contract(ChoiceLabels, models.Model):
    """A job a member recorded on an Activity, to be approved before the first work day."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Awaiting approval")
        CHANGES_REQUESTED = "changes_requested", _("Changes requested")
        APPROVED = "approved", _("Approved")
        # Contexts: the words differ from the same statuses of invoices in French and Dutch.
        REJECTED = "rejected", pgettext_lazy("contract status", "Rejected")
        IN_PROGRESS = "in_progress", _("In progress")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", pgettext_lazy("contract status", "Cancelled")

    class Kind(models.TextChoices):
        ARTISTIC = "artistic", _("Artistic")
        NON_ARTISTIC = "non_artistic", _("Non-artistic")

    class EmployeeCategory(models.TextChoices):
        WHITE_COLLAR = "white_collar", _("White-collar employee")
        BLUE_COLLAR = "blue_collar", _("Blue-collar worker")

    activity = models.ForeignKey(
        Activity, on_delete=models.PROTECT, related_name="contracts", verbose_name=_("Activity")
    )
    client = models.ForeignKey(
        "invoicing.Client",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="contracts",
        verbose_name=_("client"),
    )
    order = models.ForeignKey(
        "quotes.Quote",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="contracts",
        verbose_name=_("order"),
        help_text=_("The client's confirmed order this work carries out, if any."),
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    place = models.CharField(_("place of work"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    # Non-artistic work only: artists are declared as artists (art. 1bis) whatever this says.
    employee_category = models.CharField(
        _("employee category"),
        max_length=16,
        choices=EmployeeCategory.choices,
        default=EmployeeCategory.WHITE_COLLAR,
    )
    ends_engagement = models.BooleanField(
        _("ends the engagement"),
        default=False,
        help_text=_(
            "The worker leaves at the end of this contract: a white-collar employee's last "
            "payslip pays the exit holiday pay (and the end-of-year premium pro rata)."
        ),
    )
    amount_to_invoice = models.DecimalField(_("amount to invoice (excl. VAT)"), **MONEY)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    first_work_day = models.DateField(_("first work day"), null=True, blank=True)
    last_work_day = models.DateField(_("last work day"), null=True, blank=True)
    invoice = models.OneToOneField(
        "invoicing.Invoice",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="contract",
        verbose_name=_("invoice"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )

    objects = ContractQuerySet.as_manager()

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["-first_work_day", "-pk"]
        indexes = [
            models.Index(fields=["status", "first_work_day"], name="contract_status_first_idx"),
            models.Index(fields=["status", "last_work_day"], name="contract_status_last_idx"),
            # A quarter's (or year's) work whatever the status: DmfA, individual accounts.
            models.Index(fields=["last_work_day"], name="contract_last_work_day_idx"),
            # A member's contract list, newest work first, per Activity.
            models.Index(
                fields=["activity", "-first_work_day", "-id"], name="contract_activity_newest_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_to_invoice__gte=0), name="contract_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(first_work_day__isnull=True)
                | Q(last_work_day__gte=models.F("first_work_day")),
                name="contract_work_days_ordered",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["approved", "in_progress", "completed"])
                | Q(approved_at__isnull=False),
                name="contract_approved_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def reference(self) -> str:
        return f"C{self.pk:06d}" if self.pk else "C—"

    @property
    def is_editable(self) -> bool:
        return self.status in (self.Status.DRAFT, self.Status.CHANGES_REQUESTED)

    @property
    def is_artistic(self) -> bool:
        return self.kind == self.Kind.ARTISTIC

    @property
    def is_on_increased_base(self) -> bool:
        """Artists and blue-collar workers: social security on 108 % of the gross."""
        return self.is_artistic or self.employee_category == self.EmployeeCategory.BLUE_COLLAR

    @property
    def is_white_collar(self) -> bool:
        """Paid holiday by the employer (exit holiday pay), not by the holiday office."""
        return not self.is_artistic and self.employee_category == self.EmployeeCategory.WHITE_COLLAR


class ContractAwaitingApproval(Contract):
    """Submitted contracts, as staff review them: a separate admin list."""

    class Meta:
        proxy = True
        verbose_name = _("contract awaiting approval")
        verbose_name_plural = _("contracts awaiting approval")


class ContractWorker(models.Model):
    """A member working on a contract, at a gross daily wage."""

    contract = models.ForeignKey(
        Contract, on_delete=models.CASCADE, related_name="workers", verbose_name=_("contract")
    )
    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="contract_work", verbose_name=_("worker")
    )
    daily_wage = models.DecimalField(_("gross daily wage"), **MONEY)
    planned_gross = models.DecimalField(_("planned gross"), **MONEY, default=ZERO)
    planned_employer_cost = models.DecimalField(_("planned employer cost"), **MONEY, default=ZERO)
    is_task_based = models.BooleanField(
        _("paid per task (cachet)"),
        default=False,
        help_text=_(
            "Artistic work paid for a task, not for its hours: the work statement counts its "
            "days by the cachet rule."
        ),
    )

    class Meta:
        verbose_name = _("worker")
        verbose_name_plural = _("workers")
        ordering = ["contract", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "member"], name="contract_worker_unique"),
            models.CheckConstraint(condition=Q(daily_wage__gt=0), name="contract_worker_wage"),
        ]

    def __str__(self) -> str:
        return f"{self.member} ({self.contract.reference})"

    @property
    def days_in_order(self) -> list["WorkDay"]:
        """The worker's days by date, from the arrays a selector read with the row if any."""
        if not hasattr(self, "day_dates"):
            return list(self.days.order_by("date", "pk"))
        return [
            WorkDay(worker=self, member_id=self.member_id, date=date, portion=portion)
            for date, portion in zip(self.day_dates, self.day_portions, strict=True)
        ]


class WorkDay(ChoiceLabels, models.Model):
    """A full or half day of work; a member works on one contract a day at most."""

    class Portion(models.TextChoices):
        FULL = "1.0", _("Full day")
        HALF = "0.5", _("Half day")

    worker = models.ForeignKey(
        ContractWorker, on_delete=models.CASCADE, related_name="days", verbose_name=_("worker")
    )
    # Copied from the worker so the database can refuse a member's second contract on a day.
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    date = models.DateField(_("date"))
    portion = models.CharField(
        _("portion"), max_length=3, choices=Portion.choices, default=Portion.FULL
    )
    # False once the contract is rejected or cancelled: the day is free again.
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("work day")
        verbose_name_plural = _("work days")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "date"],
                condition=Q(is_active=True),
                name="work_day_one_contract_per_member_day",
                violation_error_message=_(
                    "This worker already works on another contract that day."
                ),
            )
        ]

    def __str__(self) -> str:
        return f"{date_format(self.date, 'SHORT_DATE_FORMAT')} ({self.get_portion_display()})"

    @property
    def fraction(self) -> Decimal:
        return Decimal(self.portion)


def attachment_path(instance, filename: str) -> str:
    return f"contracts/{instance.contract_id}/{filename}"


class ContractAttachment(models.Model):
    """A signed quote or other proof, as a PDF or an image."""

    contract = models.ForeignKey(
        Contract, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("contract")
    )
    file = models.FileField(_("file"), upload_to=attachment_path)
    content_type = models.CharField(_("type"), max_length=40)
    size = models.PositiveIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.file.name.rsplit("/", 1)[-1]


class ContractEvent(ChoiceLabels, models.Model):
    """One step of a contract's life: who moved it, when and why."""

    contract = models.ForeignKey(
        Contract, on_delete=models.CASCADE, related_name="events", verbose_name=_("contract")
    )
    from_status = models.CharField(_("from"), max_length=20, choices=Contract.Status.choices)
    to_status = models.CharField(_("to"), max_length=20, choices=Contract.Status.choices)
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
        verbose_name = _("contract event")
        verbose_name_plural = _("contract history")
        ordering = ["created_at", "pk"]
        # The recovery sweep looks for the recent events whose notice has not left.
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(notified_at__isnull=True),
                name="contract_event_unsent_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.contract.reference}: {self.from_status} → {self.to_status}"


class DimonaDeclaration(models.Model):
    """An employment declaration (or its cancellation) with its acknowledgement number."""

    class Kind(models.TextChoices):
        DECLARATION = "declaration", _("Declaration")
        CANCELLATION = "cancellation", _("Cancellation")

    worker = models.ForeignKey(
        ContractWorker,
        on_delete=models.PROTECT,
        related_name="declarations",
        verbose_name=_("worker"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    start_date = models.DateField(_("start"))
    end_date = models.DateField(_("end"))
    worker_type = models.CharField(_("worker type"), max_length=8)
    joint_committee = models.CharField(_("joint committee"), max_length=8)
    acknowledgement = models.CharField(_("acknowledgement number"), max_length=64)
    created_at = models.DateTimeField(_("declared at"), default=timezone.now)

    class Meta:
        verbose_name = _("Dimona declaration")
        verbose_name_plural = _("Dimona declarations")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["worker", "kind"], name="dimona_once_per_worker_kind")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.acknowledgement}"


class PayrollRun(models.Model):
    """Paying the contracts whose work ended in a period: payslips, ledger, SEPA file."""

    period_start = models.DateField(_("work ended from"))
    period_end = models.DateField(_("work ended until"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("run by"),
    )
    created_at = models.DateTimeField(_("run at"), default=timezone.now)
    payslip_count = models.PositiveIntegerField(_("payslips"), default=0)
    total_net = models.DecimalField(_("total net"), **MONEY, default=ZERO)
    total_employer_cost = models.DecimalField(_("total employer cost"), **MONEY, default=ZERO)
    sepa_file = models.FileField(_("SEPA file"), upload_to="payroll/%Y/", blank=True)
    sepa_message_id = models.CharField(_("SEPA message id"), max_length=35, blank=True)

    class Meta:
        verbose_name = _("payroll run")
        verbose_name_plural = _("payroll runs")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")), name="payroll_run_period"
            )
        ]

    def __str__(self) -> str:
        start = date_format(self.period_start, "SHORT_DATE_FORMAT")
        return f"{start} – {date_format(self.period_end, 'SHORT_DATE_FORMAT')}"


class Payslip(ChoiceLabels, DocumentBase):
    """What one worker is paid for one contract; corrections are adjustment payslips."""

    class Kind(models.TextChoices):
        REGULAR = "regular", _("Payslip")
        ADJUSTMENT = "adjustment", _("Adjustment")

    run = models.ForeignKey(
        PayrollRun,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payslips",
        verbose_name=_("payroll run"),
    )
    worker = models.ForeignKey(
        ContractWorker, on_delete=models.PROTECT, related_name="payslips", verbose_name=_("worker")
    )
    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="payslips", verbose_name=_("member")
    )
    activity = models.ForeignKey(
        Activity, on_delete=models.PROTECT, related_name="payslips", verbose_name=_("Activity")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.REGULAR)
    corrects = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="adjustments",
        verbose_name=_("corrects"),
    )
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    pay_date = models.DateField(_("pay date"))
    days = models.DecimalField(_("days"), max_digits=6, decimal_places=1)
    gross = models.DecimalField(_("gross"), **MONEY)
    personal_onss = models.DecimalField(_("personal social security"), **MONEY)
    work_bonus = models.DecimalField(_("work bonus"), **MONEY)
    taxable = models.DecimalField(_("taxable"), **MONEY)
    withholding_tax = models.DecimalField(_("withholding tax"), **MONEY)
    special_contribution = models.DecimalField(_("special social security contribution"), **MONEY)
    expenses = models.DecimalField(_("reimbursed expenses"), **MONEY, default=ZERO)
    # Part of ``gross``: paid with this payslip besides the days' wage.
    exit_holiday_pay = models.DecimalField(_("exit holiday pay"), **MONEY, default=ZERO)
    year_end_premium = models.DecimalField(_("end-of-year premium"), **MONEY, default=ZERO)
    net = models.DecimalField(_("net"), **MONEY)
    employer_cost = models.DecimalField(_("employer cost"), **MONEY)
    language = models.CharField(
        _("language"), max_length=2, choices=Language.choices, default=Language.FRENCH
    )
    snapshot = models.JSONField(_("content"), default=dict, editable=False)

    class Meta:
        verbose_name = _("payslip")
        verbose_name_plural = _("payslips")
        ordering = ["-pay_date", "-pk"]
        constraints = [
            # However often payroll runs, a worker is paid once per contract.
            models.UniqueConstraint(
                fields=["worker"], condition=Q(kind="regular"), name="payslip_once_per_worker"
            ),
            models.CheckConstraint(
                condition=~Q(kind="regular") | (Q(gross__gte=0) & Q(net__gte=0)),
                name="payslip_regular_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(kind="regular", corrects__isnull=True)
                | Q(kind="adjustment", corrects__isnull=False),
                name="payslip_adjustment_corrects",
            ),
        ]
        # The recovery sweep looks for the few payslips whose PDF is not ready.
        indexes = [
            models.Index(
                fields=["created_at"], condition=~Q(status="ready"), name="payslip_unready_idx"
            ),
            # A member's payslips, newest first.
            models.Index(fields=["member", "-pay_date", "-id"], name="payslip_member_newest_idx"),
            # The admin's payroll runs count the PDFs not ready yet, per run.
            models.Index(
                fields=["run", "status"],
                condition=~Q(status="ready"),
                name="payslip_admin_unready_run_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"P{self.pk:07d}" if self.pk else "P—"


class ExpenseClaim(ChoiceLabels, models.Model):
    """Receipts a member asks to be reimbursed from an Activity, on their next payslip."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Awaiting approval")
        APPROVED = "approved", _("Approved, to be reimbursed")
        REJECTED = "rejected", _("Rejected")
        REIMBURSED = "reimbursed", _("Reimbursed")

    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="expense_claims", verbose_name=_("member")
    )
    activity = models.ForeignKey(
        Activity,
        on_delete=models.PROTECT,
        related_name="expense_claims",
        verbose_name=_("Activity"),
    )
    description = models.CharField(_("description"), max_length=255)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.SUBMITTED
    )
    total = models.DecimalField(_("total incl. VAT"), **MONEY)
    total_vat = models.DecimalField(_("VAT"), **MONEY)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    reason = models.TextField(_("reason"), blank=True)
    payslip = models.ForeignKey(
        Payslip,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="expense_claims",
        verbose_name=_("reimbursed on payslip"),
    )

    class Meta:
        verbose_name = _("expense claim")
        verbose_name_plural = _("expense claims")
        ordering = ["-created_at", "-pk"]
        # A member's expense claims, newest first.
        indexes = [
            models.Index(fields=["member", "-created_at", "-id"], name="expense_member_newest_idx"),
            # Staff's list: the claims sent to them, newest first, without the drafts.
            models.Index(
                fields=["-id"], condition=~Q(status="draft"), name="expense_admin_sent_idx"
            ),
        ]
        constraints = [
            # A draft may still be empty; a sent claim holds receipts and says when it was sent.
            models.CheckConstraint(
                condition=Q(total__gt=0) | Q(status="draft"), name="expense_claim_positive"
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(submitted_at__isnull=False),
                name="expense_claim_submitted_at",
            ),
            models.CheckConstraint(
                condition=Q(total_vat__gte=0) & Q(total_vat__lte=models.F("total")),
                name="expense_claim_vat_range",
            ),
            models.CheckConstraint(
                condition=Q(status="reimbursed", payslip__isnull=False)
                | (~Q(status="reimbursed") & Q(payslip__isnull=True)),
                name="expense_claim_reimbursed_on_payslip",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.description} ({euro(self.total)})"


def receipt_path(instance, filename: str) -> str:
    return f"expenses/{instance.claim_id}/{filename}"


class ExpenseReceipt(ChoiceLabels, models.Model):
    """One receipt of a claim: the scan, what was bought, when, its category and its VAT."""

    class Category(models.TextChoices):
        TRAVEL = "travel", _("Travel and transport")
        ACCOMMODATION = "accommodation", _("Accommodation")
        MEALS = "meals", _("Meals")
        EQUIPMENT = "equipment", _("Equipment and tools")
        SUPPLIES = "supplies", _("Materials and supplies")
        COMMUNICATION = "communication", _("Phone and internet")
        DOCUMENTATION = "documentation", _("Books and documentation")
        OTHER = "other", _("Other")

    claim = models.ForeignKey(
        ExpenseClaim, on_delete=models.CASCADE, related_name="receipts", verbose_name=_("claim")
    )
    file = models.FileField(_("receipt"), upload_to=receipt_path)
    content_type = models.CharField(_("type"), max_length=40)
    size = models.PositiveIntegerField(_("size (bytes)"))
    description = models.CharField(_("what"), max_length=255)
    category = models.CharField(
        _("category"), max_length=16, choices=Category.choices, default=Category.OTHER
    )
    spent_on = models.DateField(_("date"))
    amount = models.DecimalField(_("amount incl. VAT"), **MONEY)
    vat = models.DecimalField(_("VAT"), **MONEY, default=ZERO)

    class Meta:
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        ordering = ["spent_on", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="receipt_amount_positive"),
            models.CheckConstraint(
                condition=Q(vat__gte=0) & Q(vat__lte=models.F("amount")), name="receipt_vat_range"
            ),
        ]

    def __str__(self) -> str:
        return self.description


class PaymentAtRisk(ContractWorker):
    """Workers whose pay would miss its date, as staff follow them: a separate admin list."""

    class Meta:
        proxy = True
        verbose_name = _("payment at risk")
        verbose_name_plural = _("payments at risk")


class AllowanceRate(DatedRow):
    """A dated figure of the mileage and per-diem allowances and of the cachet rule.

    ``country`` is blank except for the per-country table of per-diems abroad (ISO 3166 alpha-2).
    """

    class Key(models.TextChoices):
        MILEAGE_QUARTERLY = "mileage_quarterly", _("Mileage: quarterly-indexed rate per km")
        MILEAGE_YEARLY = "mileage_yearly", _("Mileage: yearly rate per km")
        MILEAGE_KM_MAX = "mileage_km_max", _("Mileage: kilometres a year within the lump sum")
        PER_DIEM_BELGIUM = "per_diem_belgium", _("Per-diem in Belgium, a day")
        PER_DIEM_BELGIUM_MONTH_MAX = (
            "per_diem_belgium_month_max",
            _("Per-diems in Belgium: tax-free maximum a month"),
        )
        PER_DIEM_BELGIUM_ONSS = (
            "per_diem_belgium_onss",
            _("Per-diem in Belgium: exempt from social security, a day"),
        )
        PER_DIEM_ABROAD = "per_diem_abroad", _("Per-diem abroad, a day")
        CACHET_REFERENCE = "cachet_reference", _("Cachet rule: reference daily amount")
        CACHET_QUARTER_MAX_DAYS = "cachet_quarter_max_days", _("Cachet rule: days a quarter")
        ARTIST_ALLOWANCE_DAYS = (
            "artist_allowance_days",
            _("Artist allowance: days of work needed in 24 months"),
        )

    key = models.CharField(_("parameter"), max_length=40, choices=Key.choices)
    country = models.CharField(
        _("country"),
        max_length=2,
        blank=True,
        help_text=_("Per-diems abroad only: the country's own rate; blank for the flat rate."),
    )
    value = models.DecimalField(_("value"), max_digits=12, decimal_places=4)

    class Meta:
        verbose_name = _("allowance rate")
        verbose_name_plural = _("allowance rates")
        ordering = ["key", "country", "-valid_from"]
        constraints = [
            _validity_exclusion("allowance_rate_no_overlap", "key", "country"),
            _valid_range("allowance_rate_valid_range"),
            models.CheckConstraint(condition=Q(value__gt=0), name="allowance_rate_positive"),
        ]

    def __str__(self) -> str:
        country = f" {self.country}" if self.country else ""
        return f"{self.get_key_display()}{country} = {_value_since(self)}"


class MileageSystem(models.Model):
    """The reference the cooperative applies to mileage for a calendar year: one a year."""

    class System(models.TextChoices):
        QUARTERLY = "quarterly", _("Quarterly-indexed rate")
        YEARLY = "yearly", _("Yearly rate (1 July to 30 June)")

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    system = models.CharField(_("system"), max_length=16, choices=System.choices)

    class Meta:
        verbose_name = _("mileage system of a year")
        verbose_name_plural = _("mileage systems by year")
        ordering = ["-year"]

    def __str__(self) -> str:
        return f"{self.year}: {self.get_system_display()}"


class Allowance(ChoiceLabels, models.Model):
    """A mileage or per-diem allowance claimed on an expense claim, its amount computed from
    the dated rates; the part beyond the tax-free limits is paid as taxable pay."""

    class Kind(models.TextChoices):
        MILEAGE = "mileage", _("Mileage")
        PER_DIEM_BELGIUM = "per_diem_belgium", _("Per-diem in Belgium")
        PER_DIEM_ABROAD = "per_diem_abroad", _("Per-diem abroad")

    claim = models.OneToOneField(
        ExpenseClaim,
        on_delete=models.CASCADE,
        related_name="allowance",
        verbose_name=_("expense claim"),
    )
    # Copied from the claim: the yearly and monthly limits sum a member's allowances by date.
    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="+", verbose_name=_("member")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    travelled_on = models.DateField(_("date"))
    kilometres = models.DecimalField(
        _("kilometres"), max_digits=8, decimal_places=1, null=True, blank=True
    )
    days = models.PositiveSmallIntegerField(_("days"), null=True, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True)
    rate = models.DecimalField(_("rate"), max_digits=12, decimal_places=4)
    amount = models.DecimalField(_("amount"), **MONEY)
    tax_free = models.DecimalField(_("tax-free amount"), **MONEY)
    taxable = models.DecimalField(_("taxable"), **MONEY)
    tax_free_kilometres = models.DecimalField(
        _("kilometres within the yearly limit"), max_digits=8, decimal_places=1, default=0
    )
    is_unverified = models.BooleanField(_("rate unverified"), default=False)
    source = models.CharField(_("source"), max_length=255)

    class Meta:
        verbose_name = _("allowance")
        verbose_name_plural = _("allowances")
        ordering = ["travelled_on", "pk"]
        indexes = [
            # The yearly kilometres and monthly per-diems of a member, summed by date.
            models.Index(fields=["member", "kind", "travelled_on"], name="allowance_member_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount=models.F("tax_free") + models.F("taxable"))
                & Q(tax_free__gte=0)
                & Q(taxable__gte=0),
                name="allowance_parts_add_up",
            ),
            models.CheckConstraint(
                condition=(Q(kind="mileage") & Q(kilometres__gt=0) & Q(days__isnull=True))
                | (~Q(kind="mileage") & Q(days__gt=0) & Q(kilometres__isnull=True)),
                name="allowance_quantity_of_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({euro(self.amount)})"


class C4Certificate(models.Model):
    """The unemployment certificate (C4) the employer issues at the end of an engagement.

    Its content is frozen when staff produce it; the PDF and the structured data are drawn
    from that snapshot, in the worker's language.
    """

    class EndReason(models.TextChoices):
        END_OF_TERM = "end_of_term", _("End of the fixed-term contract")
        END_OF_TASK = "end_of_task", _("End of the clearly defined work")
        MUTUAL_AGREEMENT = "mutual_agreement", _("Mutual agreement")
        DISMISSAL = "dismissal", _("Dismissal by the employer")
        RESIGNATION = "resignation", _("Resignation by the worker")

    worker = models.ForeignKey(
        ContractWorker,
        on_delete=models.PROTECT,
        related_name="c4_certificates",
        verbose_name=_("worker"),
    )
    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="c4_certificates", verbose_name=_("member")
    )
    end_reason = models.CharField(_("reason of the end"), max_length=20, choices=EndReason.choices)
    language = models.CharField(
        _("language"), max_length=2, choices=Language.choices, default=Language.FRENCH
    )
    snapshot = models.JSONField(_("content"), default=dict, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("produced by"),
    )
    created_at = models.DateTimeField(_("produced at"), default=timezone.now)

    class Meta:
        verbose_name = _("C4 certificate")
        verbose_name_plural = _("C4 certificates")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["member", "-created_at", "-id"], name="c4_member_newest_idx")
        ]
        constraints = [
            models.UniqueConstraint(fields=["worker"], name="c4_once_per_worker"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"C4-{self.pk:07d}" if self.pk else "C4-—"
