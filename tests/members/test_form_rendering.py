"""Member forms, written by the project's form renderer, read as with Django's templates."""

import pytest
from django.forms.renderers import DjangoTemplates
from django.template.loader import render_to_string
from django.utils import translation

from coop.widgets import FormRenderer
from members.forms import ActivityForm, ApiTokenForm, MembershipApplicationForm, ProfileForm
from members.models import Member

DJANGO_RENDERER = DjangoTemplates()


def _page_fields(form) -> str:
    """The form as the pages show it (the shared form_fields.html include)."""
    return render_to_string("form_fields.html", {"form": form})


def _forms(member, renderer):
    invalid_profile = {
        "street": "",
        "postal_code": "1000 <b>",
        "city": "Bruxelles & co",
        "country": "ZZ",
        "preferred_language": "nl",
        "iban": "BE00 nope",
    }
    return [
        # A fresh row each: validating a model form writes the data onto its instance.
        ProfileForm(instance=Member.objects.get(pk=member.pk), renderer=renderer),
        ProfileForm(invalid_profile, instance=Member.objects.get(pk=member.pk), renderer=renderer),
        ApiTokenForm(max_days=365, needs_code=False, renderer=renderer),
        ApiTokenForm(
            {"name": "x" * 101, "lifetime_days": "9"},
            max_days=30,
            needs_code=True,
            renderer=renderer,
        ),
        ActivityForm(renderer=renderer),
        ActivityForm({"name": "", "description": "Line 1\n<b>"}, renderer=renderer),
        MembershipApplicationForm(initial={"preferred_language": "fr"}, renderer=renderer),
        MembershipApplicationForm({"accept_statutes": "on", "niss": "1"}, renderer=renderer),
    ]


@pytest.mark.parametrize("language", ["fr", "nl", "en"])
def test_member_forms_read_as_with_django_templates(member, language):
    with translation.override(language):
        ours = [_page_fields(form) for form in _forms(member, None)]
        django = [_page_fields(form) for form in _forms(member, DJANGO_RENDERER)]
    assert ours == django
    assert all("<label" in html for html in ours)
    assert "<select" in ours[0] and "<textarea" in ours[4] and 'type="checkbox"' in ours[6]
    assert 'class="error"' in ours[1] and 'class="error"' in ours[3]


def test_member_forms_use_the_python_renderer(member):
    for form in _forms(member, None):
        assert isinstance(form.renderer, FormRenderer)
