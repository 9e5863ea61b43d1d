"""A space manager, in English, from a free slot to an invoiced outside renter and an iCal feed."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from icalendar import Calendar
from playwright.sync_api import expect

from invoicing.models import Client, Invoice
from spaces.models import Booking
from tests.conftest import PASSWORD
from tests.journeys import pages
from tests.spaces.conftest import house_activity, make_room, site  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def next_weekday(today: datetime.date) -> datetime.date:
    """A working day at least two days ahead (the site is open Monday to Saturday)."""
    day = today + datetime.timedelta(days=2)
    while day.weekday() >= 5:
        day += datetime.timedelta(days=1)
    return day


def test_space_manager_books_for_an_outside_renter_who_is_invoiced(
    open_page,
    space_manager,
    site,  # noqa: F811
):
    """Sofia finds a free room, books it for a new outside organisation and follows it by iCal.

    Through the pages: the search for a free slot, the room and its booking form, where the
    renter is described with its invoicing details, the booking's page with its invoice, the
    calendar feeds page and the feed itself (fetched as a calendar application would).
    Through services: the site, its room and prices.
    """
    room = make_room(site, name="Salle Bleue", requires_approval=False)
    day = next_weekday(timezone.localdate())
    page = open_page(language="en")
    pages.sign_in(page, email=space_manager.email, password=PASSWORD)

    pages.search_free_rooms(page, date=day.isoformat(), start_time="10:00", duration_minutes=120)
    pages.choose_room(page, room.name)
    pages.book_for_new_renter(
        page,
        title="Rehearsal",
        end_time="12:00",
        renter={
            "kind": "company",
            "name": "Théâtre des Galeries SA",
            "street": "Galerie du Roi 32",
            "postal_code": "1000",
            "city": "Bruxelles",
            "email": "invoices@galeries.example",
            "language": "fr",
            "vat_number": "BE0403019261",
        },
    )
    booking = Booking.objects.get(room=room)
    organisation = Client.objects.get(vat_number="BE0403019261")
    assert (organisation.name, organisation.owner) == ("Théâtre des Galeries SA", None)
    assert booking.organisation == organisation
    assert booking.price_excl_vat == Decimal("50.00")  # two hours at the external rate
    expect(page.locator("main h1")).to_contain_text("Rehearsal")

    invoice = booking.invoice
    assert invoice is not None and invoice.client == organisation
    assert invoice.total_excl_vat == Decimal("50.00")
    assert invoice.status in {Invoice.Status.PENDING_REVIEW, Invoice.Status.ISSUED}

    feed_url = pages.create_feed(page, room_pk=room.pk)
    response = page.request.get(feed_url)
    assert response.status == 200
    calendar = Calendar.from_ical(response.body())
    (event,) = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]).startswith("Rehearsal") or "Rehearsal" in str(event["SUMMARY"])
    assert event.decoded("DTSTART") == booking.start
