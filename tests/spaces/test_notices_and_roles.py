"""Confirmation e-mails with their .ics, the lease task, and the space managers' permissions."""

import datetime

from django.contrib.auth.models import Group, Permission
from django.core import mail
from icalendar import Calendar

from members.backends import ModelBackend
from members.selectors import GROUP_NAMES, HOLDS_PERMISSIONS
from spaces import notices, selectors, tasks
from spaces.apps import grant_space_manager_permissions
from spaces.models import BookingEvent, Lease
from spaces.services import leasing, lifecycle
from tests.conftest import NOW, make_user
from tests.spaces.conftest import DAY, at, make_room


def test_confirmation_mail_carries_the_ics_once(member, activity, room):
    booking = lifecycle.book_room(
        actor=member.user,
        room=room,
        start=at(DAY, 10),
        end=at(DAY, 12),
        title="Rehearsal",
        activity=activity,
        now=NOW,
    )
    event = BookingEvent.objects.get(booking=booking)

    assert notices.send_booking_notice(event=event) is True
    assert notices.send_booking_notice(event=event) is False

    [message] = mail.outbox
    assert message.to == ["ana@coop.test"]
    # The member reads French.
    assert "Salle Verte" in message.subject
    name, content, mimetype = message.attachments[0]
    assert name == "booking.ics"
    assert mimetype.startswith("text/calendar")
    [ical_event] = Calendar.from_ical(content).walk("VEVENT")
    assert ical_event.decoded("dtstart") == at(DAY, 10)
    assert str(ical_event["status"]) == "CONFIRMED"


def test_cancellation_mail_cancels_the_event(member, activity, room):
    booking = lifecycle.book_room(
        actor=member.user,
        room=room,
        start=at(DAY, 10),
        end=at(DAY, 12),
        title="Rehearsal",
        activity=activity,
        now=NOW,
    )
    lifecycle.cancel_booking(actor=member.user, booking=booking, now=NOW)
    event = BookingEvent.objects.get(booking=booking, to_state="cancelled")
    tasks.send_booking_notice_task(event.pk)
    [message] = mail.outbox
    calendar = Calendar.from_ical(message.attachments[0][1])
    assert str(calendar["method"]) == "CANCEL"


def test_lease_task_charges_the_current_month(space_manager, activity, site):
    atelier = make_room(site, name="Atelier 1", kind="atelier", is_bookable=False)
    leasing.create_lease(
        actor=space_manager, room=atelier, activity=activity, starts_on=datetime.date(2026, 1, 1)
    )
    assert tasks.charge_leases_task() == 1
    assert tasks.charge_leases_task() == 0
    assert Lease.objects.get().charges.count() == 1


def test_space_managers_group_gets_its_permissions(space_manager):
    grant_space_manager_permissions(sender=None)
    group = Group.objects.get(name="Space managers")
    codenames = set(group.permissions.values_list("codename", flat=True))
    assert {"manage_bookings", "change_room", "add_roomprice", "view_booking"} <= codenames
    assert "delete_booking" not in codenames
    assert selectors.is_space_manager(space_manager)


def test_members_and_staff_roles(member, staff):
    assert not selectors.is_space_manager(member.user)
    assert selectors.is_space_manager(staff)


def fresh(user):
    """The user as the next request loads it: nothing remembered on the object."""
    return type(user).objects.get(pk=user.pk)


def test_who_manages_the_sites(member, space_manager):
    permission = Permission.objects.get(codename="manage_bookings")
    # The group by its name, even stripped of its permissions.
    Group.objects.get(name="Space managers").permissions.clear()
    assert selectors.is_space_manager(fresh(space_manager))
    # The permission of one's own or through another group; another permission is not enough.
    own = make_user("own@coop.test")
    own.user_permissions.add(Permission.objects.get(codename="view_booking"))
    assert not selectors.is_space_manager(fresh(own))
    own.user_permissions.add(permission)
    assert selectors.is_space_manager(fresh(own))
    desk = Group.objects.create(name="Front desk")
    desk.permissions.add(permission)
    member.user.groups.add(desk)
    assert selectors.is_space_manager(fresh(member.user))
    # As ``has_perm``: an inactive user holds no permission (the group still names them).
    type(own).objects.filter(pk__in=[own.pk, space_manager.pk]).update(is_active=False)
    assert not selectors.is_space_manager(fresh(own))
    assert selectors.is_space_manager(fresh(space_manager))
    assert not selectors.is_space_manager(fresh(make_user("nobody@coop.test")))


def known_to_hold_permissions(user, holds: bool):
    """The user as members.backends loads a request's user: whether they hold any permission."""
    user = fresh(user)
    setattr(user, HOLDS_PERMISSIONS, holds)
    return user


def test_who_manages_the_sites_when_the_user_is_known_to_hold_no_permission(member, space_manager):
    """Without any permission only the group can make a manager: one shorter statement."""
    permission = Permission.objects.get(codename="manage_bookings")
    Group.objects.get(name="Space managers").permissions.clear()
    assert selectors.is_space_manager(known_to_hold_permissions(space_manager, False))
    assert not selectors.is_space_manager(known_to_hold_permissions(member.user, False))
    own = make_user("own@coop.test")
    own.user_permissions.add(permission)
    assert selectors.is_space_manager(known_to_hold_permissions(own, True))
    desk = Group.objects.create(name="Front desk")
    desk.permissions.add(permission)
    member.user.groups.add(desk)
    assert selectors.is_space_manager(known_to_hold_permissions(member.user, True))
    type(own).objects.filter(pk=own.pk).update(is_active=False)
    assert not selectors.is_space_manager(known_to_hold_permissions(own, True))


def test_a_request_user_without_permissions_is_answered_from_its_groups_without_a_query(
    member, space_manager, django_assert_num_queries
):
    """The backend loads the request's user with its groups' names: a user who holds no
    permission is a manager by the group alone, answered with no statement."""
    backend = ModelBackend()
    Group.objects.get(name="Space managers").permissions.clear()
    manager, plain = backend.get_user(space_manager.pk), backend.get_user(member.user.pk)
    assert getattr(manager, GROUP_NAMES) == ["Space managers"]
    assert getattr(plain, GROUP_NAMES) == []
    with django_assert_num_queries(0):
        assert selectors.is_space_manager(manager)
        assert not selectors.is_space_manager(plain)
    # One who holds a permission is still asked of the database (own or another group's).
    desk = Group.objects.create(name="Front desk")
    desk.permissions.add(Permission.objects.get(codename="manage_bookings"))
    member.user.groups.add(desk)
    holder = backend.get_user(member.user.pk)
    with django_assert_num_queries(1):
        assert selectors.is_space_manager(holder) is True
