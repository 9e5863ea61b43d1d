"""``{% form_fields form %}`` writes exactly what templates/form_fields.html writes."""

import pytest
from django import forms
from django.template.loader import render_to_string
from django.utils import translation

from coop.templatetags.form_fields import form_fields
from spaces.forms import BookingForm, CancelForm, RefuseForm


class Everything(forms.Form):
    name = forms.CharField(label='Nom <b>"&"</b>', help_text="Aide <i>&</i>", max_length=10)
    agree = forms.BooleanField(label="D'accord", help_text="Coche <ici>")
    kind = forms.ChoiceField(choices=[("a", "A <1>"), ("b", "B & 2")])
    secret = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean(self):
        raise forms.ValidationError(["Tout <faux>", "Encore & encore"])


def forms_to_write(member, space_manager):
    invalid_booking = BookingForm({"title": "x" * 300, "repeat": "weekly"}, user=member.user)
    invalid_booking.is_valid()
    invalid = Everything({"name": "<script>" * 3, "kind": "z"})
    invalid.is_valid()
    return [
        BookingForm(user=member.user, initial={"date": "2026-03-10", "start_time": "10:00"}),
        BookingForm(user=space_manager),
        invalid_booking,
        CancelForm(),
        RefuseForm({"reason": ""}),
        Everything(),
        invalid,
    ]


@pytest.mark.parametrize("language", ["fr", "nl", "en"])
def test_the_tag_writes_the_template(language, member, activity, space_manager):
    with translation.override(language):
        for form in forms_to_write(member, space_manager):
            assert form_fields(form) == render_to_string("form_fields.html", {"form": form})
