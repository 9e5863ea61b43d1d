"""Every write of the audit app: recording events, redaction on anonymisation, data exports."""

import datetime
import decimal
import uuid
from collections.abc import Iterable, Mapping

from django.db import connection, models, transaction
from django.utils import timezone

from audit.context import current_request
from audit.models import AuditEvent
from coop.errors import CoopError


class AuditError(CoopError):
    """A data export or anonymisation rule refused the request."""


# Field names whose values never enter the trail in clear: the fact of the change is kept.
SENSITIVE_FIELDS = frozenset(
    {
        "niss",
        "niss_fingerprint",
        "password",
        "iban",
        "bic",
        "key",
        "token",
        "secret",
        "token_hash",
        "key_hash",
    }
)
MASK = "***"
USER_AGENT_LENGTH = AuditEvent._meta.get_field("user_agent").max_length
REPR_LENGTH = AuditEvent._meta.get_field("object_repr").max_length
LABEL_LENGTH = AuditEvent._meta.get_field("actor_label").max_length


def json_value(value):
    """Turn a field value into something JSON keeps exactly (money as a string, never a float)."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, str | int | bool | type(None)):
        return value
    if isinstance(value, list | tuple | set | frozenset):
        return [json_value(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): json_value(item) for key, item in value.items()}
    return str(value)


def _is_sensitive(field: str) -> bool:
    # By part of the name too, so a form's ``new_niss`` or ``api_token`` is masked as well.
    name = field.lower()
    return name in SENSITIVE_FIELDS or any(part in SENSITIVE_FIELDS for part in name.split("_"))


def _mask(value):
    return MASK if value not in (None, "") else value


def mask_changes(changes: Mapping) -> dict:
    """Return ``changes`` as plain JSON values with sensitive values replaced by a mask."""
    masked = {}
    for field, pair in changes.items():
        old, new = (
            (pair[0], pair[1])
            if isinstance(pair, list | tuple) and len(pair) == 2
            else (None, pair)
        )
        if _is_sensitive(str(field)):
            masked[str(field)] = [_mask(old), _mask(new)]
        else:
            masked[str(field)] = [json_value(old), json_value(new)]
    return masked


def diff_fields(before: dict, after: dict) -> dict:
    """Return ``{field: [old, new]}`` for every field whose value differs between two dicts."""
    changed = {}
    for field in [*before.keys(), *(key for key in after if key not in before)]:
        old, new = json_value(before.get(field)), json_value(after.get(field))
        if old != new:
            changed[field] = [old, new]
    return changed


def field_values(obj: models.Model, fields: Iterable[str]) -> dict:
    """Return the named attributes of a model instance (FKs as their key), for ``diff_fields``."""
    values = {}
    for name in fields:
        field = obj._meta.get_field(name)
        values[name] = getattr(obj, field.attname) if field.concrete else getattr(obj, name)
    return values


def _client_ip(request) -> str | None:
    address = (request.META.get("REMOTE_ADDR") or "").strip()
    return address or None


def _request_user(request):
    user = getattr(request, "user", None)
    if user is not None and getattr(user, "is_authenticated", False) and user.pk is not None:
        return user
    return None


def object_label(obj: models.Model) -> str:
    """Return the ``app_label.model`` name the trail uses for a model."""
    return obj._meta.label_lower


def record_event(
    *,
    action: str,
    obj=None,
    object_type: str | None = None,
    object_pk=None,
    object_repr: str | None = None,
    changes: dict | None = None,
    reason: str = "",
    actor=None,
) -> AuditEvent:
    """Append one row to the audit trail.

    ``obj`` fills the object's type, key and description unless they are given. The actor
    defaults to the signed-in user of the request being served; the IP address and browser come
    from that request. Outside a request (tasks, commands) the actor is None unless given.
    Sensitive values in ``changes`` (national number, IBAN, secrets) are masked.
    """
    request = current_request()
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None  # an AnonymousUser passed down from a view
    if actor is None and request is not None:
        actor = _request_user(request)
    if obj is not None:
        object_type = object_type or object_label(obj)
        object_pk = obj.pk if object_pk is None else object_pk
        object_repr = str(obj) if object_repr is None else object_repr
    actor_label = ""
    if actor is not None:
        actor_label = (getattr(actor, "email", "") or str(actor))[:LABEL_LENGTH]
    return AuditEvent.objects.create(
        occurred_at=timezone.now(),
        actor=actor,
        actor_label=actor_label,
        action=action,
        object_type=object_type or "",
        object_pk="" if object_pk is None else str(object_pk),
        object_repr=(object_repr or "")[:REPR_LENGTH],
        changes=mask_changes(changes or {}),
        reason=reason or "",
        ip=_client_ip(request) if request is not None else None,
        user_agent=(
            (request.META.get("HTTP_USER_AGENT") or "")[:USER_AGENT_LENGTH]
            if request is not None
            else ""
        ),
    )


@transaction.atomic
def redact_person(
    *,
    user,
    placeholder: str,
    objects: Iterable[tuple[str, str]] = (),
    fields: Iterable[str] = (),
) -> int:
    """Remove a person's identity from earlier audit rows; return how many rows changed.

    Rows the person acted in get the placeholder as actor label; rows about the given objects
    (``(object_type, object_pk)`` pairs, e.g. their member record and user) get the placeholder
    as description and the values of the named personal ``fields`` masked. Who, what, when and
    why stay.
    """
    with connection.cursor() as cursor:
        # The append-only trigger lets this one transaction rewrite those three columns only.
        cursor.execute("SET LOCAL audit.redaction = 'on'")
    changed = (
        AuditEvent.objects.filter(actor=user)
        .exclude(actor_label=placeholder)
        .update(actor_label=placeholder)
    )
    personal = set(fields)
    for object_type, object_pk in objects:
        for event in AuditEvent.objects.filter(object_type=object_type, object_pk=str(object_pk)):
            masked = {
                field: [_mask(pair[0]), _mask(pair[1])] if field in personal else pair
                for field, pair in event.changes.items()
            }
            if event.object_repr != placeholder or masked != event.changes:
                event.object_repr = placeholder
                event.changes = masked
                event.save(update_fields=["object_repr", "changes"])
                changed += 1
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL audit.redaction = 'off'")
    return changed
