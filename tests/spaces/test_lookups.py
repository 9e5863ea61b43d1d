"""Managers name a member, an Activity or an outside renter by typing, never from a list of all.

The look-up endpoints (what static/js/lookup.js offers as one types) answer space managers only,
through indexes, at most 20 rows; the forms resolve the typed text themselves, so that they work
the same without JavaScript, and say why when nothing or several rows match.
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from invoicing.services.clients import create_client
from members import services as member_services
from members.models import Member, User
from spaces.models import Booking, Lease
from tests.conftest import NOW, make_member
from tests.spaces.conftest import make_room
from tests.test_csp import scripts_of

FUTURE = datetime.date(2030, 3, 12)  # a Tuesday
LOOKUPS = ["spaces:lookup_members", "spaces:lookup_activities", "spaces:lookup_organisations"]


@pytest.fixture
def atelier(site):
    return make_room(site, name="Atelier 7", kind="atelier", is_bookable=False)


@pytest.fixture
def manager_client(client, space_manager):
    client.force_login(space_manager)
    return client


def many_members(count: int, name: str = "Jan Claes") -> list[Member]:
    """Active members made in bulk (the services' checks are not what these tests are about)."""
    start = User.objects.count()
    users = User.objects.bulk_create(
        User(email=f"bulk{start + index}@coop.test") for index in range(count)
    )
    return Member.objects.bulk_create(
        Member(
            user=user,
            legal_name=f"{name} {index:02d}",
            street="Rue Ransfort 27",
            postal_code="1080",
            city="Molenbeek-Saint-Jean",
            iban="BE71096123456769",
            status=Member.Status.ACTIVE,
            approved_at=NOW,
        )
        for index, user in enumerate(users)
    )


def found(client, name: str, text: str) -> list[dict]:
    response = client.get(reverse(name), {"q": text})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return response.json()["results"]


@pytest.mark.parametrize("name", LOOKUPS)
def test_lookups_answer_space_managers_only(client, member, name):
    url = reverse(name) + "?q=Ana"
    assert client.get(url).status_code == 302  # to the sign-in page
    client.force_login(member.user)
    assert client.get(url).status_code == 403


def test_member_lookup_by_name_email_and_number(
    manager_client, member, activity, other_member, staff
):
    applicant = make_member(
        "new@coop.test", legal_name="Ana Peeters-Janssens", niss="", active=False
    )
    ana = {
        "pk": member.pk,
        "text": "Ana Peeters <ana@coop.test>",
        "activities": [{"pk": activity.pk, "label": "Illustration (Ana Peeters)"}],
    }

    assert found(manager_client, "spaces:lookup_members", "peeters") == [ana]
    assert found(manager_client, "spaces:lookup_members", " ANA@coop.test ") == [ana]
    assert found(manager_client, "spaces:lookup_members", str(member.pk)) == [ana]
    assert found(manager_client, "spaces:lookup_members", ana["text"]) == [ana]
    # Two letters match too much for an index; an applicant is no one to lease to.
    assert found(manager_client, "spaces:lookup_members", "pe") == []
    assert found(manager_client, "spaces:lookup_members", "new@coop.test") == []
    assert found(manager_client, "spaces:lookup_members", str(applicant.pk)) == []


def test_member_lookup_gives_twenty_in_the_same_queries(manager_client, member):
    many_members(1)
    url = reverse("spaces:lookup_members") + "?q=claes"
    manager_client.get(url)
    with CaptureQueriesContext(connection) as one:
        assert len(manager_client.get(url).json()["results"]) == 1
    many_members(30)
    with CaptureQueriesContext(connection) as many:
        results = manager_client.get(url).json()["results"]
    assert len(results) == 20
    assert [row["text"] for row in results] == sorted(row["text"] for row in results)
    assert len(many) == len(one)


def test_activity_and_organisation_lookups(
    manager_client, member, activity, other_member, other_activity, organisation
):
    illustration = {"pk": activity.pk, "text": f"Illustration (Ana Peeters) #{activity.pk}"}
    lighting = {
        "pk": other_activity.pk,
        "text": f"Stage lighting (Lucas Dubois) #{other_activity.pk}",
    }
    create_client(
        owner=member.user,
        kind="company",
        name="Kunsthal Gent",
        street="Rue 1",
        postal_code="9000",
        city="Gent",
        country="BE",
        email="kunsthal@example.be",
        language="nl",
    )

    assert found(manager_client, "spaces:lookup_activities", "illustr") == [illustration]
    assert found(manager_client, "spaces:lookup_activities", "dubois") == [lighting]
    assert found(manager_client, "spaces:lookup_activities", "lucas@coop.test") == [lighting]
    assert found(manager_client, "spaces:lookup_activities", illustration["text"]) == [illustration]
    # A member's own client is theirs, not one of the cooperative's outside renters.
    assert found(manager_client, "spaces:lookup_organisations", "kunst") == [
        {"pk": organisation.pk, "text": f"Kunstenfestival vzw #{organisation.pk}"}
    ]


def lease_data(room, **changes):
    return {
        "room": room.pk,
        "member": "",
        "activity": "",
        "starts_on": "2026-04-01",
        "ends_on": "",
        "monthly_rent": "",
        **changes,
    }


def test_lease_form_lists_no_members_and_runs_the_lookup_script(manager_client, member, atelier):
    url = reverse("spaces:lease_create", args=[atelier.site.pk])
    manager_client.get(url)
    with CaptureQueriesContext(connection) as few:
        manager_client.get(url)
    many_members(30)
    with CaptureQueriesContext(connection) as more:
        page = manager_client.get(url).content.decode()
    assert len(more) == len(few)
    assert "Ana Peeters" not in page
    assert "Jan Claes" not in page
    assert f'data-lookup-url="{reverse("spaces:lookup_members")}"' in page
    assert "/static/js/lookup.js" in scripts_of(page).sources


def test_lease_form_works_without_javascript(manager_client, member, activity, atelier):
    url = reverse("spaces:lease_create", args=[atelier.site.pk])

    # The member typed, no Activity yet: the form lists the member's Activities.
    first = manager_client.post(url, lease_data(atelier, member="ana peeters"))
    assert first.status_code == 200
    form = first.context["form"]
    assert form.errors == {"activity": ["This field is required."]}
    assert f'<option value="{activity.pk}">Illustration (Ana Peeters)</option>' in (
        first.content.decode()
    )

    second = manager_client.post(
        url, lease_data(atelier, member="ana peeters", activity=activity.pk)
    )
    assert second.status_code == 302
    lease = Lease.objects.get()
    assert (lease.member, lease.activity, lease.room) == (member, activity, atelier)


def test_lease_form_takes_the_text_a_suggestion_writes(manager_client, member, activity, atelier):
    response = manager_client.post(
        reverse("spaces:lease_create", args=[atelier.site.pk]),
        lease_data(atelier, member="Ana Peeters <ana@coop.test>", activity=activity.pk),
    )
    assert response.status_code == 302
    assert Lease.objects.get().member == member


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("Nobody", "No active member matches “Nobody”."),
        ("pe", "Type at least three letters of the name, or an e-mail address."),
        (
            "Peeters",
            "Several match “Peeters”: Ana Peeters <ana@coop.test>; "
            "Marc Peeters <marc@coop.test>. Type one of them as shown.",
        ),
    ],
)
def test_lease_form_says_why_no_member_was_found(
    manager_client, member, activity, atelier, staff, typed, error
):
    make_member("marc@coop.test", legal_name="Marc Peeters", niss="", approver=staff)
    response = manager_client.post(
        reverse("spaces:lease_create", args=[atelier.site.pk]),
        lease_data(atelier, member=typed, activity=activity.pk),
    )
    assert response.status_code == 200
    assert response.context["form"].errors["member"] == [error]
    assert Lease.objects.count() == 0


def test_exact_name_wins_over_longer_ones(manager_client, member, activity, atelier, staff):
    make_member("ana2@coop.test", legal_name="Ana Peeters-Dubois", niss="", approver=staff)
    response = manager_client.post(
        reverse("spaces:lease_create", args=[atelier.site.pk]),
        lease_data(atelier, member="Ana Peeters", activity=activity.pk),
    )
    assert response.status_code == 302
    assert Lease.objects.get().member == member


def booking_data(**changes):
    return {
        "title": "Festival rehearsal",
        "date": FUTURE.isoformat(),
        "start_time": "14:00",
        "end_time": "16:00",
        "activity": "",
        "organisation": "",
        **changes,
    }


def test_manager_books_for_an_outside_renter_by_typing_its_name(
    manager_client, organisation, long_horizon_room
):
    url = reverse("spaces:room_detail", args=[long_horizon_room.pk])
    page = manager_client.get(url).content.decode()
    assert '<select name="organisation"' not in page
    assert '<select name="activity"' not in page
    assert f'data-lookup-url="{reverse("spaces:lookup_organisations")}"' in page

    response = manager_client.post(
        url, booking_data(organisation="kunstenfestival", contact_name="Jan")
    )

    assert response.status_code == 302
    booking = Booking.objects.get()
    assert (booking.organisation, booking.contact_name) == (organisation, "Jan")


def test_manager_books_for_an_activity_named_by_its_number(
    manager_client, member, activity, long_horizon_room
):
    response = manager_client.post(
        reverse("spaces:room_detail", args=[long_horizon_room.pk]),
        booking_data(activity=f"Illustration (Ana Peeters) #{activity.pk}"),
    )
    assert response.status_code == 302
    assert Booking.objects.get().activity == activity


def test_manager_booking_form_says_which_activities_match(
    manager_client, member, activity, long_horizon_room
):
    bis = member_services.create_activity(owner=member, name="Illustration bis")
    response = manager_client.post(
        reverse("spaces:room_detail", args=[long_horizon_room.pk]),
        booking_data(activity="illustr"),
    )
    assert response.status_code == 200
    assert response.context["form"].errors["activity"] == [
        f"Several match “illustr”: Illustration (Ana Peeters) #{activity.pk}; "
        f"Illustration bis (Ana Peeters) #{bis.pk}. Type one of them as shown."
    ]
    # The payer's own error says it all: not also "choose either an Activity or …".
    assert response.context["form"].non_field_errors() == []
    assert Booking.objects.count() == 0


def test_a_name_before_a_number_must_be_that_rows_name(
    manager_client, member, activity, other_member, long_horizon_room, atelier
):
    """Text copied from one row with another row's number books nothing: never the wrong row."""
    other = member_services.create_activity(owner=other_member, name="Graphic design")
    response = manager_client.post(
        reverse("spaces:room_detail", args=[long_horizon_room.pk]),
        booking_data(activity=f"Illustration (Ana Peeters) #{other.pk}"),
    )
    assert response.status_code == 200
    assert response.context["form"].errors["activity"] == [
        f"“Illustration (Ana Peeters) #{other.pk}” does not name number {other.pk}: choose a"
        " suggestion, or type a name, an e-mail address or a number alone."
    ]
    assert Booking.objects.count() == 0
    # A member is named by their e-mail address: an Activity's text with a number is no member.
    lease = manager_client.post(
        reverse("spaces:lease_create", args=[atelier.site_id]),
        {"member": f"Illustration (Ana Peeters) #{member.pk}", "room": atelier.pk},
    )
    assert "does not name number" in lease.content.decode()
