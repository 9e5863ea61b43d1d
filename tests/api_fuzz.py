"""Schemathesis against the API schema, in process, as authenticated personas.

Used by ``tests/test_api_fuzz.py`` (a short run inside the suite) and by
``benchmarks/api_fuzz.py`` (a longer run that prints its figures). Every generated request,
valid or not, must get an answer that the schema documents: no server error, a documented
status code, a documented content type, a body and headers that match the schema.
"""

import contextlib
import dataclasses
import json
import re

import schemathesis
import werkzeug.test
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import make_api_token

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]

# Collections whose first visible row gives the real identifiers of the detail operations.
COLLECTIONS = {
    "/api/v1/activities/{id}/": "/api/v1/activities/",
    "/api/v1/clients/{id}/": "/api/v1/clients/",
    "/api/v1/invoices/{id}/": "/api/v1/invoices/",
    "/api/v1/contracts/{id}/": "/api/v1/contracts/",
    "/api/v1/payslips/{id}/": "/api/v1/payslips/",
    "/api/v1/expense-claims/{id}/": "/api/v1/expense-claims/",
    "/api/v1/sites/{id}/": "/api/v1/sites/",
    "/api/v1/rooms/{id}/": "/api/v1/rooms/",
    "/api/v1/bookings/{id}/": "/api/v1/bookings/",
}


@dataclasses.dataclass
class Persona:
    name: str
    headers: dict[str, str]
    cookies: dict[str, str]


@dataclasses.dataclass
class Failure:
    persona: str
    operation: str
    status: int
    message: str


@dataclasses.dataclass
class Report:
    operations: int = 0
    cases: int = 0
    statuses: dict[int, int] = dataclasses.field(default_factory=dict)
    failures: list[Failure] = dataclasses.field(default_factory=list)


def token_persona(name: str, user) -> Persona:
    return Persona(name, {"Authorization": f"Token {make_api_token(user)}"}, {})


def session_persona(name: str, user) -> Persona:
    """A signed-in browser: its session cookie and the CSRF token it sends with writes."""
    browser = Client()
    browser.force_login(user)
    browser.get("/accounts/logout/")  # a page with a form sets the CSRF cookie
    csrf = browser.cookies["csrftoken"].value
    cookies = {"sessionid": browser.cookies["sessionid"].value, "csrftoken": csrf}
    return Persona(name, {"X-CSRFToken": csrf, "Referer": "http://localhost/"}, cookies)


def load_schema():
    app = get_wsgi_application()
    browser = werkzeug.test.Client(app)
    body = browser.get("/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"})
    schema = schemathesis.openapi.from_dict(json.loads(body.get_data()))
    schema.app = app
    for result in schema.get_all_operations():
        result.ok().app = schema.app
    return schema


def _known_ids(app, persona: Persona) -> dict[str, int]:
    # Not Django's test client: it would connect close_old_connections again.
    browser = werkzeug.test.Client(app)
    for name, value in persona.cookies.items():
        browser.set_cookie(name, value)
    known = {}
    for template, collection in COLLECTIONS.items():
        response = browser.get(collection, headers=persona.headers)
        if response.status_code != 200:
            continue
        body = response.json
        rows = body["results"] if isinstance(body, dict) else body
        if rows:
            known[template] = rows[0]["pk"]
    return known


# Body fields naming a row, and the detail operation whose known row fills them.
REFERENCES = {
    "activity": "/api/v1/activities/{id}/",
    "client": "/api/v1/clients/{id}/",
    "room": "/api/v1/rooms/{id}/",
    "site": "/api/v1/sites/{id}/",
}


def run(
    personas: list[Persona],
    *,
    examples: int,
    operations: re.Pattern | None = None,
    modes=(GenerationMode.POSITIVE, GenerationMode.NEGATIVE),
    progress=None,
    thorough: bool = True,
) -> Report:
    """Send ``examples`` generated requests per operation, mode and persona; collect failures."""
    # Like Django's test client: the WSGI handler must not close the test's connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        return _run(personas, examples, operations, modes, progress, thorough)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _run(personas, examples, operations, modes, progress, thorough) -> Report:
    schema = load_schema()
    report = Report()
    for result in schema.get_all_operations():
        operation = result.ok()
        if operations is not None and not operations.search(operation.label):
            continue
        report.operations += 1
        for persona in personas:
            known = _known_ids(schema.app, persona)
            template = next((t for t in known if operation.path.startswith(t)), None)
            real = {"id": known[template]} if template is not None else None
            for mode in modes:
                # Generated identifiers mostly reach nothing (404): try a real one too, and
                # a short run only that one, with valid data.
                variants = [None, real] if thorough else [real]
                if mode == GenerationMode.NEGATIVE and not thorough:
                    variants = [None]
                for path_parameters in {repr(v): v for v in variants}.values():
                    _fuzz(operation, persona, mode, path_parameters, examples, report, known)
        if progress is not None:
            progress(operation.label, report)
    return report


def _fuzz(operation, persona, mode, path_parameters, examples, report, known) -> None:
    try:
        strategy = operation.as_strategy(
            generation_mode=mode, path_parameters=path_parameters or None
        )
    except Exception:  # An operation without negative variants, say.
        return

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def check(case):
        # Personas authenticate themselves: drop generated credentials.
        headers = {
            name: value
            for name, value in (case.headers or {}).items()
            if name.lower() not in ("authorization", "cookie", "x-csrftoken")
        }
        case.headers = {**headers, **persona.headers}
        if mode == GenerationMode.POSITIVE and isinstance(case.body, dict):
            # Valid bodies name rows the persona sees, so that some requests get through.
            for field, template in REFERENCES.items():
                if field in case.body and template in known:
                    case.body[field] = known[template]
        report.cases += 1
        response = None
        try:
            response = case.call(cookies=persona.cookies)
            report.statuses[response.status_code] = report.statuses.get(response.status_code, 0) + 1
            case.validate_response(response, checks=CHECKS)
        except (Exception, FailureGroup) as error:
            status = response.status_code if response is not None else 0
            report.failures.append(
                Failure(persona.name, operation.label, status, str(error)[:3000])
            )

    # Unsatisfiable: nothing left to make invalid once the path is fixed.
    with contextlib.suppress(Unsatisfiable):
        check()
