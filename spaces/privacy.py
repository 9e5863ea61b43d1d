"""The spaces app's part of a member's data export and anonymisation (see audit/privacy.py)."""

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import ngettext

from audit.privacy import model_dict
from members.models import Member
from spaces.models import Booking, BookingState, FeedToken, Lease

BOOKING_FIELDS = (
    "id",
    "room",
    "during",
    "title",
    "state",
    "activity",
    "tier",
    "price_excl_vat",
    "vat_rate",
    "vat_amount",
    "price_incl_vat",
    "created_at",
    "cancelled_at",
    "cancellation_fee",
    "refunded_amount",
    "state_reason",
)


def _bookings_of(member: Member):
    return Booking.objects.filter(
        Q(member=member) | Q(created_by=member.user) | Q(activity__owner=member)
    )


def export_member_data(member: Member) -> dict:
    """The member's bookings and leases."""
    bookings = _bookings_of(member).select_related("room").order_by("pk")
    return {
        "data": {
            "bookings": [
                {
                    **{
                        name: value
                        for name, value in model_dict(booking).items()
                        if name in BOOKING_FIELDS
                    },
                    "room_name": booking.room.name,
                }
                for booking in bookings
            ],
            "leases": [
                model_dict(lease, exclude=("member", "created_by"))
                for lease in Lease.objects.filter(member=member).order_by("pk")
            ],
        }
    }


def anonymisation_blockers(member: Member) -> list[str]:
    """Bookings still to come and leases still running."""
    now = timezone.now()
    upcoming = (
        _bookings_of(member)
        .filter(
            state__in=[BookingState.TENTATIVE, BookingState.CONFIRMED],
            during__endswith__gt=now,
        )
        .count()
    )
    leases = (
        Lease.objects.filter(member=member)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=timezone.localdate(now)))
        .count()
    )
    blockers = []
    if upcoming:
        blockers.append(
            ngettext(
                "%(count)d booking is still to come.",
                "%(count)d bookings are still to come.",
                upcoming,
            )
            % {"count": upcoming}
        )
    if leases:
        blockers.append(
            ngettext(
                "%(count)d lease is still running.",
                "%(count)d leases are still running.",
                leases,
            )
            % {"count": leases}
        )
    return blockers


def anonymise_member_data(*, member: Member, placeholder: str, now) -> None:
    """Calendar feed links would still publish the member's bookings: revoke them."""
    FeedToken.objects.filter(user=member.user).delete()
