"""Queries compiled once per process answer what their querysets answer, for any values."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from coop.compiled import AnyOf, Array, CompiledQuery
from members.models import Activity, Member
from members.selectors import activities_visible_to
from members.services import create_activity


def _visible(is_staff: bool, *, user: int, activities: list[int]):
    from members.models import User

    reader = User(pk=user, is_staff=is_staff)
    return (
        activities_visible_to(reader)
        .filter(AnyOf("pk", activities))
        .order_by("pk")
        .values("pk", "name", "owner__legal_name")
    )


def test_a_compiled_query_answers_as_its_queryset_for_each_user_and_list(
    member, other_member, staff, activity, other_activity
):
    shared = create_activity(owner=member, name="Shared", co_members=[other_member])
    query = CompiledQuery(Activity, _visible, user=int, activities=Array)
    every = [activity.pk, other_activity.pk, shared.pk, -1]
    for user in (member.user, other_member.user, staff):
        for asked in (every, [shared.pk], []):
            expected = list(_visible(user.is_staff, user=user.pk, activities=asked))
            with CaptureQueriesContext(connection) as queries:
                rows = query.rows(user.is_staff, user=user.pk, activities=asked)
            assert rows == expected and len(queries) == 1
    assert [
        row["name"] for row in query.rows(False, user=other_member.user.pk, activities=every)
    ] == [
        other_activity.name,
        "Shared",
    ]
    assert set(query.compiled) == {("default", False), ("default", True)}  # One per shape.


def test_a_value_written_into_the_text_is_refused(member):
    folded = CompiledQuery(
        Member,
        lambda _shape, *, member: Member.objects.extra(where=[f"id = {member}"]).values("pk"),  # noqa: S610
        member=int,
    )
    with pytest.raises(ValueError, match="not sent as parameters: member"):
        folded.rows(member=member.pk)
    in_a_pattern = CompiledQuery(
        Member,
        lambda _shape, *, member: Member.objects.filter(legal_name__contains=member).values("pk"),
        member=int,
    )
    with pytest.raises(ValueError, match="not sent as parameters: member"):
        in_a_pattern.rows(member=member.pk)


def test_columns_are_converted_as_the_orm_converts_them(member):
    decrypted = CompiledQuery(
        Member,
        lambda _shape, *, member: Member.objects.filter(pk=member).values("niss", "legal_name"),
        member=int,
    )
    assert decrypted.rows(member=member.pk) == list(
        Member.objects.filter(pk=member.pk).values("niss", "legal_name")
    )
    assert decrypted.rows(member=member.pk)[0]["niss"] == member.niss != ""


def test_only_values_querysets_are_compiled(member):
    instances = CompiledQuery(
        Member, lambda _shape, *, member: Member.objects.filter(pk=member), member=int
    )
    with pytest.raises(ValueError, match="values"):
        instances.rows(member=member.pk)
