"""The form blocks written in Python ({% form_fields %}, coop/templatetags/form_fields.py) are
the markup templates/form_fields.html's loop wrote."""

import datetime
from decimal import Decimal

import pytest
from django import forms
from django.template import Context, Template
from django.template.loader import render_to_string
from django.utils import translation

from members.forms import ProfileForm

# templates/form_fields.html as it stood, a loop over the form's fields.
FORM_FIELDS_LOOP = """{% load i18n %}
{% if form.non_field_errors %}
<div class="errors" role="alert">{% for error in form.non_field_errors %}<p>{{ error }}</p>{% endfor %}</div>
{% endif %}
{% for field in form %}
<div class="field{% if field.errors %} has-error{% endif %}{% if field.field.widget.input_type == 'checkbox' %} checkbox{% endif %}">
  {% if field.field.widget.input_type == 'checkbox' %}
    {{ field }} {{ field.label_tag }}
  {% else %}
    {{ field.label_tag }}
    {{ field }}
  {% endif %}
  {% if field.help_text %}<p class="help" id="{{ field.auto_id }}_helptext">{{ field.help_text }}</p>{% endif %}
  {% for error in field.errors %}<p class="error" id="{{ field.auto_id }}_error">{{ error }}</p>{% endfor %}
</div>
{% endfor %}
"""  # noqa: E501


class EveryKindForm(forms.Form):
    name = forms.CharField(label="Name <b>", help_text="Shown on <em>invoices</em> & notes")
    agree = forms.BooleanField(label="I agree", help_text="Required")
    newsletter = forms.BooleanField(required=False)
    kind = forms.ChoiceField(choices=[("a", "A & a"), ("b", "B")])
    amount = forms.DecimalField(max_digits=8, decimal_places=2, initial=Decimal("1234.5"))
    day = forms.DateField(initial=datetime.date(2026, 3, 2))
    notes = forms.CharField(widget=forms.Textarea, required=False)
    token = forms.CharField(widget=forms.HiddenInput, initial='x"y')
    remembered = forms.CharField(show_hidden_initial=True, initial="before")

    def clean(self):
        raise forms.ValidationError(["Two <problems>", "and a second"])


def _both(form) -> tuple[str, str]:
    context = Context({"form": form})
    loop = Template(FORM_FIELDS_LOOP).render(context)
    written = Template("{% load form_fields %}{% form_fields form %}").render(context)
    return loop, written


@pytest.mark.parametrize("language", ["fr", "nl", "en"])
def test_form_blocks_are_the_loop_s_markup(language):
    with translation.override(language):
        forms_to_show = [
            EveryKindForm(),
            EveryKindForm(data={"name": "<script>", "amount": "x", "day": "nope"}),
            EveryKindForm(auto_id=False, data={}),
            EveryKindForm(prefix="other", data={"other-agree": "on"}),
            ProfileForm(),
            ProfileForm(data={"legal_name": "", "iban": "BE00 <x>"}),
        ]
        for form in forms_to_show:
            loop, written = _both(form)
            assert written == loop
    # Errors, help texts, checkboxes and escaping were all met.
    loop, written = _both(EveryKindForm(data={"name": "x"}))
    assert written == loop
    assert "has-error" in written and " checkbox" in written
    assert "Two &lt;problems&gt;" in written and "Shown on &lt;em&gt;invoices" in written


def test_no_form_writes_the_loop_s_empty_markup():
    for missing in ({}, {"form": None}, {"form": ""}):
        context = Context(missing)
        loop = Template(FORM_FIELDS_LOOP).render(context)
        written = Template("{% load form_fields %}{% form_fields form %}").render(context)
        assert written == loop


def test_the_include_writes_the_blocks(db):
    form = EveryKindForm(data={"name": "x"})
    assert render_to_string("form_fields.html", {"form": form}) == _both(form)[0]
