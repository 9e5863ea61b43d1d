"""Copyright payments: record, approve, cancel, pay with the payroll, render the statement.

Every write that counts against a member's yearly ceiling first locks the member's row of
that year (``CopyrightMemberYear``): two payments recorded at once are counted one after the
other, so both cannot cross the ceiling.
"""

import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from audit.services import record_event
from contracts.models import Contract, PayrollRun
from contracts.sepa import Transfer
from coop.documents import lost_document_rows, render_document_row
from coop.money import round_money
from coop.templatetags.money import euro
from copyrights.computation import (
    Rates,
    compute_copyright,
    most_beside_salary,
    room_under_ceiling,
)
from copyrights.errors import CopyrightError
from copyrights.models import (
    EXCLUDED_KINDS,
    ZERO,
    CopyrightMemberYear,
    CopyrightParameters,
    CopyrightPayment,
    CopyrightStatement,
    WorkKind,
)
from members.models import Activity, LedgerEntryKind, LedgerStage, Member, User
from members.selectors import takes_part_in
from members.services import post_ledger_entry

Status = CopyrightPayment.Status
# A contract on which no copyright can be paid any more.
CLOSED_CONTRACTS = [Contract.Status.REJECTED, Contract.Status.CANCELLED]
# A failed render is retried by Celery with back-off; the sweep tries again this long after.
RETRY_AFTER = datetime.timedelta(minutes=10)
MAX_ATTEMPTS = 8


def percent(rate: Decimal) -> str:
    """A rate as a localised percentage number (0.30 → "30", 0.125 → "12.50")."""
    value = rate * 100
    return number_format(value, decimal_pos=0 if value == value.to_integral_value() else 2)


def percent_label(rate: Decimal) -> str:
    """A rate as people read it: 0.30 → "30%" (French: "30 %")."""
    return _("%(rate)s%%") % {"rate": percent(rate)}


def load_rates(income_year: int) -> tuple[Rates, bool]:
    """The figures of an income year and whether any is unverified; refuse when missing."""
    row = CopyrightParameters.objects.filter(income_year=income_year).first()
    if row is None:
        raise CopyrightError(
            _("The copyright figures for the income year %(year)s are not set yet.")
            % {"year": income_year},
            code="parameters_missing",
        )
    rates = Rates(
        ceiling=row.ceiling,
        first_bracket_limit=row.first_bracket_limit,
        first_bracket_rate=row.first_bracket_rate,
        second_bracket_limit=row.second_bracket_limit,
        second_bracket_rate=row.second_bracket_rate,
        withholding_rate=row.withholding_rate,
        salary_share_cap=row.salary_share_cap,
    )
    return rates, row.is_unverified


def lock_member_year(member: Member, income_year: int) -> CopyrightMemberYear:
    """Lock (creating it first if needed) the member's copyright row of the year.

    The row is inserted with ON CONFLICT DO NOTHING, so two first payments of a year racing
    both end up waiting on the same row instead of one failing on the unique constraint.
    """
    CopyrightMemberYear.objects.bulk_create(
        [CopyrightMemberYear(member=member, income_year=income_year)], ignore_conflicts=True
    )
    return CopyrightMemberYear.objects.select_for_update().get(
        member=member, income_year=income_year
    )


def _salary_beside(member: Member, contract: Contract | None, salary_gross: Decimal) -> Decimal:
    """The salary paid beside the copyright for this work: the member's days on the contract
    at their daily wage when a contract is given, else what was typed."""
    if contract is None:
        return salary_gross
    salary = ZERO
    for worker in contract.workers.filter(member=member).prefetch_related("days"):
        days = sum((Decimal(day.portion) for day in worker.days.all()), Decimal("0"))
        salary += round_money(days * worker.daily_wage)
    return salary


def _check_request(
    *,
    user: User,
    member: Member,
    activity: Activity,
    contract: Contract | None,
    work_kind: str,
    work_title: str,
    gross: Decimal,
    salary_gross: Decimal,
) -> None:
    if not user.is_staff:
        if member.user_id != user.pk:
            raise CopyrightError(
                _("You can only record copyright payments for yourself."), code="member"
            )
        if member.status != Member.Status.ACTIVE:
            raise CopyrightError(
                _("Your membership is not active: you cannot record a payment."), code="member"
            )
    # The Activity pays its own members: the beneficiary owns or shares it.
    if not Activity.objects.of_user(member.user).filter(pk=activity.pk).exists():
        raise CopyrightError(
            _("Choose one of the beneficiary's Activities."), code="activity", field="activity"
        )
    if work_kind not in WorkKind.values:
        raise CopyrightError(_("Choose the kind of work."), code="work_kind", field="work_kind")
    if work_kind in EXCLUDED_KINDS:
        raise CopyrightError(
            _(
                "Software and databases do not qualify for the copyright regime (programme law "
                "of 26 December 2022): pay this work as salary."
            ),
            code="work_kind_excluded",
            field="work_kind",
        )
    if not work_title.strip():
        raise CopyrightError(_("Name the work."), code="work_title", field="work_title")
    if gross <= 0:
        raise CopyrightError(_("The amount must be more than zero."), code="gross", field="gross")
    if salary_gross < 0:
        raise CopyrightError(
            _("The salary cannot be negative."), code="salary_gross", field="salary_gross"
        )
    if contract is not None:
        if contract.activity_id != activity.pk:
            raise CopyrightError(
                _("This contract is not on the chosen Activity."),
                code="contract",
                field="contract",
            )
        if contract.status in CLOSED_CONTRACTS:
            raise CopyrightError(
                _("This contract is cancelled or rejected."), code="contract", field="contract"
            )
        if not contract.is_artistic:
            raise CopyrightError(
                _("Copyright is paid only for artistic work: this contract is not artistic."),
                code="contract",
                field="contract",
            )


@transaction.atomic
def record_copyright_payment(
    *,
    user: User,
    member: Member,
    activity: Activity,
    work_kind: str,
    work_title: str,
    gross: Decimal,
    salary_gross: Decimal = ZERO,
    contract: Contract | None = None,
    today: datetime.date,
    now: datetime.datetime | None = None,
) -> CopyrightPayment:
    """Record a copyright payment for the member's work, to be approved by staff.

    Refused for software and databases, beyond the share of total pay allowed beside a salary,
    and beyond the member's yearly ceiling (across all their Activities): the excess is not
    turned into anything else, the message says how much may still be paid this year.
    """
    now = now or timezone.now()
    _check_request(
        user=user,
        member=member,
        activity=activity,
        contract=contract,
        work_kind=work_kind,
        work_title=work_title,
        gross=gross,
        salary_gross=salary_gross,
    )
    income_year = today.year
    rates, is_unverified = load_rates(income_year)
    salary = _salary_beside(member, contract, salary_gross)
    if salary > 0:
        most = most_beside_salary(salary_gross=salary, rates=rates)
        if gross > most:
            raise CopyrightError(
                _(
                    "Beside a salary of %(salary)s for this work, copyright may be at most "
                    "%(share)s of the total pay: %(most)s."
                )
                % {
                    "salary": euro(salary),
                    "share": percent_label(rates.salary_share_cap),
                    "most": euro(most),
                },
                code="salary_share",
                field="gross",
            )
    year = lock_member_year(member, income_year)
    room = room_under_ceiling(year_gross_before=year.gross, rates=rates)
    if gross > room:
        raise CopyrightError(
            _(
                "This payment would cross the yearly copyright ceiling of %(ceiling)s for "
                "%(year)s: at most %(room)s may still be paid as copyright this year."
            )
            % {"ceiling": euro(rates.ceiling), "year": income_year, "room": euro(room)},
            code="ceiling",
            field="gross",
        )
    figures = compute_copyright(gross=gross, year_gross_before=year.gross, rates=rates)
    payment = CopyrightPayment.objects.create(
        member=member,
        activity=activity,
        contract=contract,
        work_kind=work_kind,
        work_title=work_title.strip()[:200],
        income_year=income_year,
        salary_gross=salary,
        year_gross_before=year.gross,
        first_bracket_costs=figures.first_bracket_costs,
        second_bracket_costs=figures.second_bracket_costs,
        lump_sum_costs=figures.lump_sum_costs,
        taxable=figures.taxable,
        withholding=figures.withholding,
        gross=figures.gross,
        net=figures.net,
        is_unverified=is_unverified,
        created_by=user,
        created_at=now,
    )
    year.gross += gross
    year.payments += 1
    year.save(update_fields=["gross", "payments"])
    record_event(
        action="created",
        obj=payment,
        actor=user,
        changes={"gross": [None, str(gross)], "withholding": [None, str(figures.withholding)]},
    )
    return payment


def _lock_payment(payment: CopyrightPayment) -> CopyrightPayment:
    return (
        CopyrightPayment.objects.select_for_update()
        .select_related("activity", "member")
        .get(pk=payment.pk)
    )


@transaction.atomic
def approve_copyright_payment(
    *, staff_user: User, payment: CopyrightPayment, now: datetime.datetime | None = None
) -> CopyrightPayment:
    """Approve a payment: its gross is committed on the Activity, paid by the next payroll."""
    now = now or timezone.now()
    payment = _lock_payment(payment)
    if payment.status != Status.SUBMITTED:
        raise CopyrightError(_("Only a payment awaiting approval can be approved."), code="status")
    if (
        payment.created_by_id == staff_user.pk
        or payment.member.user_id == staff_user.pk
        or takes_part_in(staff_user, payment.activity)
    ):
        raise CopyrightError(
            _(
                "You take part in this payment (you recorded it, receive it or share its "
                "Activity): another staff member must approve it."
            ),
            code="own_payment",
        )
    payment.status = Status.APPROVED
    payment.decided_by, payment.decided_at = staff_user, now
    payment.save(update_fields=["status", "decided_by", "decided_at"])
    post_ledger_entry(
        activity=payment.activity,
        kind=LedgerEntryKind.COPYRIGHT_PAYMENT,
        stage=LedgerStage.PLANNED,
        amount=-payment.gross,
        reference=payment.reference,
        description=_("Copyright payment approved: %(work)s") % {"work": payment.work_title},
        author=staff_user,
        source=payment,
        now=now,
    )
    record_event(
        action="approved",
        obj=payment,
        actor=staff_user,
        changes={"status": [Status.SUBMITTED, Status.APPROVED]},
    )
    return payment


@transaction.atomic
def cancel_copyright_payment(
    *,
    user: User,
    payment: CopyrightPayment,
    reason: str,
    now: datetime.datetime | None = None,
) -> CopyrightPayment:
    """Cancel a payment not yet paid (the member: only while it awaits approval).

    The year's total gives back its gross, and the member's later unpaid payments of the year
    are computed again on the lower income that now comes before them.
    """
    now = now or timezone.now()
    if not reason.strip():
        raise CopyrightError(_("Give a reason."), code="reason", field="reason")
    # The year's row first, as recording does: the two lock in the same order.
    year = lock_member_year(payment.member, payment.income_year)
    payment = _lock_payment(payment)
    allowed = [Status.SUBMITTED, Status.APPROVED] if user.is_staff else [Status.SUBMITTED]
    if payment.member.user_id != user.pk and not user.is_staff:
        raise CopyrightError(_("This payment is not yours."), code="member")
    if payment.status not in allowed:
        raise CopyrightError(_("This payment can no longer be cancelled."), code="status")
    was = payment.status
    payment.status = Status.CANCELLED
    payment.reason = reason.strip()
    payment.decided_by, payment.decided_at = user, now
    payment.save(update_fields=["status", "reason", "decided_by", "decided_at"])
    if was == Status.APPROVED:
        post_ledger_entry(
            activity=payment.activity,
            kind=LedgerEntryKind.COPYRIGHT_PAYMENT,
            stage=LedgerStage.PLANNED,
            amount=payment.gross,
            reference=payment.reference,
            description=_("Copyright payment cancelled: commitment released"),
            author=user,
            source=payment,
            now=now,
        )
    year.gross -= payment.gross
    year.payments -= 1
    year.save(update_fields=["gross", "payments"])
    _recompute_unpaid(payment.member, payment.income_year)
    record_event(
        action="cancelled",
        obj=payment,
        actor=user,
        reason=payment.reason,
        changes={"status": [was, Status.CANCELLED]},
    )
    return payment


def _recompute_unpaid(member: Member, income_year: int) -> None:
    """Compute the member's unpaid payments of the year again, in the order recorded, on the
    income of the year that comes before each (the caller holds the year's row lock)."""
    rates, is_unverified = load_rates(income_year)
    before = ZERO
    payments = (
        CopyrightPayment.objects.select_for_update()
        .filter(member=member, income_year=income_year)
        .exclude(status=Status.CANCELLED)
        .order_by("created_at", "pk")
    )
    for payment in payments:
        if payment.status != Status.PAID and payment.year_gross_before != before:
            figures = compute_copyright(gross=payment.gross, year_gross_before=before, rates=rates)
            payment.year_gross_before = before
            payment.first_bracket_costs = figures.first_bracket_costs
            payment.second_bracket_costs = figures.second_bracket_costs
            payment.lump_sum_costs = figures.lump_sum_costs
            payment.taxable = figures.taxable
            payment.withholding = figures.withholding
            payment.net = figures.net
            payment.is_unverified = is_unverified
            payment.save()
        before += payment.gross


def _payable(pay_date: datetime.date) -> QuerySet[CopyrightPayment]:
    # Income belongs to the year it is paid in: a run pays only the payments of its year.
    return CopyrightPayment.objects.filter(status=Status.APPROVED, income_year=pay_date.year)


def copyright_payments_due(*, pay_date: datetime.date) -> bool:
    """Whether a payroll run paying on ``pay_date`` has copyright payments to pay."""
    return _payable(pay_date).exists()


def statement_snapshot(payment: CopyrightPayment, rates_source: str) -> dict:
    member = payment.member
    return {
        "payer": {
            "name": settings.COOP_SELLER["name"],
            "enterprise_number": settings.COOP_SELLER["enterprise_number"],
            "address": f"{settings.COOP_SELLER['street']}, {settings.COOP_SELLER['postal_code']} "
            f"{settings.COOP_SELLER['city']}",
        },
        "member": {
            "name": member.legal_name,
            "address": f"{member.street}, {member.postal_code} {member.city}",
            "niss": member.niss_masked,
            "iban": member.iban_display,
        },
        "activity": payment.activity.name,
        "contract": payment.contract.reference if payment.contract is not None else "",
        "work_kind": payment.work_kind,
        "work_title": payment.work_title,
        "income_year": payment.income_year,
        "pay_date": payment.pay_date.isoformat() if payment.pay_date else "",
        "figures": {
            name: str(getattr(payment, name))
            for name in [
                "gross",
                "salary_gross",
                "year_gross_before",
                "first_bracket_costs",
                "second_bracket_costs",
                "lump_sum_costs",
                "taxable",
                "withholding",
                "net",
            ]
        },
        "source": rates_source,
        "unverified": payment.is_unverified,
    }


def pay_copyright_payments(
    *, run: PayrollRun, pay_date: datetime.date, actor: User | None, now: datetime.datetime
) -> list[Transfer]:
    """Pay the approved copyright payments of the year within a payroll run (which holds the
    payroll lock): each Activity is debited the gross, the planned cost released, a statement
    queued; return the transfers of the amounts paid."""
    payments = list(
        _payable(pay_date)
        .select_for_update(of=("self",))
        .select_related("member", "activity", "contract")
        .order_by("created_at", "pk")
    )
    if not payments:
        return []
    sources = dict(
        CopyrightParameters.objects.filter(
            income_year__in={payment.income_year for payment in payments}
        ).values_list("income_year", "source")
    )
    transfers = []
    statements = []
    for payment in payments:
        payment.status = Status.PAID
        payment.pay_date = pay_date
        payment.payroll_run = run
        payment.save(update_fields=["status", "pay_date", "payroll_run"])
        description = _("Copyright: %(work)s") % {"work": payment.work_title}
        for stage, amount in [
            (LedgerStage.AVAILABLE, -payment.gross),
            (LedgerStage.PLANNED, payment.gross),
        ]:
            post_ledger_entry(
                activity=payment.activity,
                kind=LedgerEntryKind.COPYRIGHT_PAYMENT,
                stage=stage,
                amount=amount,
                reference=payment.reference,
                description=description,
                author=actor,
                source=payment,
                now=now,
            )
        statements.append(
            CopyrightStatement.objects.create(
                payment=payment,
                language=payment.member.preferred_language,
                snapshot=statement_snapshot(payment, sources.get(payment.income_year, "")),
                created_at=now,
            )
        )
        record_event(
            action="paid",
            obj=payment,
            actor=actor,
            changes={"status": [Status.APPROVED, Status.PAID], "net": [None, str(payment.net)]},
        )
        transfers.append(
            Transfer(
                name=payment.member.legal_name,
                iban=payment.member.iban,
                amount=payment.net,
                execution_date=pay_date,
                description=_("Copyright %(reference)s, %(work)s")
                % {"reference": payment.reference, "work": payment.work_title},
                end_to_end_id=payment.reference,
            )
        )
    _queue_rendering([statement.pk for statement in statements])
    return transfers


def _queue_rendering(statement_pks: list[int]) -> None:
    from copyrights.tasks import render_copyright_statement_task

    def enqueue() -> None:
        for pk in statement_pks:
            render_copyright_statement_task.delay(pk)

    transaction.on_commit(enqueue, robust=True)


def render_statement(
    *, statement: CopyrightStatement, now: datetime.datetime | None = None
) -> bool:
    """Render a pending statement's PDF in its language; return whether it was rendered.

    A statement already ready is left alone, so a redelivered task renders nothing twice.
    """
    from copyrights.pdf import render_statement_pdf

    return render_document_row(
        CopyrightStatement,
        statement.pk,
        render=render_statement_pdf,
        filename=lambda row: f"{row.reference}.pdf",
        now=now,
    )


def lost_statements(*, now: datetime.datetime) -> QuerySet[CopyrightStatement]:
    """Statements to render again: pending while their message was lost, or failed a while ago."""
    return lost_document_rows(
        CopyrightStatement.objects.all(),
        now=now,
        retry_after=RETRY_AFTER,
        max_attempts=MAX_ATTEMPTS,
    )
