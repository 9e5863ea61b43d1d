"""Amounts and periods in the admin as everywhere else on the site.

Django's admin writes a DecimalField with the language's decimal separator only ("3097,02"),
beside amounts that admin methods format themselves, and a range field as Python writes it
("[2026-11-23 09:00:00+00:00, 2026-11-23 11:00:00+00:00)"). :class:`LocalisedFieldsMixin`
shows each amount of a list column or a read-only field through
:func:`coop.templatetags.money.euro`, and each date or time range as its localised bounds.
"""

from collections.abc import Callable

from django.contrib import admin
from django.contrib.postgres.fields import DateRangeField, DateTimeRangeField
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from django.utils.formats import localize

from coop.templatetags.money import euro


def is_amount_field(field: models.Field) -> bool:
    """Tell whether a model field holds an amount of money.

    Amounts are ``DecimalField(max_digits=12, decimal_places=2)`` or wider (STYLE.md); rates,
    percentages and quantities have fewer digits.
    """
    return (
        isinstance(field, models.DecimalField)
        and field.decimal_places == 2
        and field.max_digits >= 12
    )


def localised_range(value) -> str:
    """Write a date or time range as its two localised bounds ("4 décembre 2026 – …")."""
    if value.isempty:
        return ""
    return " – ".join(
        localize(timezone.template_localtime(bound)) if bound is not None else "…"
        for bound in (value.lower, value.upper)
    )


class LocalisedFieldsMixin:
    """Show the model's amount and range fields, in the list and as read-only fields, the way
    the rest of the site writes them.

    Each such field name is replaced by a display function of the same name, label and
    ordering; a field the list edits stays a form field. An admin that overrides
    ``get_readonly_fields`` passes its answer through :meth:`localised_fields`.
    """

    def localised_fields(self, names) -> list:
        """Replace the names of amount and range fields by the functions that show them."""
        return [self._localised_display(name) for name in names]

    def _localised_display(self, name):
        """The display function that shows the field ``name``, or ``name`` itself."""
        if not isinstance(name, str):
            return name
        # One function per field, so that the lists Django compares hold the same object.
        displays = self.__dict__.setdefault("_localised_displays", {})
        if name not in displays:
            try:
                field = self.model._meta.get_field(name)
            except FieldDoesNotExist:
                field = None
            if field is not None and is_amount_field(field):
                displays[name] = self._make_display(field, euro)
            elif isinstance(field, DateRangeField | DateTimeRangeField):
                displays[name] = self._make_display(field, localised_range)
            else:
                displays[name] = name
        return displays[name]

    def _make_display(self, field: models.Field, write: Callable) -> Callable:
        empty = self.get_empty_value_display()

        def display(obj) -> str:
            value = getattr(obj, field.name)
            return empty if value is None else write(value)

        display.__name__ = field.name
        return admin.display(description=field.verbose_name, ordering=field.name)(display)

    def get_list_display(self, request):
        editable = set(self.list_editable)
        return [
            name if name in editable else self._localised_display(name)
            for name in super().get_list_display(request)
        ]

    def get_list_display_links(self, request, list_display):
        links = super().get_list_display_links(request, list_display)
        return links and self.localised_fields(links)

    def get_sortable_by(self, request):
        return self.localised_fields(super().get_sortable_by(request))

    def get_readonly_fields(self, request, obj=None):
        return self.localised_fields(super().get_readonly_fields(request, obj))

    def get_fieldsets(self, request, obj=None):
        if self.has_change_permission(request, obj):
            readonly = self.get_readonly_fields(request, obj)
            shown = {getattr(name, "__name__", name) for name in readonly}
        else:
            shown = None  # a page that changes nothing shows every field read-only
        return [
            (title, {**options, "fields": self._fields_shown(options["fields"], shown)})
            for title, options in super().get_fieldsets(request, obj)
        ]

    def _fields_shown(self, names, shown: set | None) -> list:
        return [
            self._fields_shown(name, shown)
            if isinstance(name, list | tuple)
            else self._localised_display(name)
            if shown is None or name in shown
            else name
            for name in names
        ]
