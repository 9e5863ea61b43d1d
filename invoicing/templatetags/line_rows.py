"""The rows of the draft form's tables written in Python: the markup of their templates, faster.

A new invoice shows three empty line rows of twelve fields each, the same row again as the
template the page's script copies, and a row of discounts and charges; through the template
engine each cell costs a loop step, lookups, a translation and escaping. These tags write the
very same markup (tests/invoicing/test_line_rows.py compares it with the templates they
replace, in each language).

An empty row of an unbound formset depends on nothing but the language and its position: it is
written once per language and process, with the formset's placeholders, and each page puts its
row's position in (as the page's script does with the template row). A row of an unbound
formset filled from saved lines (a draft being edited) is that row with a mark in each input's
value and no option chosen, also written once per language: each page puts the row's values
in and marks the chosen options, as Django's widgets would.
"""

import re

from django import forms, template
from django.forms import BaseFormSet
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData, SafeString, mark_safe
from django.utils.translation import get_language, gettext

register = template.Library()

# The placeholder the template row carries for its number (invoice-form.js replaces it).
NUMBER_PLACEHOLDER = "__number__"
PREFIX_PLACEHOLDER = "__prefix__"

# Empty rows with placeholders, by (form class, formset prefix, language).
_empty_line_rows: dict[tuple[type, str | None, str | None], str] = {}
_empty_adjustment_rows: dict[tuple[type, str | None, str | None], str] = {}
# Rows with a mark for each value, split at the marks, by the same key.
_filled_line_rows: dict[tuple[type, str | None, str | None], "_FilledRow"] = {}
_filled_adjustment_rows: dict[tuple[type, str | None, str | None], "_FilledRow"] = {}
# A character of Unicode's private use area marks a value in a row being written.
_MARK = "\ue000"
_VALUE_MARK = re.compile(f' value="{_MARK}(\\w+){_MARK}"')
# No option carries this value: a select written with it has none chosen.
_NO_OPTION = f"{_MARK}none{_MARK}"
_adjustment_headings: dict[tuple[type, str | None, str | None], str] = {}


def _errors(errors) -> str:
    return "".join(f'<p class="error">{conditional_escape(error)}</p>' for error in errors)


def line_row(form, number) -> str:
    """The markup of a line row (formerly invoicing/_line_row.html, with its line breaks)."""
    number = conditional_escape(number)
    cells = []
    for field in form:
        if field.name == "DELETE":
            continue
        has_error = " has-error" if field.errors else ""
        label = gettext("%(label)s, line %(number)s") % {
            "label": conditional_escape(field.label),
            "number": number,
        }
        cells.append(
            f'\n  <td class="line-cell line-{conditional_escape(field.name)}{has_error}">'
            f'\n    <label class="visually-hidden" for="{conditional_escape(field.id_for_label)}">'
            f"{label}</label>"
            f"\n    {field}"
            f"\n    {_errors(field.errors)}"
            "\n  </td>\n  "
        )
    remove = ""
    if "DELETE" in form.fields:
        delete = form["DELETE"]
        line = gettext("line %(number)s") % {"number": number}
        remove_label = conditional_escape(gettext("Remove"))
        remove = (
            f'<label class="remove-line" for="{conditional_escape(delete.id_for_label)}">'
            f"{delete} <span>{remove_label}</span>"
            f'<span class="visually-hidden"> {line}</span></label>'
        )
    return (
        '\n<tr class="line-row" data-line-row>'
        f'\n  <th scope="row" class="line-number">{number}</th>'
        f"\n  {''.join(cells)}"
        '\n  <td class="line-cell line-delete">'
        f"\n    {remove}"
        f"\n    {_errors(form.non_field_errors())}"
        "\n  </td>"
        "\n</tr>\n"
    )


def adjustment_row(form, number) -> str:
    """The markup of a row of discounts and charges (formerly the loop of
    invoicing/invoice_form.html)."""
    number = conditional_escape(number)
    cells = []
    for field in form:
        if field.name == "DELETE":
            continue
        has_error = " has-error" if field.errors else ""
        label = gettext("%(label)s, discount or charge %(number)s") % {
            "label": conditional_escape(field.label),
            "number": number,
        }
        field_id = conditional_escape(field.id_for_label)
        cells.append(
            f'\n        <td class="line-cell{has_error}">'
            f'\n          <label class="visually-hidden" for="{field_id}">'
            f"{label}</label>"
            f"\n          {field}"
            f"\n          {_errors(field.errors)}"
            "\n        </td>\n        "
        )
    remove = ""
    if "DELETE" in form.fields:
        delete = form["DELETE"]
        remove_label = conditional_escape(gettext("Remove"))
        remove = (
            f'<label class="remove-line" for="{conditional_escape(delete.id_for_label)}">'
            f"{delete} <span>{remove_label}</span></label>"
        )
    return (
        "\n      <tr>"
        f"\n        {''.join(cells)}"
        f'\n        <td class="line-cell line-delete">{remove}</td>'
        "\n      </tr>\n      "
    )


def _empty_row(cache: dict, formset: BaseFormSet, write) -> str:
    key = (formset.form, formset.prefix, get_language())
    row = cache.get(key)
    if row is None:
        row = cache[key] = write(formset.empty_form, NUMBER_PLACEHOLDER)
    return row


def _is_empty(formset: BaseFormSet, index: int) -> bool:
    """Tell whether the formset's row ``index`` is an untouched spare row, as its empty form."""
    return not formset.is_bound and index >= formset.initial_form_count()


class _FilledRow:
    """A row written once with a mark in each input's value and no option chosen, in parts:
    the text between the values, and per select its markup, to mark the chosen option in."""

    def __init__(self, formset: BaseFormSet, write) -> None:
        fields = formset.form.base_fields
        self.selects = [
            name for name, field in fields.items() if isinstance(field.widget, forms.Select)
        ]
        initial = {
            name: _NO_OPTION if name in self.selects else f"{_MARK}{name}{_MARK}" for name in fields
        }
        form = formset.form(
            auto_id=formset.auto_id,
            prefix=formset.add_prefix(PREFIX_PLACEHOLDER),
            initial=initial,
            empty_permitted=True,
            use_required_attribute=False,
            **formset.get_form_kwargs(None),
            renderer=formset.renderer,
        )
        formset.add_fields(form, None)
        text = write(form, NUMBER_PLACEHOLDER)
        # Text between the marks of the inputs' values: [text, name, text, name, …, text].
        self.parts = _VALUE_MARK.split(text)
        self.fields = fields
        # Each select's markup as written with no option chosen.
        self.select_markup = {}
        for name in self.selects:
            start = text.index(f'<select name="{formset.prefix}-{PREFIX_PLACEHOLDER}-{name}"')
            self.select_markup[name] = text[start : text.index("</select>", start) + 9]
        if _MARK in "".join(self.parts[::2]).replace(_NO_OPTION, ""):
            raise ValueError("A value of the row is written where no mark is expected.")

    def write(self, initial: dict, prefix: str, index: int, number: str) -> str:
        """The row of the form ``index`` filled with ``initial``, as Django writes it."""
        values = {}
        for name, field in self.fields.items():
            value = initial.get(name, field.initial)
            if callable(value):
                value = value()
            values[name] = field.widget.format_value(field.prepare_value(value))
        parts = list(self.parts)
        for position in range(1, len(parts), 2):
            value = values[parts[position]]
            parts[position] = "" if value is None else f' value="{_formatted(value)}"'
        row = "".join(parts)
        for name in self.selects:
            chosen = values[name]
            markup = self.select_markup[name]
            option = f'<option value="{_formatted(chosen[0] if chosen else "")}"'
            filled = markup.replace(_NO_OPTION, "")
            if f"{option}>" in filled:
                filled = filled.replace(f"{option}>", f"{option} selected>", 1)
            elif f"{option} " in filled:
                filled = filled.replace(f"{option} ", f"{option} selected ", 1)
            row = row.replace(markup, filled, 1)
        row = row.replace(f"{prefix}-{PREFIX_PLACEHOLDER}-", f"{prefix}-{index}-")
        return row.replace(NUMBER_PLACEHOLDER, number)


def _formatted(value) -> str:
    """A value as ``{{ value|stringformat:'s' }}`` writes it (as Django's input widgets)."""
    text = "%s" % (value,)  # noqa: UP031 (the filter's own formatting)
    return text if isinstance(value, SafeData) else conditional_escape(text)


def _filled_row(cache: dict, formset: BaseFormSet, write) -> _FilledRow:
    key = (formset.form, formset.prefix, get_language())
    row = cache.get(key)
    if row is None:
        row = cache[key] = _FilledRow(formset, write)
    return row


def _rows(cache: dict, formset: BaseFormSet, write, filled: dict) -> SafeString:
    rows = []
    for index in range(formset.total_form_count()):
        number = str(index + 1)
        if _is_empty(formset, index):
            row = _empty_row(cache, formset, write)
            row = row.replace(
                f"{formset.prefix}-{PREFIX_PLACEHOLDER}-", f"{formset.prefix}-{index}-"
            )
            rows.append(row.replace(NUMBER_PLACEHOLDER, number))
        elif not formset.is_bound and "forms" not in formset.__dict__:
            # A row filled from saved lines: no form is built for it.
            initial = formset.initial[index] if formset.initial else {}
            writer = _filled_row(filled, formset, write)
            rows.append(writer.write(initial, formset.prefix, index, number))
        else:
            rows.append(write(formset.forms[index], number))
    return mark_safe("".join(rows))  # noqa: S308 (every value is escaped by the writers)


@register.simple_tag
def management_form(formset: BaseFormSet):
    """``{{ formset.management_form }}``, without the template's first lookup: ``formset[name]``
    builds every form of the formset, which an empty row does not need."""
    return formset.management_form


@register.simple_tag
def non_form_errors(formset: BaseFormSet) -> SafeString:
    """The errors of the whole formset, as the lines table showed them."""
    errors = formset.non_form_errors()
    if not errors:
        return mark_safe("")
    paragraphs = "".join(f"<p>{conditional_escape(error)}</p>" for error in errors)
    return mark_safe(f'<div class="errors" role="alert">{paragraphs}</div>')  # noqa: S308


@register.simple_tag
def line_rows(formset: BaseFormSet) -> SafeString:
    """The rows of the lines table, one per form of the formset."""
    return _rows(_empty_line_rows, formset, line_row, _filled_line_rows)


@register.simple_tag
def adjustment_rows(formset: BaseFormSet) -> SafeString:
    """The rows of the table of discounts and charges on the whole invoice."""
    return _rows(_empty_adjustment_rows, formset, adjustment_row, _filled_adjustment_rows)


@register.simple_tag
def adjustment_headings(formset: BaseFormSet) -> SafeString:
    """The column headings of the table of discounts and charges: their fields' labels."""
    key = (formset.form, formset.prefix, get_language())
    headings = _adjustment_headings.get(key)
    if headings is None:
        headings = _adjustment_headings[key] = "".join(
            f'<th scope="col">{conditional_escape(field.label)}</th>'
            for field in formset.empty_form
            if field.name != "DELETE"
        )
    return mark_safe(headings)  # noqa: S308 (every label is escaped above)


@register.simple_tag
def line_row_template(formset: BaseFormSet) -> SafeString:
    """The row the page's script copies to add a line, with its placeholders."""
    return mark_safe(_empty_row(_empty_line_rows, formset, line_row))  # noqa: S308 (escaped)
