"""``{% form_fields form %}``: the markup of templates/form_fields.html written in Python.

A form of ten fields costs that template a loop, four tests and five variable lookups per
field, more than writing its widgets does; this tag writes the very same markup
(tests/test_form_fields_tag.py compares it with the template, in each language, errors and
help texts included).
"""

from django import template
from django.forms import Form
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag
def form_fields(form: Form) -> SafeString:
    """The form's errors and fields, as ``{% include "form_fields.html" %}`` writes them."""
    parts = ["\n"]
    non_field_errors = form.non_field_errors()
    if non_field_errors:
        errors = "".join(f"<p>{conditional_escape(error)}</p>" for error in non_field_errors)
        parts.append(f'\n<div class="errors" role="alert">{errors}</div>\n')
    parts.append("\n")
    for field in form:
        errors = field.errors
        is_checkbox = getattr(field.field.widget, "input_type", None) == "checkbox"
        widget, label = conditional_escape(field), conditional_escape(field.label_tag())
        parts.append(
            f'\n<div class="field{" has-error" if errors else ""}'
            f'{" checkbox" if is_checkbox else ""}">\n  '
        )
        if is_checkbox:
            parts.append(f"\n    {widget} {label}\n  ")
        else:
            parts.append(f"\n    {label}\n    {widget}\n  ")
        parts.append("\n  ")
        auto_id = conditional_escape(field.auto_id)
        if field.help_text:
            parts.append(
                f'<p class="help" id="{auto_id}_helptext">{conditional_escape(field.help_text)}</p>'
            )
        parts.append("\n  ")
        parts.extend(
            f'<p class="error" id="{auto_id}_error">{conditional_escape(error)}</p>'
            for error in errors
        )
        parts.append("\n</div>\n")
    parts.append("\n")
    return mark_safe("".join(parts))  # noqa: S308 (every value is escaped above)
