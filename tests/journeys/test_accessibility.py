"""axe-core (pinned through axe-playwright-python) on the key pages of the demo world."""

from collections import Counter

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.management import call_command
from django.urls import reverse

from contracts.models import Contract
from coop.celery import app as celery_app
from invoicing.models import Invoice
from members.demo import DEMO_MEMBER, DEMO_PASSWORD, DEMO_STAFF, DEMO_TOTP_SECRET
from members.models import Activity
from quotes import services as quote_services
from quotes.models import Quote
from spaces.models import Room, Site
from tests.journeys import pages
from tests.journeys.pages import current_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BLOCKING = {"serious", "critical"}
# Django's own admin markup, left to Django (and listed in the admin work): its search
# bar is labelled by a magnifier image only, and its breadcrumb links differ from the text
# around them by colour only. Nothing else is waived, and nothing outside the admin.
DJANGO_ADMIN_MARKUP = {("label-title-only", "#searchbar"), ("link-in-text-block", ".breadcrumbs")}


def member_pages() -> list[str]:
    activity = Activity.objects.filter(owner__user__email=DEMO_MEMBER).order_by("pk").first()
    invoice = Invoice.objects.filter(activity=activity).order_by("pk").first()
    contract = Contract.objects.filter(activity=activity).order_by("pk").first()
    quote = Quote.objects.filter(activity=activity, status=Quote.Status.SENT).first()
    return [
        reverse("members:dashboard"),
        reverse("members:activity_detail", args=[activity.pk]),
        reverse("members:profile"),
        reverse("members:shares"),
        reverse("invoicing:invoice_list"),
        reverse("invoicing:invoice_create"),
        reverse("invoicing:invoice_detail", args=[invoice.pk]),
        reverse("invoicing:client_create"),
        reverse("quotes:quote_list"),
        reverse("quotes:quote_create"),
        reverse("quotes:quote_detail", args=[quote.pk]),
        reverse("contracts:create"),
        reverse("contracts:detail", args=[contract.pk]),
        reverse("contracts:payslips"),
        reverse("spaces:search"),
        # The availability grid of a room, as members book from it.
        reverse("spaces:room_detail", args=[Room.objects.filter(is_bookable=True).first().pk]),
        reverse("members:activity_list"),
    ]


def manager_pages() -> list[str]:
    site = Site.objects.order_by("pk").first()
    return [
        reverse("members:dashboard"),  # a space manager's own checklist and work
        reverse("spaces:calendar", args=[site.pk]),
        reverse("spaces:occupancy", args=[site.pk]),
        reverse("spaces:queue"),
        reverse("spaces:feeds"),
    ]


def staff_pages() -> list[str]:
    return [
        reverse("admin:index"),
        reverse("admin:members_member_changelist"),
        reverse("admin:invoicing_invoice_changelist"),
        reverse("admin:contracts_payrollrun_run"),
    ]


def blocking_violations(page, url: str) -> list[str]:
    """The serious and critical axe violations of the page at ``url``, one line each.

    Every page's figures by impact are printed (``pytest -rP`` shows them).
    """
    page.goto(url)
    result = Axe().run(page)
    violations = result.response["violations"]
    impacts = Counter(violation["impact"] for violation in violations)
    print(f"axe {url}: {dict(impacts) or 'no violation'}")  # noqa: T201
    return [
        f"{url} {violation['impact']} {violation['id']}: {target}"
        for violation in violations
        if violation["impact"] in BLOCKING
        for target in (node["target"][0] for node in violation["nodes"])
        if not (
            url.startswith(reverse("admin:index"))
            and any(
                violation["id"] == rule and target.startswith(selector)
                for rule, selector in DJANGO_ADMIN_MARKUP
            )
        )
    ]


def test_key_pages_have_no_serious_accessibility_violation(open_page, settings):
    """Sign-in, sign-up, 12 member, 4 space manager and 4 staff pages, in French, on the demo."""
    # The demo's documents stay pending (queued, not rendered here): the pages say so, and
    # rendering some thirty PDFs would make this test several times slower.
    celery_app.conf.task_always_eager = False
    call_command("seed_demo", verbosity=0)
    celery_app.conf.task_always_eager = True
    violations = []

    anonymous = open_page(language="fr")
    for url in (reverse("account_login"), reverse("account_signup")):
        violations += blocking_violations(anonymous, url)

    member = open_page(language="fr")
    pages.sign_in(member, email=DEMO_MEMBER, password=DEMO_PASSWORD)
    for url in member_pages():
        violations += blocking_violations(member, url)

    # The client's page of a sent quote, through a new link (only its hash is kept).
    sent = Quote.objects.filter(status=Quote.Status.SENT).first()
    _sent, token = quote_services.resend_quote(user=sent.created_by, quote=sent)
    client = open_page(language="fr")
    violations += blocking_violations(client, reverse("quotes:public", args=[token]))

    manager = open_page(language="fr")
    pages.sign_in(manager, email="spaces@coop.test", password=DEMO_PASSWORD)
    for url in manager_pages():
        violations += blocking_violations(manager, url)

    staff = open_page(language="fr")
    pages.sign_in(staff, email=DEMO_STAFF, password=DEMO_PASSWORD)
    pages.give_authenticator_code(staff, current_code(DEMO_TOTP_SECRET))
    for url in staff_pages():
        violations += blocking_violations(staff, url)

    assert violations == [], "\n".join(violations)
