"""An invoice's totals panel written in Python: the markup of its former template, faster.

The panel (the VAT breakdown and the totals) shows on the draft form, its live preview and the
invoice's page; through the template engine its dozen labels and amounts each cost a
translation tag, filters and escaping. This tag writes the very same markup
(tests/invoicing/test_invoice_totals.py compares it with the template, in each language).
"""

from django import template
from django.template.base import render_value_in_context
from django.template.defaultfilters import capfirst, floatformat
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from coop.templatetags.money import euro

register = template.Library()


def _amount(amount) -> str:
    return conditional_escape(euro(amount))


def _label(text: str) -> str:
    return conditional_escape(text)


def _vat_row(row: dict) -> str:
    group = row["group"]
    reason = ""
    if group.exemption_reason:
        reason = f'<br><span class="muted">{conditional_escape(group.exemption_reason)}</span>'
    return (
        "\n      <tr>"
        f'\n        <th scope="row">{conditional_escape(capfirst(row["label"]))} · '
        f"{floatformat(group.rate, '-2')}&nbsp;%{reason}</th>"
        f'\n        <td class="number">{_amount(group.taxable_amount)}</td>'
        f'\n        <td class="number">{_amount(group.vat_amount)}</td>'
        "\n      </tr>\n    "
    )


@register.simple_tag(takes_context=True)
def totals_panel(context) -> SafeString:
    """The panel of ``totals`` and ``vat_rows`` with the context's ``problem``, ``warning`` and
    ``incomplete`` (formerly invoicing/_totals.html)."""
    totals = context.get("totals")
    problem, warning = context.get("problem"), context.get("warning")
    summary = gettext("Total incl. VAT: %(total)s") % {"total": _amount(totals.tax_inclusive)}
    problem_line = (
        f'<p class="error">{render_value_in_context(problem, context)}</p>' if problem else ""
    )
    warning_line = (
        f'<div class="message warning"><p>{render_value_in_context(warning, context)}</p></div>'
        if warning
        else ""
    )
    incomplete_line = ""
    if context.get("incomplete"):
        hint = _label(gettext("Rows with a mistake or a missing value are not counted yet."))
        incomplete_line = f'<p class="hint">{hint}</p>'
    rows = "".join(_vat_row(row) for row in context.get("vat_rows") or [])
    if not rows:
        no_line = _label(gettext("No line yet."))
        rows = f'\n      <tr><td colspan="3" class="muted">{no_line}</td></tr>\n    '
    # Every label is translated outside the f-strings below, where makemessages finds it.
    lines_label = _label(gettext("Total of the lines"))
    allowances_label = _label(gettext("Discounts on the invoice"))
    charges_label = _label(gettext("Charges on the invoice"))
    caption = _label(gettext("VAT breakdown"))
    vat_label = _label(gettext("VAT"))
    taxable_label = _label(gettext("Taxable amount"))
    vat_amount_label = _label(gettext("VAT amount"))
    excl_label = _label(gettext("Total excl. VAT"))
    incl_label = _label(gettext("Total incl. VAT"))
    adjusted = ""
    if totals.allowance_total or totals.charge_total:
        adjusted = (
            f"<div><dt>{lines_label}</dt>"
            f'<dd class="number">{_amount(totals.line_extension)}</dd></div>\n    '
        )
        if totals.allowance_total:
            adjusted += (
                f"<div><dt>{allowances_label}</dt>"
                f'<dd class="number">−{_amount(totals.allowance_total)}</dd></div>'
            )
        adjusted += "\n    "
        if totals.charge_total:
            adjusted += (
                f"<div><dt>{charges_label}</dt>"
                f'<dd class="number">{_amount(totals.charge_total)}</dd></div>'
            )
    return mark_safe(  # noqa: S308 (every value is escaped above)
        f'\n<div class="invoice-totals" data-summary="{summary}">'
        f"\n  {problem_line}"
        f"\n  {warning_line}"
        f"\n  {incomplete_line}"
        '\n  <div class="table-wrap">'
        '\n  <table class="vat-breakdown">'
        f"\n    <caption>{caption}</caption>"
        "\n    <thead><tr>"
        f'\n      <th scope="col">{vat_label}</th>'
        f'\n      <th scope="col" class="number">{taxable_label}</th>'
        f'\n      <th scope="col" class="number">{vat_amount_label}</th>'
        "\n    </tr></thead>"
        "\n    <tbody>"
        f"\n    {rows}"
        "\n    </tbody>"
        "\n  </table>"
        "\n  </div>"
        '\n  <dl class="totals-list">'
        f"\n    {adjusted}"
        f"\n    <div><dt>{excl_label}</dt>"
        f'<dd class="number">{_amount(totals.tax_exclusive)}</dd></div>'
        f"\n    <div><dt>{vat_label}</dt>"
        f'<dd class="number">{_amount(totals.vat)}</dd></div>'
        f'\n    <div class="grand-total"><dt>{incl_label}</dt>'
        f'<dd class="number">{_amount(totals.tax_inclusive)}</dd></div>'
        "\n  </dl>"
        "\n</div>\n"
    )
