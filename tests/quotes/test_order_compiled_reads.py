# ruff: noqa: F811 (the fixtures imported are arguments of the tests)
"""The order list's first page, its Activity and the order a contract is drawn up from, read by
queries compiled once (quotes/order_pages.py): the same rows and objects as the ORM's queries,
for a member with two Activities, the owner of the shared one, staff and a stranger."""

from coop.keyset import keyset_page
from quotes import order_pages, orders, selectors
from quotes.models import Quote
from tests.quotes.orders_helpers import NOW, TODAY, make_quote
from tests.quotes.test_orders import no_review, order_client  # noqa: F401 (fixtures)


def _orders(member, activity, order_client, other_member, staff):
    shared = other_member.activities.create(name="Shared stage")
    shared.co_members.add(member)
    made = []
    for index, on in enumerate([activity, shared, activity, shared, activity]):
        quote = make_quote(
            activity=on,
            client=order_client,
            user=member.user,
            lines=(("Stage design", str(index + 1), "100.00", "21"),),
        )
        made.append(orders.confirm_order(staff_user=staff, quote=quote, now=NOW))
    orders.create_order_invoice(user=member.user, quote=made[0], part="balance", today=TODAY)
    make_quote(activity=activity, client=order_client, user=member.user)  # no order yet
    return shared, made


def test_the_first_page_is_the_orm_s_for_each_split_and_size(
    member, activity, order_client, other_member, staff, no_review
):
    shared, made = _orders(member, activity, order_client, other_member, staff)
    for user, activity_ids in (
        (member.user, None),
        (member.user, [shared.pk]),
        (other_member.user, None),
        (staff, [activity.pk]),
    ):
        split = selectors.order_list_split(user, activity_ids=activity_ids)
        for size in (2, 25):
            page = order_pages.first_order_page(split, size=size)
            rows, _split = selectors.order_list_of(user, activity_ids=activity_ids)
            expected = keyset_page(rows, selectors.QUOTE_KEYSET, size=size, split=split)
            assert page == expected
    whole = order_pages.first_order_page(selectors.order_list_split(member.user), size=25)
    assert [row["pk"] for row in whole.rows] == [order.pk for order in reversed(made)]
    assert whole.rows[-1]["in_draft"] == made[0].ordered_version.total_excl_vat
    # Staff read every order through the ORM's query.
    assert order_pages.first_order_page(selectors.order_list_split(staff), size=25) is None


def test_the_order_and_the_activity_are_the_orm_s(
    member, activity, order_client, other_member, staff, no_review
):
    shared, made = _orders(member, activity, order_client, other_member, staff)
    accepted = Quote.objects.get(ordered_version__isnull=True)
    for user in (member.user, other_member.user, staff):
        for quote in [*made, accepted]:
            found = order_pages.order_shown_to(user, quote.pk)
            expected = selectors.orders_shown_to(user).filter(pk=quote.pk).first()
            assert found == expected
            if found is not None:
                assert (found.ordered_version, found.client.name, found.activity.name) == (
                    expected.ordered_version,
                    expected.client.name,
                    expected.activity.name,
                )
    assert order_pages.order_shown_to(other_member.user, made[0].pk) is None
    assert order_pages.order_shown_to(other_member.user, made[1].pk) == made[1]
    assert order_pages.order_shown_to(member.user, 2**63) is None
    for raw in (str(activity.pk), str(shared.pk), "x", "", str(2**63)):
        for user in (member.user, other_member.user):
            assert order_pages.visible_activity(user, raw) == selectors.visible_activity(user, raw)
    assert order_pages.visible_activity(other_member.user, str(activity.pk)) is None
    assert order_pages.visible_activity(member.user, str(shared.pk)).name == "Shared stage"
