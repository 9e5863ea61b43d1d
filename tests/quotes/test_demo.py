"""The demo's quotes tell a coherent story in every state."""

import io

from django.utils import timezone

from quotes import demo, services
from quotes.models import Quote, QuoteEvent
from tests.quotes.conftest import TODAY


def test_every_demo_quote_is_coherent_with_its_state(member, activity, quote_client, staff):
    demo.seed({"today": TODAY, "members": [member], "staff": staff}, stdout=io.StringIO())
    now = timezone.now()
    statuses = set()
    for quote in Quote.objects.select_related("current_version"):
        version = quote.current_version
        statuses.add(quote.status)
        link = version.links.order_by("-created_at").first()
        if quote.status == Quote.Status.DRAFT:
            assert quote.number == "" and link is None
            continue
        assert quote.created_at <= version.sent_at <= now
        assert version.valid_until >= timezone.localdate(version.sent_at)
        if quote.status == Quote.Status.EXPIRED:
            assert version.valid_until < TODAY
            [event] = quote.events.filter(kind=QuoteEvent.Kind.EXPIRED)
            assert timezone.localdate(event.at) > version.valid_until
            assert services.link_state(link, now=now) == services.LinkState.EXPIRED
            assert services.answer_of(version) == ""
        else:
            assert version.valid_until >= TODAY
        if quote.status == Quote.Status.SENT:
            assert services.link_state(link, now=now) == services.LinkState.OPEN
            assert services.answer_of(version) == ""
        if quote.status in (Quote.Status.ACCEPTED, Quote.Status.CONFIRMED):
            assert version.accepted_at is not None
        if quote.status == Quote.Status.DECLINED:
            assert version.declined_at is not None and version.decline_reason
        if quote.status == Quote.Status.CHANGE_REQUESTED:
            assert version.change_requested_at is not None and version.change_request
    assert statuses >= {
        Quote.Status.DRAFT,
        Quote.Status.SENT,
        Quote.Status.CHANGE_REQUESTED,
        Quote.Status.ACCEPTED,
        Quote.Status.DECLINED,
        Quote.Status.EXPIRED,
        Quote.Status.CONFIRMED,
    }
