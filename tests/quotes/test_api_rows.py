"""The quote API writes its answers from plain rows (quotes/api_rows.py): byte for byte what
QuoteSerializer writes of the same quotes, on the list's first page (a compiled query) and on
the pages after it (the ORM), for a member with two Activities and for staff; and what
QuoteDetailSerializer writes of each quote."""

from decimal import Decimal

import pytest
from django.db.models import F, Prefetch
from rest_framework.renderers import JSONRenderer

from invoicing.services.drafts import LineInput
from quotes import services
from quotes.api import QuoteDetailSerializer, QuoteSerializer
from quotes.models import Quote, QuoteEvent, QuoteLine, QuoteVersion
from tests.conftest import api_client_for
from tests.quotes.conftest import make_draft, send

DISCOUNTED = [
    LineInput(
        description="Rehearsal <days> & set-up",
        quantity=Decimal("2.5"),
        unit="day",
        unit_price=Decimal("333.33"),
        vat_rate=Decimal("6"),
        allowance_percent=Decimal("12.5"),
        allowance_reason="Early booking",
    ),
    LineInput(
        description="Posters",
        quantity=Decimal("7"),
        unit="piece",
        unit_price=Decimal("0.07"),
        allowance_amount=Decimal("0.10"),
        allowance_reason="Rounded",
    ),
]


@pytest.fixture
def quotes_in_every_state(
    member, activity, quote_client, other_member, django_capture_on_commit_callbacks
):
    """Drafts with and without schedule, deposit or discounts; sent, accepted, declined; on
    the member's Activity and on one they share."""
    shared = other_member.activities.create(name="Shared stage")
    shared.co_members.add(member)
    capture = django_capture_on_commit_callbacks
    make_draft(member, activity, quote_client)
    make_draft(member, shared, quote_client, lines=DISCOUNTED, deposit_percent=None, schedule=[])
    make_draft(member, activity, quote_client, lines=DISCOUNTED[1:], description="")
    send(make_draft(member, activity, quote_client), member.user, capture=capture)
    _accepted, accepted = send(
        make_draft(member, shared, quote_client, lines=DISCOUNTED), member.user, capture=capture
    )
    services.accept_quote(
        link=services.find_link(accepted),
        name="Marie Lambert",
        function="Production",
        conditions_accepted=True,
        po_number="PO-7",
        ip="192.0.2.1",
        user_agent="Test",
    )
    _declined, declined = send(
        make_draft(member, activity, quote_client), member.user, capture=capture
    )
    services.decline_quote(
        link=services.find_link(declined), reason="Too late", ip=None, user_agent=""
    )
    return list(Quote.objects.filter(activity__in=[activity, shared]).order_by(*LIST_ORDER))


# The API's list order: drafts (no number) first, then the newest number first.
LIST_ORDER = (F("number_order").desc(nulls_first=True), "-pk")


def _reference(quotes: list[Quote]) -> list[dict]:
    rows = (
        Quote.objects.filter(pk__in=[quote.pk for quote in quotes])
        .select_related("current_version")
        .prefetch_related(
            Prefetch("current_version__lines", queryset=QuoteLine.objects.order_by("position"))
        )
        .order_by(*LIST_ORDER)
    )
    return QuoteSerializer(rows, many=True).data


def _all_pages(api) -> list[dict]:
    answers, url = [], "/api/v1/quotes/"
    while url:
        response = api.get(url)
        assert response.status_code == 200
        answers.extend(response.json()["results"])
        url = response.json()["next"]
    return answers


@pytest.mark.parametrize("page_size", [50, 2])
def test_the_list_writes_what_the_serializer_writes(
    settings, member, quotes_in_every_state, page_size
):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "PAGE_SIZE": page_size}
    answers = _all_pages(api_client_for(member.user))
    reference = _reference(quotes_in_every_state)
    assert len(answers) == len(quotes_in_every_state) == 6
    assert JSONRenderer().render(answers) == JSONRenderer().render(reference)
    # What the fixture made is there to compare: discounts, a schedule, a single line.
    versions = [answer["current_version"] for answer in answers]
    assert {line["allowance_reason"] for version in versions for line in version["lines"]} == {
        "",
        "Early booking",
        "Rounded",
    }
    assert any(version["schedule"] for version in versions)
    assert any(len(version["lines"]) == 1 for version in versions)
    assert {answer["status"] for answer in answers} == {"draft", "sent", "accepted", "declined"}


def test_staff_read_every_quote_as_the_serializer_writes_it(staff, quotes_in_every_state):
    answers = _all_pages(api_client_for(staff))
    assert JSONRenderer().render(answers) == JSONRenderer().render(
        _reference(quotes_in_every_state)
    )


def test_the_owner_of_the_shared_activity_reads_only_its_quotes(
    other_member, quotes_in_every_state
):
    shared = [quote for quote in quotes_in_every_state if quote.activity.name == "Shared stage"]
    answers = _all_pages(api_client_for(other_member.user))
    assert len(answers) == len(shared) == 2
    assert JSONRenderer().render(answers) == JSONRenderer().render(_reference(shared))


def test_each_quote_reads_as_the_detail_serializer_writes_it(
    member, staff, other_member, quotes_in_every_state
):
    api = api_client_for(member.user)
    owner_of_shared = api_client_for(other_member.user)
    for quote in quotes_in_every_state:
        reference = QuoteDetailSerializer(
            Quote.objects.select_related("current_version")
            .prefetch_related(
                Prefetch("current_version__lines", queryset=QuoteLine.objects.order_by("position")),
                Prefetch("versions", queryset=QuoteVersion.objects.only("quote_id", "version")),
                Prefetch("events", queryset=QuoteEvent.objects.order_by("at", "pk")),
            )
            .get(pk=quote.pk)
        ).data
        for reader in (api, api_client_for(staff)):
            response = reader.get(f"/api/v1/quotes/{quote.pk}/")
            assert response.status_code == 200
            assert response.content == JSONRenderer().render(reference)
        assert len(reference["events"]) >= 1
        # Someone who does not take part in its Activity finds nothing there.
        shared = quote.activity.name == "Shared stage"
        answer = owner_of_shared.get(f"/api/v1/quotes/{quote.pk}/")
        assert answer.status_code == (200 if shared else 404)
    sent = next(answer for answer in quotes_in_every_state if answer.status == "declined")
    assert [event["kind"] for event in api.get(f"/api/v1/quotes/{sent.pk}/").json()["events"]] == [
        "created",
        "sent",
        "declined",
    ]
    for wrong in ("0", "-1", "abc", str(2**63)):
        assert api.get(f"/api/v1/quotes/{wrong}/").status_code == 404
