"""Every write of the quotes app: drafting, sending, links, versions and the client's answer.

Each transition locks the quote's row, checks the quote may take it, writes a QuoteEvent and
an audit row, and leaves its side effects (rendering, e-mails) to after the commit. Lines go
through invoicing's own checks and calculation (``invoicing.services.drafts.clean_lines`` and
``invoicing.calculation.compute_totals``): a quote's VAT is an invoice's VAT.
"""

import base64
import binascii
import dataclasses
import datetime
import hashlib
import json
import secrets
import struct
import zlib
import zoneinfo
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.formats import date_format, time_format
from django.utils.translation import gettext as _

from audit.context import current_request
from audit.services import record_event
from coop import bounds
from coop.money import has_at_most_cents
from coop.templatetags.money import percent as format_percent
from invoicing import vat
from invoicing.calculation import compute_totals
from invoicing.errors import InvoicingError
from invoicing.models import Client
from invoicing.services.drafts import MAX_LINES, LineInput, clean_lines, line_input_of
from invoicing.services.issue import UNIT_CODES
from members.models import Activity, Member, User
from quotes.errors import QuotingError
from quotes.models import (
    Quote,
    QuoteDocument,
    QuoteEvent,
    QuoteLine,
    QuoteLink,
    QuoteVersion,
    number_order_of,
    series_for_year,
)
from quotes.schedule import check_deposit_and_schedule

HUNDRED = Decimal(100)
BRUSSELS = zoneinfo.ZoneInfo("Europe/Brussels")
MAX_VALIDITY_DAYS = 366
DEFAULT_VALIDITY_DAYS = 30
MAX_SCHEDULE_PARTS = 12
TITLE_MAX_LENGTH = 200
TEXT_MAX_LENGTH = 5000
NAME_MAX_LENGTH = 200
PO_MAX_LENGTH = 100
SIGNATURE_MAX_BYTES = 300_000
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TOKEN_BYTES = 32
# A "viewed" event per link at most this often.
VIEW_EVENT_EVERY = datetime.timedelta(hours=1)
EDITABLE_STATUSES = (Quote.Status.DRAFT,)
NEW_VERSION_FROM = (Quote.Status.SENT, Quote.Status.CHANGE_REQUESTED)
# An order grows (or shrinks) through a new version that the client accepts and staff confirm.
ORDER_NEW_VERSION_FROM = (
    Quote.Status.CONFIRMED,
    Quote.Status.DECLINED,
    Quote.Status.EXPIRED,
    Quote.Status.REFUSED,
)


def can_make_new_version(quote: Quote) -> bool:
    """A sent quote, one the client asked to change, or an order, takes a new version."""
    return quote.status in NEW_VERSION_FROM or (
        quote.ordered_version_id is not None and quote.status in ORDER_NEW_VERSION_FROM
    )


# Helpers


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def canonical_json(data) -> bytes:
    """The one byte form of the data whose SHA-256 a sent version keeps."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def data_sha256(data) -> str:
    return hashlib.sha256(canonical_json(data)).hexdigest()


def _request_origin() -> tuple[str | None, str]:
    """The IP address and browser of the request being served, if any."""
    request = current_request()
    if request is None:
        return None, ""
    address = (request.META.get("REMOTE_ADDR") or "").strip() or None
    return address, (request.META.get("HTTP_USER_AGENT") or "")[:500]


def _event(
    quote: Quote,
    kind: str,
    *,
    version: QuoteVersion | None = None,
    actor: User | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
    details: dict | None = None,
    now: datetime.datetime | None = None,
) -> QuoteEvent:
    if ip is None and user_agent is None:
        ip, user_agent = _request_origin()
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return QuoteEvent.objects.create(
        quote=quote,
        version=version,
        kind=kind,
        at=now or timezone.now(),
        ip=ip or None,
        user_agent=(user_agent or "")[:500],
        actor=actor,
        details=details or {},
    )


def _lock(quote: Quote) -> Quote:
    return (
        Quote.objects.select_for_update(of=("self",))
        .select_related("current_version", "client", "activity")
        .get(pk=quote.pk)
    )


def _touch(quote: Quote, now: datetime.datetime, *fields: str) -> None:
    quote.updated_at = now
    quote.save(update_fields=[*fields, "updated_at"])


def _check_activity(user: User, activity: Activity) -> None:
    from members.selectors import activities_visible_to

    owner_status = (
        activities_visible_to(user).filter(pk=activity.pk).values_list("owner__status", flat=True)
    ).first()
    if owner_status is None:
        raise QuotingError(_("Unknown Activity."), code="activity", field="activity")
    if owner_status != Member.Status.ACTIVE:
        raise QuotingError(
            _("Only the Activities of active members can send quotes."),
            code="member_not_active",
            field="activity",
        )


def _check_client(user: User, client: Client, quote: Quote | None) -> None:
    from invoicing.selectors import clients_visible_to

    if quote is not None and quote.client_id == client.pk:
        return
    if not clients_visible_to(user).filter(pk=client.pk).exists():
        raise QuotingError(_("Unknown client."), code="client", field="client")


def _percent(value, *, field: str, label: str) -> Decimal:
    if isinstance(value, float | bool):
        raise QuotingError(
            _("The %(label)s must be an exact decimal number.") % {"label": label},
            code="decimal",
            field=field,
        )
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        raise QuotingError(
            _("The %(label)s is not a number.") % {"label": label}, code="decimal", field=field
        ) from None
    if not number.is_finite() or not has_at_most_cents(number) or not 0 < number <= HUNDRED:
        raise QuotingError(
            _("The %(label)s is a percentage above 0 and at most 100, with two decimals at most.")
            % {"label": label},
            code="percent",
            field=field,
        )
    return number


# What the member may type for when a part falls due, in each language of the cooperative.
DUE_WORDS = {
    "order": (
        "order",
        "at order",
        "on order",
        "at the order",
        "when ordered",
        "when the order is confirmed",
        "à la confirmation de la commande",
        "a la confirmation de la commande",
        "bij bevestiging van de bestelling",
        "commande",
        "à la commande",
        "a la commande",
        "bestelling",
        "bij bestelling",
        "bij de bestelling",
    ),
    "delivery": (
        "delivery",
        "on delivery",
        "at delivery",
        "livraison",
        "à la livraison",
        "a la livraison",
        "levering",
        "bij levering",
        "bij de levering",
    ),
}
_DUE_OF_WORD = {word: due for due, words in DUE_WORDS.items() for word in words}
DATE_INPUTS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y")


def due_of(text: str) -> str | None:
    """When a schedule part falls due, read from what was typed ("à la commande", "bij
    levering", "on delivery", "2027-03-31", "31/03/2027"): "order", "delivery", an ISO date,
    or None when it means none of them."""
    words = " ".join(str(text or "").split()).casefold()
    if words in _DUE_OF_WORD:
        return _DUE_OF_WORD[words]
    for pattern in DATE_INPUTS:
        try:
            return datetime.datetime.strptime(words, pattern).date().isoformat()
        except ValueError:
            continue
    return None


def _schedule_error(position: int, label: str, problem: str) -> QuotingError:
    if label:
        message = _('Payment schedule, line %(position)d ("%(label)s"): %(problem)s') % {
            "position": position,
            "label": label[:40],
            "problem": problem,
        }
    else:
        message = _("Payment schedule, line %(position)d: %(problem)s") % {
            "position": position,
            "problem": problem,
        }
    return QuotingError(message, code="schedule", field="schedule")


def clean_schedule(schedule) -> list[dict]:
    """Check a payment schedule: parts with a label, a percentage (a comma or a dot before
    the decimals) and when they are due (at the order, on delivery, in French, Dutch or
    English, or a date), adding up to 100 %. Return it in its stored form."""
    if not schedule:
        return []
    if not isinstance(schedule, list) or len(schedule) > MAX_SCHEDULE_PARTS:
        raise QuotingError(
            _("A payment schedule is a list of at most %(count)d parts.")
            % {"count": MAX_SCHEDULE_PARTS},
            code="schedule",
            field="schedule",
        )
    cleaned = []
    total = Decimal(0)
    for position, part in enumerate(schedule, 1):
        if not isinstance(part, dict):
            raise _schedule_error(position, "", _("give a label, a percentage and when it is due."))
        label = str(part.get("label") or "").strip()
        if not label or len(label) > 100:
            raise _schedule_error(position, "", _("give it a label of at most 100 characters."))
        try:
            percent = _percent(part.get("percent", ""), field="schedule", label=_("percentage"))
        except QuotingError as error:
            raise _schedule_error(position, label, error.message) from None
        due = due_of(part.get("due") or "")
        if due is None:
            raise _schedule_error(
                position,
                label,
                _(
                    'say when it is due: "at order", "on delivery" or a date (31/12/2027 or '
                    "2027-12-31)."
                ),
            )
        total += percent
        cleaned.append({"label": label, "percent": f"{percent:.2f}", "due": due})
    if total != HUNDRED:
        raise QuotingError(
            _("The parts of the payment schedule add up to %(total)s, not 100 %%.")
            % {"total": format_percent(total)},
            code="schedule_total",
            field="schedule",
        )
    return cleaned


def _check_text(field: str, text: str, limit: int, label: str) -> str:
    text = (text or "").strip()
    try:
        bounds.check_text_length(text, limit=limit, label=label)
    except bounds.OutOfBounds as error:
        raise QuotingError(error.message, code=field, field=field) from None
    return text


# Drafting


@dataclasses.dataclass(frozen=True)
class QuoteTerms:
    """What a quote says besides its lines, as typed; checked by ``save_draft``."""

    title: str
    description: str = ""
    valid_until: datetime.date | None = None
    payment_terms_days: int | None = None
    deposit_percent: Decimal | None = None
    schedule: list | None = None
    work_start: datetime.date | None = None
    work_end: datetime.date | None = None


def _clean_terms(terms: QuoteTerms, *, client: Client, today: datetime.date) -> dict:
    title = _check_text("title", terms.title, TITLE_MAX_LENGTH, _("Title"))
    if not title:
        raise QuotingError(_("Give the quote a title."), code="title", field="title")
    description = _check_text("description", terms.description, TEXT_MAX_LENGTH, _("Description"))
    valid_until = terms.valid_until or today + datetime.timedelta(days=DEFAULT_VALIDITY_DAYS)
    if valid_until < today:
        raise QuotingError(
            _("The quote cannot be valid until a day in the past."),
            code="valid_until",
            field="valid_until",
        )
    if valid_until > today + datetime.timedelta(days=MAX_VALIDITY_DAYS):
        raise QuotingError(
            _("A quote is valid for a year at most."), code="valid_until", field="valid_until"
        )
    payment_terms_days = (
        client.payment_terms_days if terms.payment_terms_days is None else terms.payment_terms_days
    )
    if not 0 <= int(payment_terms_days) <= 120:
        raise QuotingError(
            _("Payment terms are between 0 and 120 days."),
            code="payment_terms_days",
            field="payment_terms_days",
        )
    deposit = terms.deposit_percent
    if deposit in ("", None):
        deposit = None
    else:
        deposit = _percent(deposit, field="deposit_percent", label=_("deposit"))
    if terms.work_start and terms.work_end and terms.work_end < terms.work_start:
        raise QuotingError(
            _("The work ends before it starts."), code="work_dates", field="work_end"
        )
    return {
        "title": title,
        "description": description,
        "valid_until": valid_until,
        "payment_terms_days": int(payment_terms_days),
        "deposit_percent": deposit,
        "schedule": clean_schedule(terms.schedule),
        "work_start": terms.work_start,
        "work_end": terms.work_end,
    }


def quote_wording(error: InvoicingError, lines: list[LineInput] = ()) -> str:
    """Invoicing's message for a line rule, worded for a quote where it speaks of an invoice."""
    if error.code == "empty":
        return _("Add at least one line to the quote.")
    if error.code == "too_many_lines":
        return _("A quote has at most %(count)d lines.") % {"count": MAX_LINES}
    if error.code == "buyer_vat_required":
        return _("Reverse charge and intra-EU quotes need the client's VAT number.")
    if error.code == "outside_scope_mixed":
        return _(
            "A quote outside the scope of Belgian VAT (O) has only such lines: quote the other "
            "lines separately."
        )
    if error.code == "unit_price":
        position = next(
            (
                number
                for number, line in enumerate(lines, 1)
                if str(line.unit_price).strip().startswith("-")
            ),
            None,
        )
        if position is not None:
            return _("Line %(position)d: the unit price cannot be negative.") % {
                "position": position
            }
    return error.message


def check_lines(lines: list[LineInput], client: Client) -> list:
    """Check the lines with invoicing's rules (one code path with invoices), worded for a
    quote; return them ready for computing."""
    try:
        return clean_lines(lines, client=client)
    except InvoicingError as error:
        raise QuotingError(
            quote_wording(error, lines), code=error.code, field=error.field
        ) from None


def place_of_supply_refusal(client: Client, lines) -> str:
    """Why a quote cannot be sent with these lines' VAT (``(category, supply kind)`` pairs):
    invoicing's place-of-supply rule, or ""."""
    return vat.place_of_supply_refusal(vat.customer_of(client), lines)


def _check_before_sending(quote: Quote, version: QuoteVersion) -> None:
    """Check the stored lines again against the client as it is now (an invoice's checks),
    and refuse Belgian VAT where the place of supply is abroad."""
    stored = list(version.lines.all())
    if not stored:
        raise QuotingError(_("Add at least one line to the quote."), code="empty")
    check_lines([line_input_of(line) for line in stored], quote.client)
    refusal = place_of_supply_refusal(
        quote.client, [(line.vat_category, line.supply_kind) for line in stored]
    )
    if refusal:
        raise QuotingError(refusal, code="place_of_supply", field="lines")


def _write_lines(version: QuoteVersion, lines: list[LineInput], client: Client) -> None:
    """Check the lines with invoicing's rules, store them and the version's totals."""
    cleaned = check_lines(lines, client)
    for line in lines:
        _check_text("lines", line.description, bounds.LINE_DESCRIPTION_MAX_LENGTH, _("Description"))
    totals = compute_totals(cleaned)
    version.total_excl_vat = totals.tax_exclusive
    version.total_vat = totals.vat
    version.total_incl_vat = totals.tax_inclusive
    version.lines.all().delete()
    QuoteLine.objects.bulk_create(
        QuoteLine(
            version=version,
            position=position,
            description=given.description.strip(),
            quantity=line.quantity,
            unit_code=given.unit,
            unit_price=line.unit_price,
            vat_category=line.vat_category,
            vat_rate=line.vat_rate,
            supply_kind=given.supply_kind,
            exemption_reason=line.exemption_reason,
            exemption_code=line.exemption_code,
            allowance_percent=line.allowance_percent,
            allowance_amount=line.allowance_amount,
            allowance_reason=line.allowance_reason,
            line_total=line.net_amount,
        )
        for position, (given, line) in enumerate(zip(lines, cleaned, strict=True), 1)
    )


@transaction.atomic
def save_draft(
    *,
    user: User,
    activity: Activity,
    client: Client,
    lines: list[LineInput],
    terms: QuoteTerms,
    today: datetime.date,
    quote: Quote | None = None,
    now: datetime.datetime | None = None,
) -> Quote:
    """Create a draft quote, or replace the content of a quote's draft version."""
    _check_activity(user, activity)
    _check_client(user, client, quote)
    now = now or timezone.now()
    if quote is not None:
        quote = _lock(quote)
        version = quote.current_version
        if quote.status not in EDITABLE_STATUSES or version is None or version.is_sent:
            raise QuotingError(
                _("This quote was sent: make a new version to change it."), code="not_editable"
            )
        if quote.sequence_number is not None and (
            quote.activity_id != activity.pk or quote.client_id != client.pk
        ):
            raise QuotingError(
                _("A quote already sent keeps its Activity and client."),
                code="not_editable",
                field="client",
            )
    fields = _clean_terms(terms, client=client, today=today)
    check_deposit_and_schedule(fields["deposit_percent"], fields["schedule"])
    if quote is None:
        quote = Quote.objects.create(
            activity=activity,
            client=client,
            created_by=user,
            language=client.language,
            created_at=now,
            updated_at=now,
        )
        version = QuoteVersion.objects.create(quote=quote, version=1, created_at=now, **fields)
        quote.current_version = version
        quote.save(update_fields=["current_version"])
        _event(quote, QuoteEvent.Kind.CREATED, version=version, actor=user, now=now)
        record_event(action="created", obj=quote, actor=user)
    else:
        for name, value in fields.items():
            setattr(version, name, value)
        quote.activity = activity
        quote.client = client
        quote.language = client.language
        _touch(quote, now, "activity", "client", "language")
        record_event(action="changed", obj=quote, actor=user)
    _write_lines(version, lines, client)
    version.save()
    return quote


@transaction.atomic
def delete_draft(*, user: User, quote: Quote) -> None:
    """Delete a quote never sent; a sent quote stays on record."""
    quote = _lock(quote)
    if quote.status != Quote.Status.DRAFT or quote.sequence_number is not None:
        raise QuotingError(_("Only a quote never sent can be deleted."), code="not_editable")
    record_event(action="deleted", obj=quote, actor=user)
    Quote.objects.filter(pk=quote.pk).update(current_version=None)
    QuoteLine.objects.filter(version__quote=quote).delete()
    QuoteEvent.objects.filter(quote=quote).delete()
    QuoteVersion.objects.filter(quote=quote).delete()
    Quote.objects.filter(pk=quote.pk).delete()


# Sending


def _take_number(*, series: str) -> int:
    """Take the next number of a quote series; the row lock makes concurrent senders queue up
    (one UPDATE ... RETURNING locks the row and counts on), so no number is lost or repeated."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE quotes_quotesequence SET last_number = last_number + 1"
            " WHERE series = %s RETURNING last_number",
            [series],
        )
        row = cursor.fetchone()
    if row is not None:
        return row[0]
    # The series' first number: create its row (or find the one created meanwhile).
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO quotes_quotesequence (series, last_number) VALUES (%s, 0)"
            " ON CONFLICT (series) DO NOTHING",
            [series],
        )
    return _take_number(series=series)


def _money(value) -> str:
    return f"{value:.2f}"


def build_snapshot(quote: Quote, version: QuoteVersion, *, sent_on: datetime.date) -> dict:
    """Freeze what the version says: seller, buyer, terms, lines, VAT breakdown and totals.

    The legal mentions of exempt lines are those of the client's country, in the quote's
    language, as on an invoice.
    """
    client = quote.client
    seller = dict(settings.COOP_SELLER)
    seller["register"] = settings.COOP_SELLER_REGISTER.get(quote.language, seller["register"])
    lines = list(version.lines.all())
    exemptions = [
        vat.exemption(
            line.vat_category,
            reason=line.exemption_reason,
            code=line.exemption_code,
            buyer_country=client.country,
            language=quote.language,
        )
        for line in lines
    ]
    computed = [
        dataclasses.replace(line.as_line(), exemption_reason=reason, exemption_code=code)
        for line, (reason, code) in zip(lines, exemptions, strict=True)
    ]
    totals = compute_totals(computed)
    activity = quote.activity
    return {
        "document_type": "quote",
        "number": quote.number,
        "version": version.version,
        "issue_date": sent_on.isoformat(),
        "valid_until": version.valid_until.isoformat(),
        "language": quote.language,
        "currency": "EUR",
        "title": version.title,
        "description": version.description,
        "payment_terms_days": version.payment_terms_days,
        "deposit_percent": ""
        if version.deposit_percent is None
        else _money(version.deposit_percent),
        "schedule": version.schedule or [],
        "work_start": version.work_start.isoformat() if version.work_start else "",
        "work_end": version.work_end.isoformat() if version.work_end else "",
        "seller": seller,
        "buyer": {
            "name": client.name,
            "street": client.street,
            "postal_code": client.postal_code,
            "city": client.city,
            "country": client.country,
            "vat_number": client.vat_number,
            "enterprise_number": client.enterprise_number,
            "email": client.email,
            "is_business": client.is_business,
        },
        "lines": [
            {
                "position": line.position,
                "description": line.description,
                "quantity": _money(line.quantity),
                "unit": UNIT_CODES[line.unit_code],
                "unit_price": _money(line.unit_price),
                "net_amount": _money(item.net_amount),
                "supply_kind": line.supply_kind,
                "vat_category": line.vat_category,
                "vat_rate": _money(line.vat_rate),
                "exemption_reason": item.exemption_reason,
                "gross_amount": _money(item.gross_amount),
                "allowance_amount": _money(item.allowance_amount),
                "allowance_percent": ""
                if line.allowance_percent is None
                else _money(line.allowance_percent),
                "allowance_reason": line.allowance_reason,
            }
            for line, item in zip(lines, computed, strict=True)
        ],
        "vat_breakdown": [
            {
                "category": group.category,
                "rate": _money(group.rate),
                "taxable_amount": _money(group.taxable_amount),
                "vat_amount": _money(group.vat_amount),
                "exemption_reason": group.exemption_reason,
                "exemption_code": group.exemption_code,
            }
            for group in totals.vat_breakdown
        ],
        "totals": {
            "tax_exclusive": _money(totals.tax_exclusive),
            "vat": _money(totals.vat),
            "tax_inclusive": _money(totals.tax_inclusive),
        },
        "activity_name": activity.name,
        "member_name": activity.owner.legal_name,
    }


def link_expiry(version: QuoteVersion, *, now: datetime.datetime) -> datetime.datetime:
    """When a new link to the version stops working: the end of its last valid day (in the
    cooperative's time zone), or ``QUOTE_LINK_DAYS`` after now when that is set."""
    days = getattr(settings, "QUOTE_LINK_DAYS", None)
    if days:
        return now + datetime.timedelta(days=int(days))
    last_day = datetime.datetime.combine(
        version.valid_until + datetime.timedelta(days=1), datetime.time.min
    )
    return timezone.make_aware(last_day)


def _new_link(
    version: QuoteVersion, *, user: User, recipient: str, now: datetime.datetime
) -> tuple[QuoteLink, str]:
    """A link with a fresh unguessable token; only its SHA-256 is stored."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link = QuoteLink.objects.create(
        version=version,
        token_hash=token_hash(token),
        recipient=recipient,
        created_at=now,
        expires_at=link_expiry(version, now=now),
        created_by=user,
    )
    return link, token


def _revoke_links(quote: Quote, *, now: datetime.datetime) -> int:
    return QuoteLink.objects.filter(version__quote=quote, revoked_at__isnull=True).update(
        revoked_at=now
    )


def _queue_email(link: QuoteLink, token: str) -> None:
    from quotes.tasks import send_quote_email_task

    transaction.on_commit(lambda: send_quote_email_task.delay(link.pk, token), robust=True)


@transaction.atomic
def send_quote(
    *, user: User, quote: Quote, now: datetime.datetime | None = None, email: bool = True
) -> tuple[Quote, str]:
    """Send the draft version: number the quote (the first time), freeze the version with the
    hash of its data, queue its PDF, and e-mail the client a link; return the quote and the
    link's token (kept nowhere else). ``email=False`` (the demo's fictitious clients) sends
    no e-mail."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    quote = _lock(quote)
    version = quote.current_version
    if quote.status != Quote.Status.DRAFT or version is None or version.is_sent:
        raise QuotingError(_("This quote was already sent."), code="already_sent")
    _check_activity(user, quote.activity)
    if version.valid_until < today:
        raise QuotingError(
            _("The quote's validity date has passed: change it before sending."),
            code="valid_until",
            field="valid_until",
        )
    _check_before_sending(quote, version)
    check_deposit_and_schedule(version.deposit_percent, version.schedule)
    if quote.sequence_number is None:
        quote.series = series_for_year(today.year)
        quote.sequence_number = _take_number(series=quote.series)
        quote.number_order = number_order_of(quote.series, quote.sequence_number)
    snapshot = build_snapshot(quote, version, sent_on=today)
    version.snapshot = snapshot
    version.data_sha256 = data_sha256(snapshot)
    version.sent_at = now
    version.save(update_fields=["snapshot", "data_sha256", "sent_at"])
    quote.status = Quote.Status.SENT
    quote.sent_at = quote.sent_at or now
    _touch(quote, now, "series", "sequence_number", "number_order", "status", "sent_at")
    document = QuoteDocument.objects.create(version=version, created_at=now)
    link, token = _new_link(version, user=user, recipient=quote.client.email, now=now)
    _event(
        quote,
        QuoteEvent.Kind.SENT,
        version=version,
        actor=user,
        now=now,
        details={
            "number": quote.number,
            "version": version.version,
            "recipient": link.recipient,
            "data_sha256": version.data_sha256,
        },
    )
    record_event(action="sent", obj=quote, actor=user, reason=link.recipient)
    _queue_render(document)
    if email:
        _queue_email(link, token)
    return quote, token


def _queue_render(document: QuoteDocument) -> None:
    from quotes.tasks import render_quote_document_task

    transaction.on_commit(lambda: render_quote_document_task.delay(document.pk), robust=True)


@transaction.atomic
def resend_quote(
    *, user: User, quote: Quote, now: datetime.datetime | None = None
) -> tuple[Quote, str]:
    """E-mail the client a new link to the sent version; earlier links stop working."""
    now = now or timezone.now()
    quote = _lock(quote)
    version = quote.current_version
    if quote.status != Quote.Status.SENT or version is None or not version.is_sent:
        raise QuotingError(
            _("Only a quote waiting for the client's answer can be sent again."),
            code="not_sent",
        )
    if version.valid_until < timezone.localdate(now):
        raise QuotingError(
            _("The quote's validity date has passed: make a new version."), code="valid_until"
        )
    _revoke_links(quote, now=now)
    link, token = _new_link(version, user=user, recipient=quote.client.email, now=now)
    _event(
        quote,
        QuoteEvent.Kind.SENT,
        version=version,
        actor=user,
        now=now,
        details={"version": version.version, "recipient": link.recipient, "again": True},
    )
    record_event(action="resent", obj=quote, actor=user, reason=link.recipient)
    _queue_email(link, token)
    return quote, token


@transaction.atomic
def revoke_link(*, user: User, quote: Quote, now: datetime.datetime | None = None) -> int:
    """Make every link to the quote stop working; return how many were live."""
    now = now or timezone.now()
    quote = _lock(quote)
    count = _revoke_links(quote, now=now)
    if not count:
        raise QuotingError(_("This quote has no working link."), code="no_link")
    _event(
        quote,
        QuoteEvent.Kind.LINK_REVOKED,
        version=quote.current_version,
        actor=user,
        now=now,
        details={"links": count},
    )
    record_event(action="link_revoked", obj=quote, actor=user)
    _touch(quote, now)
    return count


@transaction.atomic
def new_version(*, user: User, quote: Quote, now: datetime.datetime | None = None) -> Quote:
    """Start a new draft version from the current one (its lines copied). Until the new
    version is sent, the client may still answer the sent one through its link."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    quote = _lock(quote)
    old = quote.current_version
    if not can_make_new_version(quote) or old is None or not old.is_sent:
        raise QuotingError(
            _("A new version is made of a sent quote, or one the client asked to change."),
            code="no_new_version",
        )
    version = QuoteVersion.objects.create(
        quote=quote,
        version=old.version + 1,
        title=old.title,
        description=old.description,
        valid_until=max(old.valid_until, today + datetime.timedelta(days=DEFAULT_VALIDITY_DAYS)),
        payment_terms_days=old.payment_terms_days,
        deposit_percent=old.deposit_percent,
        schedule=old.schedule,
        work_start=old.work_start,
        work_end=old.work_end,
        total_excl_vat=old.total_excl_vat,
        total_vat=old.total_vat,
        total_incl_vat=old.total_incl_vat,
        created_at=now,
    )
    QuoteLine.objects.bulk_create(
        QuoteLine(
            version=version,
            **{
                field.name: getattr(line, field.name)
                for field in QuoteLine._meta.concrete_fields
                if field.name not in ("id", "version")
            },
        )
        for line in old.lines.all()
    )
    quote.current_version = version
    quote.status = Quote.Status.DRAFT
    _touch(quote, now, "current_version", "status")
    # The event names the sent version it starts from: the draft may yet be discarded, if the
    # client accepts the sent version before the new one is sent (see ``accept_quote``).
    _event(
        quote,
        QuoteEvent.Kind.NEW_VERSION,
        version=old,
        actor=user,
        now=now,
        details={"version": version.version, "replaces": old.version},
    )
    record_event(action="new_version", obj=quote, actor=user, reason=f"v{version.version}")
    return quote


# The client's answer on the public page


class LinkState:
    UNKNOWN = "unknown"
    REVOKED = "revoked"
    EXPIRED = "expired"
    REPLACED = "replaced"
    OPEN = "open"


def find_link(token: str) -> QuoteLink | None:
    """The link of a token, with its version and quote; None for a token never given."""
    if not token or len(token) > 100:
        return None
    return (
        QuoteLink.objects.select_related(
            "version__quote__client", "version__quote__activity__owner"
        )
        .filter(token_hash=token_hash(token))
        .first()
    )


def link_state(link: QuoteLink | None, *, now: datetime.datetime) -> str:
    """What a link opens: its version until a newer version is sent to the client."""
    if link is None:
        return LinkState.UNKNOWN
    if link.revoked_at is not None:
        return LinkState.REVOKED
    quote = link.version.quote
    if quote.current_version_id != link.version_id and _sent_after(link.version):
        return LinkState.REPLACED
    if link.expires_at <= now or quote.status == Quote.Status.EXPIRED:
        return LinkState.EXPIRED
    return LinkState.OPEN


def _sent_after(version: QuoteVersion) -> bool:
    """Tell whether a newer version of the quote was sent to the client."""
    return QuoteVersion.objects.filter(
        quote_id=version.quote_id, version__gt=version.version, sent_at__isnull=False
    ).exists()


def answer_of(version: QuoteVersion) -> str:
    """The client's answer to a version, as a quote status ("" while none)."""
    if version.accepted_at is not None:
        return Quote.Status.ACCEPTED
    if version.declined_at is not None:
        return Quote.Status.DECLINED
    if version.change_requested_at is not None:
        return Quote.Status.CHANGE_REQUESTED
    return ""


def public_status(quote: Quote, version: QuoteVersion) -> str:
    """The status the client sees of the version a link opens: a newer version the member
    drafts is not theirs to see."""
    if answer := answer_of(version):
        if answer == Quote.Status.ACCEPTED and quote.current_version_id == version.pk:
            return quote.status
        return answer
    if quote.current_version_id != version.pk:
        return Quote.Status.SENT
    return quote.status


def link_expiry_wording(expires_at: datetime.datetime) -> str:
    """When a link stops working, in the cooperative's time (Brussels) and the current
    language: its last minute, so that a link ending at midnight names the day it works."""
    last = timezone.localtime(expires_at - datetime.timedelta(minutes=1), BRUSSELS)
    return _("%(date)s at %(time)s, Brussels time") % {
        "date": date_format(last.date(), "DATE_FORMAT"),
        "time": time_format(last.time(), "TIME_FORMAT"),
    }


def awaits_answer(quote: Quote, version: QuoteVersion, *, today: datetime.date) -> bool:
    """Tell whether the client may still answer this version: the sent version in force,
    also while the member drafts a newer one not yet sent, until its validity date."""
    if not version.is_sent or answer_of(version) or version.valid_until < today:
        return False
    if quote.current_version_id == version.pk:
        return quote.status == Quote.Status.SENT
    return quote.status == Quote.Status.DRAFT and not _sent_after(version)


def record_view(*, link: QuoteLink, ip: str | None, user_agent: str, now=None) -> None:
    """Note that the client opened the page (at most once an hour per link)."""
    now = now or timezone.now()
    version = link.version
    recent = QuoteEvent.objects.filter(
        quote_id=version.quote_id,
        kind=QuoteEvent.Kind.VIEWED,
        at__gte=now - VIEW_EVENT_EVERY,
        version=version,
    ).exists()
    if not recent:
        _event(
            version.quote,
            QuoteEvent.Kind.VIEWED,
            version=version,
            ip=ip,
            user_agent=user_agent,
            now=now,
            details={"link": link.pk},
        )


def _answerable(link: QuoteLink, *, now: datetime.datetime) -> tuple[Quote, QuoteVersion]:
    """Lock the link's quote and check the client may still answer through it."""
    quote = _lock(link.version.quote)
    link = QuoteLink.objects.get(pk=link.pk)
    link.version.quote = quote
    state = link_state(link, now=now)
    if state == LinkState.REVOKED:
        raise QuotingError(_("This link was withdrawn by the sender."), code="revoked")
    if state == LinkState.REPLACED:
        raise QuotingError(
            _(
                "A newer version of this quote was sent to you and replaces this one: answer "
                "the newer version, through the link of its e-mail."
            ),
            code="replaced",
        )
    if state == LinkState.EXPIRED:
        raise QuotingError(_("This quote has expired."), code="expired")
    version = quote.current_version if quote.current_version_id == link.version_id else link.version
    if version.valid_until < timezone.localdate(now):
        raise QuotingError(_("This quote has expired."), code="expired")
    if not awaits_answer(quote, version, today=timezone.localdate(now)):
        answer = answer_of(version) or quote.status
        raise QuotingError(
            _("This quote was already answered: %(status)s.")
            % {"status": Quote.Status(answer).label},
            code="answered",
        )
    return quote, version


def _answered_before_new_version(quote: Quote, version: QuoteVersion) -> bool:
    """Tell whether the client answers a sent version while a newer one is still a draft."""
    return quote.current_version_id != version.pk


def _notify_member(quote: Quote, event: QuoteEvent) -> None:
    from quotes.tasks import notify_member_task

    transaction.on_commit(lambda: notify_member_task.delay(event.pk), robust=True)


SIGNATURE_MAX_SIDE = 4000


def _signature_refused() -> QuotingError:
    return QuotingError(
        _(
            "Your drawn signature could not be read, so the quote was not accepted: clear it "
            "and draw it again, or accept without a signature."
        ),
        code="signature",
        field="signature",
    )


def _is_whole_png(data: bytes) -> bool:
    """Tell whether the bytes are a complete PNG: its chunks whole with their checksums, a
    header of sensible size, image data that decompresses, and its end marker last."""
    if not data.startswith(PNG_MAGIC):
        return False
    position, kinds, compressed = len(PNG_MAGIC), [], b""
    while position + 12 <= len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        crc = data[position + 8 + length : position + 12 + length]
        if len(body) != length or len(crc) != 4:
            return False
        if struct.unpack(">I", crc)[0] != zlib.crc32(kind + body):
            return False
        if not kinds and (kind != b"IHDR" or length != 13):
            return False
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
            if not (0 < width <= SIGNATURE_MAX_SIDE and 0 < height <= SIGNATURE_MAX_SIDE):
                return False
        if kind == b"IDAT":
            compressed += body
        kinds.append(kind)
        position += 12 + length
        if kind == b"IEND":
            break
    if not kinds or kinds[-1] != b"IEND" or position != len(data) or not compressed:
        return False
    try:
        zlib.decompress(compressed)
    except zlib.error:
        return False
    return True


def clean_signature(signature) -> bytes | None:
    """A drawn signature: the bytes of a whole PNG of reasonable size, or nothing. Anything
    else is refused (never silently dropped): the client draws it again or accepts without."""
    if not signature:
        return None
    if isinstance(signature, str):
        text = signature.strip()
        if text.startswith("data:"):
            header, _comma, text = text.partition(",")
            if header.lower() != "data:image/png;base64":
                raise _signature_refused()
        if len(text) > SIGNATURE_MAX_BYTES * 4 // 3 + 4:
            raise _signature_refused()
        try:
            signature = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise _signature_refused() from None
    signature = bytes(signature)
    if len(signature) > SIGNATURE_MAX_BYTES or not _is_whole_png(signature):
        raise _signature_refused()
    return signature


@transaction.atomic
def accept_quote(
    *,
    link: QuoteLink,
    name: str,
    function: str = "",
    conditions_accepted: bool,
    signature=None,
    po_number: str = "",
    ip: str | None,
    user_agent: str,
    now: datetime.datetime | None = None,
) -> Quote:
    """The client accepts the version the link shows: who, in what function, their purchase
    order, when and from where are kept, and the version is frozen for good."""
    now = now or timezone.now()
    quote, version = _answerable(link, now=now)
    name = _check_text("name", name, NAME_MAX_LENGTH, _("Name"))
    if not name:
        raise QuotingError(_("Give your name."), code="name", field="name")
    function = _check_text("function", function, NAME_MAX_LENGTH, _("Function"))
    po_number = _check_text("po_number", po_number, PO_MAX_LENGTH, _("Purchase order number"))
    if not conditions_accepted:
        raise QuotingError(
            _("Tick the box to accept the quote and its conditions."),
            code="conditions",
            field="conditions",
        )
    png = clean_signature(signature)
    if not version.pdf_sha256:
        raise QuotingError(
            _("The quote's PDF is still being prepared: try again in a minute."),
            code="pdf_pending",
        )
    version.accepted_at = now
    version.accepted_by_name = name
    version.accepted_by_function = function
    version.accepted_ip = ip or None
    version.accepted_user_agent = (user_agent or "")[:500]
    version.client_po_number = po_number
    version.signature = png
    version.save(
        update_fields=[
            "accepted_at",
            "accepted_by_name",
            "accepted_by_function",
            "accepted_ip",
            "accepted_user_agent",
            "client_po_number",
            "signature",
        ]
    )
    discarded = None
    if _answered_before_new_version(quote, version):
        # The client accepted what they were sent, before the member sent the newer version:
        # the acceptance binds, and the unsent draft is set aside.
        discarded = quote.current_version
        quote.current_version = version
    quote.status = Quote.Status.ACCEPTED
    quote.accepted_at = now
    _touch(quote, now, "status", "accepted_at", "current_version")
    if discarded is not None:
        QuoteLine.objects.filter(version=discarded).delete()
        discarded.delete()
    event = _event(
        quote,
        QuoteEvent.Kind.ACCEPTED,
        version=version,
        ip=ip,
        user_agent=user_agent,
        now=now,
        details={
            "name": name,
            "function": function,
            "po_number": po_number,
            "signed": png is not None,
            "data_sha256": version.data_sha256,
            "pdf_sha256": version.pdf_sha256,
            "link": link.pk,
            **({"discarded_draft": discarded.version} if discarded is not None else {}),
        },
    )
    record_event(action="accepted", obj=quote, reason=name)
    _notify_member(quote, event)
    return quote


@transaction.atomic
def decline_quote(
    *,
    link: QuoteLink,
    reason: str,
    ip: str | None,
    user_agent: str,
    now: datetime.datetime | None = None,
) -> Quote:
    """The client declines the quote, saying why."""
    now = now or timezone.now()
    quote, version = _answerable(link, now=now)
    reason = _check_text("reason", reason, TEXT_MAX_LENGTH, _("Reason"))
    if not reason:
        raise QuotingError(_("Say why you decline the quote."), code="reason", field="reason")
    version.declined_at = now
    version.decline_reason = reason
    version.save(update_fields=["declined_at", "decline_reason"])
    if _answered_before_new_version(quote, version):
        # The member is already drafting a newer version: it stays theirs to send.
        _touch(quote, now)
    else:
        quote.status = Quote.Status.DECLINED
        _touch(quote, now, "status")
    event = _event(
        quote,
        QuoteEvent.Kind.DECLINED,
        version=version,
        ip=ip,
        user_agent=user_agent,
        now=now,
        details={"reason": reason, "link": link.pk},
    )
    record_event(action="declined", obj=quote, reason=reason)
    _notify_member(quote, event)
    return quote


@transaction.atomic
def request_change(
    *,
    link: QuoteLink,
    message: str,
    ip: str | None,
    user_agent: str,
    now: datetime.datetime | None = None,
) -> Quote:
    """The client asks for a change; the member is told and makes a new version."""
    now = now or timezone.now()
    quote, version = _answerable(link, now=now)
    message = _check_text("message", message, TEXT_MAX_LENGTH, _("Message"))
    if not message:
        raise QuotingError(_("Say what you would like changed."), code="message", field="message")
    version.change_requested_at = now
    version.change_request = message
    version.save(update_fields=["change_requested_at", "change_request"])
    if _answered_before_new_version(quote, version):
        # The member is already drafting the newer version the client asks for.
        _touch(quote, now)
    else:
        quote.status = Quote.Status.CHANGE_REQUESTED
        _touch(quote, now, "status")
    event = _event(
        quote,
        QuoteEvent.Kind.CHANGE_REQUESTED,
        version=version,
        ip=ip,
        user_agent=user_agent,
        now=now,
        details={"message": message, "link": link.pk},
    )
    record_event(action="change_requested", obj=quote, reason=message[:200])
    _notify_member(quote, event)
    return quote
