"""The current request, so services can record who acted without passing it down."""

from contextvars import ContextVar

_current_request: ContextVar = ContextVar("audit_current_request", default=None)


def current_request():
    """Return the request being served in this context, or None (Celery, commands)."""
    return _current_request.get()


class AuditContextMiddleware:
    """Expose the request to ``audit.services`` for the time of the response, then forget it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            _current_request.reset(token)
