"""Browser journeys: Debian's Chromium driven by Playwright against pytest-django's live server.

The live server runs in a thread of the test process on the test database (real PostgreSQL),
so a journey can prepare rows through services, read ``mail.outbox`` and check the outcome in
the database. Celery tasks run eagerly in the live server's thread (the suite has no worker,
and a worker shared by the two pytest-xdist processes would take the other's messages), so the
invoice and payslip PDFs are rendered as the request that queues them commits.
"""

from pathlib import Path

import pytest
from django.conf import settings as django_settings

from coop.celery import app as celery_app
from tests.conftest import restore_rows_of_data_migrations

CHROMIUM = Path("/usr/bin/chromium")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
# Issuing an invoice renders its PDF in the request (eager tasks): generous on a busy machine.
TIMEOUT_MS = 60_000


def pytest_collection_modifyitems(items):
    """Skip the browser journeys, saying why and how to fix it, when Chromium is missing."""
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(
        reason=f"{CHROMIUM} is missing: install it with `sudo apt-get install chromium` "
        "(`python3 dev.py test` installs it itself when run as root)"
    )
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def journey(monkeypatch, settings, tmp_path, live_server):
    """What a journey runs in: eager tasks, its own media folder, the live server's URL.

    Playwright's synchronous API keeps an event loop running in this thread, which Django
    would take for async code and refuse ORM calls from; the test's own ORM calls are
    synchronous, so the check is lifted for the journey's duration only.
    """
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    restore_rows_of_data_migrations()
    settings.MEDIA_ROOT = tmp_path
    settings.SITE_URL = live_server.url
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield live_server.url
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def chromium(journey):
    """A headless Chromium for one journey.

    Not shared across tests: while Playwright runs, its event loop would make Django refuse
    the ORM calls of the tests that the same pytest process runs next.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield browser
        browser.close()


def new_page(chromium, base_url: str, *, language: str, viewport: dict = DESKTOP):
    """A fresh browser context (no cookies) whose pages speak ``language``; return its page."""
    context = chromium.new_context(
        base_url=base_url, locale=language, viewport=viewport, is_mobile=viewport is PHONE
    )
    context.add_cookies(
        [{"name": django_settings.LANGUAGE_COOKIE_NAME, "value": language, "url": base_url}]
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.language = language
    page.server_errors = []
    page.on(
        "response",
        lambda response: response.status >= 500 and page.server_errors.append(response.url),
    )
    return page


@pytest.fixture
def open_page(chromium, journey):
    """Open pages in fresh contexts; check on the way out that none got a server error."""
    pages = []

    def opener(*, language: str, viewport: dict = DESKTOP):
        page = new_page(chromium, journey, language=language, viewport=viewport)
        pages.append(page)
        return page

    yield opener
    errors = [url for page in pages for url in page.server_errors]
    for page in pages:
        page.context.close()
    assert errors == [], f"server errors: {errors}"
