"""``{% form_fields form %}`` writes the markup of ``{% include "form_fields.html" %}``."""

import pytest
from django import forms
from django.template import Context, Template
from django.utils import translation
from django.utils.safestring import mark_safe

from contracts.forms import (
    AttachmentForm,
    ExpenseClaimForm,
    ReasonForm,
    SimulatorForm,
    expense_receipt_formset,
)
from members.forms import MembershipApplicationForm
from members.selectors import activities_visible_to

INCLUDED = Template('{% include "form_fields.html" %}')
TAG = Template("{% load form_fields %}{% form_fields form %}")


class EveryKind(forms.Form):
    """A field of each kind the template treats apart: checkbox, help text, hidden, select."""

    name = forms.CharField(label="Name <i>", help_text="Shown <b>as is</b> & escaped")
    safe_help = forms.CharField(required=False, help_text=mark_safe("<em>Trusted</em>"))
    agree = forms.BooleanField(label="I agree & accept")
    choice = forms.ChoiceField(choices=[("", "---"), ("a", "A <a>")])
    secret = forms.CharField(widget=forms.HiddenInput, required=False)
    notes = forms.CharField(widget=forms.Textarea, required=False)


def _same(form) -> str:
    context = Context({"form": form})
    included, written = INCLUDED.render(context), TAG.render(context)
    assert written == included
    return written


@pytest.mark.parametrize("language", ["fr", "nl", "en"])
def test_the_tag_writes_the_templates_markup(member, activity, language):
    activities = activities_visible_to(member.user)
    with translation.override(language):
        unbound = [
            EveryKind(),
            ExpenseClaimForm(activities=activities),
            ReasonForm(),
            AttachmentForm(),
            SimulatorForm(),
            MembershipApplicationForm(),
            *expense_receipt_formset(3)(prefix="receipts"),
        ]
        for form in unbound:
            _same(form)
        invalid = EveryKind({"name": "", "choice": "zz", "secret": "<x>"})
        invalid.is_valid()
        invalid.add_error(None, "Whole form <wrong> & more")
        written = _same(invalid)
        assert 'class="field has-error checkbox"' in written
        assert (
            '<div class="errors" role="alert"><p>Whole form &lt;wrong&gt; &amp; more</p>' in written
        )
        assert "Shown &lt;b&gt;as is&lt;/b&gt; &amp; escaped" in written
        assert "<em>Trusted</em>" in written
        receipts = expense_receipt_formset(2)(
            {
                "receipts-TOTAL_FORMS": "2",
                "receipts-INITIAL_FORMS": "0",
                "receipts-0-receipt_description": "Taxi",
                "receipts-0-amount": "-3",
                "receipts-0-spent_on": "not a date",
            },
            prefix="receipts",
        )
        receipts.is_valid()
        for form in receipts:
            _same(form)
        claim = ExpenseClaimForm({"activity": "0"}, activities=activities)
        claim.is_valid()
        assert 'class="error" id="id_activity_error"' in _same(claim)
