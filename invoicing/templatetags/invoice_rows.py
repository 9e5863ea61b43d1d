"""The invoice list's rows written in Python: the markup of its template loop, faster.

A page of the list shows 25 invoices of eight cells each, with a link and a status badge per row;
through the template engine each cell costs variable lookups, filters and escaping, and each
badge an include. This tag writes the very same markup (tests/invoicing/test_invoice_rows.py
compares it with the loop it replaces, in each language).
"""

from decimal import Decimal

from django import template
from django.forms import ModelChoiceField
from django.urls import reverse
from django.utils.formats import date_format, get_format
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext

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


# The same letters as str.format() specs of the date (``y`` has none: two digits of the year).
_DATE_SPECS = {
    "d": "{0.day:02d}",
    "j": "{0.day}",
    "m": "{0.month:02d}",
    "n": "{0.month}",
    "Y": "{0.year:04d}",
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
        # The same parts as one str.format() pattern, when every letter has a format spec.
        self.date_pattern = None
        if self.date_parts is not None and all(
            c in _DATE_SPECS or c not in _DATE_PARTS for c in date_format_string
        ):
            self.date_pattern = "".join(
                _DATE_SPECS.get(c) or c.replace("{", "{{").replace("}", "}}")
                for c in date_format_string
            )
        self.decimal_separator = get_format("DECIMAL_SEPARATOR")
        self.thousand_separator = get_format("THOUSAND_SEPARATOR")
        self.grouped_by_three = get_format("NUMBER_GROUPING") == 3

    def short_date(self, day) -> str:
        """``{{ day|date:"SHORT_DATE_FORMAT"|default:"—" }}``."""
        if day is None:
            return "—"
        if self.date_parts is None:
            return conditional_escape(date_format(day, "SHORT_DATE_FORMAT"))
        if self.date_pattern is not None:
            return conditional_escape(self.date_pattern.format(day))
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


def _amount_due(invoice: dict, formats: _Formats) -> str:
    if invoice["number"] is None or invoice["kind"] == Invoice.Kind.CREDIT_NOTE:
        return "—"
    if invoice["amount_to_refund"]:
        amount = formats.euro(invoice["amount_to_refund"])
        return gettext("%(amount)s to refund") % {"amount": amount}
    return formats.euro(invoice["amount_due"])


def _status(invoice: dict, labels: dict) -> str:
    """The markup of invoicing/_status.html (with its last line break)."""
    status = invoice["status"]
    badge = (
        f'<span class="badge status-{conditional_escape(status)}">'
        f"{conditional_escape(labels.get(status, status))}</span>"
    )
    if invoice["overdue"]:
        overdue = conditional_escape(gettext("overdue"))
        badge += f' <span class="badge status-overdue">{overdue}</span>'
    return badge + "\n"


@register.simple_tag
def invoice_list_rows(invoices: list[dict]) -> SafeString:
    """The rows of the invoice list (invoicing/invoice_list.html): the invoices as the view
    reads them (``values()``, with ``activity_name``, ``list_buyer_name``, ``amount_due``,
    ``amount_to_refund`` and ``overdue``)."""
    address = conditional_escape(reverse("invoicing:invoice_detail", args=[_SENTINEL]))
    draft = conditional_escape(gettext("Draft"))
    credit_note_label = conditional_escape(gettext("credit note"))
    credit_note_badge = f' <span class="badge">{credit_note_label}</span>'
    labels = dict(Invoice.Status.choices)
    formats = _Formats()
    rows = []
    for invoice in invoices:
        link = address.replace(str(_SENTINEL), str(invoice["pk"]))
        number = conditional_escape(invoice["number"]) if invoice["number"] else draft
        is_credit_note = invoice["kind"] == Invoice.Kind.CREDIT_NOTE
        badge = credit_note_badge if is_credit_note else ""
        due = "—" if is_credit_note else formats.short_date(invoice["due_date"])
        rows.append(
            "\n    <tr>"
            f'\n      <th scope="row"><a href="{link}">{number}</a>{badge}</th>'
            f"\n      <td>{conditional_escape(invoice['list_buyer_name'])}</td>"
            f"\n      <td>{conditional_escape(invoice['activity_name'])}</td>"
            f"\n      <td>{formats.short_date(invoice['issue_date'])}</td>"
            f"\n      <td>{due}</td>"
            f'\n      <td class="number">{formats.euro(invoice["total_incl_vat"])}</td>'
            f'\n      <td class="number">{_amount_due(invoice, formats)}</td>'
            f"\n      <td>{_status(invoice, labels)}</td>"
            "\n    </tr>\n  "
        )
    return mark_safe("".join(rows))  # noqa: S308 (every value is escaped above)


# The label and widget of the filters that do not depend on the user (status, dates), by
# language, as an empty form writes them.
_UNBOUND_FIELDS: dict[tuple[str | None, str], str] = {}


def _select(field, choices: list) -> str:
    """An empty form's ``{{ field }}`` of a select of these choices (Django's select.html)."""
    name = conditional_escape(field.html_name)
    options = "".join(
        f'  <option value="{conditional_escape(value)}"{" selected" if value == "" else ""}>'
        f"{conditional_escape(label)}</option>\n\n"
        for value, label in choices
    )
    return f'<select name="{name}" id="{conditional_escape(field.auto_id)}">\n{options}</select>'


def _unbound_field(field) -> str:
    """``{{ field.label_tag }}`` and ``{{ field }}`` of an empty form, per-process for the
    fields that show no user's data."""
    if isinstance(field.field, ModelChoiceField):
        # The user's own clients and Activities: never kept.
        choices = field.field.widget.choices
        widget = _select(field, choices) if isinstance(choices, list) else field
        return f"{field.label_tag()}\n    {widget}"
    key = (get_language(), field.html_name)
    markup = _UNBOUND_FIELDS.get(key)
    if markup is None:
        markup = _UNBOUND_FIELDS[key] = f"{field.label_tag()}\n    {field}"
    return markup


@register.simple_tag
def invoice_filter_fields(filters) -> SafeString:
    """The fields of the invoice list's filter form, as its template loop wrote them."""
    parts = []
    for field in filters:
        if not filters.is_bound and not filters.initial and not field.field.initial:
            parts.append(
                f'\n  <div class="field">\n    {_unbound_field(field)}\n    \n  </div>\n  '
            )
            continue
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
