"""Forms written by coop.widgets show exactly what Django's widget templates show."""

import datetime
from decimal import Decimal

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils import translation
from django.utils.safestring import mark_safe

from coop.widgets import FORM_RENDERER, LanguageCachedSelect
from invoicing.countries import country_choices
from invoicing.forms import ClientForm, CreditNoteRequestForm, line_formset

DJANGO_RENDERER = DjangoTemplates()


class EveryWidget(forms.Form):
    text = forms.CharField(
        label="Name <b>",
        help_text="Help & more",
        max_length=5,
        widget=forms.TextInput(attrs={"data-quote": 'a"b', "autocomplete": "off", "off": False}),
    )
    email = forms.EmailField(label=mark_safe("E-mail <i>address</i>"))
    number = forms.IntegerField(required=False, min_value=0)
    amount = forms.DecimalField(localize=True, decimal_places=2)
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    position = forms.IntegerField(widget=forms.HiddenInput)
    agree = forms.BooleanField(required=False)
    secret = forms.CharField(widget=forms.PasswordInput(render_value=True))
    choice = forms.ChoiceField(
        choices=[("", "—"), ("a", "A & B"), ("Group <1>", [("b", "B"), ("c", "C")]), (3, 4)]
    )
    typed = forms.TypedChoiceField(choices=[(1, Decimal("1.5")), (2, "two")], coerce=int)
    many = forms.MultipleChoiceField(choices=[("x", "X"), ("y", "Y")], required=False)
    mode = forms.ChoiceField(
        choices=[("a", "A & <b>"), ("Group <2>", [("b", mark_safe("<i>B</i>")), (3, 4)])],
        widget=forms.RadioSelect(attrs={"class": 'radio "list"'}),
    )


INITIAL = {
    "text": "<script>",
    "amount": Decimal("1234.50"),
    "day": datetime.date(2026, 3, 1),
    "notes": "Line & line",
    "position": 3,
    "agree": True,
    "choice": "b",
    "typed": 2,
    "many": ["x", "y"],
    "mode": "b",
}
INVALID = {
    "text": "far too long",
    "email": "no",
    "number": "-1",
    "amount": "1,234",
    "day": "tomorrow",
    "notes": "",
    "position": "x",
    "secret": "s&cret",
    "choice": "zz",
    "typed": "3",
    "many": ["x", "q"],
    "mode": "zz",
}


def _both(make) -> tuple[str, str]:
    return make(FORM_RENDERER), make(DJANGO_RENDERER)


@pytest.mark.parametrize("language", ["fr", "nl", "en"])
@pytest.mark.parametrize("data", [None, INVALID], ids=["unbound", "invalid"])
def test_every_widget_reads_as_with_django_templates(language, data):
    with translation.override(language):
        ours, django = _both(
            lambda renderer: EveryWidget(data, initial=INITIAL, renderer=renderer).as_div()
        )
    assert ours == django
    assert "<select" in ours and "<textarea" in ours and "<label" in ours
    assert 'type="radio"' in ours


@pytest.mark.parametrize("auto_id", ["id_%s", False])
def test_radio_buttons_read_as_with_django_templates(auto_id):
    """Without ids, the labels name no field; the chosen button is checked."""
    for data in (None, {"mode": "3"}):
        ours, django = _both(
            lambda renderer, data=data: EveryWidget(
                data, initial=INITIAL, renderer=renderer, auto_id=auto_id
            )["mode"].as_field_group()
        )
        assert ours == django
        assert ours.count('type="radio"') == 3


@pytest.mark.parametrize("language", ["fr", "nl"])
def test_invoicing_forms_read_as_with_django_templates(language):
    lines = {
        "lines-TOTAL_FORMS": "2",
        "lines-INITIAL_FORMS": "0",
        "lines-0-description": "Work <b>",
        "lines-0-quantity": "2,5",
        "lines-0-unit_price": "x",
        "lines-1-vat_rate": "7",
    }
    with translation.override(language):
        for make in (
            lambda renderer: ClientForm({"country": "FR", "name": "A&B"}, renderer=renderer),
            lambda renderer: ClientForm(initial={"country": "NL"}, renderer=renderer),
            lambda renderer: CreditNoteRequestForm(renderer=renderer),
        ):
            ours, django = _both(lambda renderer, make=make: make(renderer).as_div())
            assert ours == django
        formset = line_formset(lines)
        ours = "".join(form.as_div() for form in formset.forms)
        for form in formset.forms:
            form.renderer = DJANGO_RENDERER
        assert ours == "".join(form.as_div() for form in formset.forms)


@pytest.mark.parametrize("language", ["fr", "nl", "en"])
@pytest.mark.parametrize("value", ["BE", "FR", "ZZ", None, ["NL"]])
def test_the_country_select_reads_as_django_select(language, value):
    with translation.override(language):
        django = forms.Select(choices=country_choices())
        ours = LanguageCachedSelect(choices=country_choices)
        attrs = {"id": "id_country", "aria-invalid": "true"}
        assert ours.render("country", value, attrs) == django.render("country", value, attrs)
        assert ours.use_required_attribute(None) == django.use_required_attribute(None)
        # Each language has its own names and order.
        assert ours.options()[0][0] == "BE"


def test_the_country_select_names_countries_in_the_reader_language():
    field = ClientForm().fields["country"]
    with translation.override("nl"):
        dutch = str(ClientForm(initial={"country": "DE"})["country"])
    with translation.override("fr"):
        french = str(ClientForm(initial={"country": "DE"})["country"])
    assert '<option value="DE" selected>Duitsland</option>' in dutch
    assert '<option value="DE" selected>Allemagne</option>' in french
    assert field.valid_value("DE") and not field.valid_value("ZZ")


@pytest.mark.parametrize("attrs", [None, {}, {"class": "hint"}])
def test_a_label_with_or_without_attributes_reads_as_with_django_templates(attrs):
    """The admin's password form asks for labels whose attributes are None."""
    context = {"use_tag": True, "tag": "label", "attrs": attrs, "label": "Password & more"}
    template = "django/forms/label.html"
    assert (
        FORM_RENDERER.render(template, context)
        == DjangoTemplates().render(template, context).strip()
    )
