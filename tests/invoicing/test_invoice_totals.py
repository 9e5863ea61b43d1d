"""The totals panel written in Python reads exactly as the template it replaces."""

from decimal import Decimal

import pytest
from django.template import engines
from django.utils import translation

from invoicing.calculation import Totals, VatGroup, compute_totals
from invoicing.views import _vat_rows

# templates/invoicing/_totals.html before the tag.
TEMPLATE = """{% load i18n money %}
<div class="invoice-totals" data-summary="{% blocktranslate with total=totals.tax_inclusive|euro %}Total incl. VAT: {{ total }}{% endblocktranslate %}">
  {% if problem %}<p class="error">{{ problem }}</p>{% endif %}
  {% if warning %}<div class="message warning"><p>{{ warning }}</p></div>{% endif %}
  {% if incomplete %}<p class="hint">{% translate "Rows with a mistake or a missing value are not counted yet." %}</p>{% endif %}
  <div class="table-wrap">
  <table class="vat-breakdown">
    <caption>{% translate "VAT breakdown" %}</caption>
    <thead><tr>
      <th scope="col">{% translate "VAT" %}</th>
      <th scope="col" class="number">{% translate "Taxable amount" %}</th>
      <th scope="col" class="number">{% translate "VAT amount" %}</th>
    </tr></thead>
    <tbody>
    {% for row in vat_rows %}
      <tr>
        <th scope="row">{{ row.label|capfirst }} · {{ row.group.rate|floatformat:"-2" }}&nbsp;%{% if row.group.exemption_reason %}<br><span class="muted">{{ row.group.exemption_reason }}</span>{% endif %}</th>
        <td class="number">{{ row.group.taxable_amount|euro }}</td>
        <td class="number">{{ row.group.vat_amount|euro }}</td>
      </tr>
    {% empty %}
      <tr><td colspan="3" class="muted">{% translate "No line yet." %}</td></tr>
    {% endfor %}
    </tbody>
  </table>
  </div>
  <dl class="totals-list">
    {% if totals.allowance_total or totals.charge_total %}<div><dt>{% translate "Total of the lines" %}</dt><dd class="number">{{ totals.line_extension|euro }}</dd></div>
    {% if totals.allowance_total %}<div><dt>{% translate "Discounts on the invoice" %}</dt><dd class="number">−{{ totals.allowance_total|euro }}</dd></div>{% endif %}
    {% if totals.charge_total %}<div><dt>{% translate "Charges on the invoice" %}</dt><dd class="number">{{ totals.charge_total|euro }}</dd></div>{% endif %}{% endif %}
    <div><dt>{% translate "Total excl. VAT" %}</dt><dd class="number">{{ totals.tax_exclusive|euro }}</dd></div>
    <div><dt>{% translate "VAT" %}</dt><dd class="number">{{ totals.vat|euro }}</dd></div>
    <div class="grand-total"><dt>{% translate "Total incl. VAT" %}</dt><dd class="number">{{ totals.tax_inclusive|euro }}</dd></div>
  </dl>
</div>
"""  # noqa: E501


def group(category, rate, taxable, vat, reason="", code=""):
    return VatGroup(
        category=category,
        rate=Decimal(rate),
        taxable_amount=Decimal(taxable),
        vat_amount=Decimal(vat),
        exemption_reason=reason,
        exemption_code=code,
    )


FULL = Totals(
    line_extension=Decimal("1234567.89"),
    vat=Decimal("210.00"),
    tax_inclusive=Decimal("1234777.89"),
    vat_breakdown=(
        group("S", "21.00", "1000.00", "210.00"),
        group("E", "0.00", "1233567.89", "0.00", reason='Art. 44 <§2> & "8°"', code="VATEX"),
        group("S", "6.50", "0.00", "0.00"),
    ),
    allowance_total=Decimal("10.00"),
    charge_total=Decimal("5.55"),
)
ALLOWANCE_ONLY = Totals(
    line_extension=Decimal("100.00"),
    vat=Decimal("18.90"),
    tax_inclusive=Decimal("108.90"),
    vat_breakdown=(group("S", "21.00", "90.00", "18.90"),),
    allowance_total=Decimal("10.00"),
)
CHARGE_ONLY = Totals(
    line_extension=Decimal("100.00"),
    vat=Decimal("22.05"),
    tax_inclusive=Decimal("127.05"),
    vat_breakdown=(group("S", "21.00", "105.00", "22.05"),),
    charge_total=Decimal("5.00"),
)
CASES = [
    {"totals": compute_totals([])},
    {"totals": FULL},
    {"totals": ALLOWANCE_ONLY, "problem": "Une <erreur> & plus", "incomplete": True},
    {"totals": CHARGE_ONLY, "warning": "Attention: <b>TVA</b>", "live": True},
]


@pytest.mark.parametrize("language", ["fr", "nl", "en"])
def test_the_panel_reads_as_the_template(language):
    old = engines["django"].from_string(TEMPLATE)
    new = engines["django"].get_template("invoicing/_totals.html")
    with translation.override(language):
        for case in CASES:
            context = {**case, "vat_rows": _vat_rows(case["totals"])}
            assert new.render(context) == old.render(context)
    assert "&lt;erreur&gt;" in new.render({**CASES[2], "vat_rows": []})
