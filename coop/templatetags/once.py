"""``{% form_token %}``: the hidden one-time token of a creating form (see coop.idempotency)."""

import uuid

from django import template
from django.utils.html import format_html

from coop.idempotency import FORM_FIELD, new_form_token

register = template.Library()


@register.simple_tag(takes_context=True)
def form_token(context) -> str:
    """A new token, or the posted one when the form is shown again with its errors."""
    request = context.get("request")
    token = request.POST.get(FORM_FIELD, "") if request is not None else ""
    try:
        token = uuid.UUID(token).hex
    except ValueError:
        token = new_form_token()
    return format_html('<input type="hidden" name="{}" value="{}">', FORM_FIELD, token)
