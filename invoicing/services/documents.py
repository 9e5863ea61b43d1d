"""Rendering invoice documents and sending invoices and reminders to clients."""

import datetime

from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from lxml import etree

from audit.models import AuditAction
from audit.services import record_event
from coop import recovery
from coop.documents import DocumentStatus
from invoicing import hooks
from invoicing.errors import InvoicingError
from invoicing.links import invoice_links
from invoicing.models import Dispatch, Invoice, InvoiceDocument, Reminder
from invoicing.ubl import is_peppol_document

# A failed render is retried by Celery with back-off; the sweep tries again this long after.
RETRY_AFTER = datetime.timedelta(minutes=10)
MAX_ATTEMPTS = 10


def render_document(*, document: InvoiceDocument, now: datetime.datetime | None = None) -> bool:
    """Render a pending document from the invoice's snapshot; return whether it was rendered.

    A document already ready is left alone, so a redelivered task renders nothing twice.
    """
    from invoicing.pdf import render_invoice_pdf
    from invoicing.ubl import build_ubl

    with transaction.atomic():
        document = (
            InvoiceDocument.objects.select_for_update()
            .select_related("invoice")
            .get(pk=document.pk)
        )
        if document.status == DocumentStatus.READY:
            return False
        document.attempts += 1
        document.save(update_fields=["attempts"])
    snapshot = document.invoice.snapshot
    try:
        if document.format == InvoiceDocument.Format.PDF:
            content, extension = render_invoice_pdf(snapshot), "pdf"
        else:
            content, extension = build_ubl(snapshot), "xml"
    except Exception as error:
        InvoiceDocument.objects.filter(pk=document.pk).update(
            status=DocumentStatus.FAILED, error=f"{type(error).__name__}: {error}"[:2000]
        )
        raise
    with transaction.atomic():
        document = InvoiceDocument.objects.select_for_update().get(pk=document.pk)
        if document.status == DocumentStatus.READY:
            return False
        document.store(content=content, filename=f"{snapshot['number']}.{extension}", now=now)
        invoice = document.invoice
        if not invoice.documents.exclude(status=DocumentStatus.READY).exists():
            _queue_dispatches(invoice)
    return True


def _queue_dispatches(invoice: Invoice) -> None:
    from invoicing.tasks import send_dispatch_task

    for dispatch_pk in invoice.dispatches.filter(status=Dispatch.Status.PENDING).values_list(
        "pk", flat=True
    ):
        transaction.on_commit(lambda pk=dispatch_pk: send_dispatch_task.delay(pk), robust=True)


@transaction.atomic
def request_resend(*, invoice: Invoice, user, recipient: str = "") -> Dispatch:
    """Send an issued invoice again by e-mail (to the client or another address)."""
    from invoicing.tasks import send_dispatch_task

    if not invoice.is_issued:
        raise InvoicingError(_("Only issued invoices can be sent."), code="not_issued")
    dispatch = Dispatch.objects.create(
        invoice=invoice,
        channel=Dispatch.Channel.EMAIL,
        recipient=recipient or invoice.buyer_email,
        requested_by=user,
    )
    record_event(action="requested", obj=dispatch, actor=user, reason=dispatch.recipient)
    if not invoice.documents.exclude(status=DocumentStatus.READY).exists():
        transaction.on_commit(lambda: send_dispatch_task.delay(dispatch.pk), robust=True)
    return dispatch


def send_dispatch(*, dispatch: Dispatch, now: datetime.datetime | None = None) -> bool:
    """Send one dispatch (e-mail or Peppol) once its documents are ready; return whether sent."""
    from invoicing.peppol import get_transport

    now = now or timezone.now()
    with transaction.atomic():
        dispatch = (
            Dispatch.objects.select_for_update().select_related("invoice").get(pk=dispatch.pk)
        )
        if dispatch.status == Dispatch.Status.SENT:
            return False
        invoice = dispatch.invoice
        documents = {document.format: document for document in invoice.documents.all()}
        if any(not document.is_ready for document in documents.values()):
            return False
        if dispatch.channel == Dispatch.Channel.PEPPOL:
            with documents[InvoiceDocument.Format.UBL].file.open("rb") as handle:
                payload = handle.read()
            if not is_peppol_payload(payload):
                # An EN 16931 invoice for a buyer without Peppol address goes by e-mail only.
                dispatch.status = Dispatch.Status.FAILED
                dispatch.error = _(
                    "Not sent over Peppol: the client has no Peppol address, so the e-invoice "
                    "is an EN 16931 document, not a Peppol BIS one. It goes by e-mail with "
                    "the PDF."
                )
                dispatch.save(update_fields=["status", "error"])
                return False
            refusal = peppol_refusal(payload)
            if refusal:
                dispatch.status = Dispatch.Status.FAILED
                dispatch.error = refusal
                dispatch.save(update_fields=["status", "error"])
                record_event(action=AuditAction.PEPPOL_REFUSED, obj=dispatch, reason=refusal)
                return False
            dispatch.reference = get_transport().send(
                document_number=invoice.number, receiver_id=dispatch.recipient, payload=payload
            )
        else:
            _send_invoice_email(invoice, documents, recipient=dispatch.recipient)
        dispatch.status = Dispatch.Status.SENT
        dispatch.sent_at = now
        dispatch.error = ""
        dispatch.save(update_fields=["status", "sent_at", "reference", "error"])
    return True


def _send_invoice_email(invoice: Invoice, documents: dict, *, recipient: str) -> None:
    snapshot = invoice.snapshot
    with translation.override(invoice.language):
        # The address where the recipient views the document online (the portal registers it).
        view_online = hooks.email_link(invoice, recipient)
        context = {
            "invoice": invoice,
            "snapshot": snapshot,
            "links": invoice_links(invoice),
            "view_online": view_online,
        }
        subject = render_to_string("emails/invoice_subject.txt", context).strip()
        body = render_to_string("emails/invoice.txt", context)
    message = EmailMessage(subject=subject, body=body, to=[recipient])
    with documents[InvoiceDocument.Format.PDF].file.open("rb") as handle:
        message.attach(f"{invoice.number}.pdf", handle.read(), "application/pdf")
    # The UBL goes along to every business, and to any buyer who cannot be reached on Peppol,
    # for whom the e-mail is the only channel of the e-invoice.
    if invoice.client.is_business or not is_peppol_document(snapshot):
        with documents[InvoiceDocument.Format.UBL].file.open("rb") as handle:
            message.attach(f"{invoice.number}.xml", handle.read(), "application/xml")
    message.send()


# How many validation messages a refused sending keeps as its reason.
REFUSAL_MESSAGES = 3


def peppol_refusal(payload: bytes) -> str:
    """Validate a UBL document before it goes on Peppol; return why it may not, or "".

    The XSD, CEN and Peppol rules run (:func:`invoicing.validation.check_ubl`): a fatal failure
    keeps the document off the network, warnings alone do not.
    """
    from invoicing.validation import check_ubl

    report = check_ubl(payload)
    if report.is_valid:
        return ""
    count = len(report.errors)
    reason = ngettext(
        "Not sent over Peppol: the e-invoice breaks %(count)d validation rule: %(errors)s",
        "Not sent over Peppol: the e-invoice breaks %(count)d validation rules: %(errors)s",
        count,
    ) % {"count": count, "errors": " | ".join(report.errors[:REFUSAL_MESSAGES])}
    if count > REFUSAL_MESSAGES:
        more = count - REFUSAL_MESSAGES
        reason += " | " + ngettext(
            "…and %(count)d more error.", "…and %(count)d more errors.", more
        ) % {"count": more}
    return reason


def is_peppol_payload(payload: bytes) -> bool:
    """Tell whether a stored UBL document claims the Peppol BIS Billing customization."""
    from invoicing.validation import claims_peppol

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        return claims_peppol(etree.fromstring(payload, parser))
    except etree.XMLSyntaxError:
        return False


def send_reminder_email(*, reminder: Reminder, now: datetime.datetime | None = None) -> bool:
    """E-mail a payment reminder to the client, once."""
    with transaction.atomic():
        reminder = (
            Reminder.objects.select_for_update()
            .select_related("invoice__client")
            .get(pk=reminder.pk)
        )
        if reminder.emailed_at is not None:
            return False
        invoice = reminder.invoice
        view_online = hooks.email_link(invoice, invoice.buyer_email)
        with translation.override(invoice.language):
            context = {
                "invoice": invoice,
                "snapshot": invoice.snapshot,
                "reminder": reminder,
                "links": invoice_links(invoice),
                "view_online": view_online,
            }
            subject = render_to_string("emails/reminder_subject.txt", context).strip()
            body = render_to_string("emails/reminder.txt", context)
        EmailMessage(subject=subject, body=body, to=[invoice.buyer_email]).send()
        reminder.emailed_at = now or timezone.now()
        reminder.save(update_fields=["emailed_at"])
    return True


def lost_documents(*, now: datetime.datetime) -> QuerySet[InvoiceDocument]:
    """Documents to render again: pending while their message was lost, or failed a while ago."""
    return (
        InvoiceDocument.objects.exclude(status=DocumentStatus.READY)
        .alias(last_queued=Coalesce(F("queued_at"), F("created_at")))
        .filter(
            Q(status=DocumentStatus.PENDING, last_queued__lt=now - recovery.LOST_AFTER)
            | Q(
                status=DocumentStatus.FAILED,
                attempts__lt=MAX_ATTEMPTS,
                last_queued__lt=now - RETRY_AFTER,
            )
        )
    )


def lost_dispatches(*, now: datetime.datetime) -> QuerySet[Dispatch]:
    """Pending sendings whose documents are all ready, and whose message was lost."""
    unready = InvoiceDocument.objects.filter(invoice=OuterRef("invoice")).exclude(
        status=DocumentStatus.READY
    )
    return recovery.waiting_too_long(
        Dispatch.objects.filter(status=Dispatch.Status.PENDING).filter(~Exists(unready)), now=now
    )


def lost_reminders(*, now: datetime.datetime) -> QuerySet[Reminder]:
    """Reminders created but not e-mailed, whose message was lost."""
    return recovery.waiting_too_long(Reminder.objects.filter(emailed_at__isnull=True), now=now)
