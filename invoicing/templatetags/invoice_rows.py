"""The invoice list's rows written in Python: the markup of its template loop, faster.

A page of the list shows 25 invoices of eight cells each, with a link and a status badge per row;
through the template engine each cell costs variable lookups, filters and escaping, and each
badge an include. This tag writes the very same markup (tests/invoicing/test_invoice_rows.py
compares it with the loop it replaces, in each language).
"""

from decimal import Decimal

from django import template
from django.urls import reverse
from django.utils.formats import date_format, get_format
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from coop.templatetags.money import euro
from invoicing.models import Invoice

register = template.Library()

# A primary key no invoice has, replaced in the one reversed address by each row's own.
_SENTINEL = 987654321987


# What the day and month of SHORT_DATE_FORMAT's letters write (django.utils.dateformat).
_DATE_PARTS = {
    "d": lambda day: f"{day.day:02d}",
    "j": lambda day: str(day.day),
    "m": lambda day: f"{day.month:02d}",
    "n": lambda day: str(day.month),
    "Y": lambda day: f"{day.year:04d}",
    "y": lambda day: f"{day.year % 100:02d}",
}


class _Formats:
    """Dates and amounts of one language as ``date:"SHORT_DATE_FORMAT"`` and ``euro`` write
    them, without looking the language's formats up for each value: the formats are read once
    per list, and the usual ones (day, month and year letters between separators; amounts of
    two decimals grouped by three) are written directly. Anything else goes through Django.
    """

    def __init__(self):
        date_format_string = get_format("SHORT_DATE_FORMAT")
        if all(c in _DATE_PARTS or (not c.isalpha() and c != "\\") for c in date_format_string):
            self.date_parts = [_DATE_PARTS.get(c, c) for c in date_format_string]
        else:
            self.date_parts = None
        self.decimal_separator = get_format("DECIMAL_SEPARATOR")
        self.thousand_separator = get_format("THOUSAND_SEPARATOR")
        self.grouped_by_three = get_format("NUMBER_GROUPING") == 3

    def short_date(self, day) -> str:
        """``{{ day|date:"SHORT_DATE_FORMAT"|default:"—" }}``."""
        if day is None:
            return "—"
        if self.date_parts is None:
            return conditional_escape(date_format(day, "SHORT_DATE_FORMAT"))
        text = "".join(part if isinstance(part, str) else part(day) for part in self.date_parts)
        return conditional_escape(text)

    def euro(self, amount: Decimal) -> str:
        """``{{ amount|euro }}``."""
        if (
            not isinstance(amount, Decimal)
            or not amount.is_finite()
            or amount.as_tuple().exponent != -2
            or not self.grouped_by_three
        ):
            return conditional_escape(euro(amount))
        sign = "-" if amount < 0 else ""
        whole, cents = f"{abs(amount):f}".split(".")
        groups = []
        while len(whole) > 3:
            whole, group = whole[:-3], whole[-3:]
            groups.append(group)
        groups.append(whole)
        whole = self.thousand_separator.join(reversed(groups))
        return conditional_escape(f"{sign}{whole}{self.decimal_separator}{cents}\u00a0€")


def _amount_due(invoice: Invoice, formats: _Formats) -> str:
    if not invoice.is_issued or invoice.is_credit_note:
        return "—"
    if invoice.amount_to_refund:
        amount = formats.euro(invoice.amount_to_refund)
        return gettext("%(amount)s to refund") % {"amount": amount}
    return formats.euro(invoice.amount_due)


def _status(invoice: Invoice) -> str:
    """The markup of invoicing/_status.html (with its last line break)."""
    badge = (
        f'<span class="badge status-{conditional_escape(invoice.status)}">'
        f"{conditional_escape(invoice.get_status_display())}</span>"
    )
    if invoice.overdue:
        overdue = conditional_escape(gettext("overdue"))
        badge += f' <span class="badge status-overdue">{overdue}</span>'
    return badge + "\n"


@register.simple_tag
def invoice_list_rows(invoices: list[Invoice]) -> SafeString:
    """The rows of the invoice list (invoicing/invoice_list.html); each invoice carries the
    view's ``list_buyer_name`` and ``overdue``."""
    address = conditional_escape(reverse("invoicing:invoice_detail", args=[_SENTINEL]))
    draft = conditional_escape(gettext("Draft"))
    credit_note_badge = f' <span class="badge">{conditional_escape(gettext("credit note"))}</span>'
    formats = _Formats()
    rows = []
    for invoice in invoices:
        link = address.replace(str(_SENTINEL), str(invoice.pk))
        number = conditional_escape(invoice.number) if invoice.number else draft
        badge = credit_note_badge if invoice.is_credit_note else ""
        due = "—" if invoice.is_credit_note else formats.short_date(invoice.due_date)
        rows.append(
            "\n    <tr>"
            f'\n      <th scope="row"><a href="{link}">{number}</a>{badge}</th>'
            f"\n      <td>{conditional_escape(invoice.list_buyer_name)}</td>"
            f"\n      <td>{conditional_escape(invoice.activity.name)}</td>"
            f"\n      <td>{formats.short_date(invoice.issue_date)}</td>"
            f"\n      <td>{due}</td>"
            f'\n      <td class="number">{formats.euro(invoice.total_incl_vat)}</td>'
            f'\n      <td class="number">{_amount_due(invoice, formats)}</td>'
            f"\n      <td>{_status(invoice)}</td>"
            "\n    </tr>\n  "
        )
    return mark_safe("".join(rows))  # noqa: S308 (every value is escaped above)


@register.simple_tag
def invoice_filter_fields(filters) -> SafeString:
    """The fields of the invoice list's filter form, as its template loop wrote them."""
    parts = []
    for field in filters:
        has_error = " has-error" if field.errors else ""
        errors = "".join(
            f'<p class="error">{conditional_escape(error)}</p>' for error in field.errors
        )
        parts.append(
            f'\n  <div class="field{has_error}">'
            f"\n    {field.label_tag()}"
            f"\n    {field}"
            f"\n    {errors}"
            "\n  </div>\n  "
        )
    return mark_safe("".join(parts))  # noqa: S308 (labels and widgets are safe, errors escaped)
