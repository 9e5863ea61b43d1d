"""Orders: accepted quotes that staff confirm, their guaranteed budget and their invoices.

A quote the client accepted waits for staff (``QuoteAwaitingConfirmation``). Confirming it makes
it an order: its total excluding VAT enters the Activity's ledger as guaranteed budget (the
income a client has formally committed to, before any invoice). Invoices are then drawn up
from the order (a deposit, the instalments of its schedule, the balance) as drafts through
invoicing's own services; the link lives here (``OrderInvoice``). Whatever the member does to
such a draft, invoicing asks this module, through ``invoicing.hooks``, before saving, submitting
or issuing it: the order's invoices never add up to more than was ordered. As each is issued,
the guaranteed budget it covers is released by a counter-entry, while invoicing plans its
income: guaranteed and planned never count the same euro twice.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Sum
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _

from audit.services import record_event
from coop.money import round_money
from coop.templatetags.money import euro
from invoicing import hooks
from invoicing.errors import InvoicingError
from invoicing.models import Invoice
from invoicing.services.drafts import LineInput, save_draft
from members.models import LedgerEntryKind, LedgerStage, Member, User
from members.selectors import takes_part_in
from members.services import post_ledger_entry
from quotes.errors import QuotingError
from quotes.models import OrderEventNotice, OrderInvoice, Quote, QuoteEvent, QuoteVersion

ZERO = Decimal("0.00")
HUNDRED = Decimal(100)
REASON_MAX_LENGTH = 1000


@dataclass(frozen=True)
class OrderFigures:
    """What an order is worth and how much of it is invoiced (amounts excluding VAT)."""

    ordered: Decimal
    invoiced: Decimal  # on issued invoices
    in_draft: Decimal  # on invoices drawn up and not issued yet
    guarantee_released: Decimal

    @property
    def remaining(self) -> Decimal:
        """What may still be invoiced: neither issued nor drawn up."""
        return self.ordered - self.invoiced - self.in_draft

    @property
    def guaranteed(self) -> Decimal:
        """What the order still guarantees the Activity: ordered, less what issues released."""
        return self.ordered - self.guarantee_released


def order_figures(quote: Quote) -> OrderFigures:
    """Read the order's figures: one query over its invoices (a handful)."""
    return figures_of(
        quote,
        OrderInvoice.objects.filter(quote=quote).values_list(
            "amount_excl_vat", "guarantee_released", "invoice__number"
        ),
    )


def figures_of(
    quote: Quote, invoices: Iterable[tuple[Decimal, Decimal, str | None]]
) -> OrderFigures:
    """The order's figures from its invoices' amount excl. VAT, guarantee released and
    invoice number (none while a draft)."""
    version = quote.current_version
    invoiced = in_draft = released = ZERO
    for amount, guarantee_released, number in invoices:
        if number is None:
            in_draft += amount
        else:
            invoiced += amount
        released += guarantee_released
    return OrderFigures(
        ordered=version.total_excl_vat if version is not None else ZERO,
        invoiced=invoiced,
        in_draft=in_draft,
        guarantee_released=released,
    )


def _lock(quote: Quote) -> Quote:
    return (
        Quote.objects.select_for_update(of=("self",))
        .select_related("current_version", "client", "activity__owner")
        .get(pk=quote.pk)
    )


def _event(
    quote: Quote, kind: str, *, actor: User | None, now: datetime.datetime, details: dict
) -> QuoteEvent:
    return QuoteEvent.objects.create(
        quote=quote,
        version=quote.current_version,
        kind=kind,
        at=now,
        actor=actor,
        details=details,
    )


# Staff: the confirmation queue ----------------------------------------------------------------


@transaction.atomic
def confirm_order(*, staff_user: User, quote: Quote, now: datetime.datetime | None = None) -> Quote:
    """Confirm an accepted quote as an order: its total excl. VAT becomes guaranteed budget.

    Nobody confirms an order of an Activity they own or share.
    """
    now = now or timezone.now()
    quote = _lock(quote)
    if quote.status != Quote.Status.ACCEPTED:
        raise QuotingError(
            _("This quote is not waiting for confirmation: %(status)s.")
            % {"status": quote.get_status_display()},
            code="not_accepted",
        )
    if takes_part_in(staff_user, quote.activity):
        raise QuotingError(
            _("You take part in this Activity: another staff member must confirm its order."),
            code="own_order",
        )
    version = quote.current_version
    quote.status = Quote.Status.CONFIRMED
    quote.updated_at = now
    quote.save(update_fields=["status", "updated_at"])
    if version.total_excl_vat:
        post_ledger_entry(
            activity=quote.activity,
            kind=LedgerEntryKind.CLIENT_INCOME,
            stage=LedgerStage.GUARANTEED,
            amount=version.total_excl_vat,
            reference=quote.number,
            description=_("Order confirmed: %(title)s") % {"title": version.title},
            author=staff_user,
            source=quote,
            now=now,
        )
    event = _event(
        quote,
        QuoteEvent.Kind.CONFIRMED,
        actor=staff_user,
        now=now,
        details={"guaranteed": f"{version.total_excl_vat:.2f}"},
    )
    record_event(action="confirmed", obj=quote, actor=staff_user)
    _notify_member(event)
    return quote


@transaction.atomic
def refuse_order(
    *, staff_user: User, quote: Quote, reason: str, now: datetime.datetime | None = None
) -> Quote:
    """Refuse to confirm an accepted quote, saying why (the member reads the reason)."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise QuotingError(_("Say why the order is refused."), code="reason", field="reason")
    if len(reason) > REASON_MAX_LENGTH:
        raise QuotingError(
            _("Keep the reason under %(limit)d characters.") % {"limit": REASON_MAX_LENGTH},
            code="reason",
            field="reason",
        )
    quote = _lock(quote)
    if quote.status != Quote.Status.ACCEPTED:
        raise QuotingError(
            _("This quote is not waiting for confirmation: %(status)s.")
            % {"status": quote.get_status_display()},
            code="not_accepted",
        )
    quote.status = Quote.Status.REFUSED
    quote.updated_at = now
    quote.save(update_fields=["status", "updated_at"])
    event = _event(
        quote, QuoteEvent.Kind.REFUSED, actor=staff_user, now=now, details={"reason": reason}
    )
    record_event(action="refused", obj=quote, actor=staff_user, reason=reason[:255])
    _notify_member(event)
    return quote


def _notify_member(event: QuoteEvent) -> None:
    transaction.on_commit(lambda: notify_order_event_task.delay(event.pk), robust=True)


NOTIFIED_KINDS = (QuoteEvent.Kind.CONFIRMED, QuoteEvent.Kind.REFUSED)


@transaction.atomic
def notify_order_event(*, event: QuoteEvent) -> bool:
    """E-mail the member who drew the quote up that staff confirmed or refused the order, once.

    The notice row is inserted first, in this transaction: a second task for the same event
    waits on its unique key and then finds it; a failed sending rolls it back for the retry.
    """
    if event.kind not in NOTIFIED_KINDS:
        return False
    _notice, created = OrderEventNotice.objects.get_or_create(event=event)
    if not created:
        return False
    quote = event.quote
    user = quote.created_by
    member = Member.objects.filter(user=user).first() or quote.activity.owner
    with translation.override(member.preferred_language):
        context = {
            "quote": quote,
            "event": event,
            "reason": event.details.get("reason", ""),
            "site_url": settings.SITE_URL,
        }
        subject = render_to_string("quotes/emails/order_event_subject.txt", context).strip()
        body = render_to_string("quotes/emails/order_event.txt", context)
    send_mail(subject, body, None, [user.email])
    return True


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notify_order_event_task(event_pk: int) -> None:
    """E-mail the member about their order's confirmation or refusal."""
    event = (
        QuoteEvent.objects.select_related("quote__created_by", "quote__activity__owner")
        .filter(pk=event_pk)
        .first()
    )
    if event is not None:
        notify_order_event(event=event)


# Members: invoices from an order --------------------------------------------------------------


def _percent_text(percent: Decimal) -> str:
    return number_format(percent.normalize() if percent == percent.to_integral() else percent)


def _schedule_entry(version: QuoteVersion, index: int | None) -> dict:
    schedule = version.schedule or []
    if index is None or not 0 <= index < len(schedule):
        raise QuotingError(
            _("Choose a part of the order's payment schedule."), code="schedule", field="part"
        )
    return schedule[index]


def _vat_groups(version: QuoteVersion) -> list[tuple[dict, Decimal]]:
    """The order's lines summed per VAT treatment, in the order they first appear."""
    groups: dict[tuple, Decimal] = {}
    first: dict[tuple, dict] = {}
    for line in version.lines.all():
        key = (
            line.vat_category,
            line.vat_rate,
            line.supply_kind,
            line.exemption_reason,
            line.exemption_code,
        )
        groups[key] = groups.get(key, ZERO) + line.line_total
        first.setdefault(
            key,
            {
                "vat_category": line.vat_category,
                "vat_rate": line.vat_rate,
                "supply_kind": line.supply_kind,
                "exemption_reason": line.exemption_reason,
                "exemption_code": line.exemption_code,
            },
        )
    return [(first[key], total) for key, total in groups.items() if total > 0]


def _order_lines(version: QuoteVersion, *, amount: Decimal, description: str) -> list[LineInput]:
    """Invoice lines worth ``amount`` excl. VAT: the order's own lines when it is the whole
    order, else one line per VAT treatment, in proportion to the order's amounts."""
    lines = list(version.lines.all())
    if amount == version.total_excl_vat:
        return [
            LineInput(
                description=line.description,
                quantity=line.quantity,
                unit=line.unit_code,
                unit_price=line.unit_price,
                vat_category=line.vat_category,
                vat_rate=line.vat_rate,
                exemption_reason=line.exemption_reason,
                supply_kind=line.supply_kind,
                exemption_code=line.exemption_code,
                allowance_percent=line.allowance_percent,
                allowance_amount=(
                    line.allowance_amount
                    if line.allowance_percent is None and line.allowance_amount
                    else None
                ),
                allowance_reason=line.allowance_reason,
            )
            for line in lines
        ]
    groups = _vat_groups(version)
    total = sum((net for _treatment, net in groups), ZERO)
    if not groups or total <= 0:
        raise QuotingError(_("This order has nothing to invoice."), code="empty")
    shares = [round_money(net * amount / total) for _treatment, net in groups]
    # Rounding each share to the cent may miss the amount by a cent or two: the last takes it.
    shares[-1] = amount - sum(shares[:-1], ZERO)
    result = []
    for (treatment, _net), share in zip(groups, shares, strict=True):
        if share <= 0:
            continue
        text = description
        if len(groups) > 1:
            text = _("%(description)s — VAT %(rate)s %%") % {
                "description": description,
                "rate": _percent_text(treatment["vat_rate"]),
            }
        result.append(
            LineInput(
                description=text[:300],
                quantity=Decimal("1"),
                unit="piece",
                unit_price=share,
                **treatment,
            )
        )
    return result


@transaction.atomic
def create_order_invoice(
    *,
    user: User,
    quote: Quote,
    part: str,
    today: datetime.date,
    schedule_index: int | None = None,
) -> OrderInvoice:
    """Draw up a draft invoice from a confirmed order: its deposit, one part of its schedule or
    its balance (what remains), prefilled with the client, the Activity, the order's lines (or
    one line per VAT rate for a part) and the client's purchase order number.

    Refuses more than remains to invoice: nothing is written then.
    """
    quote = _lock(quote)
    if quote.status != Quote.Status.CONFIRMED:
        raise QuotingError(
            _("Only a confirmed order can be invoiced."), code="not_confirmed", field="part"
        )
    version = quote.current_version
    figures = order_figures(quote)
    existing = OrderInvoice.objects.filter(quote=quote)
    with translation.override(quote.language):
        if part == OrderInvoice.Part.DEPOSIT:
            percent = version.deposit_percent
            if not percent:
                raise QuotingError(_("This order has no deposit."), code="no_deposit", field="part")
            if existing.filter(part=OrderInvoice.Part.DEPOSIT).exists():
                raise QuotingError(
                    _("The deposit of this order is invoiced already."),
                    code="deposit_invoiced",
                    field="part",
                )
            amount = round_money(version.total_excl_vat * percent / HUNDRED)
            label = ""
            description = _("Deposit of %(percent)s %% on order %(number)s: %(title)s") % {
                "percent": _percent_text(percent),
                "number": quote.number,
                "title": version.title,
            }
        elif part == OrderInvoice.Part.INSTALMENT:
            entry = _schedule_entry(version, schedule_index)
            label = str(entry.get("label") or "")[:150]
            label = f"{schedule_index + 1}. {label}".strip()
            if existing.filter(part=OrderInvoice.Part.INSTALMENT, label=label).exists():
                raise QuotingError(
                    _("This part of the schedule is invoiced already."),
                    code="instalment_invoiced",
                    field="part",
                )
            percent = Decimal(str(entry.get("percent")))
            amount = round_money(version.total_excl_vat * percent / HUNDRED)
            description = _("%(label)s (%(percent)s %%) of order %(number)s: %(title)s") % {
                "label": entry.get("label") or _("Instalment"),
                "percent": _percent_text(percent),
                "number": quote.number,
                "title": version.title,
            }
        elif part == OrderInvoice.Part.BALANCE:
            amount = figures.remaining
            label = ""
            description = _("Balance of order %(number)s: %(title)s") % {
                "number": quote.number,
                "title": version.title,
            }
        else:
            raise QuotingError(_("Unknown part of an order."), code="part", field="part")
        if amount <= 0:
            raise QuotingError(
                _("Nothing remains to invoice on this order."), code="nothing_left", field="part"
            )
        if amount > figures.remaining:
            raise QuotingError(
                _(
                    "This invoice (%(amount)s excl. VAT) is more than remains to invoice on the "
                    "order (%(remaining)s)."
                )
                % {"amount": euro(amount), "remaining": euro(figures.remaining)},
                code="beyond_order",
                field="part",
            )
        lines = _order_lines(version, amount=amount, description=description)
        accepted_on = timezone.localdate(quote.accepted_at or timezone.now())
        notes = _("Order %(number)s accepted on %(date)s.") % {
            "number": quote.number,
            "date": date_format(accepted_on, "SHORT_DATE_FORMAT"),
        }
    try:
        invoice = save_draft(
            user=user,
            activity=quote.activity,
            client=quote.client,
            lines=lines,
            today=today,
            order_reference=version.client_po_number,
            notes=notes,
            due_date=today + datetime.timedelta(days=version.payment_terms_days),
        )
    except InvoicingError as error:
        raise QuotingError(error.message, code=error.code, field="part") from None
    link = OrderInvoice.objects.create(
        quote=quote,
        invoice=invoice,
        part=part,
        label=label,
        amount_excl_vat=invoice.total_excl_vat,
        created_by=user,
    )
    record_event(
        action="created",
        obj=link,
        actor=user,
        changes={"invoice": [None, invoice.pk], "amount_excl_vat": [None, str(amount)]},
    )
    return link


def check_order_invoice(invoice: Invoice) -> None:
    """Refuse an invoice drawn up from an order that would bring the order's invoices beyond
    what was ordered (registered with ``invoicing.hooks``; runs when the draft is saved,
    submitted and issued, inside that transaction)."""
    if invoice.kind != Invoice.Kind.INVOICE:
        return
    link = OrderInvoice.objects.filter(invoice=invoice).values("pk", "quote_id").first()
    if link is None:
        return
    # The order's row lock: two of its invoices saved or issued at once are checked in turn.
    quote = (
        Quote.objects.select_for_update(of=("self",))
        .select_related("current_version")
        .get(pk=link["quote_id"])
    )
    ordered = quote.current_version.total_excl_vat
    others = (
        OrderInvoice.objects.filter(quote=quote)
        .exclude(pk=link["pk"])
        .aggregate(total=Sum("amount_excl_vat"))["total"]
        or ZERO
    )
    if invoice.total_excl_vat <= 0:
        raise InvoicingError(
            _("An invoice drawn up from order %(number)s must have an amount.")
            % {"number": quote.number},
            code="order_amount",
        )
    if others + invoice.total_excl_vat > ordered:
        raise InvoicingError(
            _(
                "Order %(number)s was for %(ordered)s excl. VAT; with this invoice "
                "(%(amount)s) its invoices would come to %(total)s. Lower the amount, or have "
                "the client accept a new version of the quote."
            )
            % {
                "number": quote.number,
                "ordered": euro(ordered),
                "amount": euro(invoice.total_excl_vat),
                "total": euro(others + invoice.total_excl_vat),
            },
            code="beyond_order",
        )
    OrderInvoice.objects.filter(pk=link["pk"]).exclude(
        amount_excl_vat=invoice.total_excl_vat
    ).update(amount_excl_vat=invoice.total_excl_vat)


def release_guarantee(*, invoice: Invoice, actor: User, now: datetime.datetime) -> None:
    """Once an invoice drawn up from an order is issued, release the guaranteed budget it covers
    (registered with ``invoicing.hooks``; the issue's transaction holds the order's lock)."""
    link = OrderInvoice.objects.filter(invoice=invoice).first()
    if link is None:
        return
    quote = (
        Quote.objects.select_for_update(of=("self",))
        .select_related("current_version", "activity")
        .get(pk=link.quote_id)
    )
    released = (
        OrderInvoice.objects.filter(quote=quote)
        .exclude(pk=link.pk)
        .aggregate(total=Sum("guarantee_released"))["total"]
        or ZERO
    )
    still_guaranteed = quote.current_version.total_excl_vat - released
    release = max(min(invoice.total_excl_vat, still_guaranteed), ZERO)
    if release:
        post_ledger_entry(
            activity=quote.activity,
            kind=LedgerEntryKind.CLIENT_INCOME,
            stage=LedgerStage.GUARANTEED,
            amount=-release,
            reference=quote.number,
            description=_("Invoice %(number)s issued: no longer only guaranteed")
            % {"number": invoice.number},
            author=actor,
            source=quote,
            now=now,
        )
    link.amount_excl_vat = invoice.total_excl_vat
    link.guarantee_released = release
    link.save(update_fields=["amount_excl_vat", "guarantee_released"])
    _event(
        quote,
        QuoteEvent.Kind.INVOICED,
        actor=actor,
        now=now,
        details={
            "invoice": invoice.number,
            "amount_excl_vat": f"{invoice.total_excl_vat:.2f}",
            "guarantee_released": f"{release:.2f}",
        },
    )


hooks.register_invoice_check(check_order_invoice)
hooks.register_issued_hook(release_guarantee)
