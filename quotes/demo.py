"""The quotes part of the demo world: the demo member's quotes in every state.

The demo's clients are fictitious: sending a quote here e-mails nobody. The public page of
the quote waiting for an answer is printed, to open it as the client would.
"""

import datetime
from decimal import Decimal

from django.utils import timezone

from invoicing.services.drafts import LineInput
from quotes import documents, reminders, services
from quotes.models import OrderInvoice, Quote

WORK = [
    ("Lighting design, rehearsal days", "day", "450.00"),
    ("Sound engineering", "day", "380.00"),
    ("Poster illustration", "piece", "220.00"),
    ("Photography, opening night", "hour", "85.00"),
]
TITLES = [
    "Spring season lighting",
    "Festival sound and light",
    "Poster series",
    "Opening night photography",
    "Children's workshop",
    "Touring rig",
]
SCHEDULE = [
    {"label": "Deposit", "percent": "30", "due": "order"},
    {"label": "Balance", "percent": "70", "due": "delivery"},
]


def _lines(offset: int) -> list[LineInput]:
    return [
        LineInput(
            description=description,
            quantity=Decimal(position % 3 + 1),
            unit=unit,
            unit_price=Decimal(price),
        )
        for position, (description, unit, price) in enumerate(
            WORK[offset % len(WORK) :] + WORK[: offset % len(WORK)]
        )
    ][:3]


def _draft(member, activity, client, *, index: int, today: datetime.date, now=None) -> Quote:
    return services.save_draft(
        user=member.user,
        activity=activity,
        client=client,
        lines=_lines(index),
        terms=services.QuoteTerms(
            title=TITLES[index % len(TITLES)],
            description="Prepared for the coming season.",
            valid_until=today + datetime.timedelta(days=30),
            deposit_percent=Decimal("30") if index % 2 == 0 else None,
            schedule=SCHEDULE if index % 2 == 0 else [],
            work_start=today + datetime.timedelta(days=45),
            work_end=today + datetime.timedelta(days=47),
        ),
        today=today,
        now=now,
    )


def _send(member, quote: Quote, *, now: datetime.datetime | None = None) -> tuple[Quote, str]:
    quote, token = services.send_quote(user=member.user, quote=quote, email=False, now=now)
    documents.render_document(document=quote.current_version.document)
    quote.current_version.refresh_from_db()
    return quote, token


def _quotes_in_every_state(member, activity, client, *, today) -> str:
    """Draft, sent, change requested, accepted, declined, expired; return the sent one's link."""
    _draft(member, activity, client, index=0, today=today)
    _sent, token = _send(member, _draft(member, activity, client, index=1, today=today))
    _changed, changed_token = _send(member, _draft(member, activity, client, index=2, today=today))
    services.request_change(
        link=services.find_link(changed_token),
        message="Could the posters come in two sizes?",
        ip="192.0.2.10",
        user_agent="Demo browser",
    )
    _accepted, accepted_token = _send(
        member, _draft(member, activity, client, index=3, today=today)
    )
    _accept(accepted_token, po_number="PO-2026-041", ip="192.0.2.11")
    _declined, declined_token = _send(
        member, _draft(member, activity, client, index=4, today=today)
    )
    services.decline_quote(
        link=services.find_link(declined_token),
        reason="Our budget for this season is already spent.",
        ip="192.0.2.12",
        user_agent="Demo browser",
    )
    _expired_quote(member, activity, client, today=today)
    return documents.public_url(token)


def _expired_quote(member, activity, client, *, today: datetime.date) -> Quote:
    """A quote sent 45 days ago, valid for 30 days, that the client never answered: the
    expiry task expired it the day after its last valid day."""
    sent_on = today - datetime.timedelta(days=45)
    sent_at = timezone.make_aware(datetime.datetime.combine(sent_on, datetime.time(10)))
    drafted_at = sent_at - datetime.timedelta(hours=1)
    quote = _draft(member, activity, client, index=5, today=sent_on, now=drafted_at)
    quote, _token = _send(member, quote, now=sent_at)
    valid_until = quote.current_version.valid_until
    expired_on = valid_until + datetime.timedelta(days=1)
    reminders.expire_quote(
        quote_pk=quote.pk,
        today=expired_on,
        now=timezone.make_aware(datetime.datetime.combine(expired_on, datetime.time(3))),
    )
    return Quote.objects.get(pk=quote.pk)


def _confirmed_order(member, activity, client, staff, *, today) -> Quote:
    """A quote the client accepted and staff confirmed: its guaranteed budget on the Activity."""
    from quotes import orders

    _quote, token = _send(member, _draft(member, activity, client, index=0, today=today))
    quote = _accept(token, po_number="PO-2026-057", ip="192.0.2.13")
    return orders.confirm_order(staff_user=staff, quote=quote)


def _accept(token: str, *, po_number: str, ip: str, name: str = "Marie Lambert") -> Quote:
    """The client accepts the quote the link shows, on its page."""
    return services.accept_quote(
        link=services.find_link(token),
        name=name,
        function="Production manager",
        conditions_accepted=True,
        po_number=po_number,
        ip=ip,
        user_agent="Demo browser",
    )


def _order_with_deposit(member, activity, client, staff, *, today) -> Quote:
    """An accepted quote that staff confirmed (its guaranteed budget on the Activity), with its
    deposit invoiced; the accepted quote above stays in staff's confirmation queue."""
    from invoicing.services.issue import submit_invoice
    from quotes import orders

    quote = _confirmed_order(member, activity, client, staff, today=today)
    deposit = orders.create_order_invoice(
        user=member.user, quote=quote, part="deposit", today=today
    )
    submit_invoice(user=member.user, invoice=deposit.invoice, today=today)
    return quote


def seed(context: dict, *, stdout) -> None:
    """Give the demo member a quote in every state."""
    today = context["today"]
    members = context["members"]
    if not members:
        return
    member = members[0]
    activity = member.activities.order_by("pk").first()
    client = member.user.clients.order_by("pk").first()
    if activity is None or client is None:
        return
    url = _quotes_in_every_state(member, activity, client, today=today)
    order = _order_with_deposit(member, activity, client, context["staff"], today=today)
    stdout.write(f"7 quotes of {member.legal_name}; the client's page of the sent one: {url}")
    stdout.write(f"  order {order.number} confirmed, its deposit invoiced; one awaits staff")


def seed_heavy(context: dict, *, stdout) -> None:
    """Give each heavy member a handful of quotes: drafts and sent ones; the first also one
    waiting for staff and a confirmed order with its deposit drawn up."""
    from quotes.orders import create_order_invoice

    today = context["today"]
    count = 0
    started = timezone.now()
    for member in context["members"]:
        activity = member.activities.order_by("pk").first()
        client = member.user.clients.filter(country="BE").order_by("pk").first()
        if activity is None or client is None:
            continue
        for index in range(3):
            _draft(member, activity, client, index=index, today=today)
        for index in range(2):
            services.send_quote(
                user=member.user,
                quote=_draft(member, activity, client, index=index + 3, today=today),
                email=False,
            )
        count += 5
    orders = 0
    first = context["members"][0] if context["members"] else None
    activity = first.activities.order_by("pk").first() if first else None
    client = first.user.clients.filter(country="BE").order_by("pk").first() if first else None
    if first is not None and activity is not None and client is not None:
        _awaiting_confirmation(first, activity, client, today=today)
        # A confirmed order (the newest quote, for the quote page), its deposit drawn up as a
        # draft invoice: the order page and staff's pages of orders have their rows to show.
        order = _confirmed_order(first, activity, client, context["staff"], today=today)
        create_order_invoice(
            user=first.user, quote=order, part=OrderInvoice.Part.DEPOSIT, today=today
        )
        count += 2
        orders = 1
    elapsed = (timezone.now() - started).total_seconds()
    stdout.write(
        f"  {count} quotes of the heavy members in {elapsed:.1f} s: {orders} accepted, waiting "
        f"for staff, and {orders} confirmed order with its deposit drawn up"
    )


def _awaiting_confirmation(member, activity, client, *, today) -> Quote:
    """A quote the client accepted, in staff's queue of orders to confirm."""
    _quote, token = _send(member, _draft(member, activity, client, index=1, today=today))
    return _accept(token, po_number="PO-2026-112", ip="192.0.2.14", name="Jan Peeters")
