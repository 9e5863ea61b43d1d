"""Queries compiled once per process (coop.compiled) answer what their querysets answer, for
any values: the same rows as ``values()``, the same model instances as the ORM builds."""

from decimal import Decimal

import pytest
from allauth.mfa.models import Authenticator
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from coop.compiled import AnyOf, Array, CompiledInstances, CompiledQuery
from invoicing import api_rows
from invoicing.models import Invoice, InvoiceLine
from invoicing.services.issue import submit_invoice
from invoicing.services.payments import record_payment
from members import services
from members.authentication import _token_with_user, _tokens_with_users
from members.backends import ModelBackend, _signed_in_users
from members.models import Activity, Member, User
from members.selectors import HAS_AUTHENTICATOR_APP, HOLDS_PERMISSIONS, activities_visible_to
from members.services import create_activity
from tests.conftest import NOW, make_api_token, make_user
from tests.invoicing.conftest import (  # noqa: F401 (fixtures)
    TODAY,
    belgian_client,
    line,
    make_draft,
    no_review,
)


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


# Rows of a list of keys, bound as one array.

LINES = CompiledQuery(
    InvoiceLine,
    lambda _shape, *, invoices: InvoiceLine.objects.filter(AnyOf("invoice_id", invoices)).values(
        "invoice_id", "position", "quantity", "unit_price", "credited_line__position"
    ),
    invoices=Array,
)
# Amounts summed by subqueries (converted by Django from what the driver returns) and a list
# asked in two columns.
AMOUNTS = CompiledQuery(
    Invoice,
    lambda _shape, *, invoices: (
        Invoice.objects.filter(AnyOf("pk", invoices) | AnyOf("credited_invoice_id", invoices))
        .with_amounts()
        .order_by("pk")
        .values("pk", "amount_paid", "number")
    ),
    invoices=Array,
)


@pytest.fixture
def invoices(
    member,
    activity,
    belgian_client,  # noqa: F811
    staff,
    no_review,  # noqa: F811
):
    issued = submit_invoice(
        user=member.user,
        invoice=make_draft(member, activity, belgian_client, [line(), line("Sets", price="0.07")]),
        today=TODAY,
        now=NOW,
    )
    record_payment(invoice=issued, amount=Decimal("10.50"), received_on=TODAY, actor=staff)
    draft = make_draft(member, activity, belgian_client, [line("Draft", quantity="2.5")])
    return [issued, draft]


def test_rows_of_a_list_of_keys_are_those_of_the_querysets_values(invoices):
    keys = [invoice.pk for invoice in invoices]
    expected_lines = list(
        InvoiceLine.objects.filter(invoice_id__in=keys).values(
            "invoice_id", "position", "quantity", "unit_price", "credited_line__position"
        )
    )
    with CaptureQueriesContext(connection) as captured:
        lines = LINES.rows(invoices=keys)
    assert len(captured) == 1
    assert "= ANY(" in captured[0]["sql"]
    assert lines == expected_lines
    assert [list(row) for row in lines] == [list(row) for row in expected_lines]
    assert len(lines) == 3
    expected_amounts = list(
        Invoice.objects.filter(Q(pk__in=keys) | Q(credited_invoice_id__in=keys))
        .with_amounts()
        .order_by("pk")
        .values("pk", "amount_paid", "number")
    )
    assert AMOUNTS.rows(invoices=keys) == expected_amounts
    assert [row["amount_paid"] for row in expected_amounts] == [Decimal("10.50"), Decimal("0.00")]


def test_each_run_reads_its_own_keys(invoices):
    issued, draft = invoices
    assert [row["invoice_id"] for row in LINES.rows(invoices=[draft.pk])] == [draft.pk]
    assert {row["invoice_id"] for row in LINES.rows(invoices=[issued.pk])} == {issued.pk}
    assert LINES.rows(invoices=[-1]) == []
    assert LINES.rows(invoices=[]) == []


def test_the_invoice_api_asks_nothing_of_an_empty_page_or_absent_relations(invoices):
    with CaptureQueriesContext(connection) as captured:
        assert api_rows.invoice_rows([]) == []
    assert len(captured) == 0
    rows = api_rows.invoice_rows([invoice.pk for invoice in invoices])
    assert [row["pk"] for row in rows] == [invoice.pk for invoice in invoices]
    with CaptureQueriesContext(connection) as captured:
        related = api_rows._related_rows(rows)
    # Lines and documents only: no invoice has discounts on the whole or refunds.
    assert len(captured) == 2
    assert related["allowance_charges"] == {} and related["refunds"] == {}


# Model instances, as the ORM builds them.


def _fields(instance) -> dict:
    """What the instance holds: its loaded fields, its annotations and its database."""
    state = {name: value for name, value in vars(instance).items() if name not in ("_state",)}
    return {**state, "_db": instance._state.db, "_adding": instance._state.adding}


def _same_user(compiled: User, expected: User) -> None:
    assert type(compiled) is type(expected)
    assert _fields(compiled) == _fields(expected)
    assert compiled.get_deferred_fields() == expected.get_deferred_fields()
    try:
        expected_member = expected.member
    except Member.DoesNotExist:
        with pytest.raises(Member.DoesNotExist):
            compiled.member  # noqa: B018
        return
    compiled_member = compiled.member
    assert _fields(compiled_member) == _fields(expected_member)
    assert compiled_member.get_deferred_fields() == {"niss"}
    assert compiled_member.get_deferred_fields() == expected_member.get_deferred_fields()
    # The member points back at the same user object, without a query.
    with CaptureQueriesContext(connection) as captured:
        assert compiled_member.user is compiled
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
        [token] = _token_with_user.instances(key_hash=key_hash)
        expected = _tokens_with_users().filter(key_hash=key_hash).first()
        assert _fields(token) == _fields(expected)
        _same_user(token.user, expected.user)
    assert _token_with_user.instances(key_hash=services.hash_api_key("unknown")) == []


def test_instances_take_their_values_as_parameters_only(member):
    # A constant equal to a value is no stand-in: the value is named.
    with_constant = CompiledInstances(
        User, lambda _shape, *, user: User.objects.filter(pk=user, id__gte=-1), user=int
    )
    [loaded] = with_constant.instances(user=member.user.pk)
    assert _fields(loaded) == _fields(User.objects.get(pk=member.user.pk))
    folded = CompiledInstances(
        User,
        lambda _shape, *, user: User.objects.extra(where=[f"id = {user}"]),  # noqa: S610
        user=int,
    )
    with pytest.raises(ValueError, match="not sent as parameters: user"):
        folded.instances(user=member.user.pk)
    in_a_pattern = CompiledInstances(
        User, lambda _shape, *, email: User.objects.filter(email__contains=email), email=str
    )
    with pytest.raises(ValueError, match="not sent as parameters: email"):
        in_a_pattern.instances(email="member")


def test_only_plain_model_instances_are_compiled_as_instances(member):
    for build in (
        lambda _shape, *, user: User.objects.filter(pk=user).values("email"),
        lambda _shape, *, user: User.objects.filter(pk=user).prefetch_related("groups"),
        # A related manager's query sets the user it comes from on each token.
        lambda _shape, *, user: member.user.api_tokens.filter(pk=user),
    ):
        with pytest.raises(ValueError, match="plain model instances"):
            CompiledInstances(User, build, user=int).instances(user=member.user.pk)
