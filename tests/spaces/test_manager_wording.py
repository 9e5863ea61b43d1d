"""Words a space manager reads: conflicts that suit any room's name in French and Dutch, and
payers named with their owner."""

import pytest
from django.urls import reverse
from django.utils import translation

from members import services as member_services
from spaces.errors import BookingError
from tests.conftest import make_member
from tests.spaces.conftest import DAY, at, make_room
from tests.spaces.test_booking_rules import book


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "fr",
            "Ce créneau est déjà pris\u00a0: {room} a une réservation du 10/03/2026 10:00 à 12:00.",
        ),
        (
            "nl",
            "Dit tijdslot is al bezet: {room} heeft een reservering van 10-3-2026 10:00 tot 12:00.",
        ),
        ("en", "{room} is already booked from 03/10/2026 10:00 to 12:00."),
    ],
)
def test_a_conflict_is_worded_whatever_the_rooms_gender(
    member, activity, other_member, other_activity, site, language, expected
):
    # "la salle", "l'atelier", "le studio": no adjective in the message agrees with the room.
    for name in ("Salle Verte", "Atelier 3", "Studio"):
        room = make_room(site, name=name)
        book(member, activity, room, at(DAY, 10), at(DAY, 12))
        with translation.override(language), pytest.raises(BookingError) as caught:
            book(other_member, other_activity, room, at(DAY, 11), at(DAY, 13))
        assert caught.value.message == expected.format(room=name)
        assert "réservé" not in caught.value.message


def test_a_members_payers_are_named_with_their_owner(
    client, member, activity, other_member, staff, site, room
):
    """Ana owns "Illustration" and shares Bob's "Illustration": two entries told apart."""
    bob = make_member("bob@coop.test", legal_name="Bob Lenoir", niss="", approver=staff)
    shared = member_services.create_activity(owner=bob, name="Illustration")
    shared.co_members.add(member)
    client.force_login(member.user)

    form = client.get(reverse("spaces:room_detail", args=[room.pk])).context["form"]

    assert list(form.fields["activity"].widget.choices)[1:] == [
        (activity.pk, "Illustration (Ana Peeters)"),
        (shared.pk, "Illustration (Bob Lenoir)"),
    ]


def test_a_managers_suggestions_name_each_activitys_owner(
    client, space_manager, member, activity, staff
):
    bob = make_member("bob@coop.test", legal_name="Bob Lenoir", niss="", approver=staff)
    bobs = member_services.create_activity(owner=bob, name="Illustration")
    client.force_login(space_manager)

    found = client.get(reverse("spaces:lookup_activities"), {"q": "illustration"}).json()

    assert found["results"] == [
        {"pk": activity.pk, "text": f"Illustration (Ana Peeters) #{activity.pk}"},
        {"pk": bobs.pk, "text": f"Illustration (Bob Lenoir) #{bobs.pk}"},
    ]
