"""Every API error is an RFC 9457 problem details document (``application/problem+json``).

A problem has ``type``, ``title``, ``status`` and ``detail``, plus two members of our own:
``code`` (a stable machine name: ``invalid`` for a validation error, the service's code for a
refused business rule, ``not_found``…) and, for validation errors, ``errors``: each field's
messages, nested fields named by their path (``lines.0.unit_price``). A business rule that
names a field also gives it in ``field``.
"""

from http import HTTPStatus

from django.http import JsonResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework.renderers import JSONRenderer

MEDIA_TYPE = "application/problem+json"

# The HTTP statuses' titles, in the reader's language.
TITLES = {
    400: _("Bad request"),
    401: _("Not authenticated"),
    403: _("Forbidden"),
    404: _("Not found"),
    405: _("Method not allowed"),
    406: _("Not acceptable"),
    409: _("Conflict"),
    413: _("Request too large"),
    415: _("Unsupported media type"),
    422: _("Unprocessable content"),
    429: _("Too many requests"),
    500: _("Internal server error"),
}

# Problem types with more meaning than their HTTP status; the others are "about:blank".
VALIDATION_TYPE = "urn:coop:problem:validation"
BUSINESS_RULE_TYPE = "urn:coop:problem:business-rule"
IDEMPOTENCY_TYPE = "urn:coop:problem:idempotency-key"


class ProblemJSONRenderer(JSONRenderer):
    media_type = MEDIA_TYPE


def title_of(status: int) -> str:
    title = TITLES.get(status)
    if title is not None:
        return str(title)
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return gettext("Error")


def problem(
    status: int,
    detail: str,
    *,
    code: str,
    problem_type: str = "about:blank",
    **members,
) -> dict:
    """Return the body of a problem details document."""
    return {
        "type": problem_type,
        "title": title_of(status),
        "status": status,
        "detail": str(detail),
        "code": code,
        **{name: value for name, value in members.items() if value is not None},
    }


def problem_response(status: int, detail: str, *, code: str, **members) -> JsonResponse:
    """A problem answered outside Django REST Framework (URL not found, server error)."""
    return JsonResponse(
        problem(status, detail, code=code, **members),
        status=status,
        content_type=MEDIA_TYPE,
        json_dumps_params={"ensure_ascii": False},
    )
