"""Copyright payments (droits d'auteur): the income-year parameters, the payments members
record for their artistic or literary work, each member's yearly totals and the statements."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coop.documents import DocumentBase
from coop.models import ChoiceLabels
from members.models import Activity, Language, Member

ZERO = Decimal("0.00")
MONEY = {"max_digits": 12, "decimal_places": 2}
RATE = {"max_digits": 7, "decimal_places": 6}


class CopyrightParameters(models.Model):
    """The copyright regime's figures for one income year, with their source.

    Lump-sum costs: ``first_bracket_rate`` of the yearly income up to ``first_bracket_limit``,
    ``second_bracket_rate`` of the part above it up to ``second_bracket_limit``, none above.
    Above ``ceiling`` the income is professional income, no longer copyright income.
    """

    income_year = models.PositiveSmallIntegerField(_("income year"), unique=True)
    ceiling = models.DecimalField(_("yearly ceiling"), **MONEY)
    first_bracket_limit = models.DecimalField(_("first bracket up to"), **MONEY)
    first_bracket_rate = models.DecimalField(_("first bracket lump-sum costs rate"), **RATE)
    second_bracket_limit = models.DecimalField(_("second bracket up to"), **MONEY)
    second_bracket_rate = models.DecimalField(_("second bracket lump-sum costs rate"), **RATE)
    withholding_rate = models.DecimalField(_("withholding tax rate"), **RATE)
    salary_share_cap = models.DecimalField(
        _("share of total pay beside a salary, at most"),
        **RATE,
        help_text=_("Copyright paid beside a salary for the same work: its share of the total."),
    )
    source = models.CharField(_("source"), max_length=255)
    is_unverified = models.BooleanField(
        _("unverified"),
        default=False,
        help_text=_("Not checked against an official text: shown as such to members."),
    )

    class Meta:
        verbose_name = _("copyright parameters of an income year")
        verbose_name_plural = _("copyright parameters")
        ordering = ["-income_year"]
        constraints = [
            models.CheckConstraint(
                condition=Q(first_bracket_limit__gt=0)
                & Q(second_bracket_limit__gt=models.F("first_bracket_limit"))
                & Q(ceiling__gte=models.F("second_bracket_limit")),
                name="copyright_year_brackets_ordered",
            ),
            models.CheckConstraint(
                condition=Q(first_bracket_rate__gte=0, first_bracket_rate__lte=1)
                & Q(second_bracket_rate__gte=0, second_bracket_rate__lte=1)
                & Q(withholding_rate__gte=0, withholding_rate__lte=1)
                & Q(salary_share_cap__gt=0, salary_share_cap__lt=1),
                name="copyright_year_rates_range",
            ),
        ]

    def __str__(self) -> str:
        return str(self.income_year)


class WorkKind(models.TextChoices):
    LITERARY = "literary", _("Literary work (text, translation, script)")
    VISUAL = "visual", _("Visual art (drawing, painting, illustration, photography)")
    MUSIC = "music", _("Music (composition, lyrics, arrangement)")
    AUDIOVISUAL = "audiovisual", _("Audiovisual work (film, video, animation)")
    STAGE = "stage", _("Stage work (choreography, staging, set or costume design)")
    PERFORMANCE = "performance", _("Performance (a performer's rights)")
    DESIGN = "design", _("Original design or architectural plans")
    SOFTWARE = "software", _("Software or computer program")
    DATABASE = "database", _("Database")


# Since 1 January 2023 (programme law of 26 December 2022) these are no longer copyright
# income: they are offered in the list so that the refusal can say why.
EXCLUDED_KINDS = frozenset({WorkKind.SOFTWARE, WorkKind.DATABASE})


class CopyrightMemberYear(models.Model):
    """A member's copyright income of one year, across all their Activities.

    Every payment that is not cancelled counts (awaiting approval, approved or paid), so that
    what is promised never exceeds the yearly ceiling. Services lock this row (one per member
    and year) before they read or change it: two payments recorded at once are counted one
    after the other.
    """

    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="copyright_years", verbose_name=_("member")
    )
    income_year = models.PositiveSmallIntegerField(_("income year"))
    gross = models.DecimalField(_("gross copyright income"), **MONEY, default=ZERO)
    payments = models.PositiveIntegerField(_("payments"), default=0)

    class Meta:
        verbose_name = _("member's copyright year")
        verbose_name_plural = _("members' copyright years")
        ordering = ["-income_year", "member"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "income_year"], name="copyright_member_year_unique"
            ),
            models.CheckConstraint(condition=Q(gross__gte=0), name="copyright_member_year_gross"),
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.income_year}"


class CopyrightPayment(ChoiceLabels, models.Model):
    """Part of a member's pay for an artistic or literary work, paid as copyright income."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Awaiting approval")
        APPROVED = "approved", _("Approved, to be paid")
        PAID = "paid", _("Paid")
        CANCELLED = "cancelled", _("Cancelled")

    member = models.ForeignKey(
        Member,
        on_delete=models.PROTECT,
        related_name="copyright_payments",
        verbose_name=_("beneficiary"),
    )
    activity = models.ForeignKey(
        Activity,
        on_delete=models.PROTECT,
        related_name="copyright_payments",
        verbose_name=_("Activity"),
    )
    contract = models.ForeignKey(
        "contracts.Contract",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="copyright_payments",
        verbose_name=_("contract"),
    )
    work_kind = models.CharField(_("kind of work"), max_length=16, choices=WorkKind.choices)
    work_title = models.CharField(_("title of the work"), max_length=200)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.SUBMITTED
    )
    income_year = models.PositiveSmallIntegerField(_("income year"))
    gross = models.DecimalField(_("gross copyright income"), **MONEY)
    salary_gross = models.DecimalField(
        _("salary paid beside it for this work"), **MONEY, default=ZERO
    )
    year_gross_before = models.DecimalField(_("income of the year before this payment"), **MONEY)
    first_bracket_costs = models.DecimalField(_("lump-sum costs, first bracket"), **MONEY)
    second_bracket_costs = models.DecimalField(_("lump-sum costs, second bracket"), **MONEY)
    lump_sum_costs = models.DecimalField(_("lump-sum costs"), **MONEY)
    taxable = models.DecimalField(_("taxable net income"), **MONEY)
    withholding = models.DecimalField(_("withholding tax on movable income"), **MONEY)
    net = models.DecimalField(_("amount paid"), **MONEY)
    is_unverified = models.BooleanField(_("computed with unverified figures"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    payroll_run = models.ForeignKey(
        "contracts.PayrollRun",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="copyright_payments",
        verbose_name=_("paid in payroll run"),
    )
    pay_date = models.DateField(_("pay date"), null=True, blank=True)

    class Meta:
        verbose_name = _("copyright payment")
        verbose_name_plural = _("copyright payments")
        ordering = ["-created_at", "-pk"]
        indexes = [
            # A member's copyright payments, newest first.
            models.Index(
                fields=["member", "-created_at", "-id"], name="copyright_member_newest_idx"
            ),
            # The yearly 281.45: the paid payments of a year, grouped by member.
            models.Index(
                fields=["income_year", "member"],
                condition=Q(status="paid"),
                name="copyright_paid_year_idx",
            ),
            # A payroll run looks for the few approved payments; staff's queue of the submitted.
            models.Index(
                fields=["status", "created_at"],
                condition=Q(status__in=["submitted", "approved"]),
                name="copyright_open_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(gross__gt=0), name="copyright_payment_positive"),
            models.CheckConstraint(
                condition=Q(salary_gross__gte=0), name="copyright_payment_salary_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(
                    lump_sum_costs=models.F("first_bracket_costs")
                    + models.F("second_bracket_costs"),
                    taxable=models.F("gross") - models.F("lump_sum_costs"),
                    net=models.F("gross") - models.F("withholding"),
                ),
                name="copyright_payment_figures_add_up",
            ),
            models.CheckConstraint(
                condition=~Q(work_kind__in=["software", "database"]),
                name="copyright_payment_qualifying_work",
            ),
            models.CheckConstraint(
                condition=Q(status="paid", pay_date__isnull=False)
                | (~Q(status="paid") & Q(pay_date__isnull=True)),
                name="copyright_payment_paid_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.work_title}"

    @property
    def reference(self) -> str:
        return f"DA{self.pk:07d}" if self.pk else "DA—"

    @property
    def total_pay(self) -> Decimal:
        return self.gross + self.salary_gross


class CopyrightStatement(DocumentBase):
    """The statement of a paid copyright payment (not a payslip), in the member's language."""

    payment = models.OneToOneField(
        CopyrightPayment,
        on_delete=models.PROTECT,
        related_name="statement",
        verbose_name=_("copyright payment"),
    )
    language = models.CharField(
        _("language"), max_length=2, choices=Language.choices, default=Language.FRENCH
    )
    snapshot = models.JSONField(_("content"), default=dict, editable=False)

    class Meta:
        verbose_name = _("copyright statement")
        verbose_name_plural = _("copyright statements")
        ordering = ["-created_at", "-pk"]
        # The recovery sweep looks for the few statements whose PDF is not ready.
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=~Q(status="ready"),
                name="copyright_unready_idx",
            )
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"DA{self.payment_id:07d}"
