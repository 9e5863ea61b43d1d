"""Form widgets written in Python: the same HTML as Django's widget templates, faster.

Django renders a ``<select>`` with one template include per option, and each field's input and
label with a template of their own: a list of 250 countries, or an invoice form of 60 fields,
costs a member page milliseconds. ``FormRenderer`` writes the common widgets' identical markup
directly (tests/test_form_rendering.py compares it with Django's templates). It is the project's
``FORM_RENDERER``; ``coop.forms.Form`` also names it.
"""

from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData, SafeString, mark_safe
from django.utils.timezone import template_localtime
from django.utils.translation import get_language


def _text(value) -> str:
    """A value as a template's ``{{ value }}`` writes it: localized, as text, escaped."""
    if not isinstance(value, str):
        value = localize(template_localtime(value))
    return conditional_escape(value)


def _formatted(value) -> str:
    """A value as ``{{ value|stringformat:'s' }}`` writes it."""
    text = "%s" % (value,)  # noqa: UP031 (the filter's own formatting, tuples included)
    return text if isinstance(value, SafeData) else conditional_escape(text)


def _attributes(attrs: dict | None) -> str:
    """The attributes as ``django/forms/widgets/attrs.html`` writes them (none for None, as
    ``{% if attrs %}`` in ``django/forms/label.html``)."""
    parts = []
    for name, value in (attrs or {}).items():
        if value is False:
            continue
        if value is True:
            parts.append(f" {_text(name)}")
        else:
            parts.append(f' {_text(name)}="{_formatted(value)}"')
    return "".join(parts)


def _option(option: dict) -> str:
    value = _formatted(option["value"])
    return (
        f'<option value="{value}"{_attributes(option["attrs"])}>{_text(option["label"])}</option>'
    )


def select_html(widget: dict) -> SafeString:
    """The markup of ``django/forms/widgets/select.html`` for a widget's context."""
    parts = [f'<select name="{_text(widget["name"])}"{_attributes(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_text(group_name)}">')
        for option in group_choices:
            parts.append(f"\n  {_option(option)}\n")
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return mark_safe("".join(parts))  # noqa: S308 (every part is escaped above)


def _input_html(widget: dict) -> str:
    """The markup of ``django/forms/widgets/input.html``."""
    value = widget["value"]
    value_attribute = "" if value is None else f' value="{_formatted(value)}"'
    return (
        f'<input type="{_text(widget["type"])}" name="{_text(widget["name"])}"'
        f"{value_attribute}{_attributes(widget['attrs'])}>"
    )


def _textarea_html(widget: dict) -> str:
    """The markup of ``django/forms/widgets/textarea.html``."""
    value = _text(widget["value"]) if widget["value"] else ""
    return (
        f'<textarea name="{_text(widget["name"])}"{_attributes(widget["attrs"])}>\n'
        f"{value}</textarea>"
    )


def _radio_html(widget: dict) -> str:
    """The markup of ``django/forms/widgets/radio.html`` (``multiple_input.html``, each option
    by ``input_option.html``)."""
    attrs = widget["attrs"]
    element_id, css_class = attrs.get("id"), attrs.get("class")
    parts = ["<div"]
    if element_id:
        parts.append(f' id="{_text(element_id)}"')
    if css_class:
        parts.append(f' class="{_text(css_class)}"')
    parts.append(">")
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            parts.append(f"\n  <div><label>{_text(group_name)}</label>")
        for option in group_choices:
            parts.append("<div>\n    ")
            if option["wrap_label"]:
                option_id = option["attrs"].get("id")
                label_for = f' for="{_text(option_id)}"' if option_id else ""
                parts.append(
                    f"<label{label_for}>{_input_html(option)}\n {_text(option['label'])}</label>"
                )
            else:
                parts.append(f"{_input_html(option)}\n")
            # The ends of input_option.html and radio_option.html.
            parts.append("\n\n</div>")
        if group_name:
            parts.append("\n  </div>")
    parts.append("\n</div>")
    return "".join(parts)


def _label_html(context: dict) -> str:
    """The markup of ``django/forms/label.html``."""
    if not context["use_tag"]:
        return _text(context["label"])
    tag = _text(context["tag"])
    return f"<{tag}{_attributes(context['attrs'])}>{_text(context['label'])}</{tag}>"


_WIDGET_WRITERS = {
    "django/forms/widgets/select.html": select_html,
    "django/forms/widgets/textarea.html": _textarea_html,
    "django/forms/widgets/radio.html": _radio_html,
    **{
        f"django/forms/widgets/{kind}.html": _input_html
        for kind in (
            "checkbox",
            "date",
            "datetime",
            "email",
            "hidden",
            "input",
            "number",
            "password",
            "search",
            "tel",
            "text",
            "time",
            "url",
        )
    },
}


class FormRenderer(DjangoTemplates):
    """Django's form renderer, writing the common widgets and labels without templates."""

    def render(self, template_name, context, request=None):
        if template_name == "django/forms/label.html":
            return _label_html(context).strip()
        write = _WIDGET_WRITERS.get(template_name)
        if write is None:
            return super().render(template_name, context, request=request)
        return write(context["widget"]).strip()


FORM_RENDERER = FormRenderer()


class LanguageCachedSelect(forms.Select):
    """A ``<select>`` whose options depend only on the active language, such as a country list.

    The options' markup is built once per language and process; a request only marks the
    chosen one. Give it fixed choices (a list, or a function of the active language alone).
    """

    def __init__(self, attrs=None, choices=()):
        super().__init__(attrs, choices)
        # Shared by the copies each form makes of its fields' widgets.
        self.options_by_language: dict[str | None, list[tuple[str, str, str]]] = {}

    def options(self) -> list[tuple[str, str, str]]:
        """Each option's value, its markup, and its markup when chosen."""
        language = get_language()
        options = self.options_by_language.get(language)
        if options is None:
            options = []
            for group_name, group_choices, _index in self.optgroups("", []):
                if group_name:
                    raise ValueError("LanguageCachedSelect takes no option groups.")
                option = group_choices[0]
                plain = f"\n  {_option(option)}\n"
                option["attrs"] = {**option["attrs"], **self.checked_attribute}
                options.append((str(option["value"]), plain, f"\n  {_option(option)}\n"))
            self.options_by_language[language] = options
        return options

    def use_required_attribute(self, initial) -> bool:
        # Django's rule: "required" only when the first option is an empty placeholder.
        options = self.options()
        return not self.is_hidden and bool(options) and options[0][0] == ""

    def render(self, name, value, attrs=None, renderer=None):
        values = self.format_value(value)
        attributes = _attributes(self.build_attrs(self.attrs, attrs))
        parts = [f'<select name="{_text(name)}"{attributes}>']
        has_selected = False
        for option_value, plain, chosen in self.options():
            if not has_selected and option_value in values:
                parts.append(chosen)
                has_selected = True
            else:
                parts.append(plain)
        parts.append("\n</select>")
        return mark_safe("".join(parts))  # noqa: S308 (every part is escaped above)
