"""The demo seed builds a coherent LaVallée."""

import io
import random

from django.utils import timezone

from spaces import demo
from spaces.models import Booking, Lease, LeaseCharge, Room, Site


def seed(staff, members) -> str:
    output = io.StringIO()
    demo.seed(
        {
            "rng": random.Random(2026),
            "staff": staff,
            "members": members,
            "today": timezone.localdate(),
        },
        stdout=output,
    )
    return output.getvalue()


def test_seed_builds_lavallee(staff, member, other_member, activity, other_activity, space_manager):
    output = seed(staff, [member, other_member])
    site = Site.objects.get(name="LaVallée")
    # The staff account holds the cooperative's own Activity, which invoices outside renters.
    assert site.income_activity.name == "LaVallée rentals"
    assert site.income_activity.owner.user == staff
    assert Room.objects.filter(site=site).count() == 30
    assert Lease.objects.count() == 13
    assert LeaseCharge.objects.count() >= 13 * 3
    outside = Booking.objects.filter(organisation__isnull=False)
    assert outside.count() == 2
    assert all(booking.invoice_id for booking in outside)
    assert Booking.objects.filter(state="tentative").exists()
    assert Booking.objects.count() > 50
    assert "LaVallée with 30 rooms" in output


def test_seed_invoices_outside_renters_from_the_house_activity(
    staff, member, other_member, activity, other_activity, space_manager, house_activity
):
    seed(staff, [member, other_member])
    assert Site.objects.get().income_activity == house_activity
    outside = Booking.objects.filter(organisation__isnull=False)
    assert outside.count() == 2
    assert all(booking.invoice_id for booking in outside)
