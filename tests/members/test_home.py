"""A member's home says where they stand: invoices awaiting payment and overdue, the next pay,
contracts awaiting approval, claims in progress and upcoming bookings, each a link, in a
fixed number of queries."""

import datetime
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django.utils.formats import date_format

from contracts.services.contracts import approve_contract, submit_contract
from contracts.services.expenses import ReceiptInput, submit_expense_claim
from invoicing.models import Invoice
from invoicing.services.issue import submit_invoice
from invoicing.services.payments import record_payment
from members import home
from spaces.services import lifecycle
from tests.conftest import NOW
from tests.contracts.conftest import TODAY, make_contract, worker
from tests.invoicing.conftest import belgian_client, make_draft, no_review  # noqa: F401
from tests.spaces.conftest import at, house_activity, make_room, site  # noqa: F401

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _issued(member, activity, client, *, today):
    """3 × 19.99 at 21 %: VAT on the total 12.59, 72.56 in all (DOMAIN.md §2)."""
    draft = make_draft(member, activity, client)
    return submit_invoice(user=member.user, invoice=draft, today=today, now=NOW)


@pytest.fixture
def standing_member(member, activity, staff, belgian_client, no_review, site):  # noqa: F811
    today = timezone.localdate()
    # Issued in March 2026 and due long ago: overdue.
    _issued(member, activity, belgian_client, today=TODAY)
    # Issued today and partly paid: 72.56 − 20.00 = 52.56 still due, not yet overdue.
    current = _issued(member, activity, belgian_client, today=today)
    record_payment(invoice=current, amount=Decimal("20.00"), received_on=today, actor=staff)
    # Paid in full: nothing due.
    paid = _issued(member, activity, belgian_client, today=today)
    record_payment(invoice=paid, amount=Decimal("72.56"), received_on=today, actor=staff)
    # One contract awaiting approval, one approved whose ten days at 400.00 are not yet paid.
    waiting = make_contract(member, activity, title="Waiting")
    submit_contract(user=member.user, contract=waiting, today=TODAY, now=NOW)
    approved = make_contract(
        member,
        activity,
        title="Approved",
        workers=[worker(member, start=datetime.date(2026, 4, 6))],
    )
    submit_contract(user=member.user, contract=approved, today=TODAY, now=NOW)
    approve_contract(staff_user=staff, contract=approved, today=TODAY, now=NOW)
    submit_expense_claim(
        user=member.user,
        activity=activity,
        description="Frames",
        receipts=[
            ReceiptInput(
                upload=SimpleUploadedFile("frames.pdf", PDF),
                description="Frames",
                spent_on=datetime.date(2026, 3, 1),
                amount=Decimal("121.00"),
                vat=Decimal("21.00"),
            )
        ],
        today=TODAY,
    )
    room = make_room(site, horizon_days=10000)
    for day in (0, 1):
        start = at(_booked_monday() + datetime.timedelta(days=day), 10)
        lifecycle.book_room(
            actor=member.user,
            room=room,
            start=start,
            end=start + datetime.timedelta(hours=2),
            title="Workshop",
            activity=activity,
        )
    return member, approved


def _booked_monday() -> datetime.date:
    """A Monday a month ahead, when the site is open."""
    ahead = timezone.localdate() + datetime.timedelta(days=30)
    return ahead + datetime.timedelta(days=7 - ahead.weekday())


def _figures(page: str) -> list[tuple[str, str, str]]:
    """The home's figures as (link, amount or count, hint)."""
    section = page[page.index('id="standing-title"') : page.index('id="activities-title"')]
    return re.findall(
        r'<dd[^>]*><a href="([^"]+)">([^<]+)</a></dd>\s*<dd class="hint">([^<]*)<', section
    )


def test_the_home_says_where_the_member_stands(client, standing_member, activity):
    member, approved = standing_member
    client.force_login(member.user)
    client.cookies["coop_language"] = "en"
    page = client.get("/").content.decode()
    with translation.override("en"):
        first_booking = date_format(timezone.localtime(at(_booked_monday(), 10)), "DATETIME_FORMAT")
    assert _figures(page) == [
        ("/invoices/?status=open", "125.12\xa0€", "2 invoices awaiting payment"),
        ("/invoices/?status=overdue", "72.56\xa0€", "1 invoice past its due date"),
        (
            f"/contracts/{approved.pk}/",
            # Seven Belgian working days after the last work day, Friday 17 April 2026.
            "April 28, 2026",
            "4,000.00\xa0€ gross for “Approved”, paid by this date at the latest",
        ),
        ("/contracts/?status=submitted", "1", "Staff approve them before the first work day"),
        ("/payslips/expenses/", "1", "121.00\xa0€ to be reimbursed"),
        ("/bookings/", "2", f"Next: {first_booking}"),
    ]


def test_the_home_in_french(client, standing_member):
    member, _approved = standing_member
    client.force_login(member.user)
    client.cookies["coop_language"] = "fr"
    figures = _figures(client.get("/").content.decode())
    assert figures[0] == (
        "/invoices/?status=open",
        "125,12\xa0€",
        "2 factures en attente de paiement",
    )
    assert figures[1][1:] == ("72,56\xa0€", "1 facture après son échéance")
    assert figures[2][1] == "28 avril 2026"


def test_the_linked_lists_show_the_invoices_counted(client, standing_member):
    member, _approved = standing_member
    client.force_login(member.user)
    awaiting = client.get("/invoices/?status=open").content.decode()
    overdue = client.get("/invoices/?status=overdue").content.decode()
    assert len(re.findall(r'href="/invoices/\d+/"', awaiting)) == 2
    assert len(re.findall(r'href="/invoices/\d+/"', overdue)) == 1


def test_the_home_reads_again_once_the_ledger_moves(client, standing_member, staff):
    member, _approved = standing_member
    client.force_login(member.user)
    client.cookies["coop_language"] = "en"
    assert _figures(client.get("/").content.decode())[0][1] == "125.12\xa0€"
    # A payment posts ledger entries: the figures kept for the member no longer serve.
    overdue = Invoice.objects.get(status=Invoice.Status.ISSUED)
    record_payment(
        invoice=overdue, amount=Decimal("72.56"), received_on=timezone.localdate(), actor=staff
    )
    figures = _figures(client.get("/").content.decode())
    assert figures[0][1:] == ("52.56\xa0€", "1 invoice awaiting payment")
    assert figures[1][1:] == ("0.00\xa0€", "0 invoices past their due date")


def test_the_home_takes_a_fixed_number_of_queries(client, standing_member, member, activity):
    client.force_login(member.user)
    client.get("/")
    home._KEPT_RECEIVABLES.rows.clear()
    with CaptureQueriesContext(connection) as first:
        client.get("/")
    with CaptureQueriesContext(connection) as kept:
        client.get("/")
    # Session, user, Activities, latest entries, the figures, and the open invoices' aggregate
    # unless the figures kept for the member still serve.
    assert len(first) == 6
    assert len(kept) == 5
    invoices = [query["sql"] for query in first if "FILTER (WHERE" in query["sql"]]
    assert len(invoices) == 1
