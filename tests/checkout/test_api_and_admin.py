"""Online payments as the API and the admin show them."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from checkout.links import pay_token
from checkout.models import OnlinePayment
from tests.conftest import api_client_for
from tests.invoicing.conftest import staff_client  # noqa: F401 - shared fixture


@pytest.fixture
def paid_online(client, open_invoice, simulated):
    """The 123.45 left, paid through the simulated provider's page."""
    checkout_page = client.post(
        reverse("checkout:pay_online", kwargs={"token": pay_token(open_invoice)})
    )["Location"]
    client.post(checkout_page, {"outcome": "paid"})
    online = OnlinePayment.objects.get()
    assert online.status == "paid"
    return online


def test_the_member_and_staff_read_an_invoices_online_payments(
    paid_online, member, other_member, staff
):
    url = f"/api/v1/invoices/{paid_online.invoice_id}/online-payments/"

    answer = api_client_for(member.user).get(url)

    assert answer.status_code == 200
    assert answer.json() == [
        {
            "pk": paid_online.pk,
            "provider": "simulated",
            "provider_payment_id": paid_online.provider_payment_id,
            "amount": "123.45",
            "currency": "EUR",
            "status": "paid",
            "method": "simulated",
            "payment": paid_online.payment_id,
            "needs_review": False,
            "created_at": answer.json()[0]["created_at"],
            "paid_at": answer.json()[0]["paid_at"],
        }
    ]
    assert api_client_for(staff).get(url).json()[0]["pk"] == paid_online.pk
    assert api_client_for(other_member.user).get(url).status_code == 404


def test_the_admin_lists_online_payments_read_only(staff_client, paid_online):  # noqa: F811
    changelist = staff_client.get(
        reverse("admin:checkout_onlinepayment_changelist") + "?status__exact=paid"
    )
    change = staff_client.get(reverse("admin:checkout_onlinepayment_change", args=[paid_online.pk]))

    assert changelist.status_code == change.status_code == 200
    listed = changelist.content.decode()
    assert paid_online.provider_payment_id in listed
    assert reverse("admin:invoicing_invoice_change", args=[paid_online.invoice_id]) in listed
    assert reverse("admin:invoicing_payment_change", args=[paid_online.payment_id]) in listed
    shown = change.content.decode()
    assert paid_online.invoice.number in shown
    assert 'name="_save"' not in shown
    empty = staff_client.get(
        reverse("admin:checkout_onlinepayment_changelist") + "?status__exact=failed"
    )
    assert paid_online.provider_payment_id not in empty.content.decode()
    assert staff_client.get(reverse("admin:checkout_onlinepayment_add")).status_code == 403


def test_the_pay_page_reads_the_same_few_queries_however_many_attempts(
    client, open_invoice, simulated
):
    url = reverse("checkout:pay", kwargs={"token": pay_token(open_invoice)})
    client.get(url)

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    few = count()
    for _attempt in range(5):
        OnlinePayment.objects.create(
            invoice=open_invoice,
            provider="simulated",
            provider_payment_id=f"sim_attempt{_attempt}",
            amount=Decimal("123.45"),
            status="failed",
        )
    # The page reads the invoice and what is due, whatever the number of attempts; the first
    # request of a process may add its per-process look-ups (content types, catalogues).
    assert count() == few <= 8
