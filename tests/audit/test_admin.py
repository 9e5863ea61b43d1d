"""The audit trail in the admin: read-only, filterable, and out of members' reach."""

import datetime

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth.models import Permission
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import record_event
from tests.conftest import make_user

LIST = "admin:audit_auditevent_changelist"


def _signed_in(client, user):
    if user.is_staff:
        TOTP.activate(user, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    client.force_login(user)
    return client


def test_members_and_anonymous_visitors_are_sent_to_the_login(client, member):
    event = record_event(action="viewed", obj=member)
    for url in (reverse(LIST), reverse("admin:audit_auditevent_change", args=[event.pk])):
        assert "/login/" in client.get(url)["Location"]
        _signed_in(client, member.user)
        assert "/login/" in client.get(url)["Location"]
        client.logout()


def test_staff_need_the_audit_permission(client, member):
    clerk = make_user("clerk@coop.test", is_staff=True)
    _signed_in(client, clerk)
    assert client.get(reverse(LIST)).status_code == 403
    assert "audit" not in client.get(reverse("admin:index")).content.decode().lower()
    clerk.user_permissions.add(Permission.objects.get(codename="view_auditevent"))
    assert client.get(reverse(LIST)).status_code == 200


def test_the_trail_cannot_be_added_changed_or_deleted_through_the_admin(client, member, staff):
    event = record_event(action="viewed", obj=member, reason="check")
    _signed_in(client, staff)
    assert client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    change = reverse("admin:audit_auditevent_change", args=[event.pk])
    page = client.get(change)
    assert page.status_code == 200 and 'name="reason"' not in page.content.decode()
    assert client.post(change, {"reason": "edited"}).status_code == 403
    assert client.post(reverse("admin:audit_auditevent_delete", args=[event.pk])).status_code == 403
    response = client.post(
        reverse(LIST), {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"}
    )
    assert response.status_code in (200, 302)
    event.refresh_from_db()
    assert event.reason == "check"


def test_filters_and_exact_searches(client, member, other_member, staff):
    recent = record_event(action="viewed", obj=member, actor=staff)
    old = record_event(action="changed", obj=other_member, actor=other_member.user)
    long_ago = AuditEvent.objects.create(
        occurred_at=timezone.now() - datetime.timedelta(days=40),
        action="changed",
        object_type="members.member",
        object_pk=str(other_member.pk),
        actor_label="lucas@coop.test",
    )
    _signed_in(client, staff)

    def shown(**params) -> set[int]:
        response = client.get(reverse(LIST), params)
        assert response.status_code == 200
        return {row.pk for row in response.context["cl"].result_list}

    assert {recent.pk, old.pk, long_ago.pk} <= shown()
    assert shown(action="viewed") & {recent.pk, old.pk, long_ago.pk} == {recent.pk}
    by_lucas = set(
        AuditEvent.objects.filter(actor_label="lucas@coop.test").values_list("pk", flat=True)
    )
    assert shown(q="lucas@coop.test") == by_lucas
    assert {old.pk, long_ago.pk} <= by_lucas and recent.pk not in by_lucas
    assert shown(q=str(other_member.pk), object_type="members.member") >= {old.pk, long_ago.pk}
    since = (timezone.localdate() - datetime.timedelta(days=7)).isoformat()
    assert long_ago.pk not in shown(occurred_from=since)
    assert long_ago.pk in shown(occurred_until=since)
    # A malformed date is ignored, not an error page.
    assert long_ago.pk in shown(occurred_from="31/02/2026")


def test_a_member_page_links_to_its_audit_history(client, member, staff):
    _signed_in(client, staff)
    page = client.get(reverse("admin:members_member_change", args=[member.pk])).content.decode()
    assert f"{reverse(LIST)}?object_type=members.member&amp;q={member.pk}" in page


def _all_patterns(resolver, prefix=""):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _all_patterns(pattern, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


@pytest.mark.django_db
def test_no_url_outside_the_admin_serves_the_trail():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert not [path for path in schema["paths"] if "audit" in path]
    served = [
        route
        for route, callback in _all_patterns(get_resolver())
        if callback.__module__.startswith("audit.")
        or "auditevent" in route.lower()
        or (
            getattr(getattr(callback, "cls", None), "queryset", None) is not None
            and callback.cls.queryset.model is AuditEvent
        )
    ]
    outside_admin = {route for route in served if not route.startswith("admin/")}
    # The audit app's only other pages are the member's own data exports.
    assert outside_admin == {"profile/data/", "profile/data/<int:pk>/download/"}
    assert any(route.startswith("admin/audit/auditevent/") for route in served)


def test_admin_deletions_one_by_one_and_in_bulk_are_recorded_once_each(client, staff):
    from django.contrib.auth.models import Group

    first, second, third = (Group.objects.create(name=name) for name in ("A", "B", "C"))
    _signed_in(client, staff)
    client.post(reverse("admin:auth_group_delete", args=[first.pk]), {"post": "yes"})
    client.post(
        reverse("admin:auth_group_changelist"),
        {"action": "delete_selected", "_selected_action": [second.pk, third.pk], "post": "yes"},
    )
    assert not Group.objects.filter(name__in=["A", "B", "C"]).exists()
    assert sorted(
        AuditEvent.objects.filter(action="deleted").values_list(
            "actor__email", "object_type", "object_pk", "object_repr"
        )
    ) == [
        ("staff@coop.test", "auth.group", str(first.pk), "A"),
        ("staff@coop.test", "auth.group", str(second.pk), "B"),
        ("staff@coop.test", "auth.group", str(third.pk), "C"),
    ]


def test_a_date_range_to_the_end_of_the_calendar_lists_everything(client, member, staff):
    event = record_event(action="viewed", obj=member, actor=staff)
    _signed_in(client, staff)
    for params in (
        {"occurred_until": "9999-12-31"},
        {"occurred_from": "0001-01-01", "occurred_until": "9999-12-31"},
    ):
        response = client.get(reverse(LIST), params)
        assert response.status_code == 200
        assert event.pk in {row.pk for row in response.context["cl"].result_list}
