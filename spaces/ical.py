"""iCalendar (RFC 5545) rendering of bookings for feeds and e-mail attachments."""

from collections.abc import Iterable

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from spaces.models import Booking, BookingState

STATUSES = {
    BookingState.TENTATIVE: "TENTATIVE",
    BookingState.CONFIRMED: "CONFIRMED",
    BookingState.CHECKED_IN: "CONFIRMED",
    BookingState.NO_SHOW: "CANCELLED",
    BookingState.CANCELLED: "CANCELLED",
    BookingState.REFUSED: "CANCELLED",
}


def booking_uid(booking: Booking) -> str:
    host = settings.SITE_URL.split("//")[-1].split("/")[0] or "coop"
    return f"booking-{booking.pk}@{host}"


def render_calendar(
    bookings: Iterable[Booking], *, name: str, show_details: bool = True, method: str = ""
) -> bytes:
    """Return a calendar of the bookings; without details, every event reads "Busy"."""
    calendar = Calendar()
    calendar.add("prodid", "-//coop//spaces//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    if method:
        calendar.add("method", method)
    stamp = timezone.now()
    for booking in bookings:
        event = Event()
        event.add("uid", booking_uid(booking))
        event.add("dtstamp", stamp)
        event.add("dtstart", booking.start)
        event.add("dtend", booking.end)
        event.add("status", STATUSES[booking.state])
        event.add("location", f"{booking.room.name}, {booking.room.site.address}")
        if show_details:
            event.add("summary", booking.title)
            event.add("description", booking.booker_name)
        else:
            event.add("summary", _("Busy"))
        calendar.add_component(event)
    return calendar.to_ical()
