"""The audit trail: what ``record_event`` writes, and that rows cannot be changed."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import RequestFactory

from audit.context import AuditContextMiddleware
from audit.models import AuditEvent
from audit.services import diff_fields, record_event, redact_person


def _within_request(request, function):
    """Run ``function`` while the middleware serves ``request``; return its result."""
    result = {}

    def view(request):
        result["value"] = function()
        return None

    AuditContextMiddleware(view)(request)
    return result["value"]


def test_record_event_fills_object_actor_ip_and_browser_from_the_request(member, staff):
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.7", HTTP_USER_AGENT="x" * 400)
    request.user = staff
    event = _within_request(
        request,
        lambda: record_event(
            action="changed",
            obj=member,
            changes={"city": ["Gent", "Namur"], "niss": ["85073003328", "17073003384"]},
            reason="Typo",
        ),
    )
    event.refresh_from_db()
    assert (event.actor, event.actor_label, event.action) == (staff, "staff@coop.test", "changed")
    assert (event.object_type, event.object_pk, event.object_repr) == (
        "members.member",
        str(member.pk),
        "Ana Peeters",
    )
    assert event.changes == {"city": ["Gent", "Namur"], "niss": ["***", "***"]}
    assert (event.reason, event.ip, event.user_agent) == ("Typo", "192.0.2.7", "x" * 255)


def test_outside_a_request_the_actor_is_none_unless_given(member, staff):
    event = record_event(action="approved", object_type="x.y", object_pk=5, object_repr="Y")
    assert (event.actor, event.actor_label, event.ip, event.user_agent) == (None, "", None, "")
    assert (event.object_type, event.object_pk) == ("x.y", "5")
    given = record_event(action="approved", obj=member, actor=staff)
    assert given.actor == staff


def test_an_anonymous_request_records_no_actor(member):
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get("/", REMOTE_ADDR="2001:db8::1")
    request.user = AnonymousUser()
    event = _within_request(request, lambda: record_event(action="viewed", obj=member))
    assert (event.actor, event.ip) == (None, "2001:db8::1")


def test_an_anonymous_user_passed_as_actor_records_no_actor(member):
    from django.contrib.auth.models import AnonymousUser

    event = record_event(action="viewed", obj=member, actor=AnonymousUser())
    assert (event.actor, event.actor_label) == (None, "")


def test_the_middleware_forgets_the_request_after_the_response(member, staff):
    request = RequestFactory().get("/")
    request.user = staff
    _within_request(request, lambda: None)
    assert record_event(action="viewed", obj=member).actor is None


def test_diff_fields_lists_only_changed_values_as_plain_json():
    before = {"amount": Decimal("10.00"), "city": "Gent", "note": "a"}
    after = {"amount": Decimal("12.50"), "city": "Gent", "extra": 3}
    assert diff_fields(before, after) == {
        "amount": ["10.00", "12.50"],
        "note": ["a", None],
        "extra": [None, 3],
    }
    assert diff_fields({"a": 1}, {"a": 1}) == {}


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditevent SET action = 'viewed' WHERE id = %s",
        "UPDATE audit_auditevent SET actor_label = 'x' WHERE id = %s",
        "DELETE FROM audit_auditevent WHERE id = %s",
    ],
)
def test_the_database_refuses_to_change_or_delete_an_event(member, statement):
    event = record_event(action="changed", obj=member, changes={"city": ["A", "B"]})
    with (
        pytest.raises(IntegrityError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, [event.pk])
    event.refresh_from_db()
    assert (event.action, event.actor_label) == ("changed", "")


def test_redaction_may_rewrite_only_labels_and_values(member, staff):
    by_member = record_event(action="viewed", obj=staff, actor=member.user)
    about_member = record_event(
        action="changed",
        obj=member,
        actor=staff,
        changes={"city": ["Gent", "Namur"], "status": ["a", "b"]},
    )
    changed = redact_person(
        user=member.user,
        placeholder="left-1",
        objects=[("members.member", str(member.pk))],
        fields=["city"],
    )
    # The member's own application row and ``by_member`` (actor), and the four rows about the
    # member record: application, approval, activation and ``about_member``.
    assert changed == 6
    assert set(
        AuditEvent.objects.filter(object_type="members.member").values_list(
            "object_repr", flat=True
        )
    ) == {"left-1"}
    by_member.refresh_from_db()
    about_member.refresh_from_db()
    assert by_member.actor_label == "left-1" and by_member.actor == member.user
    assert about_member.object_repr == "left-1"
    assert about_member.changes == {"city": ["***", "***"], "status": ["a", "b"]}
    assert about_member.actor_label == "staff@coop.test"
    # The permission ends with the transaction, and never covers other columns.
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL audit.redaction = 'on'")
        cursor.execute("UPDATE audit_auditevent SET action = 'x' WHERE id = %s", [by_member.pk])
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.filter(pk=by_member.pk).update(actor_label="again")
