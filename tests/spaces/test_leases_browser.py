"""Space managers sign and list leases in the browser; members cannot."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from spaces.models import Lease
from spaces.services import leasing
from tests.conftest import PASSWORD
from tests.spaces.conftest import make_room


@pytest.fixture
def atelier(site):
    return make_room(site, name="Atelier 7", kind="atelier", is_bookable=False)


def sign_in(client, user):
    assert client.login(email=user.email, password=PASSWORD)
    return client


def lease_data(room, member, activity, **changes):
    return {
        "room": room.pk,
        "member": member.pk,
        "activity": activity.pk,
        "starts_on": "2026-04-01",
        "ends_on": "2026-09-30",
        "monthly_rent": "",
        **changes,
    }


def test_manager_signs_a_lease_through_the_form(client, space_manager, member, activity, atelier):
    sign_in(client, space_manager)
    url = reverse("spaces:lease_create", args=[atelier.site.pk])
    form_page = client.get(url)
    assert form_page.status_code == 200
    assert "Atelier 7" in form_page.content.decode()

    response = client.post(url, lease_data(atelier, member, activity), follow=True)

    assert response.redirect_chain == [(reverse("spaces:lease_list", args=[atelier.site.pk]), 302)]
    lease = Lease.objects.get()
    assert lease.room == atelier
    assert lease.member == member
    assert lease.activity == activity
    assert lease.starts_on == datetime.date(2026, 4, 1)
    assert lease.ends_on == datetime.date(2026, 9, 30)
    assert lease.monthly_rent == Decimal("450.00")  # the room's resident monthly price
    assert lease.created_by == space_manager
    page = response.content.decode()
    assert "Lease signed for Atelier 7." in page
    assert "Ana Peeters" in page


def test_manager_sets_the_rent(client, space_manager, member, activity, atelier):
    sign_in(client, space_manager)
    client.post(
        reverse("spaces:lease_create", args=[atelier.site.pk]),
        lease_data(atelier, member, activity, ends_on="", monthly_rent="380.50"),
    )
    lease = Lease.objects.get()
    assert lease.monthly_rent == Decimal("380.50")
    assert lease.ends_on is None


def test_overlapping_lease_is_refused_with_the_service_message(
    client, space_manager, member, activity, other_member, other_activity, atelier
):
    existing = leasing.create_lease(
        actor=space_manager,
        room=atelier,
        activity=activity,
        starts_on=datetime.date(2026, 1, 1),
        ends_on=datetime.date(2026, 6, 30),
    )
    sign_in(client, space_manager)

    response = client.post(
        reverse("spaces:lease_create", args=[atelier.site.pk]),
        lease_data(atelier, other_member, other_activity, starts_on="2026-06-30", ends_on=""),
    )

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Atelier 7 is already leased for part of that period."
    ]
    assert list(Lease.objects.values_list("pk", flat=True)) == [existing.pk]


def test_activity_of_another_member_is_refused(
    client, space_manager, member, other_activity, atelier
):
    sign_in(client, space_manager)

    response = client.post(
        reverse("spaces:lease_create", args=[atelier.site.pk]),
        lease_data(atelier, member, other_activity),
    )

    assert response.status_code == 200
    assert response.context["form"].errors["activity"] == [
        "Ana Peeters is not a member of this Activity."
    ]
    assert Lease.objects.count() == 0


def test_lease_list_shows_the_site_leases(client, space_manager, activity, atelier):
    leasing.create_lease(
        actor=space_manager,
        room=atelier,
        activity=activity,
        starts_on=datetime.date(2026, 4, 1),
    )
    sign_in(client, space_manager)
    list_url = reverse("spaces:lease_list", args=[atelier.site.pk])
    assert f'href="{list_url}"' in client.get(reverse("spaces:index")).content.decode()

    response = client.get(list_url)

    assert response.status_code == 200
    assert [lease.room.name for lease in response.context["page"].object_list] == ["Atelier 7"]
    page = response.content.decode()
    assert "Ana Peeters" in page
    assert "Illustration" in page


def test_members_cannot_open_the_lease_pages(client, member, activity, atelier):
    sign_in(client, member.user)
    list_url = reverse("spaces:lease_list", args=[atelier.site.pk])
    create_url = reverse("spaces:lease_create", args=[atelier.site.pk])

    assert client.get(list_url).status_code == 403
    assert client.get(create_url).status_code == 403
    assert client.post(create_url, lease_data(atelier, member, activity)).status_code == 403
    assert Lease.objects.count() == 0
