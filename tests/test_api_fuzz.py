"""A short Schemathesis run against the API as a member, a space manager and staff."""

import pytest
from django.core.management import call_command

from members.demo import DEMO_MEMBER, DEMO_STAFF
from members.models import User
from tests import api_fuzz


@pytest.fixture
def personas(db, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    call_command("seed_demo", verbosity=0)
    return [
        api_fuzz.token_persona("member", User.objects.get(email=DEMO_MEMBER)),
        api_fuzz.token_persona("space manager", User.objects.get(email="spaces@coop.test")),
        api_fuzz.session_persona("staff", User.objects.get(email=DEMO_STAFF)),
    ]


def test_every_answer_is_documented_and_none_is_a_server_error(personas):
    report = api_fuzz.run(personas, examples=2, thorough=False)
    assert report.operations >= 40
    assert report.cases >= report.operations * 4
    failures = [
        f"{failure.persona} {failure.operation} {failure.status}\n{failure.message}"
        for failure in report.failures
    ]
    assert failures == [], "\n\n".join(failures)
