"""Staff's read-only admin of quotes: searched by number, client or member; a change page that
does not grow with the quote's versions and events."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from quotes import services
from quotes.models import Quote
from tests.invoicing.conftest import staff_client  # noqa: F401 - shared fixture
from tests.quotes.conftest import make_draft, send

BUDGET = 12


def _queries(browser, url: str) -> int:
    browser.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = browser.get(url)
    assert response.status_code == 200, url
    return len(captured)


def test_staff_find_quotes_by_number_client_or_member(
    staff_client,  # noqa: F811
    member,
    activity,
    quote_client,
    sent,
):
    quote, _token = sent
    draft = make_draft(member, activity, quote_client, title="Autre")
    url = reverse("admin:quotes_quote_changelist")
    by_number = staff_client.get(url, {"q": quote.number})
    assert by_number.status_code == 200
    assert list(by_number.context["cl"].result_list) == [quote]
    by_client = staff_client.get(url, {"q": "Galeries"})
    assert set(by_client.context["cl"].result_list) == {quote, draft}
    by_member = staff_client.get(url, {"q": "Peeters"})
    assert set(by_member.context["cl"].result_list) == {quote, draft}
    assert staff_client.get(url, {"q": "D-1999-000001"}).context["cl"].result_list.count() == 0
    assert staff_client.get(reverse("admin:quotes_quote_add")).status_code == 403
    change = reverse("admin:quotes_quote_change", args=[quote.pk])
    assert staff_client.post(change, {}).status_code == 403


def test_the_change_page_does_not_grow_with_versions_and_events(
    staff_client,  # noqa: F811
    member,
    sent,
    django_capture_on_commit_callbacks,
):
    quote, token = sent
    url = reverse("admin:quotes_quote_change", args=[quote.pk])
    few = _queries(staff_client, url)
    for _round in range(3):
        services.request_change(
            link=services.find_link(token), message="Encore", ip="192.0.2.1", user_agent="UA"
        )
        quote = services.new_version(user=member.user, quote=Quote.objects.get(pk=quote.pk))
        quote, token = send(quote, member.user, capture=django_capture_on_commit_callbacks)
    many = _queries(staff_client, url)
    assert many == few
    assert many <= BUDGET
