"""The draft form's rows written in Python read exactly as the templates they replace."""

from decimal import Decimal

import pytest
from django.template import engines
from django.utils import translation

from invoicing.forms import allowance_charge_formset, line_formset
from invoicing.templatetags.line_rows import (
    adjustment_headings,
    adjustment_rows,
    line_row_template,
    line_rows,
    management_form,
    non_form_errors,
)

LANGUAGES = ["fr", "nl", "en"]

# templates/invoicing/_line_row.html before the tag.
LINE_ROW = """{% load i18n %}
<tr class="line-row" data-line-row>
  <th scope="row" class="line-number">{{ number }}</th>
  {% for field in form %}{% if field.name != "DELETE" %}
  <td class="line-cell line-{{ field.name }}{% if field.errors %} has-error{% endif %}">
    <label class="visually-hidden" for="{{ field.id_for_label }}">{% blocktranslate with label=field.label %}{{ label }}, line {{ number }}{% endblocktranslate %}</label>
    {{ field }}
    {% for error in field.errors %}<p class="error">{{ error }}</p>{% endfor %}
  </td>
  {% endif %}{% endfor %}
  <td class="line-cell line-delete">
    {% if form.DELETE %}<label class="remove-line" for="{{ form.DELETE.id_for_label }}">{{ form.DELETE }} <span>{% translate "Remove" %}</span><span class="visually-hidden"> {% blocktranslate %}line {{ number }}{% endblocktranslate %}</span></label>{% endif %}
    {% for error in form.non_field_errors %}<p class="error">{{ error }}</p>{% endfor %}
  </td>
</tr>
"""  # noqa: E501

# The loops of templates/invoicing/_lines_table.html and invoice_form.html before the tags.
LINE_ROWS = """{% for line_form in formset %}{% include row with form=line_form number=forloop.counter %}{% endfor %}"""  # noqa: E501
FORMSET_HEAD = """{{ formset.management_form }}
{% if formset.non_form_errors %}<div class="errors" role="alert">{% for error in formset.non_form_errors %}<p>{{ error }}</p>{% endfor %}</div>{% endif %}"""  # noqa: E501
FORMSET_HEAD_TAGS = """{% load line_rows %}{% management_form formset %}
{% non_form_errors formset %}"""
LINE_TEMPLATE = """{% include row with form=formset.empty_form number="__number__" %}"""
ADJUSTMENT_HEADINGS = """{% for field in adjustments.empty_form %}{% if field.name != "DELETE" %}<th scope="col">{{ field.label }}</th>{% endif %}{% endfor %}"""  # noqa: E501
ADJUSTMENT_ROWS = """{% load i18n %}{% for adjustment in adjustments %}
      <tr>
        {% for field in adjustment %}{% if field.name != "DELETE" %}
        <td class="line-cell{% if field.errors %} has-error{% endif %}">
          <label class="visually-hidden" for="{{ field.id_for_label }}">{% blocktranslate with label=field.label number=forloop.parentloop.counter %}{{ label }}, discount or charge {{ number }}{% endblocktranslate %}</label>
          {{ field }}
          {% for error in field.errors %}<p class="error">{{ error }}</p>{% endfor %}
        </td>
        {% endif %}{% endfor %}
        <td class="line-cell line-delete">{% if adjustment.DELETE %}<label class="remove-line" for="{{ adjustment.DELETE.id_for_label }}">{{ adjustment.DELETE }} <span>{% translate "Remove" %}</span></label>{% endif %}</td>
      </tr>
      {% endfor %}"""  # noqa: E501

LINES = [
    {
        "description": 'Mix <b>"live"</b> & more',
        "quantity": "2,5",
        "unit": "day",
        "unit_price": "1234,50",
        "supply_kind": "goods",
        "vat_category": "E",
        "vat_rate": "0.00",
        "exemption_reason": "Art. 44 <§2>",
        "exemption_code": "VATEX-EU-79-C",
        "discount": "10 %",
        "discount_reason": "fidèle & <client>",
    },
    {"description": "Second", "quantity": "1", "unit_price": "10"},
]
POSTED_LINES = {
    "lines-TOTAL_FORMS": "4",
    "lines-INITIAL_FORMS": "1",
    "lines-0-description": "Réparation <script>",
    "lines-0-quantity": "abc",
    "lines-0-unit": "day",
    "lines-0-unit_price": "12,50",
    "lines-0-vat_category": "S",
    "lines-0-vat_rate": "21.00",
    "lines-0-discount": "zz",
    "lines-1-quantity": "2",
    "lines-1-vat_category": "nothing",
    "lines-1-vat_rate": "7",
    "lines-2-DELETE": "on",
    "lines-2-description": "gone",
}
ADJUSTMENTS = [
    {
        "is_charge": "1",
        "reason": "Transport <&>",
        "value": "25,00",
        "vat_category": "S",
        "vat_rate": "6.00",
    }
]
POSTED_ADJUSTMENTS = {
    "adjustments-TOTAL_FORMS": "3",
    "adjustments-INITIAL_FORMS": "0",
    "adjustments-0-is_charge": "2",
    "adjustments-0-reason": "<i>why</i>",
    "adjustments-0-value": "x %",
    "adjustments-0-vat_category": "S",
    "adjustments-0-vat_rate": "21.00",
    "adjustments-2-DELETE": "on",
}


# Rows as a saved draft fills them (invoicing.forms.initial_lines): numbers, not text, no
# value for some fields, values no option has, text that needs escaping.
SAVED_LINES = [
    {
        "description": "Éclairage & <son>",
        "quantity": Decimal("1234.50"),
        "unit": "hour",
        "unit_price": Decimal("0.01"),
        "vat_category": "AE",
        "vat_rate": "0.00",
        "exemption_reason": "",
        "supply_kind": "services",
        "exemption_code": "",
        "discount": "",
        "discount_reason": "",
    },
    {
        "description": '"quoted" \ufffd',
        "quantity": Decimal("-3"),
        "unit": "not-a-unit",
        "unit_price": None,
        "vat_rate": "7",
        "exemption_code": None,
        "discount": "12,50",
    },
    {},
]


def line_formsets():
    return [
        line_formset(),
        line_formset(extra=0),
        line_formset(initial=LINES),
        line_formset(initial=LINES, extra=1),
        line_formset(initial=SAVED_LINES, extra=1),
        line_formset(POSTED_LINES),
    ]


def adjustment_formsets():
    return [
        allowance_charge_formset(),
        allowance_charge_formset(initial=ADJUSTMENTS),
        allowance_charge_formset(
            initial=[*ADJUSTMENTS, {"is_charge": "0", "value": "5 %", "vat_rate": "12.00"}, {}]
        ),
        allowance_charge_formset(POSTED_ADJUSTMENTS),
    ]


def render(text: str, **context) -> str:
    return engines["django"].from_string(text).render(context)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_line_rows_read_as_the_template(language):
    row = engines["django"].from_string(LINE_ROW)
    with translation.override(language):
        for formset in line_formsets():
            assert line_rows(formset) == render(LINE_ROWS, formset=formset, row=row)
            assert line_row_template(formset) == render(LINE_TEMPLATE, formset=formset, row=row)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_adjustment_rows_read_as_the_template(language):
    with translation.override(language):
        for formset in adjustment_formsets():
            # Written first: rendering the template builds the forms the tag does without.
            written = adjustment_rows(formset)
            assert written == render(ADJUSTMENT_ROWS, adjustments=formset)
            headings = render(ADJUSTMENT_HEADINGS, adjustments=formset)
            assert adjustment_headings(formset) == headings


def test_the_rows_show_what_was_typed_and_the_errors():
    with translation.override("en"):
        rows = line_rows(line_formset(POSTED_LINES))
    assert 'value="Réparation &lt;script&gt;"' in rows
    assert "<script>" not in rows
    assert 'class="line-cell line-quantity has-error"' in rows
    assert '<label class="visually-hidden" for="id_lines-3-description">Description, line 4' in rows


def test_an_empty_row_is_written_once_per_language_and_numbered_in_place():
    with translation.override("nl"):
        dutch = line_rows(line_formset())
    with translation.override("fr"):
        french = line_rows(line_formset())
    assert dutch != french
    assert "__prefix__" not in french
    assert "__number__" not in french
    assert 'name="lines-2-description"' in french
    assert '<th scope="row" class="line-number">3</th>' in french


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_formset_head_reads_as_the_template(language):
    too_many = {**POSTED_LINES, "lines-TOTAL_FORMS": "201"}
    formsets = [*line_formsets(), line_formset(too_many), line_formset({"lines-0-quantity": "1"})]
    with translation.override(language):
        for formset in formsets:
            expected = render(FORMSET_HEAD, formset=formset)
            assert render(FORMSET_HEAD_TAGS, formset=formset) == expected
            assert str(management_form(formset)) in expected
        assert non_form_errors(line_formset(too_many)).count("<p>") == 1


def test_an_unbound_formset_head_builds_no_form():
    formset = line_formset()
    render(FORMSET_HEAD_TAGS, formset=formset)
    line_rows(formset)
    assert "forms" not in formset.__dict__


def test_a_saved_row_is_filled_in_without_building_its_form():
    formset = line_formset(initial=SAVED_LINES, extra=1)
    with translation.override("fr"):
        rows = line_rows(formset)
    assert "forms" not in formset.__dict__
    assert 'name="lines-0-quantity" value="1234,50"' in rows
    assert 'value="Éclairage &amp; &lt;son&gt;"' in rows
    assert '<option value="AE" selected>' in rows
    assert "\ue000" not in rows
    assert 'name="lines-1-unit_price" inputmode' in rows
