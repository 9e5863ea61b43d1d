"""The invoice list's rows written in Python read exactly as the template loop they replace."""

import datetime
import itertools
from decimal import Decimal

import pytest
from django.template import engines
from django.utils import translation
from django.utils.formats import date_format

from coop.templatetags.money import euro
from invoicing.forms import InvoiceFilterForm
from invoicing.models import Invoice
from invoicing.templatetags.invoice_rows import _Formats, invoice_filter_fields, invoice_list_rows
from members.models import Activity

# templates/invoicing/invoice_list.html's loop before the tag.
LOOP = """{% load i18n money %}{% for invoice in invoices %}
    <tr>
      <th scope="row"><a href="{% url 'invoicing:invoice_detail' invoice.pk %}">{% if invoice.number %}{{ invoice.number }}{% else %}{% translate "Draft" %}{% endif %}</a>{% if invoice.is_credit_note %} <span class="badge">{% translate "credit note" %}</span>{% endif %}</th>
      <td>{{ invoice.list_buyer_name }}</td>
      <td>{{ invoice.activity.name }}</td>
      <td>{{ invoice.issue_date|date:"SHORT_DATE_FORMAT"|default:"—" }}</td>
      <td>{% if invoice.is_credit_note %}—{% else %}{{ invoice.due_date|date:"SHORT_DATE_FORMAT"|default:"—" }}{% endif %}</td>
      <td class="number">{{ invoice.total_incl_vat|euro }}</td>
      <td class="number">{% if invoice.is_issued and not invoice.is_credit_note %}{% if invoice.amount_to_refund %}{% blocktranslate with amount=invoice.amount_to_refund|euro %}{{ amount }} to refund{% endblocktranslate %}{% else %}{{ invoice.amount_due|euro }}{% endif %}{% else %}—{% endif %}</td>
      <td>{% include "invoicing/_status.html" with overdue=invoice.overdue %}</td>
    </tr>
  {% endfor %}"""  # noqa: E501


def invoice(pk, *, number, kind=Invoice.Kind.INVOICE, status, overdue=False, **amounts):
    row = Invoice(
        pk=pk,
        number=number,
        kind=kind,
        status=status,
        issue_date=datetime.date(2026, 3, 2) if number else None,
        due_date=datetime.date(2026, 4, 1) if number else None,
        total_incl_vat=amounts.get("total", Decimal("1369.00")),
    )
    row.activity = Activity(pk=7, name='Lumière & <Son> "d\'été"')
    row.list_buyer_name = "Théâtre <des> Galeries & Cie"
    row.amount_due = amounts.get("due", Decimal("1369.00"))
    row.amount_to_refund = amounts.get("refund", Decimal("0.00"))
    row.overdue = overdue
    return row


ROWS = [
    invoice(1, number=None, status=Invoice.Status.DRAFT),
    invoice(2, number="2026-000002", status=Invoice.Status.ISSUED, overdue=True),
    invoice(3, number="2026-000003", status=Invoice.Status.PARTIALLY_PAID, due=Decimal("-5.10")),
    invoice(
        4,
        number="2026-000004",
        status=Invoice.Status.PAID,
        due=Decimal("-20.00"),
        refund=Decimal("1234567.89"),
    ),
    invoice(
        5,
        number="NC-2026-000001",
        kind=Invoice.Kind.CREDIT_NOTE,
        status=Invoice.Status.ISSUED,
        total=Decimal("-100.00"),
    ),
]


def as_read(invoice: Invoice) -> dict:
    """The invoice as the view reads it for the tag (values(), then its amounts)."""
    columns = ["pk", "kind", "status", "number", "issue_date", "due_date", "total_incl_vat"]
    return {
        **{column: getattr(invoice, column) for column in columns},
        "activity_name": invoice.activity.name,
        "list_buyer_name": invoice.list_buyer_name,
        "amount_due": invoice.amount_due,
        "amount_to_refund": invoice.amount_to_refund,
        "overdue": invoice.overdue,
    }


@pytest.mark.parametrize("language", ["fr", "nl", "en"])
def test_the_rows_read_as_the_template_loop(language):
    with translation.override(language):
        expected = engines["django"].from_string(LOOP).render({"invoices": ROWS})
        assert invoice_list_rows([as_read(invoice) for invoice in ROWS]) == expected
        assert invoice_list_rows([]) == ""


AMOUNTS = ["0.00", "-0.00", "0.01", "-0.01", "5.10", "-5.10", "999.99", "1000.00", "-1000.00"]
AMOUNTS += ["123456.78", "1234567.89", "-1234567.89", "999999999.99", "12", "1.5", "0.001", "1E+3"]
DAYS = [datetime.date(2026, 1, 2), datetime.date(2026, 12, 31), datetime.date(999, 10, 9)]


@pytest.mark.parametrize("language", ["fr", "nl", "en"])
def test_dates_and_amounts_read_as_the_filters_write_them(language):
    with translation.override(language):
        formats = _Formats()
        assert formats.date_parts is not None
        for text in AMOUNTS:
            assert formats.euro(Decimal(text)) == euro(Decimal(text)), text
        for day in DAYS:
            assert formats.short_date(day) == date_format(day, "SHORT_DATE_FORMAT")
        assert formats.short_date(None) == "—"


def test_other_date_formats_go_through_django():
    with translation.override("en"):
        formats = _Formats()
        formats.date_parts = None
        assert formats.short_date(DAYS[0]) == date_format(DAYS[0], "SHORT_DATE_FORMAT")


# templates/invoicing/invoice_list.html's loop over the filter form before the tag.
FILTER_LOOP = """{% for field in filters %}
  <div class="field{% if field.errors %} has-error{% endif %}">
    {{ field.label_tag }}
    {{ field }}
    {% for error in field.errors %}<p class="error">{{ error }}</p>{% endfor %}
  </div>
  {% endfor %}"""


@pytest.mark.parametrize("language", ["fr", "nl", "en"])
def test_the_filter_fields_read_as_the_template_loop(language, member, other_activity):
    activities = [(7, 'Lumière & <Son> "d\'été"'), (9, "Autre")]
    wrong = {"status": "nope", "activity": str(other_activity.pk), "issued_from": "<b>"}
    right = {"status": "paid", "activity": "", "issued_to": "2026-03-01"}
    with translation.override(language):
        for data, given, clients in itertools.product(
            (None, wrong, right), (None, activities), (None, [(3, 'Café <b> & "Fils"')])
        ):
            filters = InvoiceFilterForm(data, user=member.user, activities=given, clients=clients)
            filters.is_valid()
            expected = engines["django"].from_string(FILTER_LOOP).render({"filters": filters})
            assert invoice_filter_fields(filters) == expected
        assert 'class="field has-error"' in invoice_filter_fields(
            InvoiceFilterForm(wrong, user=member.user)
        )
