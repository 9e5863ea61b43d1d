"""Calendar feeds: create and revoke the secret addresses a member subscribes to for their own
bookings, or a space manager for a room.
"""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from members.models import User
from spaces.errors import BookingError
from spaces.models import FeedToken, Room
from spaces.selectors import is_space_manager


@transaction.atomic
def create_feed_token(*, user: User, room: Room | None = None) -> FeedToken:
    """Give the user a secret feed address for their bookings, or (managers) for a room."""
    if room is not None and not is_space_manager(user):
        raise BookingError(_("Only space managers subscribe to room calendars."), code="forbidden")
    return FeedToken.objects.create(user=user, room=room)


@transaction.atomic
def revoke_feed_token(
    *, user: User, token: FeedToken, now: datetime.datetime | None = None
) -> FeedToken:
    """Switch a feed address off for good."""
    token = FeedToken.objects.select_for_update().get(pk=token.pk)
    if token.user_id != user.pk:
        raise BookingError(_("Unknown calendar feed."), code="not_found")
    if token.revoked_at is None:
        token.revoked_at = now or timezone.now()
        token.save(update_fields=["revoked_at"])
    return token
