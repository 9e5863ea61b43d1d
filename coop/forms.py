"""What every browser form shares."""

from django import forms
from django.utils.choices import BaseChoiceIterator

from coop.errors import CoopError
from coop.widgets import FORM_RENDERER


class ListedChoices(BaseChoiceIterator):
    """Choices read from the database at most once, however often a form looks at them."""

    def __init__(self, choices):
        self.choices = choices
        self.listed: list | None = None

    def __iter__(self):
        if self.listed is None:
            # Not list(self.choices): it would ask a queryset iterator its length, a COUNT.
            self.listed = list(iter(self.choices))
        return iter(self.listed)

    def __len__(self) -> int:
        return sum(1 for _choice in self)

    def __bool__(self) -> bool:
        return len(self) > 0


class ModelChoiceIterator(forms.models.ModelChoiceIterator):
    """The rows in one plain query: Django's ``iterator()`` opens a server-side cursor (three
    round trips) for the few rows a member's select lists."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for row in self.queryset.all():
            yield self.choice(row)


class ModelChoiceField(forms.ModelChoiceField):
    """Django's, with one query for its select: Django reads the rows once to decide whether
    the select is "required" (without an empty label, that reads the first row) and again to
    list them, each time through a server-side cursor."""

    iterator = ModelChoiceIterator

    def _set_queryset(self, queryset):
        self._queryset = None if queryset is None else queryset.all()
        self.widget.choices = ListedChoices(self.iterator(self))

    queryset = property(forms.ModelChoiceField._get_queryset, _set_queryset)

    def has_rows(self) -> bool:
        """Tell whether there is anything to choose (the empty label aside)."""
        return len(self.widget.choices) > (0 if self.empty_label is None else 1)


class Form(forms.Form):
    """A browser form whose fields render without a template each (see coop.widgets)."""

    default_renderer = FORM_RENDERER


def add_service_error(form: forms.BaseForm, error: CoopError) -> None:
    """Show a service's refusal on the field it names, or on the whole form."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)
