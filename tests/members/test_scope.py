"""Which Activities are a user's: those they own and those shared with them, nobody else's."""

from members import services
from members.models import Activity, activity_ids_of
from tests.conftest import make_user


def test_a_users_activities_are_the_owned_and_the_shared(member, other_member, activity):
    shared = services.create_activity(owner=other_member, name="Shared stage")
    shared.co_members.add(member)
    services.create_activity(owner=other_member, name="Not shared")

    mine = Activity.objects.filter(pk__in=activity_ids_of(member.user)).order_by("pk")
    assert list(mine.values_list("pk", flat=True)) == [activity.pk, shared.pk]
    assert list(Activity.objects.of_user(member.user).order_by("pk")) == [activity, shared]
    assert Activity.objects.of_user(other_member.user).count() == 2
    assert not Activity.objects.of_user(make_user("nobody@coop.test")).exists()
