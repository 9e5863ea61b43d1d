"""Mileage and per-diem allowances: the amount from the dated rates, split at the tax-free limits.

A member claims kilometres or days (and the country, abroad); the amount is the quantity times
the rate in force on the day of travel (``AllowanceRate``, DOMAIN.md §9). What lies within the
limits is reimbursed tax-free on the payslip; the excess is paid as taxable pay, on which the
payslip computes social security and withholding tax like on any gross pay.

- Mileage: the federal reference per km, quarterly-indexed or yearly, one system per calendar
  year (``MileageSystem``); tax-free up to 24,000 km a member claims in a calendar year.
- Per-diems in Belgium: the tax lump sum a day (trips of 6 hours or more), tax-free up to the
  monthly maximum; from 2026 social security exempts less a day, so only the lower of the two
  daily amounts is kept free of both, the rest of the day's amount being taxable pay (the
  payslip cannot exempt an amount from one and not the other).
- Per-diems abroad: the country's row of the per-country table when staff entered one, the flat
  rate otherwise; tax-free.

The limits count a member's earlier allowances of the year (km) or month (per-diems Belgium)
that were not rejected, in the order claimed; claiming locks the member's row so two claims at
once cannot both use the same room under a limit.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from audit.services import record_event
from contracts.errors import ContractsError
from contracts.models import Allowance, AllowanceRate, ExpenseClaim, MileageSystem
from contracts.services.contracts import _check_activity
from coop import bounds
from coop.money import round_money
from invoicing.countries import country_name, is_country
from members.models import Activity, Member, User

ZERO = Decimal("0.00")
Key = AllowanceRate.Key
Kind = Allowance.Kind
MAX_KILOMETRES_A_CLAIM = Decimal("5000")
MAX_DAYS_A_CLAIM = 31


@dataclass(frozen=True)
class Rate:
    value: Decimal
    source: str
    is_unverified: bool


@dataclass(frozen=True)
class Split:
    """An allowance's amount, and its parts within and beyond the tax-free limits."""

    amount: Decimal
    tax_free: Decimal
    taxable: Decimal
    tax_free_kilometres: Decimal = Decimal("0")


def mileage_split(*, kilometres: Decimal, rate: Decimal, limit: Decimal, before: Decimal) -> Split:
    """Kilometres at the rate; those beyond the yearly limit (``before`` already claimed) are
    taxable."""
    within = max(Decimal("0"), min(kilometres, limit - before))
    amount = round_money(kilometres * rate)
    tax_free = round_money(within * rate)
    return Split(
        amount=amount, tax_free=tax_free, taxable=amount - tax_free, tax_free_kilometres=within
    )


def per_diem_belgium_split(
    *,
    days: int,
    rate: Decimal,
    onss_day: Decimal | None,
    month_max: Decimal,
    before: Decimal,
) -> Split:
    """Days at the rate; tax-free at most the daily amount both tax and social security accept,
    and at most what is left of the month's maximum (``before`` already used)."""
    amount = round_money(days * rate)
    free_day = rate if onss_day is None else min(rate, onss_day)
    room = max(ZERO, month_max - before)
    tax_free = min(round_money(days * free_day), room)
    return Split(amount=amount, tax_free=tax_free, taxable=amount - tax_free)


def per_diem_abroad_split(*, days: int, rate: Decimal) -> Split:
    amount = round_money(days * rate)
    return Split(amount=amount, tax_free=amount, taxable=ZERO)


def _valid_on(day: datetime.date) -> Q:
    return Q(valid_from__lte=day) & (Q(valid_to__isnull=True) | Q(valid_to__gte=day))


def rate_on(key: str, day: datetime.date, *, country: str = "") -> Rate | None:
    """The rate in force on ``day``, or None."""
    row = (
        AllowanceRate.objects.filter(_valid_on(day), key=key, country=country)
        .values_list("value", "source", "is_unverified")
        .first()
    )
    return None if row is None else Rate(*row)


def _required_rate(key: str, day: datetime.date, *, country: str = "") -> Rate:
    rate = rate_on(key, day, country=country)
    if rate is None:
        raise ContractsError(
            _("No rate for %(rate)s on %(date)s: staff must enter it first.")
            % {"rate": AllowanceRate.Key(key).label, "date": date_format(day, "SHORT_DATE_FORMAT")},
            code="allowance_rate_missing",
            field="travelled_on",
        )
    return rate


def mileage_rate(day: datetime.date) -> Rate:
    """The rate per km of the system chosen for the year of ``day``."""
    system = MileageSystem.objects.filter(year=day.year).values_list("system", flat=True).first()
    if system is None:
        raise ContractsError(
            _("No mileage system was chosen for %(year)d: staff must choose one first.")
            % {"year": day.year},
            code="mileage_system_missing",
            field="travelled_on",
        )
    key = Key.MILEAGE_YEARLY if system == MileageSystem.System.YEARLY else Key.MILEAGE_QUARTERLY
    return _required_rate(key, day)


def _counted(member: Member, kind: str):
    """The member's allowances of a kind that count towards a limit: not rejected."""
    return Allowance.objects.filter(member=member, kind=kind).exclude(
        claim__status=ExpenseClaim.Status.REJECTED
    )


def _quantity(value, *, label: str, field_name: str, maximum: Decimal) -> Decimal:
    if isinstance(value, float | bool):
        raise ContractsError(
            _("The %(label)s must be an exact decimal number.") % {"label": label},
            code="decimal",
            field=field_name,
        )
    try:
        quantity = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        quantity = None
    if quantity is None or not quantity.is_finite() or quantity <= 0 or quantity > maximum:
        raise ContractsError(
            _("Enter %(label)s between 0 and %(maximum)s.") % {"label": label, "maximum": maximum},
            code="quantity",
            field=field_name,
        )
    return quantity


@dataclass(frozen=True)
class AllowanceInput:
    kind: str
    travelled_on: datetime.date
    description: str
    kilometres: Decimal | None = None
    days: int | None = None
    country: str = ""


def _figures(member: Member, data: AllowanceInput) -> tuple[dict, Rate]:
    """The allowance's quantity, rate and split, counting the member's earlier allowances."""
    day = data.travelled_on
    if data.kind == Kind.MILEAGE:
        kilometres = _quantity(
            data.kilometres,
            label=_("kilometres"),
            field_name="kilometres",
            maximum=MAX_KILOMETRES_A_CLAIM,
        ).quantize(Decimal("0.1"))
        rate = mileage_rate(day)
        limit = _required_rate(Key.MILEAGE_KM_MAX, day).value
        before = _counted(member, Kind.MILEAGE).filter(travelled_on__year=day.year).aggregate(
            total=Sum("kilometres")
        )["total"] or Decimal("0")
        split = mileage_split(kilometres=kilometres, rate=rate.value, limit=limit, before=before)
        return {"kilometres": kilometres, "split": split}, rate
    days = int(
        _quantity(data.days, label=_("days"), field_name="days", maximum=Decimal(MAX_DAYS_A_CLAIM))
    )
    if days != data.days:
        raise ContractsError(_("Enter whole days."), code="quantity", field="days")
    if data.kind == Kind.PER_DIEM_BELGIUM:
        rate = _required_rate(Key.PER_DIEM_BELGIUM, day)
        month_max = _required_rate(Key.PER_DIEM_BELGIUM_MONTH_MAX, day).value
        onss = rate_on(Key.PER_DIEM_BELGIUM_ONSS, day)
        before = (
            _counted(member, Kind.PER_DIEM_BELGIUM)
            .filter(travelled_on__year=day.year, travelled_on__month=day.month)
            .aggregate(total=Sum("tax_free"))["total"]
            or ZERO
        )
        split = per_diem_belgium_split(
            days=days,
            rate=rate.value,
            onss_day=None if onss is None else onss.value,
            month_max=month_max,
            before=before,
        )
        return {"days": days, "split": split}, rate
    country = data.country.strip().upper()
    if not is_country(country) or country == "BE":
        raise ContractsError(
            _("Choose the country abroad you travelled to."), code="country", field="country"
        )
    rate = rate_on(Key.PER_DIEM_ABROAD, day, country=country) or _required_rate(
        Key.PER_DIEM_ABROAD, day
    )
    return {
        "days": days,
        "country": country,
        "split": per_diem_abroad_split(days=days, rate=rate.value),
    }, rate


@transaction.atomic
def claim_allowance(
    *,
    user: User,
    activity: Activity,
    allowance: AllowanceInput,
    today: datetime.date,
    now: datetime.datetime | None = None,
) -> ExpenseClaim:
    """Claim a mileage or per-diem allowance from one of the user's Activities and send it to
    staff; the amount and its tax-free part are computed from the rates of the day of travel."""
    activity = _check_activity(user, activity)
    member = Member.objects.select_for_update().filter(user=user).first()
    allowed = {activity.owner_id, *activity.co_members.values_list("pk", flat=True)}
    if member is None or member.pk not in allowed:
        raise ContractsError(
            _("Only the members of this Activity can claim expenses from it."),
            code="not_in_activity",
            field="activity",
        )
    if allowance.kind not in Kind.values:
        raise ContractsError(_("Choose a kind of allowance."), code="kind", field="kind")
    description = allowance.description.strip()
    if not description:
        raise ContractsError(
            _("Say what the trip was for."), code="description", field="description"
        )
    try:
        bounds.check_text_length(
            description, limit=bounds.SHORT_TEXT_MAX_LENGTH, label=_("Description")
        )
        bounds.check_receipt_date(allowance.travelled_on, today=today)
    except bounds.OutOfBounds as error:
        raise ContractsError(error.message, code="bounds", field="travelled_on") from None
    figures, rate = _figures(member, allowance)
    split: Split = figures.pop("split")
    now = now or timezone.now()
    claim = ExpenseClaim.objects.create(
        member=member,
        activity=activity,
        description=description,
        status=ExpenseClaim.Status.SUBMITTED,
        total=split.amount,
        total_vat=ZERO,
        created_at=now,
        submitted_at=now,
    )
    row = Allowance.objects.create(
        claim=claim,
        member=member,
        kind=allowance.kind,
        travelled_on=allowance.travelled_on,
        rate=rate.value,
        amount=split.amount,
        tax_free=split.tax_free,
        taxable=split.taxable,
        tax_free_kilometres=split.tax_free_kilometres,
        is_unverified=rate.is_unverified,
        source=rate.source[:255],
        **figures,
    )
    record_event(
        action="submitted",
        obj=claim,
        actor=user,
        changes={
            "allowance": [None, row.kind],
            "total": [None, split.amount],
            "taxable": [None, split.taxable],
        },
    )
    return claim


def allowances_of(claim_pks: list[int]) -> dict[int, Allowance]:
    """The allowances among these claims, by claim, in one query."""
    return {
        allowance.claim_id: allowance
        for allowance in Allowance.objects.filter(claim__in=claim_pks).order_by()
    }


def payslip_allowances(claims: list[ExpenseClaim], allowances: dict[int, Allowance]) -> dict:
    """What a payslip's snapshot says of the allowances it pays: each line and the parts."""
    lines = [allowances[claim.pk] for claim in claims if claim.pk in allowances]
    return {
        "tax_free": str(sum((line.tax_free for line in lines), ZERO)),
        "taxable": str(sum((line.taxable for line in lines), ZERO)),
        "lines": [
            {
                "kind": line.kind,
                "travelled_on": line.travelled_on.isoformat(),
                "kilometres": None if line.kilometres is None else str(line.kilometres),
                "days": line.days,
                "country": line.country,
                "rate": str(line.rate),
                "amount": str(line.amount),
                "tax_free": str(line.tax_free),
                "taxable": str(line.taxable),
                "is_unverified": line.is_unverified,
            }
            for line in lines
        ],
    }


def allowance_lines(snapshot: dict) -> dict | None:
    """The allowances of a payslip's snapshot, with Decimals and dates, for its PDF."""
    stored = snapshot.get("allowances")
    if not stored:
        return None
    lines = [
        {
            **line,
            "travelled_on": datetime.date.fromisoformat(line["travelled_on"]),
            "kilometres": None if line["kilometres"] is None else Decimal(line["kilometres"]),
            "rate": Decimal(line["rate"]).normalize(),
            "tax_free": Decimal(line["tax_free"]),
            "taxable": Decimal(line["taxable"]),
            "country_name": country_name(line["country"]) if line["country"] else "",
        }
        for line in stored["lines"]
    ]
    return {
        "lines": lines,
        "tax_free": Decimal(stored["tax_free"]),
        "taxable": Decimal(stored["taxable"]),
        "has_unverified": any(line["is_unverified"] for line in lines),
    }
