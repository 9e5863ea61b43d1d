"""The portal's pages answer in the same few queries whatever the client's documents, members
and client records, and the member's invoice page whatever the questions on it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.models import PortalQuestion
from tests.conftest import make_member
from tests.portal.conftest import SHARED, issue, make_client, portal_browser

pytestmark = pytest.mark.django_db
BUDGET = 12
MANY = 30


def queries(browser, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = browser.get(url)
    assert response.status_code == 200, url
    return len(captured)


def niss(serial: int) -> str:
    """A valid national register number of someone born on 1 January 1990."""
    base = int(f"900101{serial:03d}")
    return f"900101{serial:03d}{97 - base % 97:02d}"


def grow(member, activity, staff, number: int, start: int) -> list:
    """``number`` more documents for the shared address, half from new members."""
    from members import services as member_services

    invoices = []
    for index in range(start, start + number):
        if index % 6 == 1:
            other = make_member(
                f"member{index}@coop.test",
                legal_name=f"Member {index}",
                niss=niss(index),
                approver=staff,
            )
            other_activity = member_services.create_activity(owner=other, name=f"Work {index}")
            client = make_client(other, name=f"Galeries {index}", email=SHARED)
            invoices.append(issue(other, other_activity, client))
        else:
            client = make_client(member, name=f"Galeries {index}", email=SHARED.upper())
            invoices.append(issue(member, activity, client))
    return invoices


@pytest.mark.parametrize("page", ["portal:home", "portal:document_list", "api"])
def test_portal_pages_do_not_grow_with_the_documents(client, member, activity, staff, page):
    first = grow(member, activity, staff, 1, 0)[0]
    portal_browser(client, SHARED)
    url = "/api/v1/portal/documents/" if page == "api" else reverse(page)
    client.get(url)
    with_one = queries(client, url)
    grow(member, activity, staff, MANY - 1, 1)
    with_many = queries(client, url)
    # A list longer than its first page counts its rows: one query more.
    assert with_many <= with_one + 1 <= BUDGET, (with_one, with_many)
    detail = reverse("portal:document_detail", kwargs={"pk": first.pk})
    assert queries(client, detail) <= BUDGET


def test_the_member_invoice_page_does_not_grow_with_the_questions(client, member, activity):
    invoice = issue(member, activity, make_client(member, name="Galeries", email=SHARED))
    client.force_login(member.user)
    url = reverse("invoicing:invoice_detail", kwargs={"pk": invoice.pk})
    without = queries(client, url)
    PortalQuestion.objects.create(invoice=invoice, email=SHARED, message="First")
    with_one = queries(client, url)
    PortalQuestion.objects.bulk_create(
        PortalQuestion(invoice=invoice, email=SHARED, message=f"Question {index}")
        for index in range(MANY)
    )
    assert queries(client, url) == with_one <= without + 1
