"""The signed-in user and the API token are read by SQL written once per process
(coop.prepared): the instances must be the ones the ORM's own query builds."""

import pytest
from allauth.mfa.models import Authenticator
from django.db import connection
from django.test.utils import CaptureQueriesContext

from coop.prepared import PreparedQuery
from members import services
from members.authentication import _token_with_user, _tokens_with_users
from members.backends import ModelBackend, _signed_in_users
from members.models import Member, User
from members.selectors import HAS_AUTHENTICATOR_APP, HOLDS_PERMISSIONS
from tests.conftest import make_api_token, make_user


def _fields(instance) -> dict:
    """What the instance holds: its loaded fields, its annotations and its database."""
    state = {name: value for name, value in vars(instance).items() if name not in ("_state",)}
    return {**state, "_db": instance._state.db, "_adding": instance._state.adding}


def _same_user(prepared: User, expected: User) -> None:
    assert type(prepared) is type(expected)
    assert _fields(prepared) == _fields(expected)
    assert prepared.get_deferred_fields() == expected.get_deferred_fields()
    try:
        expected_member = expected.member
    except Member.DoesNotExist:
        with pytest.raises(Member.DoesNotExist):
            prepared.member  # noqa: B018
        return
    prepared_member = prepared.member
    assert _fields(prepared_member) == _fields(expected_member)
    assert prepared_member.get_deferred_fields() == {"niss"}
    assert prepared_member.get_deferred_fields() == expected_member.get_deferred_fields()
    # The member points back at the same user object, without a query.
    with CaptureQueriesContext(connection) as captured:
        assert prepared_member.user is prepared
    assert len(captured) == 0


def test_signed_in_user_is_the_orm_s_user_in_one_query(member, space_manager, staff):
    Authenticator.objects.create(user=staff, type=Authenticator.Type.TOTP, data={})
    backend = ModelBackend()
    for user in (member.user, space_manager, staff, make_user("plain@coop.test")):
        with CaptureQueriesContext(connection) as captured:
            loaded = backend.get_user(user.pk)
        assert len(captured) == 1
        expected = _signed_in_users().get(pk=user.pk)
        _same_user(loaded, expected)
        # The session keeps the key as text: the backend reads it as the key's type.
        _same_user(backend.get_user(str(user.pk)), expected)
    assert getattr(backend.get_user(member.user.pk), HOLDS_PERMISSIONS) is False
    assert getattr(backend.get_user(member.user.pk), HAS_AUTHENTICATOR_APP) is False
    # The "Space managers" group holds permissions.
    assert getattr(backend.get_user(space_manager.pk), HOLDS_PERMISSIONS) is True
    assert getattr(backend.get_user(staff.pk), HAS_AUTHENTICATOR_APP) is True


def test_signed_in_user_unknown_or_inactive_is_nobody(member):
    backend = ModelBackend()
    assert backend.get_user(10**9) is None
    User.objects.filter(pk=member.user.pk).update(is_active=False)
    assert backend.get_user(member.user.pk) is None


def test_holding_a_permission_is_read_as_the_orm_reads_it(member):
    from django.contrib.auth.models import Permission

    member.user.user_permissions.add(Permission.objects.get(codename="view_member"))
    loaded = ModelBackend().get_user(member.user.pk)
    assert getattr(loaded, HOLDS_PERMISSIONS) is True
    _same_user(loaded, _signed_in_users().get(pk=member.user.pk))


def test_api_token_is_the_orm_s_token_with_its_user(member, space_manager):
    for user in (member.user, space_manager):
        key = make_api_token(user)
        key_hash = services.hash_api_key(key)
        [token] = _token_with_user(key_hash)
        expected = _tokens_with_users().filter(key_hash=key_hash).first()
        assert _fields(token) == _fields(expected)
        _same_user(token.user, expected.user)
    assert _token_with_user(services.hash_api_key("unknown")) == []


def test_a_prepared_query_refuses_a_sample_found_twice_or_never(member):
    twice = PreparedQuery(lambda pk: User.objects.filter(pk=pk, id__gte=-1), sample=-1)
    with pytest.raises(ValueError, match="exactly once"):
        twice(member.user.pk)
    never = PreparedQuery(lambda pk: User.objects.filter(is_active=True), sample=-1)
    with pytest.raises(ValueError, match="exactly once"):
        never(member.user.pk)


def test_a_prepared_query_refuses_what_is_not_plain_instances(member):
    for queryset_for in (
        lambda pk: User.objects.filter(pk=pk).values("email"),
        lambda pk: User.objects.filter(pk=pk).prefetch_related("groups"),
    ):
        with pytest.raises(ValueError, match="plain model instances"):
            PreparedQuery(queryset_for, sample=-1)(member.user.pk)
