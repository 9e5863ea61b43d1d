"""Staff set up sites, rooms and prices in the admin; bookings there go through the services."""

import datetime

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.urls import reverse

from members.models import LedgerEntry
from spaces.services import lifecycle
from tests.conftest import NOW
from tests.spaces.conftest import at, make_room

FUTURE = datetime.date(2030, 3, 12)


@pytest.fixture
def staff_client(client, staff):
    TOTP.activate(staff, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    client.force_login(staff)
    return client


@pytest.mark.parametrize(
    "name",
    ["spaces_site", "spaces_room", "spaces_booking", "spaces_lease", "spaces_feedtoken"],
)
def test_admin_pages_open(staff_client, room, name):
    assert staff_client.get(reverse(f"admin:{name}_changelist")).status_code == 200
    assert staff_client.get(reverse("admin:spaces_room_change", args=[room.pk])).status_code == 200
    assert (
        staff_client.get(reverse("admin:spaces_site_change", args=[room.site.pk])).status_code
        == 200
    )


def test_admin_approves_requests_through_the_service(staff_client, member, activity, site):
    hall = make_room(site, name="Hall", requires_approval=True, horizon_days=10000)
    booking = lifecycle.book_room(
        actor=member.user,
        room=hall,
        start=at(FUTURE, 10),
        end=at(FUTURE, 12),
        title="Opening",
        activity=activity,
        now=NOW,
    )
    staff_client.post(
        reverse("admin:spaces_booking_changelist"),
        {"action": "approve", "_selected_action": [booking.pk]},
        follow=True,
    )
    booking.refresh_from_db()
    assert booking.state == "confirmed"
    assert LedgerEntry.objects.filter(activity=activity, kind="booking_charge").count() == 1
    page = staff_client.get(reverse("admin:spaces_booking_change", args=[booking.pk]))
    assert page.status_code == 200


def test_lease_change_page_reads_its_monthly_charges_in_a_fixed_number_of_queries(
    staff_client, activity, site, space_manager
):
    from decimal import Decimal

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from spaces.models import LeaseCharge
    from spaces.services import leasing

    atelier = make_room(site, name="Atelier 7", kind="atelier", is_bookable=False)
    lease = leasing.create_lease(
        actor=space_manager, room=atelier, activity=activity, starts_on=datetime.date(2026, 1, 1)
    )
    url = reverse("admin:spaces_lease_change", args=[lease.pk])

    def queries_with(months: int) -> int:
        for month in range(LeaseCharge.objects.filter(lease=lease).count() + 1, months + 1):
            LeaseCharge.objects.create(
                lease=lease, month=datetime.date(2026, month, 1), amount=Decimal("100.00")
            )
        staff_client.get(url)
        with CaptureQueriesContext(connection) as captured:
            response = staff_client.get(url)
        assert response.status_code == 200
        assert response.content.count(b"Atelier 7") >= months
        return len(captured)

    one, twelve = queries_with(1), queries_with(12)
    assert twelve == one <= 12
