"""The database, not the code, makes double bookings impossible."""

import threading

import pytest
from django.db import connection

from spaces.errors import BookingError
from spaces.models import Booking
from spaces.services import lifecycle
from tests.conftest import NOW, make_member
from tests.spaces.conftest import DAY, at

ATTEMPTS = 20


@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_bookings_of_one_slot_exactly_one_wins(room, space_manager, staff):
    activities = []
    for index in range(ATTEMPTS):
        base = f"{700101000 + index:09d}"
        person = make_member(
            f"racer{index}@coop.test",
            legal_name=f"Racer {index}",
            niss=base + f"{97 - int(base) % 97:02d}",
            approver=staff,
        )
        activities.append(services_activity(person, index))
    barrier = threading.Barrier(ATTEMPTS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(index: int) -> None:
        try:
            barrier.wait()
            # Overlapping, not identical, slots: every pair conflicts.
            lifecycle.book_room(
                actor=space_manager,
                room=room,
                start=at(DAY, 10 + index % 2),
                end=at(DAY, 12),
                title=f"Attempt {index}",
                activity=activities[index],
                now=NOW,
            )
            result = "won"
        except BookingError as error:
            result = error.code
        except Exception as error:  # reported by the assertions below
            result = repr(error)
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(index,)) for index in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(outcomes) == ATTEMPTS
    assert outcomes.count("won") == 1, outcomes
    assert outcomes.count("conflict") == ATTEMPTS - 1, outcomes
    assert Booking.objects.filter(state="confirmed").count() == 1


def services_activity(person, index):
    from members.services import create_activity

    return create_activity(owner=person, name=f"Racing {index}")


def test_the_constraint_refuses_an_overlap_even_without_the_service(member, activity, room):
    from django.db import IntegrityError, transaction

    booking = lifecycle.book_room(
        actor=member.user,
        room=room,
        start=at(DAY, 10),
        end=at(DAY, 12),
        title="First",
        activity=activity,
        now=NOW,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.create(
            room=room,
            during=booking.during,
            blocked_during=booking.blocked_during,
            title="Sneaked in",
            state="tentative",
            member=member,
            activity=activity,
            created_by=member.user,
            tier="member",
            price_excl_vat=0,
            vat_rate=0,
            vat_amount=0,
            price_incl_vat=0,
        )
