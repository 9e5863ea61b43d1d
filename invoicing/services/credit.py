"""Credit notes: requested by the member (or by staff), issued by another staff member, in their
own series.

Nobody issues a credit note they requested: staff who want an invoice credited request it, and a
colleague approves it like any document waiting for review.
"""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import record_event
from invoicing.calculation import compute_totals
from invoicing.errors import InvoicingError
from invoicing.models import Invoice, InvoiceLine
from invoicing.services.drafts import (
    AllowanceChargeInput,
    LineInput,
    clean_allowance_charges,
    clean_lines,
    create_allowance_charges,
)
from members.models import User


def _full_credit_lines(invoice: Invoice) -> list[LineInput]:
    return [
        LineInput(
            description=line.description,
            quantity=line.quantity,
            unit=line.unit,
            unit_price=line.unit_price,
            vat_category=line.vat_category,
            vat_rate=line.vat_rate,
            exemption_reason=line.exemption_reason,
            allowance_percent=line.allowance_percent,
            allowance_amount=(
                line.allowance_amount or None if line.allowance_percent is None else None
            ),
            allowance_reason=line.allowance_reason,
        )
        for line in invoice.lines.all()
    ]


def _full_credit_allowance_charges(invoice: Invoice) -> list[AllowanceChargeInput]:
    return [
        AllowanceChargeInput(
            is_charge=adjustment.is_charge,
            reason=adjustment.reason,
            vat_category=adjustment.vat_category,
            vat_rate=adjustment.vat_rate,
            percent=adjustment.percent,
            amount=adjustment.amount if adjustment.percent is None else None,
        )
        for adjustment in invoice.allowance_charges.all()
    ]


@transaction.atomic
def request_credit_note(
    *,
    user: User,
    invoice: Invoice,
    reason: str,
    lines: list[LineInput] | None = None,
    now: datetime.datetime | None = None,
) -> Invoice:
    """Ask staff for a credit note on an issued invoice: all of it, or the given lines."""
    now = now or timezone.now()
    if not reason.strip():
        raise InvoicingError(_("Say why the invoice is credited."), code="reason", field="reason")
    invoice = Invoice.objects.select_for_update().select_related("client").get(pk=invoice.pk)
    if invoice.kind != Invoice.Kind.INVOICE or not invoice.is_issued:
        raise InvoicingError(_("Only issued invoices can be credited."), code="not_issued")
    # Crediting the whole invoice repeats its document-level discounts and charges too.
    adjustments = _full_credit_allowance_charges(invoice) if lines is None else []
    lines = lines if lines is not None else _full_credit_lines(invoice)
    cleaned = clean_lines(lines, client=invoice.client)
    cleaned_adjustments = clean_allowance_charges(adjustments, lines=cleaned)
    totals = compute_totals(cleaned, cleaned_adjustments)
    already = (
        Invoice.objects.filter(credited_invoice=invoice)
        .exclude(status=Invoice.Status.REJECTED)
        .with_amounts()
    )
    credited = sum((note.total_incl_vat for note in already), start=0)
    if credited + totals.tax_inclusive > invoice.total_incl_vat:
        raise InvoicingError(
            _("Credit notes cannot exceed the invoice: %(left)s € is left to credit.")
            % {"left": invoice.total_incl_vat - credited},
            code="credit_too_large",
        )
    credit_note = Invoice.objects.create(
        kind=Invoice.Kind.CREDIT_NOTE,
        status=Invoice.Status.PENDING_REVIEW,
        activity=invoice.activity,
        client=invoice.client,
        credited_invoice=invoice,
        buyer_reference=invoice.buyer_reference,
        order_reference=invoice.order_reference,
        # Without its own date of supply, the credited invoice's supply took place on its date.
        supply_date=invoice.supply_date or (None if invoice.period_start else invoice.issue_date),
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        notes=reason.strip(),
        language=invoice.language,
        due_date=None,
        total_excl_vat=totals.tax_exclusive,
        total_vat=totals.vat,
        total_incl_vat=totals.tax_inclusive,
        review_reason=_("credit note requested"),
        created_by=user,
        submitted_at=now,
    )
    InvoiceLine.objects.bulk_create(
        InvoiceLine(
            invoice=credit_note,
            position=position,
            description=given.description[:300],
            quantity=line.quantity,
            unit=given.unit,
            unit_price=line.unit_price,
            vat_category=line.vat_category,
            vat_rate=line.vat_rate,
            exemption_reason=line.exemption_reason,
            allowance_percent=line.allowance_percent,
            allowance_amount=line.allowance_amount,
            allowance_reason=line.allowance_reason,
        )
        for position, (given, line) in enumerate(zip(lines, cleaned, strict=True), 1)
    )
    create_allowance_charges(credit_note, cleaned_adjustments, lines=cleaned)
    record_event(action="requested", obj=credit_note, actor=user, reason=credit_note.notes)
    return credit_note
