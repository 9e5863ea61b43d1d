"""Every member's list page and API list answers in the same few queries at 1 and at 50 rows.

A count that grows with the rows is an N+1: at SMart's size it turns a page into thousands of
queries. Each case builds the member's data with one row, counts the queries of the page, adds
49 rows, and counts again: only the COUNT(*) of a numbered list longer than its first page
may be added.
"""

import datetime
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from contracts.models import ExpenseClaim, Payslip
from contracts.services.contracts import approve_contract, submit_contract
from contracts.services.payroll import run_payroll
from copyrights.services import approve_copyright_payment
from invoicing.services.clients import create_client
from invoicing.services.drafts import LineInput
from invoicing.services.issue import submit_invoice
from invoicing.services.recurring import Schedule, create_recurring_invoice
from members import services as member_services
from members.models import LedgerEntry
from spaces.models import Booking
from spaces.services import lifecycle
from taxforms.models import Form, TaxCertificate
from tests.conftest import NOW, api_client_for, make_api_token, make_member
from tests.contracts.conftest import make_contract, worker
from tests.copyrights.conftest import record as record_copyright
from tests.invoicing.conftest import make_draft
from tests.spaces.conftest import DAY, at, house_activity, make_room, site  # noqa: F401 - shared fixtures

BUDGET = 12
MANY = 50


def _client(member, number: int):
    client, _created = create_client(
        owner=member.user,
        kind="company",
        name=f"Client {number}",
        street="Galerie du Roi 32",
        postal_code="1000",
        city="Bruxelles",
        country="BE",
        email=f"client{number}@example.be",
        language="fr",
    )
    return client


class World:
    """The member's data, grown a row at a time for whichever list the case measures."""

    def __init__(self, staff, member, activity, site):  # noqa: F811
        self.staff = staff
        self.member = member
        self.activity = activity
        self.site = site
        self.count = 0
        self.order = None

    # Each ``add_*`` adds ``number`` rows of one kind.

    def add_activities(self, number: int) -> None:
        for _index in range(number):
            self.count += 1
            member_services.create_activity(owner=self.member, name=f"Activity {self.count}")

    def add_shared_activities(self, number: int) -> None:
        """Activities of another member that the member shares, each with a ledger entry."""
        if not self.count:
            self.partner = make_member(
                "partner@coop.test", legal_name="Lucas Dubois", niss="17073003384"
            )
        for _index in range(number):
            self.count += 1
            shared = member_services.create_activity(
                owner=self.partner, name=f"Shared {self.count}", co_members=[self.member]
            )
            LedgerEntry.objects.create(
                activity=shared,
                kind="grant",
                stage="planned",
                amount=Decimal("5.00"),
                reference=f"SHARED-{self.count}",
                author=self.partner.user,
            )

    def add_ledger_entries(self, number: int) -> None:
        LedgerEntry.objects.bulk_create(
            LedgerEntry(
                activity=self.activity,
                kind="grant",
                stage="available",
                amount=Decimal("10.00"),
                description="Grant",
                reference=f"GRANT-{index}",
                author=self.member.user,
            )
            for index in range(self.count, self.count + number)
        )
        self.count += number

    def add_dashboard_rows(self, number: int) -> None:
        self.add_activities(number)
        self.add_ledger_entries(number)

    def add_clients(self, number: int) -> None:
        for _index in range(number):
            self.count += 1
            _client(self.member, self.count)

    def add_invoices(self, number: int) -> None:
        for _index in range(number):
            self.count += 1
            make_draft(self.member, self.activity, _client(self.member, self.count))

    def add_invoices_on_activities(self, number: int) -> None:
        """A draft on each of as many new Activities: the list reads them Activity by Activity."""
        for _index in range(number):
            self.count += 1
            activity = member_services.create_activity(
                owner=self.member, name=f"Activity {self.count}"
            )
            make_draft(self.member, activity, _client(self.member, self.count))

    def add_recurring_invoices(self, number: int) -> None:
        for _index in range(number):
            self.count += 1
            create_recurring_invoice(
                user=self.member.user,
                activity=self.activity,
                client=_client(self.member, self.count),
                title=f"Retainer {self.count}",
                schedule=Schedule(frequency="monthly", start_date=timezone.localdate()),
                mode="auto_send",
                lines=[
                    LineInput("Retainer {month}", Decimal("1"), "piece", Decimal("500.00")),
                    LineInput("Hosting", Decimal("1"), "piece", Decimal("20.00")),
                ],
                today=timezone.localdate(),
            )

    def add_quotes(self, number: int) -> None:
        from tests.quotes.conftest import make_draft as make_quote

        for _index in range(number):
            self.count += 1
            make_quote(self.member, self.activity, _client(self.member, self.count))

    def add_orders(self, number: int) -> None:
        from quotes.models import Quote
        from tests.quotes.orders_helpers import make_quote as make_order

        for _index in range(number):
            self.count += 1
            make_order(
                activity=self.activity,
                client=_client(self.member, self.count),
                user=self.member.user,
                status=Quote.Status.CONFIRMED,
            )

    def _order(self):
        """One confirmed order, its work on weekdays from a Monday in two weeks, for a year."""
        from quotes.models import Quote
        from tests.quotes.orders_helpers import make_quote as make_order

        if self.order is None:
            start = timezone.localdate() + datetime.timedelta(days=14)
            start += datetime.timedelta(days=-start.weekday() % 7)
            self.order = make_order(
                activity=self.activity,
                client=_client(self.member, 0),
                user=self.member.user,
                status=Quote.Status.CONFIRMED,
                lines=(("Stage design", "1000", "100.00", "21"),),
                work_start=start,
                work_end=start + datetime.timedelta(days=365),
            )
        return self.order

    def add_order_invoices(self, number: int) -> None:
        """Instalments invoiced from one order: every other one issued, some credited."""
        from quotes.models import OrderInvoice

        order = self._order()
        for _index in range(number):
            self.count += 1
            invoice = make_draft(self.member, self.activity, order.client)
            if self.count % 2:
                submit_invoice(user=self.member.user, invoice=invoice, today=NOW.date(), now=NOW)
            OrderInvoice.objects.create(
                quote=order,
                invoice=invoice,
                part=OrderInvoice.Part.INSTALMENT,
                label=f"Step {self.count}",
                schedule_step=self.count,
                amount_excl_vat=Decimal("100.00"),
                credited_excl_vat=Decimal("10.00") if self.count % 3 == 0 else Decimal("0.00"),
                created_by=self.member.user,
            )

    def add_order_contracts(self, number: int) -> None:
        """Contracts of one order, each on one of the order's work days (a Monday)."""
        from contracts.models import Contract

        order = self._order()
        for _index in range(number):
            self.count += 1
            contract = make_contract(
                self.member,
                self.activity,
                client=order.client,
                workers=[
                    worker(
                        self.member,
                        start=order.ordered_version.work_start
                        + datetime.timedelta(weeks=self.count),
                        count=1,
                    )
                ],
                title=f"Contract {self.count}",
                today=timezone.localdate(),
            )
            Contract.objects.filter(pk=contract.pk).update(order=order)

    def add_issued_invoices(self, number: int) -> None:
        for _index in range(number):
            self.count += 1
            draft = make_draft(self.member, self.activity, _client(self.member, self.count))
            submit_invoice(user=self.member.user, invoice=draft, today=NOW.date(), now=NOW)

    def add_contracts(self, number: int) -> None:
        start = timezone.localdate() + datetime.timedelta(days=14)
        client = _client(self.member, 0) if not self.count else None
        for _index in range(number):
            self.count += 1
            make_contract(
                self.member,
                self.activity,
                client=client,
                workers=[
                    worker(
                        self.member,
                        start=start + datetime.timedelta(weeks=self.count),
                        count=1,
                    )
                ],
                title=f"Contract {self.count}",
                today=timezone.localdate(),
            )

    def add_tax_certificates(self, number: int) -> None:
        # One 281.10 a year, the newest first; half of them with their PDF ready.
        TaxCertificate.objects.bulk_create(
            TaxCertificate(
                form=Form.SALARY,
                member=self.member,
                year=2025 - self.count - index,
                sequence=1,
                figures={"gross": "1000.00"},
                status="ready" if index % 2 else "pending",
            )
            for index in range(number)
        )
        self.count += number

    def add_payslips(self, number: int) -> None:
        if not self.count:
            start = timezone.localdate() + datetime.timedelta(days=14)
            contract = make_contract(
                self.member,
                self.activity,
                workers=[worker(self.member, start=start, count=2)],
                today=timezone.localdate(),
            )
            submit_contract(user=self.member.user, contract=contract, today=timezone.localdate())
            approve_contract(staff_user=self.staff, contract=contract, today=timezone.localdate())
            run_payroll(
                staff_user=None,
                period_start=contract.first_work_day,
                period_end=contract.last_work_day,
                today=contract.last_work_day + datetime.timedelta(days=1),
            )
            self.first_payslip = Payslip.objects.get(member=self.member)
            self.count = 1
            number -= 1
        copies = []
        for _index in range(number):
            self.count += 1
            copy = Payslip.objects.get(pk=self.first_payslip.pk)
            copy.pk = None
            copy.kind = Payslip.Kind.ADJUSTMENT
            copy.corrects = self.first_payslip
            copies.append(copy)
        Payslip.objects.bulk_create(copies)

    def add_expense_claims(self, number: int) -> None:
        ExpenseClaim.objects.bulk_create(
            ExpenseClaim(
                member=self.member,
                activity=self.activity,
                description=f"Train tickets {index}",
                total=Decimal("12.10"),
                total_vat=Decimal("2.10"),
                status=ExpenseClaim.Status.SUBMITTED,
                submitted_at=NOW,
            )
            for index in range(self.count, self.count + number)
        )
        self.count += number

    def add_copyright_payments(self, number: int) -> None:
        for _index in range(number):
            self.count += 1
            payment = record_copyright(self.member, self.activity, "10.00")
            if self.count % 2:
                approve_copyright_payment(staff_user=self.staff, payment=payment)

    def add_api_tokens(self, number: int) -> None:
        for _index in range(number):
            make_api_token(self.member.user, name=f"Token {self.count}")
            self.count += 1

    def add_rooms(self, number: int) -> None:
        for _index in range(number):
            self.count += 1
            make_room(self.site, name=f"Room {self.count}")

    def add_bookings(self, number: int) -> None:
        if not self.count:
            self.room = make_room(self.site, horizon_days=10000, requires_approval=False)
            self.first_booking = lifecycle.book_room(
                actor=self.member.user,
                room=self.room,
                start=at(DAY, 10),
                end=at(DAY, 12),
                title="Rehearsal 1",
                activity=self.activity,
                now=NOW,
            )
            self.count = 1
            number -= 1
        copies = []
        for _index in range(number):
            self.count += 1
            # Half the copies to come, half past: the page lists both.
            if self.count % 2:
                shift = -datetime.timedelta(days=self.count)
            else:
                shift = timezone.localdate() - DAY + datetime.timedelta(days=self.count)
            copy = Booking.objects.get(pk=self.first_booking.pk)
            copy.pk = None
            copy.title = f"Rehearsal {self.count}"
            copy.during = type(copy.during)(copy.during.lower + shift, copy.during.upper + shift)
            copy.blocked_during = type(copy.blocked_during)(
                copy.blocked_during.lower + shift, copy.blocked_during.upper + shift
            )
            copies.append(copy)
        Booking.objects.bulk_create(copies)


# (case, what to grow, how to open the list: browser page or API)
CASES: list[tuple[str, str, Callable[[World], str], bool]] = [
    ("dashboard", "add_dashboard_rows", lambda world: reverse("members:dashboard"), False),
    (
        "dashboard shared",
        "add_shared_activities",
        lambda world: reverse("members:dashboard"),
        False,
    ),
    (
        "activities",
        "add_shared_activities",
        lambda world: reverse("members:activity_list"),
        False,
    ),
    (
        "activity ledger",
        "add_ledger_entries",
        lambda world: reverse("members:activity_detail", args=[world.activity.pk]),
        False,
    ),
    ("invoices", "add_invoices", lambda world: reverse("invoicing:invoice_list"), False),
    (
        "issued invoices",
        "add_issued_invoices",
        lambda world: reverse("invoicing:invoice_list"),
        False,
    ),
    (
        "invoices of many Activities",
        "add_invoices_on_activities",
        lambda world: reverse("invoicing:invoice_list"),
        False,
    ),
    ("clients", "add_clients", lambda world: reverse("invoicing:client_list"), False),
    ("quotes", "add_quotes", lambda world: reverse("quotes:quote_list"), False),
    ("orders", "add_orders", lambda world: reverse("orders:order_list"), False),
    (
        "orders of an Activity",
        "add_orders",
        lambda world: reverse("orders:order_list") + f"?activity={world.activity.pk}",
        False,
    ),
    (
        "an order's invoices",
        "add_order_invoices",
        lambda world: reverse("orders:order_detail", args=[world.order.pk]),
        False,
    ),
    (
        "an order's contracts",
        "add_order_contracts",
        lambda world: reverse("orders:order_detail", args=[world.order.pk]),
        False,
    ),
    (
        "contract from an order form, days taken",
        "add_order_contracts",
        lambda world: reverse("orders:order_contract", args=[world.order.pk]),
        False,
    ),
    (
        "recurring invoices",
        "add_recurring_invoices",
        lambda world: reverse("invoicing:recurring_list"),
        False,
    ),
    (
        "new invoice form, clients",
        "add_clients",
        lambda world: reverse("invoicing:invoice_create"),
        False,
    ),
    (
        "new invoice form, Activities",
        "add_activities",
        lambda world: reverse("invoicing:invoice_create"),
        False,
    ),
    ("contracts", "add_contracts", lambda world: reverse("contracts:index"), False),
    ("payslips", "add_payslips", lambda world: reverse("contracts:payslips"), False),
    (
        "tax certificates",
        "add_tax_certificates",
        lambda world: reverse("taxforms:certificates"),
        False,
    ),
    ("expense claims", "add_expense_claims", lambda world: reverse("contracts:expenses"), False),
    (
        "copyright payments",
        "add_copyright_payments",
        lambda world: reverse("copyrights:index"),
        False,
    ),
    ("bookings", "add_bookings", lambda world: reverse("spaces:index"), False),
    ("api tokens page", "add_api_tokens", lambda world: reverse("members:api_tokens"), False),
    ("rooms", "add_rooms", lambda world: reverse("spaces:room_list"), False),
    ("api activities", "add_activities", lambda world: "/api/v1/activities/", True),
    (
        "api shared activities",
        "add_shared_activities",
        lambda world: "/api/v1/activities/",
        True,
    ),
    (
        "api activity ledger",
        "add_ledger_entries",
        lambda world: f"/api/v1/activities/{world.activity.pk}/ledger/",
        True,
    ),
    ("api invoices", "add_invoices", lambda world: "/api/v1/invoices/", True),
    ("api issued invoices", "add_issued_invoices", lambda world: "/api/v1/invoices/", True),
    (
        "api invoices of many Activities",
        "add_invoices_on_activities",
        lambda world: "/api/v1/invoices/",
        True,
    ),
    ("api clients", "add_clients", lambda world: "/api/v1/clients/", True),
    (
        "api recurring invoices",
        "add_recurring_invoices",
        lambda world: "/api/v1/recurring-invoices/",
        True,
    ),
    ("api quotes", "add_quotes", lambda world: "/api/v1/quotes/", True),
    ("api contracts", "add_contracts", lambda world: "/api/v1/contracts/", True),
    ("api payslips", "add_payslips", lambda world: "/api/v1/payslips/", True),
    ("api expense claims", "add_expense_claims", lambda world: "/api/v1/expense-claims/", True),
    (
        "api copyright payments",
        "add_copyright_payments",
        lambda world: "/api/v1/copyright-payments/",
        True,
    ),
    ("api bookings", "add_bookings", lambda world: "/api/v1/bookings/", True),
    ("api tokens", "add_api_tokens", lambda world: "/api/v1/tokens/", True),
    ("api rooms", "add_rooms", lambda world: "/api/v1/rooms/", True),
]


def _queries(browser, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = browser.get(url)
    assert response.status_code == 200, url
    return len(captured)


@pytest.mark.parametrize(
    ("grow", "url_of", "api"),
    [pytest.param(grow, url_of, api, id=case) for case, grow, url_of, api in CASES],
)
def test_query_count_does_not_grow_with_the_rows(
    settings,
    client,
    staff,
    member,
    activity,
    site,  # noqa: F811
    grow,
    url_of,
    api,
):
    # Submitted invoices are issued at once: no staff review rule applies.
    settings.COOP_INVOICE_REVIEW_NEW_CLIENTS = False
    settings.COOP_INVOICE_REVIEW_THRESHOLD = Decimal("1000000")
    world = World(staff, member, activity, site)
    if api:
        browser = api_client_for(member.user)
    else:
        browser = client
        browser.force_login(member.user)
    getattr(world, grow)(1)
    url = url_of(world)
    browser.get(url)  # Warm the per-process caches (content types, sessions) first.
    with_one = _queries(browser, url)
    getattr(world, grow)(MANY - 1)
    with_many = _queries(browser, url)
    # A numbered list longer than its first page adds its COUNT(*) (coop.pagination): one
    # query, whatever the number of rows; an N+1 would add dozens.
    assert with_many in (with_one, with_one + 1)
    assert with_many <= BUDGET
