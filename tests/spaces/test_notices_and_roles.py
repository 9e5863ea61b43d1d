"""Confirmation e-mails with their .ics, the lease task, and the space managers' permissions."""

import datetime

from django.contrib.auth.models import Group, Permission
from django.core import mail
from icalendar import Calendar

from members.models import User
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


def test_space_manager_by_group_or_permission_as_has_perm(member, other_member):
    """The written statement answers as Django's permissions do: the managers' group (even
    empty of permissions, even for an inactive user), or ``spaces.manage_bookings`` held
    directly or through another group, by an active user only."""
    permission = Permission.objects.get(
        codename="manage_bookings", content_type__app_label="spaces"
    )
    empty_managers, _created = Group.objects.get_or_create(name="Space managers")
    empty_managers.permissions.clear()
    in_group = make_user("group@coop.test", name="In Group")
    in_group.groups.add(empty_managers)
    direct = make_user("direct@coop.test", name="Direct")
    direct.user_permissions.add(permission)
    through = Group.objects.create(name="Front desk")
    through.permissions.add(permission)
    other_member.user.groups.add(through)
    other_permission = Permission.objects.get(codename="view_booking")
    unrelated = make_user("unrelated@coop.test", name="Unrelated")
    unrelated.user_permissions.add(other_permission)
    inactive = make_user("inactive@coop.test", name="Inactive", is_active=False)
    inactive.user_permissions.add(permission)
    inactive_in_group = make_user("inactive-group@coop.test", name="Inactive", is_active=False)
    inactive_in_group.groups.add(empty_managers)

    def answer(user):
        return selectors.is_space_manager(User.objects.get(pk=user.pk))

    assert answer(in_group)
    assert answer(direct)
    assert answer(other_member.user)
    assert answer(inactive_in_group)
    assert not answer(unrelated)
    assert not answer(inactive)
    assert not answer(member.user)
