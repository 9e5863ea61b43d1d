"""The invoice page, the credit note form and the payments API read through compiled queries
(invoicing/detail.py) and with rows written in Python answer exactly as before."""

import datetime
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import OuterRef
from django.template import engines
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from coop.documents import DocumentStatus
from invoicing import detail
from invoicing.amounts import add_amounts_due
from invoicing.api import PaymentSerializer
from invoicing.forms import ResendForm
from invoicing.models import Dispatch, Invoice, InvoiceDocument, Payment, Refund
from invoicing.services import credit
from invoicing.services.credit import request_credit_note
from invoicing.services.issue import submit_invoice
from invoicing.templatetags.invoice_detail_rows import (
    credit_note_rows,
    dispatch_rows,
    payment_rows,
    refund_paragraphs,
)
from invoicing.views import _detail_context
from tests.conftest import NOW, api_client_for
from tests.invoicing.conftest import TODAY, make_draft

# templates/invoicing/invoice_detail.html before its loops became tags.
FORMER_PAGE = (Path(__file__).parent / "data" / "invoice_detail_before_rows.html").read_text()
LOOPS = {
    "payments": """{% load i18n money %}{% for payment in payments %}
    <tr><td>{{ payment.received_on|date:"SHORT_DATE_FORMAT" }}</td><td>{{ payment.get_method_display }}</td><td class="number">{{ payment.amount|euro }}</td></tr>
  {% endfor %}""",  # noqa: E501
    "refunds": """{% load i18n money %}{% for refund in refunds %}<p>{% blocktranslate with amount=refund.amount|euro status=refund.get_status_display trimmed %}Refund of {{ amount }}: {{ status }}.{% endblocktranslate %}</p>{% endfor %}""",  # noqa: E501
    "credit_notes": """{% load i18n money %}{% for note in credit_notes %}
    <tr>
      <th scope="row"><a href="{% url 'invoicing:invoice_detail' note.pk %}">{{ note.number|default:_("requested") }}</a></th>
      <td>{{ note.notes }}</td>
      <td>{% include "invoicing/_status.html" with invoice=note overdue=False %}</td>
      <td class="number">{{ note.total_incl_vat|euro }}</td>
    </tr>
  {% endfor %}""",  # noqa: E501
    "dispatches": """{% load i18n money %}{% for dispatch in dispatches %}
    <tr>
      <td>{{ dispatch.created_at|date:"SHORT_DATETIME_FORMAT" }}</td>
      <td>{{ dispatch.get_channel_display }}</td>
      <td>{{ dispatch.recipient }}</td>
      <td><span class="badge dispatch-{{ dispatch.status }}">{{ dispatch.get_status_display }}</span></td>
      <td>{{ dispatch.sent_at|date:"SHORT_DATETIME_FORMAT"|default:"—" }}</td>
    </tr>
  {% endfor %}""",  # noqa: E501
}
MARKUP = 'Théâtre <b>des</b> "Galeries" & Cie'
MOMENT = datetime.datetime(2026, 3, 2, 23, 30, tzinfo=datetime.UTC)


def _rows(instances, *names):
    return [{name: getattr(instance, name) for name in names} for instance in instances]


@pytest.mark.parametrize("language", ["fr", "nl", "en"])
def test_the_rows_read_as_the_template_loops(language):
    payments = [
        Payment(received_on=datetime.date(2026, 3, 2), method=method, amount=Decimal(amount))
        for method, amount in zip(
            Payment.Method.values, ["0.01", "1234567.89", "72.56", "5"], strict=False
        )
    ]
    refunds = [Refund(amount=Decimal("1234.50"), status=status) for status in Refund.Status.values]
    notes = [
        Invoice(pk=7, number="NC-2026-000001", notes=MARKUP, status=status, total_incl_vat=amount)
        for status, amount in zip(
            Invoice.Status.values, [Decimal("0.00"), Decimal("1369.00")] * 9, strict=False
        )
    ] + [Invoice(pk=8, number=None, notes="", status="pending_review", total_incl_vat=Decimal(1))]
    dispatches = [
        Dispatch(
            created_at=MOMENT,
            channel=channel,
            recipient=MARKUP,
            status=status,
            sent_at=MOMENT if index % 2 else None,
        )
        for index, (channel, status) in enumerate(
            zip(Dispatch.Channel.values * 4, Dispatch.Status.values * 4, strict=False)
        )
    ]
    with translation.override(language), timezone.override("Europe/Brussels"):
        render = {name: engines["django"].from_string(loop).render for name, loop in LOOPS.items()}
        assert payment_rows(_rows(payments, "received_on", "method", "amount")) == render[
            "payments"
        ]({"payments": payments})
        assert refund_paragraphs(_rows(refunds, "amount", "status")) == render["refunds"](
            {"refunds": refunds}
        )
        assert credit_note_rows(
            _rows(notes, "pk", "number", "notes", "status", "total_incl_vat")
        ) == render["credit_notes"]({"credit_notes": notes})
        assert dispatch_rows(
            _rows(dispatches, "created_at", "channel", "recipient", "status", "sent_at")
        ) == render["dispatches"]({"dispatches": dispatches})
        for tag in (payment_rows, refund_paragraphs, credit_note_rows, dispatch_rows):
            assert tag([]) == ""


@pytest.fixture
def issued(member, staff, draft, no_review):
    """An issued invoice paid beyond what is due, with a refund of it, a requested credit note
    and its sendings."""
    invoice = submit_invoice(user=member.user, invoice=draft, today=TODAY, now=NOW)
    for amount in ("50.00", "30.00"):
        Payment.objects.create(
            invoice=invoice, amount=Decimal(amount), received_on=TODAY, recorded_by=staff
        )
    Refund.objects.create(
        invoice=invoice,
        amount=Decimal("7.44"),
        account_holder="Galeries",
        client_iban="BE68539007547034",
        method=Refund.Method.SEPA_TRANSFER,
        requested_by=staff,
    )
    request_credit_note(user=member.user, invoice=invoice, reason=MARKUP)
    return invoice


def _former_page(user, pk: int, language: str) -> str:
    """The page as the former view and template wrote it: the invoice read by the ORM, its
    related rows by its managers in the template."""
    ready_formats = InvoiceDocument.objects.filter(
        invoice=OuterRef("pk"), status=DocumentStatus.READY
    ).values("format")
    invoice = (
        Invoice.objects.select_related("client", "activity")
        .with_settled_amounts()
        .annotate(ready_formats=ArraySubquery(ready_formats))
        .get(pk=pk)
    )
    add_amounts_due([invoice])
    for name in detail._RELATED_ROWS:
        setattr(invoice, name, [])  # The former template reads them through the managers.
    context = _detail_context(invoice)
    context["payments"] = invoice.payments.all()
    context["credit_notes"] = [] if invoice.is_credit_note else invoice.credit_notes.all()
    context["dispatches"] = invoice.dispatches.all()
    context["resend_form"] = ResendForm()
    request = RequestFactory().get(f"/invoices/{pk}/")
    request.user = user
    request.LANGUAGE_CODE = language
    return engines["django"].from_string(FORMER_PAGE).render(context, request)


def _main(html: str) -> str:
    """The page's content block, its form tokens blanked."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)
    return html[html.index('<p class="breadcrumb">') : html.index("</main>")]


@pytest.mark.parametrize("language", ["fr", "nl", "en"])
def test_the_page_reads_as_the_former_template(client, member, issued, draft, language):
    note = issued.credit_notes.get()
    client.force_login(member.user)
    client.cookies["coop_language"] = language
    for pk in (issued.pk, note.pk):
        response = client.get(f"/invoices/{pk}/")
        assert response.status_code == 200
        with translation.override(language):
            assert _main(response.content.decode()) == _main(
                _former_page(member.user, pk, language)
            )
    page = client.get(f"/invoices/{issued.pk}/").content.decode()
    assert "Théâtre &lt;b&gt;des&lt;/b&gt; &quot;Galeries&quot; &amp; Cie" in page


def test_another_members_invoice_is_not_found(client, other_member, issued):
    client.force_login(other_member.user)
    for url in (f"/invoices/{issued.pk}/", f"/invoices/{issued.pk}/credit-note/"):
        assert client.get(url).status_code == 404
    api = api_client_for(other_member.user)
    assert api.get(f"/api/v1/invoices/{issued.pk}/payments/").status_code == 404
    assert detail.invoice_shown_to(other_member.user, issued.pk) is None
    assert detail.invoice_to_credit(other_member.user, issued.pk) is None
    assert detail.payments_shown_to(other_member.user, issued.pk) is None


def test_staff_see_every_invoice(staff, issued):
    assert detail.invoice_shown_to(staff, issued.pk).pk == issued.pk
    assert detail.invoice_to_credit(staff, issued.pk).pk == issued.pk
    assert len(detail.payments_shown_to(staff, issued.pk)) == 2


def test_the_invoice_read_is_the_orms(member, issued):
    shown = detail.invoice_shown_to(member.user, issued.pk)
    orm = Invoice.objects.with_amounts().select_related("client", "activity").get(pk=issued.pk)
    for field in Invoice._meta.concrete_fields:
        assert getattr(shown, field.attname) == getattr(orm, field.attname), field.name
    for field in orm.client._meta.concrete_fields:
        assert getattr(shown.client, field.attname) == getattr(orm.client, field.attname)
    assert shown.activity.name == orm.activity.name
    for name in ("amount_paid", "amount_credited", "amount_due", "amount_to_refund"):
        assert getattr(shown, name) == getattr(orm, name), name
    assert shown.amount_to_refund == Decimal("7.44")


def test_the_credit_position_is_the_same_from_the_compiled_reads(member, issued):
    orm = Invoice.objects.defer("snapshot").get(pk=issued.pk)
    shown = detail.invoice_to_credit(member.user, issued.pk)
    detail.prefetch_credit_documents(shown)
    with CaptureQueriesContext(connection) as queries:
        position = credit.credit_position(shown)
    assert len(queries) == 0
    expected = credit.credit_position(orm)
    assert position.credited_incl_vat == expected.credited_incl_vat
    assert [(entry.line.pk, entry.left_net) for entry in position.lines] == [
        (entry.line.pk, entry.left_net) for entry in expected.lines
    ]


def test_the_payments_api_answers_as_the_serializer(member, staff, issued):
    api = api_client_for(member.user)
    url = f"/api/v1/invoices/{issued.pk}/payments/"
    api.get(url)  # the first request of a token also records its use
    with CaptureQueriesContext(connection) as queries:
        response = api.get(url)
    assert response.status_code == 200
    payments = Payment.objects.filter(invoice=issued).order_by("received_on", "pk")
    assert response.json() == PaymentSerializer(payments, many=True).data
    assert len(queries) <= 5
    assert api.get("/api/v1/invoices/999999999/payments/").status_code == 404


def test_the_page_reads_its_related_rows_with_the_invoice(
    client, member, activity, belgian_client, issued
):
    """Payments, refunds, credit notes and sendings come in the invoice's one query."""
    draft = make_draft(member, activity, belgian_client)
    unpaid = submit_invoice(user=member.user, invoice=draft, today=TODAY, now=NOW)
    client.force_login(member.user)

    def queries_of(invoice):
        client.get(f"/invoices/{invoice.pk}/")
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/invoices/{invoice.pk}/").status_code == 200
        return len(queries)

    # And one more for the panels other apps add (the client portal's questions).
    assert queries_of(issued) == queries_of(unpaid) <= 4
