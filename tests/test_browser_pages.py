"""The pages each demo persona uses open on the demo world, in each language."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from contracts.models import Contract, ExpenseClaim
from invoicing.models import Invoice
from members.models import Activity, User
from quotes.models import Quote
from spaces.models import Booking, Room, Site

MEMBER = "ana.peeters@coop.test"
SPACE_MANAGER = "spaces@coop.test"


@pytest.fixture
def demo(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    call_command("seed_demo")


def member_pages(user: User) -> list[str]:
    activity = Activity.objects.filter(owner__user=user).order_by("pk").first()
    invoice = Invoice.objects.filter(activity=activity).order_by("pk").first()
    contract = Contract.objects.filter(activity=activity).order_by("pk").first()
    claim = ExpenseClaim.objects.filter(member__user=user).order_by("pk").first()
    booking = Booking.objects.filter(activity=activity).order_by("pk").first()
    room = Room.objects.filter(is_bookable=True).order_by("pk").first()
    quote = Quote.objects.filter(activity=activity).order_by("pk").first()
    assert all([activity, invoice, contract, claim, booking, room, quote])
    return [
        reverse("members:dashboard"),
        reverse("members:activity_detail", args=[activity.pk]),
        reverse("members:profile"),
        reverse("members:api_tokens"),
        reverse("members:shares"),
        reverse("invoicing:invoice_list"),
        reverse("invoicing:invoice_create"),
        reverse("invoicing:invoice_detail", args=[invoice.pk]),
        reverse("invoicing:client_list"),
        reverse("quotes:quote_list"),
        reverse("quotes:quote_create"),
        reverse("quotes:quote_detail", args=[quote.pk]),
        reverse("contracts:index"),
        reverse("contracts:create"),
        reverse("contracts:detail", args=[contract.pk]),
        reverse("contracts:simulator"),
        reverse("contracts:payslips"),
        reverse("contracts:expenses"),
        reverse("contracts:expense-claim", args=[claim.pk]),
        reverse("spaces:index"),
        reverse("spaces:room_list"),
        reverse("spaces:room_detail", args=[room.pk]),
        reverse("spaces:search"),
        reverse("spaces:booking_detail", args=[booking.pk]),
        reverse("spaces:feeds"),
    ]


def manager_pages() -> list[str]:
    site = Site.objects.order_by("pk").first()
    booking = Booking.objects.filter(organisation__isnull=False).order_by("pk").first()
    return [
        reverse("spaces:index"),
        reverse("spaces:calendar", args=[site.pk]),
        reverse("spaces:calendar", args=[site.pk]) + "?view=week",
        reverse("spaces:occupancy", args=[site.pk]),
        reverse("spaces:queue"),
        reverse("spaces:lease_list", args=[site.pk]),
        reverse("spaces:lease_create", args=[site.pk]),
        reverse("spaces:booking_detail", args=[booking.pk]),
        reverse("spaces:search") + "?date=2030-03-12&start_time=10:00&duration_minutes=60",
    ]


@pytest.mark.parametrize("language", ["fr", "nl", "en"])
def test_demo_member_and_space_manager_pages_open(client, demo, language, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    member = User.objects.get(email=MEMBER)
    client.force_login(member)
    for url in member_pages(member):
        response = client.get(url)
        assert response.status_code == 200, url
        assert f'<html lang="{language}"' in response.content.decode(), url

    client.force_login(User.objects.get(email=SPACE_MANAGER))
    for url in manager_pages():
        response = client.get(url)
        assert response.status_code == 200, url
