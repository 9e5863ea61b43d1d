"""What every browser form shares."""

from django import forms

from coop.errors import CoopError
from coop.widgets import FORM_RENDERER


class Form(forms.Form):
    """A browser form whose fields render without a template each (see coop.widgets)."""

    default_renderer = FORM_RENDERER


def add_service_error(form: forms.BaseForm, error: CoopError) -> None:
    """Show a service's refusal on the field it names, or on the whole form."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)
