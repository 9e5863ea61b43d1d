"""E-mails to bookers: confirmations (with the .ics), requests received, refusals, cancellations."""

import datetime

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from spaces.ical import render_calendar
from spaces.models import BookingEvent


def _recipient(event: BookingEvent) -> tuple[str, str]:
    booking = event.booking
    if booking.member_id:
        return booking.member.user.email, booking.member.preferred_language
    if booking.organisation_id:
        return booking.contact_email or booking.organisation.email, booking.organisation.language
    return "", settings.LANGUAGE_CODE


@transaction.atomic
def send_booking_notice(*, event: BookingEvent, now: datetime.datetime | None = None) -> bool:
    """E-mail the booker about a step of their booking, once; return whether a mail left."""
    event = (
        BookingEvent.objects.select_for_update(of=("self",))
        .select_related("booking__room__site", "booking__member__user", "booking__organisation")
        .get(pk=event.pk)
    )
    if event.notified_at is not None:
        return False
    booking = event.booking
    address, language = _recipient(event)
    if not address:
        return False
    zone = booking.room.site.time_zone
    with translation.override(language), timezone.override(zone):
        context = {"booking": booking, "event": event, "site_url": settings.SITE_URL}
        subject = render_to_string("spaces/emails/booking_notice_subject.txt", context).strip()
        body = render_to_string("spaces/emails/booking_notice.txt", context)
        attachment = render_calendar(
            [booking], name=booking.room.name, method="REQUEST" if booking.is_active else "CANCEL"
        )
    message = EmailMessage(subject, body, None, [address])
    message.attach("booking.ics", attachment, "text/calendar; charset=utf-8")
    message.send()
    event.notified_at = now or timezone.now()
    event.save(update_fields=["notified_at"])
    return True
