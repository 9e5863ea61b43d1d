"""axe-core (pinned through axe-playwright-python) on the key pages of the demo world."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.management import call_command
from django.urls import reverse

from contracts.models import Contract
from invoicing.models import Invoice
from members.demo import DEMO_MEMBER, DEMO_PASSWORD
from members.models import Activity
from spaces.models import Site
from tests.journeys import pages

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BLOCKING = {"serious", "critical"}


def member_pages() -> list[str]:
    activity = Activity.objects.filter(owner__user__email=DEMO_MEMBER).order_by("pk").first()
    invoice = Invoice.objects.filter(activity=activity).order_by("pk").first()
    contract = Contract.objects.filter(activity=activity).order_by("pk").first()
    return [
        reverse("members:dashboard"),
        reverse("members:activity_detail", args=[activity.pk]),
        reverse("members:profile"),
        reverse("members:shares"),
        reverse("invoicing:invoice_list"),
        reverse("invoicing:invoice_create"),
        reverse("invoicing:invoice_detail", args=[invoice.pk]),
        reverse("invoicing:client_create"),
        reverse("contracts:create"),
        reverse("contracts:detail", args=[contract.pk]),
        reverse("contracts:payslips"),
        reverse("spaces:search"),
    ]


def manager_pages() -> list[str]:
    site = Site.objects.order_by("pk").first()
    return [
        reverse("spaces:calendar", args=[site.pk]),
        reverse("spaces:occupancy", args=[site.pk]),
        reverse("spaces:queue"),
        reverse("spaces:feeds"),
    ]


def blocking_violations(page, url: str) -> list[str]:
    """The serious and critical axe violations of the page at ``url``, one line each."""
    page.goto(url)
    result = Axe().run(page)
    return [
        f"{url} {violation['impact']} {violation['id']}: "
        + "; ".join(node["target"][0] for node in violation["nodes"][:5])
        for violation in result.response["violations"]
        if violation["impact"] in BLOCKING
    ]


def test_key_pages_have_no_serious_accessibility_violation(open_page, settings):
    """Sign-in, sign-up, 12 member pages and 4 space manager pages, in French, on the demo."""
    call_command("seed_demo", verbosity=0)
    violations = []

    anonymous = open_page(language="fr")
    for url in (reverse("account_login"), reverse("account_signup")):
        violations += blocking_violations(anonymous, url)

    member = open_page(language="fr")
    pages.sign_in(member, email=DEMO_MEMBER, password=DEMO_PASSWORD)
    for url in member_pages():
        violations += blocking_violations(member, url)

    manager = open_page(language="fr")
    pages.sign_in(manager, email="spaces@coop.test", password=DEMO_PASSWORD)
    for url in manager_pages():
        violations += blocking_violations(manager, url)

    assert violations == [], "\n".join(violations)
