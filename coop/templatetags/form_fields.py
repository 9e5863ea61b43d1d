"""``{% form_fields form %}``: the markup of ``{% include "form_fields.html" %}``, faster.

A form of a dozen fields through that template costs a variable lookup, a condition and an
escape per line of each field; a page with a form and a formset spent most of its rendering
there. This tag writes the very same markup (tests/test_form_fields_tag.py compares it with the
template for the project's forms, bound and unbound, in each language).
"""

from django import template
from django.template.base import render_value_in_context
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag(takes_context=True)
def form_fields(context, form) -> SafeString:
    """Every field of ``form`` with its label, help text and errors, as form_fields.html."""

    def text(value) -> str:
        return render_value_in_context(value, context)

    parts = ["\n"]
    non_field_errors = form.non_field_errors()
    if non_field_errors:
        errors = "".join(f"<p>{text(error)}</p>" for error in non_field_errors)
        parts.append(f'\n<div class="errors" role="alert">{errors}</div>\n')
    parts.append("\n")
    for field in form:
        is_checkbox = getattr(field.field.widget, "input_type", None) == "checkbox"
        errors = field.errors
        widget, label = text(field), text(field.label_tag())
        classes = f"field{' has-error' if errors else ''}{' checkbox' if is_checkbox else ''}"
        # A checkbox comes before its label.
        body = f"\n    {widget} {label}\n  " if is_checkbox else f"\n    {label}\n    {widget}\n  "
        help_text = ""
        if field.help_text:
            help_text = (
                f'<p class="help" id="{text(field.auto_id)}_helptext">{text(field.help_text)}</p>'
            )
        error_lines = "".join(
            f'<p class="error" id="{text(field.auto_id)}_error">{text(error)}</p>'
            for error in errors
        )
        parts.append(
            f'\n<div class="{classes}">\n  {body}\n  {help_text}\n  {error_lines}\n</div>\n'
        )
    parts.append("\n")
    return mark_safe("".join(parts))  # noqa: S308 (every value is escaped above)
