"""``{% form_fields form %}``: a form's errors and fields, written in Python with the markup
templates/form_fields.html's loop wrote (one block per field: label, widget, help text and
errors). Every value goes through ``render_value_in_context``, as ``{{ value }}`` does, so
escaping and localisation are the template's."""

from django import template
from django.template.base import render_value_in_context
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


def _called(value):
    """A template variable's value: callables are called, as the template language does."""
    return value() if callable(value) else value


@register.simple_tag(takes_context=True)
def form_fields(context, form) -> SafeString:
    """The form's errors, then each field with its label, help text and errors."""

    def text(value) -> str:
        return render_value_in_context(value, context)

    parts = ["\n"]
    non_field_errors = _called(getattr(form, "non_field_errors", None))
    if non_field_errors:
        parts.append('\n<div class="errors" role="alert">')
        parts.extend(f"<p>{text(error)}</p>" for error in non_field_errors)
        parts.append("</div>\n")
    parts.append("\n")
    for field in form if form else ():
        errors = field.errors
        checkbox = getattr(field.field.widget, "input_type", None) == "checkbox"
        parts.append('\n<div class="field')
        if errors:
            parts.append(" has-error")
        if checkbox:
            parts.append(" checkbox")
        parts.append('">\n  ')
        widget, label = text(field), text(field.label_tag())
        if checkbox:
            parts.append(f"\n    {widget} {label}\n  ")
        else:
            parts.append(f"\n    {label}\n    {widget}\n  ")
        parts.append("\n  ")
        if field.help_text:
            parts.append(
                f'<p class="help" id="{text(field.auto_id)}_helptext">{text(field.help_text)}</p>'
            )
        parts.append("\n  ")
        auto_id = text(field.auto_id) if errors else ""
        parts.extend(f'<p class="error" id="{auto_id}_error">{text(error)}</p>' for error in errors)
        parts.append("\n</div>\n")
    parts.append("\n")
    return mark_safe("".join(parts))  # noqa: S308 (every value above is rendered escaped)
