"""What the OpenAPI schema says of every operation: its errors and its Idempotency-Key.

drf-spectacular documents each operation's successful answers; this hook adds the problem
details that any operation may answer (see ``coop.problems``), so that a client, and the
schema tests, know every status an operation can give.
"""

from django.utils.translation import gettext_lazy as _

from coop.idempotency import HEADER as IDEMPOTENCY_HEADER
from coop.idempotency import REPLAYED_HEADER
from coop.problems import MEDIA_TYPE


def _problem_schema() -> dict:
    return {
        "type": "object",
        "description": str(
            _(
                "An RFC 9457 problem details document. `code` names the problem for programs;"
                " `errors` maps each invalid field (nested fields by their path, such as"
                " `lines.0.unit_price`) to its messages."
            )
        ),
        "properties": {
            "type": {"type": "string", "description": "A URI naming the kind of problem."},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "code": {"type": "string"},
            "field": {"type": "string"},
            "errors": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
            },
        },
        "required": ["type", "title", "status", "detail", "code"],
    }


# Every operation may answer these.
COMMON_PROBLEMS = {
    "400": _("The request is not valid (see `errors`), or a business rule refused it."),
    "401": _("No valid credentials were given."),
    "403": _("The user may not do this."),
    "404": _("Not found, or not visible to the user."),
    "429": _("Too many requests: try again after the time in the Retry-After header."),
}
BODY_PROBLEMS = {
    "413": _("The request is too large."),
    "415": _("The request's content type is not accepted."),
}
IDEMPOTENCY_PROBLEMS = {
    "422": _("This Idempotency-Key was already used for a different request."),
}


def _problem_response(description) -> dict:
    return {
        "description": str(description),
        "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _idempotency_parameter() -> dict:
    return {
        "in": "header",
        "name": IDEMPOTENCY_HEADER,
        "required": False,
        "schema": {"type": "string", "minLength": 1, "maxLength": 255},
        "description": str(
            _(
                "A unique key (a UUID, say) that makes the request safe to retry for 24 hours:"
                " a retry with the same key and the same body answers the first response again"
                " (with the header Idempotent-Replayed: true) instead of creating a second"
                " object; the same key with another body is a 422 problem."
            )
        ),
    }


def add_problem_responses(result, generator, request, public):
    """Document every operation's problem answers and the Idempotency-Key of POST operations."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = _problem_schema()
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            problems = dict(COMMON_PROBLEMS)
            if method in ("post", "put", "patch"):
                problems.update(BODY_PROBLEMS)
            if method == "post":
                problems.update(IDEMPOTENCY_PROBLEMS)
                parameters = operation.setdefault("parameters", [])
                if not any(p.get("name") == IDEMPOTENCY_HEADER for p in parameters):
                    parameters.append(_idempotency_parameter())
                for status, response in responses.items():
                    if status.startswith("2"):
                        response.setdefault("headers", {})[REPLAYED_HEADER] = {
                            "description": str(
                                _("`true` when this is the stored answer to an earlier request.")
                            ),
                            "schema": {"type": "string", "enum": ["true"]},
                        }
            for status, description in problems.items():
                responses.setdefault(status, _problem_response(description))
    return result
