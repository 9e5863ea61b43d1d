"""Creating requests that are safe to send twice.

An API client sends an ``Idempotency-Key`` header with a POST; a browser form carries a hidden
one-time token. The first request claims the key in the same transaction as the work it does,
so a concurrent duplicate waits on the unique constraint and then finds the first answer: the
API replays the stored response (with ``Idempotent-Replayed: true``), the browser is sent to
what the first post created. The same key with another request body is a 422 problem.
"""

import datetime
import hashlib
import json
import uuid
from functools import wraps

from django.contrib import messages
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from coop.models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
FORM_FIELD = "form_token"
LIFETIME = datetime.timedelta(hours=24)
MAX_KEY_LENGTH = 255


class KeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = _(
        "This Idempotency-Key was already used for a different request: use a new key."
    )
    default_code = "idempotency_key_reused"


def _canonical(value):
    """Reduce parsed request data to JSON that does not depend on how it was encoded."""
    if isinstance(value, UploadedFile):
        digest = hashlib.sha256()
        for chunk in value.chunks():
            digest.update(chunk)
        value.seek(0)
        return {"file": value.name, "size": value.size, "sha256": digest.hexdigest()}
    if hasattr(value, "getlist"):
        return {key: [_canonical(item) for item in value.getlist(key)] for key in sorted(value)}
    if isinstance(value, dict):
        return {str(key): _canonical(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    return value


def fingerprint(request) -> str:
    """The SHA-256 of the request's method, path, query and parsed body."""
    material = {
        "method": request.method,
        "path": request.path,
        "query": _canonical(request.query_params),
        "data": _canonical(request.data),
    }
    encoded = json.dumps(material, cls=JSONEncoder, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(encoded.encode()).hexdigest()


def _claim(*, user, key: str, method: str, path: str, request_hash: str) -> IdempotencyKey:
    """Claim ``key`` for this request, or return the earlier request's finished row.

    Must run inside the transaction that does the work: a concurrent request with the same key
    blocks on the unique constraint until this one commits (and then finds its answer) or
    rolls back (and then claims the key itself).
    """
    IdempotencyKey.objects.bulk_create(
        [IdempotencyKey(user=user, key=key, method=method, path=path, request_hash=request_hash)],
        ignore_conflicts=True,
    )
    row = IdempotencyKey.objects.select_for_update().get(user=user, key=key)
    if row.response_status is None:
        return row  # Ours: a finished row always has its answer.
    if row.created_at < timezone.now() - LIFETIME:
        row.delete()
        return IdempotencyKey.objects.create(
            user=user, key=key, method=method, path=path, request_hash=request_hash
        )
    return row


def purge_expired_keys(*, now: datetime.datetime) -> int:
    """Delete the keys older than 24 hours; return how many."""
    deleted, _counts = IdempotencyKey.objects.filter(created_at__lt=now - LIFETIME).delete()
    return deleted


def _valid_key(raw: str | None) -> str | None:
    if raw is None:
        return None
    # The IETF draft sends the key as a quoted structured-field string; accept it bare too.
    key = raw.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not key or len(key) > MAX_KEY_LENGTH or not all(" " <= char <= "~" for char in key):
        raise exceptions.ValidationError(
            {
                HEADER: [
                    gettext(
                        "Send at most %(length)d printable ASCII characters as the Idempotency-Key."
                    )
                    % {"length": MAX_KEY_LENGTH}
                ]
            }
        )
    return key


class IdempotentCreationMixin:
    """Honour the Idempotency-Key header on the POST operations of a DRF view."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method != "POST":
            return
        key = _valid_key(request.headers.get(HEADER))
        if key is None:
            return
        handler = getattr(self, "post", None)
        if handler is None:
            return
        request_hash = fingerprint(request)

        @wraps(handler)
        def idempotent_handler(request, *args, **kwargs):
            with transaction.atomic():
                row = _claim(
                    user=request.user,
                    key=key,
                    method=request.method,
                    path=request.path,
                    request_hash=request_hash,
                )
                if row.response_status is not None:
                    if (row.method, row.path, row.request_hash) != (
                        request.method,
                        request.path,
                        request_hash,
                    ):
                        raise KeyReused()
                    return Response(
                        row.response_body,
                        status=row.response_status,
                        headers={REPLAYED_HEADER: "true"},
                    )
                response = handler(request, *args, **kwargs)
                if isinstance(response, Response) and status.is_success(response.status_code):
                    row.response_status = response.status_code
                    row.response_body = json.loads(json.dumps(response.data, cls=JSONEncoder))
                    row.save(update_fields=["response_status", "response_body"])
                else:
                    row.delete()  # Nothing to replay: the key may be used again.
                return response

        self.post = idempotent_handler


def new_form_token() -> str:
    return uuid.uuid4().hex


def one_time_form(view):
    """Make a creating form's POST happen once per one-time token (the hidden ``form_token``).

    The second post of the same form (a double click, a reload, a second tab) creates
    nothing: it is sent to what the first post created, with a message saying so.
    """

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        token = request.POST.get(FORM_FIELD, "") if request.method == "POST" else ""
        try:
            token = uuid.UUID(token).hex
        except ValueError:
            token = None  # The view is called outside the handler: no chained traceback.
        if token is None or not request.user.is_authenticated:
            return view(request, *args, **kwargs)
        with transaction.atomic():
            row = _claim(
                user=request.user,
                key=f"form:{token}",
                method="POST",
                path=request.path,
                request_hash="",
            )
            if row.response_status is not None:
                messages.info(request, _("This form was already sent: here is what it created."))
                return redirect(row.location)
            response = view(request, *args, **kwargs)
            if response.status_code in (301, 302, 303) and response.get("Location"):
                row.response_status = response.status_code
                row.location = response["Location"]
                row.save(update_fields=["response_status", "location"])
            else:
                row.delete()
            return response

    return wrapped
