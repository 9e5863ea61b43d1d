"""A member sets up a monthly retainer in the browser, reads its dates, pauses and resumes it."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from playwright.sync_api import expect

from invoicing.models import RecurringInvoice
from invoicing.services.clients import create_client
from members import services
from tests.conftest import PASSWORD, make_member
from tests.journeys import pages

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_member_sets_up_pauses_and_resumes_a_monthly_retainer(open_page):
    member = make_member("ana@coop.test", legal_name="Ana Peeters", niss="85073003328")
    activity = services.create_activity(owner=member, name="Illustration")
    create_client(
        owner=member.user,
        kind="company",
        name="Théâtre des Galeries SA",
        street="Galerie du Roi 32",
        postal_code="1000",
        city="Bruxelles",
        country="BE",
        email="compta@galeries.example.be",
        language="fr",
    )
    # The last day of next month: a 31st that shorter months turn into their last day.
    today = timezone.localdate()
    first = (today.replace(day=1) + datetime.timedelta(days=62)).replace(day=1) - (
        datetime.timedelta(days=1)
    )
    page = open_page(language="fr")
    pages.sign_in(page, email="ana@coop.test", password=PASSWORD)
    page.goto(reverse("members:activity_detail", args=[activity.pk]))
    page.locator(
        f"main a[href='{reverse('invoicing:recurring_create')}?activity={activity.pk}']"
    ).click()
    page.wait_for_load_state()
    pages.fill_fields(
        page,
        {
            "title": "Forfait mensuel",
            "client": {"label": "Théâtre des Galeries SA"},
            "day_of_month": "31",
            "start_date": first.isoformat(),
            "lines-0-description": "Illustrations, {month} {year}",
            "lines-0-quantity": "1",
            "lines-0-unit": "piece",
            "lines-0-unit_price": "450.00",
        },
    )
    page.locator("main [name='mode'][value='review_first']").check()
    pages.press(page, "Save")

    recurring = RecurringInvoice.objects.get()
    assert (recurring.activity, recurring.next_date, recurring.mode) == (
        activity,
        first,
        "review_first",
    )
    main = page.locator("main")
    with translation.override("fr"):
        expect(main).to_contain_text(date_format(first, "DATE_FORMAT"))
    pages.press(page, "Pause")
    pages.expect_message(
        page, "Paused. Periods that pass while it is paused are not invoiced afterwards."
    )
    recurring.refresh_from_db()
    assert recurring.status == "paused"
    pages.press(page, "Resume")
    recurring.refresh_from_db()
    assert (recurring.status, recurring.next_date) == ("active", first)
    page.goto(reverse("invoicing:recurring_list"))
    expect(main).to_contain_text("Forfait mensuel")
