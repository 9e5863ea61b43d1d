"""The related rows of an invoice's page written in Python: the markup of its template loops.

The page (invoicing/invoice_detail.html) lists the invoice's payments, refunds, credit notes and
sendings, read as dicts (invoicing/detail.py). These tags write the very markup of the loops
they replace (tests/invoicing/test_invoice_detail_rows.py compares them, in each language).
"""

from django import template
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime
from django.utils.translation import gettext

from coop.templatetags.money import euro
from invoicing.models import Dispatch, Invoice, Payment, Refund

register = template.Library()

# A primary key no invoice has, replaced in the one reversed address by each row's own.
_SENTINEL = 987654321987

_PAYMENT_METHODS = dict(Payment.Method.choices)
_REFUND_STATUSES = dict(Refund.Status.choices)
_INVOICE_STATUSES = dict(Invoice.Status.choices)
_DISPATCH_CHANNELS = dict(Dispatch.Channel.choices)
_DISPATCH_STATUSES = dict(Dispatch.Status.choices)


def _label(labels: dict, value: str) -> str:
    """``get_<field>_display()``, escaped."""
    return conditional_escape(labels.get(value, value))


def _date_time(moment) -> str:
    """``{{ moment|date:"SHORT_DATETIME_FORMAT"|default:"—" }}``."""
    if moment is None:
        return "—"
    return conditional_escape(date_format(template_localtime(moment), "SHORT_DATETIME_FORMAT"))


@register.simple_tag
def refund_paragraphs(refunds: list[dict]) -> SafeString:
    """A paragraph per refund (``amount``, ``status``)."""
    return mark_safe(  # noqa: S308 (every value is escaped)
        "".join(
            "<p>"
            + gettext("Refund of %(amount)s: %(status)s.")
            % {
                "amount": conditional_escape(euro(refund["amount"])),
                "status": _label(_REFUND_STATUSES, refund["status"]),
            }
            + "</p>"
            for refund in refunds
        )
    )


@register.simple_tag
def payment_rows(payments: list[dict]) -> SafeString:
    """The rows of the payments table (``received_on``, ``method``, ``amount``)."""
    rows = []
    for payment in payments:
        received_on = conditional_escape(date_format(payment["received_on"], "SHORT_DATE_FORMAT"))
        rows.append(
            f"\n    <tr><td>{received_on}</td>"
            f"<td>{_label(_PAYMENT_METHODS, payment['method'])}</td>"
            f'<td class="number">{conditional_escape(euro(payment["amount"]))}</td></tr>\n  '
        )
    return mark_safe("".join(rows))  # noqa: S308 (every value is escaped above)


@register.simple_tag
def credit_note_rows(credit_notes: list[dict]) -> SafeString:
    """The rows of the credit notes table (``pk``, ``number``, ``notes``, ``status``,
    ``total_incl_vat``)."""
    address = conditional_escape(reverse("invoicing:invoice_detail", args=[_SENTINEL]))
    rows = []
    for note in credit_notes:
        link = address.replace(str(_SENTINEL), str(note["pk"]))
        number = note["number"] or gettext("requested")
        status = note["status"]
        rows.append(
            "\n    <tr>"
            f'\n      <th scope="row"><a href="{link}">{conditional_escape(number)}</a></th>'
            f"\n      <td>{conditional_escape(note['notes'])}</td>"
            f'\n      <td><span class="badge status-{conditional_escape(status)}">'
            f"{_label(_INVOICE_STATUSES, status)}</span>\n</td>"
            f'\n      <td class="number">{conditional_escape(euro(note["total_incl_vat"]))}</td>'
            "\n    </tr>\n  "
        )
    return mark_safe("".join(rows))  # noqa: S308 (every value is escaped above)


@register.simple_tag
def dispatch_rows(dispatches: list[dict]) -> SafeString:
    """The rows of the sendings table (``created_at``, ``channel``, ``recipient``, ``status``,
    ``sent_at``)."""
    rows = []
    for dispatch in dispatches:
        status = dispatch["status"]
        rows.append(
            "\n    <tr>"
            f"\n      <td>{_date_time(dispatch['created_at'])}</td>"
            f"\n      <td>{_label(_DISPATCH_CHANNELS, dispatch['channel'])}</td>"
            f"\n      <td>{conditional_escape(dispatch['recipient'])}</td>"
            f'\n      <td><span class="badge dispatch-{conditional_escape(status)}">'
            f"{_label(_DISPATCH_STATUSES, status)}</span></td>"
            f"\n      <td>{_date_time(dispatch['sent_at'])}</td>"
            "\n    </tr>\n  "
        )
    return mark_safe("".join(rows))  # noqa: S308 (every value is escaped above)
