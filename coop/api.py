"""What every API view shares: errors as RFC 9457 problem details."""

import logging
import math
import re

from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    ValidationError,
)
from django.http import Http404
from django.utils.translation import gettext, ngettext
from rest_framework import exceptions, parsers, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from coop.errors import CoopError
from coop.problems import (
    BUSINESS_RULE_TYPE,
    MEDIA_TYPE,
    VALIDATION_TYPE,
    ProblemJSONRenderer,
    problem,
)

logger = logging.getLogger(__name__)
DJANGO_NOT_FOUND = re.compile(r"^No \w+ matches the given query\.$")


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing JSON nested too deep to decode with a 400, not a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise exceptions.ParseError(
                gettext("The JSON document is nested too deeply.")
            ) from error


def flatten_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    """Map each field, nested ones by their path (``lines.0.unit_price``), to its messages."""
    errors: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for name, value in detail.items():
            errors.update(flatten_errors(value, f"{prefix}.{name}" if prefix else str(name)))
    elif isinstance(detail, list | tuple):
        for index, item in enumerate(detail):
            if isinstance(item, dict | list | tuple):
                if item:
                    errors.update(flatten_errors(item, f"{prefix}.{index}"))
            else:
                errors.setdefault(prefix or api_settings.NON_FIELD_ERRORS_KEY, []).append(str(item))
    else:
        errors.setdefault(prefix or api_settings.NON_FIELD_ERRORS_KEY, []).append(str(detail))
    return errors


def validation_problem(errors: dict[str, list[str]]) -> dict:
    messages = [message for field_messages in errors.values() for message in field_messages]
    if len(messages) == 1:
        detail = messages[0]
    else:
        detail = gettext("Some fields are not valid: %(fields)s.") % {"fields": ", ".join(errors)}
    return problem(
        status.HTTP_400_BAD_REQUEST,
        detail,
        code="invalid",
        problem_type=VALIDATION_TYPE,
        errors=errors,
    )


def _code_of(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    return codes if isinstance(codes, str) else exc.default_code


def _as_problem(exc, context) -> tuple[dict, int, dict[str, str]]:
    """Return the problem body, the status and the headers that answer ``exc``."""
    if isinstance(exc, CoopError):
        body = problem(
            status.HTTP_400_BAD_REQUEST,
            exc.message,
            code=exc.code,
            problem_type=BUSINESS_RULE_TYPE,
            field=exc.field,
        )
        return body, status.HTTP_400_BAD_REQUEST, {}
    if isinstance(exc, ValidationError):
        detail = exc.message_dict if hasattr(exc, "message_dict") else exc.messages
        return validation_problem(flatten_errors(detail)), status.HTTP_400_BAD_REQUEST, {}
    if isinstance(exc, exceptions.ValidationError):
        return validation_problem(flatten_errors(exc.detail)), status.HTTP_400_BAD_REQUEST, {}
    if isinstance(exc, RequestDataTooBig | TooManyFieldsSent):
        detail = gettext("The request is too large.")
        code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
        return problem(code, detail, code="too_large"), code, {}
    if isinstance(exc, SuspiciousOperation):
        detail = gettext("The request could not be understood.")
        return problem(400, detail, code="bad_request"), 400, {}
    if isinstance(exc, PermissionDenied) and not str(exc):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, Http404) and DJANGO_NOT_FOUND.match(str(exc)):
        # get_object_or_404's English sentence: say it in the reader's language instead.
        exc = exceptions.NotFound()
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        # DRF's second sentence is missing from some of its catalogs (Dutch): say it ourselves.
        seconds = math.ceil(exc.wait)
        wait_text = ngettext(
            "Try again in %(seconds)d second.", "Try again in %(seconds)d seconds.", seconds
        ) % {"seconds": seconds}
        detail = f"{exceptions.Throttled.default_detail} {wait_text}"
        throttled = exceptions.Throttled(detail=detail)
        throttled.wait = exc.wait
        exc = throttled
    response = drf_exception_handler(exc, context)
    if response is None:
        # A bug: say so without a traceback; the log keeps it.
        logger.exception("Unhandled error in an API view", exc_info=exc)
        detail = gettext("Something went wrong on our side; nothing was saved. Try again later.")
        code = status.HTTP_500_INTERNAL_SERVER_ERROR
        return problem(code, detail, code="server_error"), code, {}
    headers = {
        name: value
        for name, value in response.items()
        if name in ("WWW-Authenticate", "Retry-After", "Allow")
    }
    if isinstance(exc, exceptions.APIException):
        code = _code_of(exc)
        detail = exc.detail if isinstance(exc.detail, str) else exc.default_detail
    else:
        code = "not_found" if response.status_code == 404 else "permission_denied"
        detail = response.data.get("detail", "")
    if isinstance(exc, exceptions.MethodNotAllowed) and "Allow" not in headers:
        view = context.get("view")
        if view is not None:
            headers["Allow"] = ", ".join(view.allowed_methods)
    return problem(response.status_code, detail, code=code), response.status_code, headers


def exception_handler(exc, context):
    """Answer every error of an API view with a problem details document."""
    body, code, headers = _as_problem(exc, context)
    set_rollback()
    request = context.get("request")
    if request is not None:
        # Problems are JSON whatever the client asked for (even an unacceptable Accept header).
        request.accepted_renderer = ProblemJSONRenderer()
        request.accepted_media_type = MEDIA_TYPE
    return Response(body, status=code, headers=headers, content_type=MEDIA_TYPE)
