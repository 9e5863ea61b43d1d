"""Project-wide views: health check, favicon and the pages later modules fill."""

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.templatetags.static import static
from django.utils.translation import gettext
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from coop.problems import problem_response


def _database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:
        return f"error: {type(error).__name__}"
    return "ok"


def _broker_status() -> str:
    try:
        client = redis.Redis.from_url(
            settings.CELERY_BROKER_URL, socket_connect_timeout=2, socket_timeout=2
        )
        client.ping()
    except Exception as error:
        return f"error: {type(error).__name__}"
    return "ok"


@never_cache
@require_GET
def healthz(request):
    """Report whether the database and the broker answer; 503 when one does not."""
    checks = {"database": _database_status(), "broker": _broker_status()}
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", "checks": checks},
        status=200 if healthy else 503,
    )


@require_GET
def favicon(request):
    """Send browsers that ask for /favicon.ico to the SVG icon the pages link to."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def page_not_found(request, exception):
    """An unknown API address is a problem document; other pages keep Django's 404 page."""
    if _is_api(request):
        return problem_response(404, gettext("Not found."), code="not_found")
    return defaults.page_not_found(request, exception)


def server_error(request):
    """An API failure is a problem document without a traceback; other pages keep the 500 page."""
    if _is_api(request):
        detail = gettext("Something went wrong on our side; nothing was saved. Try again later.")
        return problem_response(500, detail, code="server_error")
    return defaults.server_error(request)
