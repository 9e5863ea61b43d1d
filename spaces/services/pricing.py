"""Prices: the tier a booker pays (external, member or resident), the room's price row for it, the
quote for a slot (the cheapest rate that applies, with VAT for outside renters only), and the fee
a cancellation costs now.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from coop.money import round_money
from members.models import Member
from spaces.errors import BookingError
from spaces.models import Booking, BookingState, Lease, Room, RoomPrice, Tier

# Outside renters pay Belgian VAT at the standard rate; work between Activities has none.
EXTERNAL_VAT_RATE = Decimal("21.00")

HALF_DAY_MINUTES = 4 * 60


@dataclass(frozen=True)
class Quote:
    tier: str
    price_excl_vat: Decimal
    vat_rate: Decimal
    vat_amount: Decimal
    price_incl_vat: Decimal


def tier_for(*, room: Room, member: Member | None, on_date: datetime.date) -> str:
    """Residents lease a space in the same site; other members pay the member price."""
    if member is None:
        return Tier.EXTERNAL
    is_resident = Lease.objects.filter(
        member=member, room__site_id=room.site_id, period__contains=on_date
    ).exists()
    return Tier.RESIDENT if is_resident else Tier.MEMBER


def price_row(room: Room, tier: str, prices: list[RoomPrice] | None = None) -> RoomPrice:
    """The room's price row a tier pays (``prices``: the room's rows if already read)."""
    if prices is None:
        prices = list(RoomPrice.objects.filter(room=room))
    by_tier = {price.tier: price for price in prices}
    # A resident without a resident price pays the member price.
    fallbacks = {Tier.RESIDENT: [Tier.RESIDENT, Tier.MEMBER]}.get(tier, [tier])
    for candidate in fallbacks:
        if candidate in by_tier:
            return by_tier[candidate]
    raise BookingError(
        _("%(room)s has no %(tier)s price yet: ask a space manager.")
        % {"room": room.name, "tier": Tier(tier).label.lower()},
        code="no_price",
    )


def quote(
    *,
    room: Room,
    tier: str,
    start: datetime.datetime,
    end: datetime.datetime,
    prices: list[RoomPrice] | None = None,
) -> Quote:
    """Price a slot for a tier: the cheapest of the hourly, half-day and day rates that apply.

    ``prices``: the room's price rows when already read (``selectors.room_of``), else read here.
    """
    row = price_row(room, tier, prices)
    minutes = int((end.astimezone(datetime.UTC) - start.astimezone(datetime.UTC)).total_seconds())
    minutes //= 60
    candidates = [round_money(row.per_hour * Decimal(minutes) / Decimal(60))]
    if row.per_half_day is not None and minutes <= HALF_DAY_MINUTES:
        candidates.append(row.per_half_day)
    if row.per_day is not None:
        candidates.append(row.per_day)
    excl = min(candidates)
    rate = EXTERNAL_VAT_RATE if tier == Tier.EXTERNAL else Decimal("0.00")
    vat = round_money(excl * rate / Decimal(100))
    return Quote(tier, excl, rate, vat, excl + vat)


def cancellation_fee(booking: Booking, *, now: datetime.datetime) -> Decimal:
    """The fee a cancellation now costs: nothing with enough notice, else a share of the price."""
    room = booking.room
    if booking.state == BookingState.TENTATIVE:
        return Decimal("0.00")
    if booking.start - now >= datetime.timedelta(hours=room.cancellation_notice_hours):
        return Decimal("0.00")
    return round_money(booking.price_excl_vat * room.cancellation_fee_percent / Decimal(100))
