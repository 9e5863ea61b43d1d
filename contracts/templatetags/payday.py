"""The staff home's line on payments at risk and on where Dimona declarations go."""

from django import template
from django.utils import timezone

from contracts import dimona, payday

register = template.Library()


@register.simple_tag
def payments_at_risk() -> list[tuple[str, str, int]]:
    """Each reason that puts payments at risk today: (value, label, count), in one query at
    most every five minutes (the staff home is every admin page's first view)."""
    counts = payday.cached_risk_counts(today=timezone.localdate())
    return [
        (risk.value, str(risk.label), counts[risk.value])
        for risk in payday.Risk
        if counts.get(risk.value)
    ]


@register.simple_tag
def dimona_gateway() -> str:
    return dimona.gateway_label()
