"""Issuing: gapless numbers, frozen content, structured communication, planned income."""

import dataclasses
import datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from stdnum.be import ogm_vcs

from audit.services import record_event
from invoicing import hooks, review_reasons, vat
from invoicing.calculation import compute_totals
from invoicing.eas import check_participant_id
from invoicing.errors import InvoicingError
from invoicing.models import Client, Dispatch, Invoice, InvoiceDocument, InvoiceSequence
from invoicing.services.credit import settlement_of
from invoicing.snapshot import InvoiceSnapshot
from invoicing.ubl import party_endpoint
from members.models import LedgerEntryKind, LedgerStage, Member, User
from members.selectors import takes_part_in
from members.services import post_ledger_entry

UNIT_CODES = {"hour": "HUR", "day": "DAY", "piece": "C62"}


def series_for(kind: str, issue_date: datetime.date) -> str:
    """Return the numbering series: one per year, credit notes in their own."""
    prefix = "NC-" if kind == Invoice.Kind.CREDIT_NOTE else ""
    return f"{prefix}{issue_date.year}"


def _take_number(*, series: str, issue_date: datetime.date) -> int:
    """Take the next number of a series; the row lock makes concurrent issuers queue up.

    One UPDATE ... RETURNING both locks the series' row (until the commit) and counts on, so
    the locked part of an issue starts with a single round trip.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE invoicing_invoicesequence SET last_number = last_number + 1,"
            " last_issue_date = %s WHERE series = %s"
            " AND (last_issue_date IS NULL OR last_issue_date <= %s) RETURNING last_number",
            [issue_date, series, issue_date],
        )
        row = cursor.fetchone()
    if row is not None:
        return row[0]
    sequence, created = InvoiceSequence.objects.get_or_create(series=series)
    if created or sequence.last_issue_date is None or issue_date >= sequence.last_issue_date:
        # The series' first number (or a row created meanwhile): count on from its row.
        return _take_number(series=series, issue_date=issue_date)
    # Dates follow numbers: number N may never carry a later date than N+1.
    raise InvoicingError(
        _("Invoice %(series)s-%(number)06d is dated %(date)s: a later number cannot be older.")
        % {
            "series": series,
            "number": sequence.last_number,
            "date": date_format(sequence.last_issue_date, "SHORT_DATE_FORMAT"),
        },
        code="date_order",
    )


def structured_communication_for(*, issue_date: datetime.date, sequence_number: int) -> str:
    """Return a unique OGM: two digits of the year, eight of the number, two check digits."""
    base = f"{issue_date.year % 100:02d}{sequence_number:08d}"
    return f"+++{ogm_vcs.format(base + ogm_vcs.calc_check_digits(base))}+++"


def _money(value) -> str:
    return f"{value:.2f}"


def _optional_money(value) -> str:
    return "" if value is None else _money(value)


def _optional_date(value: datetime.date | None) -> str:
    return value.isoformat() if value else ""


def sent_over_peppol(client: Client) -> bool:
    """Tell whether invoices to this client go over the Peppol network: it has a Peppol address
    (invoicing.ubl.party_endpoint, as the UBL carries it)."""
    return bool(client.peppol_endpoint)


def check_references(invoice: Invoice) -> None:
    """Refuse to issue, for a client reached on Peppol, an invoice without any reference.

    Peppol BIS requires a buyer reference (BT-10) or a purchase order reference (BT-13)
    (PEPPOL-EN16931-R003). Only what the client gave counts: the invoice's own number is no
    reference of the buyer's. Invoices sent otherwise may carry none.
    """
    if invoice.kind != Invoice.Kind.INVOICE or not sent_over_peppol(invoice.client):
        return
    if invoice.buyer_reference.strip() or invoice.order_reference.strip():
        return
    raise InvoicingError(
        _(
            "This client receives its invoices over Peppol, which requires their reference or "
            "purchase order number: ask the client for one and add it to the draft."
        ),
        code="reference_required",
        field="buyer_reference",
    )


def build_snapshot(invoice: Invoice) -> InvoiceSnapshot:
    """Freeze what the invoice says: seller, buyer, lines, VAT breakdown and totals."""
    client = invoice.client
    seller = dict(settings.COOP_SELLER)
    seller["peppol_id"] = f"0208:{seller['enterprise_number']}"
    seller["is_business"] = True
    # Company law names the register in the invoice's language: RPM Bruxelles, RPR Brussel.
    seller["register"] = settings.COOP_SELLER_REGISTER.get(invoice.language, seller["register"])
    lines = list(invoice.lines.all())
    # The legal mentions are those of the client's country, in the invoice's language.
    exemptions = [
        vat.exemption(
            line.vat_category,
            reason=line.exemption_reason,
            code=line.exemption_code,
            buyer_country=client.country,
            language=invoice.language,
        )
        for line in lines
    ]
    computed_lines = [
        dataclasses.replace(line.as_line(), exemption_reason=reason, exemption_code=code)
        for line, (reason, code) in zip(lines, exemptions, strict=True)
    ]
    adjustments = list(invoice.allowance_charges.all())
    totals = compute_totals(
        computed_lines, [adjustment.as_allowance_charge() for adjustment in adjustments]
    )
    credited = invoice.credited_invoice
    return {
        "document_type": invoice.kind,
        "number": invoice.number,
        "issue_date": invoice.issue_date.isoformat(),
        "due_date": invoice.due_date.isoformat() if invoice.due_date else "",
        "supply_date": (
            invoice.supply_date.isoformat()
            if invoice.supply_date and invoice.supply_date != invoice.issue_date
            else ""
        ),
        "language": invoice.language,
        "currency": "EUR",
        "period_start": _optional_date(invoice.period_start),
        "period_end": _optional_date(invoice.period_end),
        "buyer_reference": invoice.buyer_reference,
        "order_reference": invoice.order_reference,
        "note": invoice.notes,
        "structured_communication": invoice.structured_communication or "",
        "credited_invoice": (
            {"number": credited.number, "issue_date": credited.issue_date.isoformat()}
            if credited
            else None
        ),
        "seller": seller,
        "buyer": {
            "name": client.name,
            "street": client.street,
            "postal_code": client.postal_code,
            "city": client.city,
            "country": client.country,
            "vat_number": client.vat_number,
            "enterprise_number": client.enterprise_number,
            "peppol_id": client.peppol_id,
            "email": client.email,
            "is_business": client.is_business,
            "gln": client.gln,
        },
        "lines": [
            {
                "position": line.position,
                "description": line.description,
                "quantity": _money(line.quantity),
                "unit": UNIT_CODES[line.unit],
                "unit_price": _money(line.unit_price),
                "net_amount": _money(computed.net_amount),
                "supply_kind": line.supply_kind,
                "vat_category": line.vat_category,
                "vat_rate": _money(line.vat_rate),
                "exemption_reason": computed.exemption_reason,
                "gross_amount": _money(computed.gross_amount),
                "allowance_amount": _money(computed.allowance_amount),
                "allowance_percent": _optional_money(line.allowance_percent),
                "allowance_reason": line.allowance_reason,
            }
            for line, computed in zip(lines, computed_lines, strict=True)
        ],
        "allowance_charges": [
            {
                "is_charge": adjustment.is_charge,
                "reason": adjustment.reason,
                "amount": _money(adjustment.amount),
                "percent": _optional_money(adjustment.percent),
                "base_amount": (
                    _money(adjustment.as_allowance_charge().base_amount(computed_lines))
                    if adjustment.percent is not None
                    else ""
                ),
                "vat_category": adjustment.vat_category,
                "vat_rate": _money(adjustment.vat_rate),
            }
            for adjustment in adjustments
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
            "line_extension": _money(totals.line_extension),
            "allowance_total": _money(totals.allowance_total),
            "charge_total": _money(totals.charge_total),
            "tax_exclusive": _money(totals.tax_exclusive),
            "vat": _money(totals.vat),
            "tax_inclusive": _money(totals.tax_inclusive),
            "payable": _money(totals.payable),
        },
        "activity_name": invoice.activity.name,
        "member_name": invoice.activity.owner.legal_name,
        **({"settlement": settlement_of(invoice)} if invoice.is_credit_note else {}),
    }


def issue(
    *, invoice: Invoice, actor: User, today: datetime.date, now: datetime.datetime
) -> Invoice:
    """Number and freeze a locked invoice or credit note, post it to the ledger, queue documents.

    The caller holds the invoice's row lock inside a transaction.
    """
    if not invoice.lines.exists():
        raise InvoicingError(_("Add at least one line to the invoice."), code="empty")
    if invoice.client.peppol_id:
        try:
            check_participant_id(invoice.client.peppol_id)
        except ValueError as error:
            raise InvoicingError(
                _("The client's Peppol id is not valid: correct it in the client's record."),
                code="peppol_id",
            ) from error
    check_references(invoice)
    hooks.check_invoice(invoice)
    series = series_for(invoice.kind, today)
    invoice.series = series
    invoice.issue_date = today
    if invoice.is_credit_note:
        # A credit note asks for no payment: it has no due date.
        invoice.due_date = None
    elif invoice.due_date is None or invoice.due_date < today:
        invoice.due_date = today + datetime.timedelta(days=invoice.client.payment_terms_days)
    invoice.language = invoice.client.language
    # Everything that does not need the number comes first: the series' row, locked from the
    # moment the number is taken until the commit, makes every other issuer of the year wait.
    invoice.snapshot = build_snapshot(invoice)
    _queue_documents(invoice, actor=actor)

    invoice.sequence_number = _take_number(series=series, issue_date=today)
    invoice.number = f"{series}-{invoice.sequence_number:06d}"
    if invoice.kind == Invoice.Kind.INVOICE:
        invoice.structured_communication = structured_communication_for(
            issue_date=today, sequence_number=invoice.sequence_number
        )
    invoice.snapshot["number"] = invoice.number
    invoice.snapshot["structured_communication"] = invoice.structured_communication or ""
    invoice.status = Invoice.Status.ISSUED
    invoice.issued_at = now
    invoice.issued_by = actor
    invoice.save()
    record_event(action="issued", obj=invoice, actor=actor)

    if invoice.total_excl_vat:
        sign = -1 if invoice.is_credit_note else 1
        post_ledger_entry(
            activity=invoice.activity,
            kind=LedgerEntryKind.CLIENT_INCOME,
            stage=LedgerStage.PLANNED,
            amount=sign * invoice.total_excl_vat,
            reference=invoice.number,
            description=_("Credit note issued") if invoice.is_credit_note else _("Invoice issued"),
            author=actor,
            source=invoice,
            now=now,
        )
    hooks.invoice_issued(invoice=invoice, actor=actor, now=now)
    return invoice


def _queue_documents(invoice: Invoice, *, actor: User) -> None:
    from invoicing.tasks import render_invoice_document_task

    documents = [
        InvoiceDocument.objects.create(invoice=invoice, format=document_format)
        for document_format in InvoiceDocument.Format.values
    ]
    Dispatch.objects.create(
        invoice=invoice,
        channel=Dispatch.Channel.EMAIL,
        recipient=invoice.buyer_email,
        requested_by=actor,
    )
    # Over Peppol only when the buyer has a Peppol address: anyone else gets an EN 16931
    # invoice by e-mail alone (see invoicing.ubl.party_endpoint).
    endpoint = party_endpoint(invoice.snapshot["buyer"])
    if endpoint is not None:
        Dispatch.objects.create(
            invoice=invoice,
            channel=Dispatch.Channel.PEPPOL,
            recipient=":".join(endpoint),
            requested_by=actor,
        )
    for document in documents:
        transaction.on_commit(
            lambda pk=document.pk: render_invoice_document_task.delay(pk), robust=True
        )


def _vat_lines(invoice: Invoice, lines=None) -> list[tuple[str, str]]:
    lines = invoice.lines.all() if lines is None else lines
    return [(line.vat_category, line.supply_kind) for line in lines]


def place_of_supply_warning(invoice: Invoice, *, lines=None) -> str:
    """What the member of an invoice not yet issued should check about where it is taxed.

    ``lines``: the invoice's lines when they are already read (its own are read otherwise).
    """
    if invoice.kind != Invoice.Kind.INVOICE or invoice.is_issued:
        return ""
    return vat.place_of_supply_warning(vat.customer_of(invoice.client), _vat_lines(invoice, lines))


def _review_reason(invoice: Invoice) -> str:
    """The codes of the reasons to queue an invoice for staff review, read in any language."""
    reasons = []
    if invoice.total_incl_vat > settings.COOP_INVOICE_REVIEW_THRESHOLD:
        reasons.append(review_reasons.amount_above(settings.COOP_INVOICE_REVIEW_THRESHOLD))
    if (
        settings.COOP_INVOICE_REVIEW_NEW_CLIENTS
        and not Invoice.objects.filter(client=invoice.client, number__isnull=False).exists()
    ):
        reasons.append(review_reasons.FIRST_INVOICE_TO_CLIENT)
    if vat.charges_belgian_vat_abroad(vat.customer_of(invoice.client), _vat_lines(invoice)):
        reasons.append(review_reasons.PLACE_OF_SUPPLY)
    return review_reasons.join_codes(reasons)


@transaction.atomic
def submit_invoice(
    *,
    user: User,
    invoice: Invoice,
    today: datetime.date | None = None,
    now: datetime.datetime | None = None,
) -> Invoice:
    """Issue a draft at once, or queue it for staff review when a rule asks for it."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    invoice = (
        Invoice.objects.select_for_update().select_related("client", "activity").get(pk=invoice.pk)
    )
    if not invoice.is_editable:
        raise InvoicingError(_("This invoice was already submitted."), code="already_submitted")
    if invoice.kind != Invoice.Kind.INVOICE:
        raise InvoicingError(_("Credit notes are issued by staff."), code="credit_note")
    if invoice.activity.owner.status != Member.Status.ACTIVE:
        raise InvoicingError(
            _("Only the Activities of active members can invoice."), code="member_not_active"
        )
    check_references(invoice)
    hooks.check_invoice(invoice)
    invoice.submitted_at = now
    reason = _review_reason(invoice)
    record_event(
        action="submitted",
        obj=invoice,
        actor=user,
        reason=review_reasons.render_review_reason(reason),
    )
    if reason:
        invoice.status = Invoice.Status.PENDING_REVIEW
        invoice.review_reason = reason
        invoice.save(update_fields=["status", "review_reason", "submitted_at"])
        return invoice
    return issue(invoice=invoice, actor=user, today=today, now=now)


@transaction.atomic
def approve_invoice(
    *,
    staff_user: User,
    invoice: Invoice,
    today: datetime.date | None = None,
    now: datetime.datetime | None = None,
) -> Invoice:
    """Issue an invoice or credit note that waited for staff review.

    Nobody approves a document they requested or one of an Activity they own or share.
    """
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    invoice = (
        Invoice.objects.select_for_update().select_related("client", "activity").get(pk=invoice.pk)
    )
    if invoice.status != Invoice.Status.PENDING_REVIEW:
        raise InvoicingError(_("This document is not waiting for review."), code="not_pending")
    if invoice.created_by_id == staff_user.pk or takes_part_in(staff_user, invoice.activity):
        raise InvoicingError(
            _(
                "You requested this document or take part in its Activity: another staff "
                "member must approve it."
            ),
            code="own_document",
        )
    if invoice.is_credit_note:
        from invoicing.services.credit import recheck_credit_note

        recheck_credit_note(invoice)
    record_event(action="approved", obj=invoice, actor=staff_user)
    issue(invoice=invoice, actor=staff_user, today=today, now=now)
    if invoice.is_credit_note:
        from invoicing.services.payments import refresh_payment_status

        refresh_payment_status(invoice=invoice.credited_invoice)
    return invoice


@transaction.atomic
def reject_invoice(*, staff_user: User, invoice: Invoice, reason: str) -> Invoice:
    """Send a submitted invoice back to its member with the reason."""
    if not reason.strip():
        raise InvoicingError(_("Say why the invoice is sent back."), code="reason", field="reason")
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.status != Invoice.Status.PENDING_REVIEW:
        raise InvoicingError(_("This document is not waiting for review."), code="not_pending")
    invoice.status = Invoice.Status.REJECTED
    invoice.review_reason = reason.strip()[:255]
    invoice.save(update_fields=["status", "review_reason"])
    record_event(action="rejected", obj=invoice, actor=staff_user, reason=invoice.review_reason)
    return invoice
