"""Quotes in the states orders start from, written straight to the tables (the quotes app's
own tests walk the drafting, sending and the client's answer)."""

import datetime
from decimal import Decimal

from django.utils import timezone

from invoicing.calculation import compute_totals
from quotes.models import Quote, QuoteLine, QuoteVersion

NOW = timezone.now()
TODAY = timezone.localdate(NOW)
# Far above what the quotes series gives in a test, so that both never meet.
_numbers = iter(range(900_001, 1_000_000))


def make_quote(
    *,
    activity,
    client,
    user,
    status=Quote.Status.ACCEPTED,
    lines=(("Stage design", "10", "100.00", "21"),),
    deposit_percent=None,
    schedule=(),
    work_start=None,
    work_end=None,
    valid_until=None,
    sent_at=None,
    po_number="PO-4471",
    language="en",
    supply_kind="services",
) -> Quote:
    """A quote with one version of ``lines`` (description, quantity, price, VAT rate), sent
    and, unless its status says otherwise, accepted."""
    sent_at = sent_at or NOW - datetime.timedelta(days=3)
    quote = Quote.objects.create(
        activity=activity,
        client=client,
        created_by=user,
        language=language,
        series="D-2026",
        sequence_number=next(_numbers),
        status=status,
        sent_at=sent_at,
    )
    version = QuoteVersion.objects.create(
        quote=quote,
        version=1,
        title="Scénographie du festival",
        valid_until=valid_until or TODAY + datetime.timedelta(days=30),
        payment_terms_days=30,
        deposit_percent=Decimal(deposit_percent) if deposit_percent is not None else None,
        schedule=list(schedule),
        work_start=work_start,
        work_end=work_end,
    )
    rows = []
    for position, (description, quantity, price, rate) in enumerate(lines, 1):
        rows.append(
            QuoteLine.objects.create(
                version=version,
                position=position,
                description=description,
                quantity=Decimal(quantity),
                unit_code="hour",
                unit_price=Decimal(price),
                vat_category="S" if Decimal(rate) else "Z",
                vat_rate=Decimal(rate),
                supply_kind=supply_kind,
                line_total=Decimal(quantity) * Decimal(price),
            )
        )
    totals = compute_totals([row.as_line() for row in rows], [])
    version.total_excl_vat = totals.tax_exclusive
    version.total_vat = totals.vat
    version.total_incl_vat = totals.tax_inclusive
    version.sent_at = sent_at
    accepted = status in (Quote.Status.ACCEPTED, Quote.Status.CONFIRMED, Quote.Status.REFUSED)
    if accepted:
        version.accepted_at = NOW - datetime.timedelta(days=1)
        version.accepted_by_name = "Claire Dumont"
        version.accepted_by_function = "Directrice"
        version.client_po_number = po_number
    version.save()
    quote.current_version = version
    quote.accepted_at = version.accepted_at
    fields = ["current_version", "accepted_at"]
    if status == Quote.Status.CONFIRMED:
        # Written straight, without the ledger entry confirm_order posts.
        quote.ordered_version = version
        quote.guaranteed_excl_vat = version.total_excl_vat
        fields += ["ordered_version", "guaranteed_excl_vat"]
    quote.save(update_fields=fields)
    return quote
