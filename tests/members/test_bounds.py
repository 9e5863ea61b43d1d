"""An Activity's description has a bound, shown on the form; nothing is created."""

import uuid

from members.models import Activity


def test_an_activity_description_longer_than_the_bound_is_refused(client, member):
    client.force_login(member.user)
    before = Activity.objects.count()
    response = client.post(
        "/activities/new/",
        {"form_token": uuid.uuid4().hex, "name": "Murals", "description": "d" * 2001},
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "description": ["Ensure this value has at most 2000 characters (it has 2001)."]
    }
    assert Activity.objects.count() == before
