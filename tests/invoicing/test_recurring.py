"""Recurring invoices: their schedule, each period invoiced exactly once, pausing and ending,
the review rules, the member's pages and the API."""

import datetime
import threading
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from audit.models import AuditEvent
from invoicing.errors import InvoicingError
from invoicing.models import Invoice, RecurringInvoice, RecurringInvoiceRun
from invoicing.services import recurring as services
from invoicing.services.clients import create_client
from invoicing.services.recurring import Schedule
from members.models import Member
from members.services import create_activity
from tests.conftest import NOW, api_client_for, make_member
from tests.invoicing.conftest import line

D = datetime.date
TODAY = D(2026, 3, 2)
# The pages and the API set up recurring invoices from the real today.
REAL_TODAY = timezone.localdate()
LATER = REAL_TODAY + datetime.timedelta(days=100)
# The last day of next month.
NEXT_MONTH_END = (REAL_TODAY.replace(day=1) + datetime.timedelta(days=62)).replace(
    day=1
) - datetime.timedelta(days=1)


def dates(schedule: Schedule, *, limit: int = 12, start: D | None = None) -> list[D]:
    return services.occurrences(schedule, on_or_after=start or schedule.start_date, limit=limit)


# --- the schedule ----------------------------------------------------------------------------


def test_monthly_on_the_31st_falls_on_each_months_last_day():
    schedule = Schedule(frequency="monthly", start_date=D(2026, 1, 31), day_of_month=31)
    assert dates(schedule, limit=6) == [
        D(2026, 1, 31),
        D(2026, 2, 28),
        D(2026, 3, 31),
        D(2026, 4, 30),
        D(2026, 5, 31),
        D(2026, 6, 30),
    ]


def test_monthly_on_the_30th_in_a_leap_february():
    schedule = Schedule(frequency="monthly", start_date=D(2028, 1, 30), day_of_month=30)
    assert dates(schedule, limit=3) == [D(2028, 1, 30), D(2028, 2, 29), D(2028, 3, 30)]


def test_quarterly_on_a_day_given_starts_at_the_first_day_on_or_after_the_start():
    schedule = Schedule(frequency="monthly", start_date=D(2026, 3, 2), interval=3, day_of_month=15)
    assert dates(schedule, limit=4) == [
        D(2026, 3, 15),
        D(2026, 6, 15),
        D(2026, 9, 15),
        D(2026, 12, 15),
    ]


def test_yearly_licence_on_the_29th_of_february_falls_on_the_28th_otherwise():
    schedule = Schedule(frequency="yearly", start_date=D(2028, 2, 29))
    assert dates(schedule, limit=5) == [
        D(2028, 2, 29),
        D(2029, 2, 28),
        D(2030, 2, 28),
        D(2031, 2, 28),
        D(2032, 2, 29),
    ]


def test_every_two_weeks_keeps_the_first_dates_weekday():
    schedule = Schedule(frequency="weekly", start_date=D(2026, 3, 4), interval=2)
    assert dates(schedule, limit=4) == [
        D(2026, 3, 4),
        D(2026, 3, 18),
        D(2026, 4, 1),
        D(2026, 4, 15),
    ]


def test_an_end_date_and_a_count_bound_the_schedule():
    by_date = Schedule(frequency="monthly", start_date=D(2026, 3, 31), end_date=D(2026, 7, 30))
    assert dates(by_date) == [D(2026, 3, 31), D(2026, 4, 30), D(2026, 5, 31), D(2026, 6, 30)]
    by_count = Schedule(frequency="weekly", start_date=D(2026, 3, 2), count=3)
    assert dates(by_count) == [D(2026, 3, 2), D(2026, 3, 9), D(2026, 3, 16)]


def test_a_period_ends_the_day_before_the_next_even_the_last_one():
    schedule = Schedule(frequency="monthly", start_date=D(2026, 1, 31), count=2)
    assert services.period_end(schedule, D(2026, 1, 31)) == D(2026, 2, 27)
    assert services.period_end(schedule, D(2026, 2, 28)) == D(2026, 3, 30)


def test_placeholders_are_the_periods_in_the_clients_language():
    start, end = D(2026, 3, 1), D(2026, 3, 31)
    assert services.describe("Retainer {month} {year}", start=start, end=end, language="fr") == (
        "Retainer mars 2026"
    )
    assert services.describe("Abonnement {month}", start=start, end=end, language="nl") == (
        "Abonnement maart"
    )
    assert services.describe("{period}", start=start, end=end, language="en") == (
        "March 1, 2026 – March 31, 2026"
    )


# --- setting up ------------------------------------------------------------------------------


def set_up(member, activity, client, **overrides) -> RecurringInvoice:
    arguments = {
        "user": member.user,
        "activity": activity,
        "client": client,
        "title": "Monthly retainer",
        "schedule": Schedule(frequency="monthly", start_date=TODAY),
        "mode": RecurringInvoice.Mode.AUTO_SEND,
        "lines": [line("Retainer {month} {year}", quantity="1", unit="piece", price="500.00")],
        "today": TODAY,
        "buyer_reference": "PO-77",
    }
    arguments.update(overrides)
    return services.create_recurring_invoice(**arguments)


@pytest.fixture
def retainer(member, activity, belgian_client, no_review):
    return set_up(member, activity, belgian_client)


def test_set_up_stores_the_lines_and_the_next_date(retainer):
    assert retainer.next_date == TODAY
    assert retainer.status == "active"
    [template] = retainer.lines.all()
    assert (template.description, template.unit_price, template.vat_rate) == (
        "Retainer {month} {year}",
        Decimal("500.00"),
        Decimal("21.00"),
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"schedule": Schedule(frequency="monthly", start_date=D(2026, 3, 1))}, "start_date"),
        ({"schedule": Schedule(frequency="monthly", start_date=TODAY, interval=0)}, "interval"),
        (
            {"schedule": Schedule(frequency="weekly", start_date=TODAY, day_of_month=3)},
            "day_of_month",
        ),
        (
            {
                "schedule": Schedule(
                    frequency="monthly", start_date=TODAY, end_date=D(2026, 5, 1), count=2
                )
            },
            "count",
        ),
        (
            {"schedule": Schedule(frequency="monthly", start_date=TODAY, end_date=D(2026, 3, 1))},
            "end_date",
        ),
        ({"lines": []}, "lines"),
        ({"lines": [line(price="-1")]}, "lines"),
        ({"title": " "}, "title"),
        ({"mode": "sometimes"}, "mode"),
    ],
)
def test_invalid_set_up_is_refused_and_writes_nothing(
    member, activity, belgian_client, overrides, field
):
    with pytest.raises(InvoicingError) as refused:
        set_up(member, activity, belgian_client, **overrides)
    assert refused.value.field == field
    assert not RecurringInvoice.objects.exists()


def test_another_members_client_is_refused(member, activity, other_member):
    theirs, _created = create_client(
        owner=other_member.user,
        kind="company",
        name="Theirs",
        street="Rue 1",
        postal_code="1000",
        city="Bruxelles",
        country="BE",
        email="t@example.be",
        language="fr",
    )
    with pytest.raises(InvoicingError, match="Unknown client"):
        set_up(member, activity, theirs)


# --- exactly once ----------------------------------------------------------------------------


def invoiced_periods(recurring) -> list[tuple[D, D, D]]:
    """(period date, invoice's period start, period end) of each run, oldest first."""
    return [
        (run.period_date, run.invoice.period_start, run.invoice.period_end)
        for run in recurring.runs.select_related("invoice").order_by("period_date")
    ]


def test_a_due_period_is_issued_with_its_period_and_filled_description(retainer):
    assert services.run_due_recurring_invoices(today=TODAY, now=NOW) == 1
    run = RecurringInvoiceRun.objects.get()
    invoice = run.invoice
    assert invoice.status == "issued"
    assert invoice.number == "2026-000001"
    assert invoice.issue_date == TODAY
    assert (invoice.period_start, invoice.period_end) == (D(2026, 3, 2), D(2026, 4, 1))
    assert invoice.lines.get().description == "Retainer mars 2026"
    assert invoice.total_incl_vat == Decimal("605.00")
    assert invoice.buyer_reference == "PO-77"
    retainer.refresh_from_db()
    assert retainer.next_date == D(2026, 4, 2)


def test_running_twice_invoices_each_period_once(retainer):
    assert services.run_due_recurring_invoices(today=TODAY, now=NOW) == 1
    assert services.run_due_recurring_invoices(today=TODAY, now=NOW) == 0
    assert Invoice.objects.count() == 1
    assert RecurringInvoiceRun.objects.count() == 1


def test_a_late_run_catches_up_each_missed_period_once_in_order(retainer):
    # No run for three months: the run of 2 June invoices March, April, May and June.
    late = D(2026, 6, 2)
    assert services.run_due_recurring_invoices(today=late, now=NOW) == 4
    assert invoiced_periods(retainer) == [
        (D(2026, 3, 2), D(2026, 3, 2), D(2026, 4, 1)),
        (D(2026, 4, 2), D(2026, 4, 2), D(2026, 5, 1)),
        (D(2026, 5, 2), D(2026, 5, 2), D(2026, 6, 1)),
        (D(2026, 6, 2), D(2026, 6, 2), D(2026, 7, 1)),
    ]
    descriptions = [
        run.invoice.lines.get().description for run in retainer.runs.order_by("period_date")
    ]
    assert descriptions == [
        "Retainer mars 2026",
        "Retainer avril 2026",
        "Retainer mai 2026",
        "Retainer juin 2026",
    ]
    # Issued on the day of the run, numbered in the order of their periods.
    numbers = [run.invoice.number for run in retainer.runs.order_by("period_date")]
    assert numbers == ["2026-000001", "2026-000002", "2026-000003", "2026-000004"]
    assert set(Invoice.objects.values_list("issue_date", flat=True)) == {late}
    assert services.run_due_recurring_invoices(today=late, now=NOW) == 0
    retainer.refresh_from_db()
    assert retainer.next_date == D(2026, 7, 2)


def test_the_unique_period_refuses_a_second_invoice_for_a_period(retainer, member):
    services.run_due_recurring_invoices(today=TODAY, now=NOW)
    other = Invoice.objects.create(
        activity=retainer.activity, client=retainer.client, created_by=member.user
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        RecurringInvoiceRun.objects.create(
            recurring_invoice=retainer, period_date=TODAY, invoice=other
        )


def test_a_period_found_invoiced_is_not_invoiced_again(retainer, member):
    # A run of the due period exists, but the date was not moved on (written by hand, say).
    draft = Invoice.objects.create(
        activity=retainer.activity, client=retainer.client, created_by=member.user
    )
    RecurringInvoiceRun.objects.create(recurring_invoice=retainer, period_date=TODAY, invoice=draft)
    assert services.run_due_recurring_invoices(today=D(2026, 4, 2), now=NOW) == 1
    assert [run.period_date for run in retainer.runs.order_by("period_date")] == [
        D(2026, 3, 2),
        D(2026, 4, 2),
    ]
    assert retainer.runs.get(period_date=TODAY).invoice == draft


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_invoice_each_period_once(settings):
    settings.COOP_INVOICE_REVIEW_NEW_CLIENTS = False
    settings.COOP_INVOICE_REVIEW_THRESHOLD = Decimal("1000000")
    member = make_member("ana@coop.test", legal_name="Ana Peeters", niss="85073003328")
    activity = create_activity(owner=member, name="Illustration")
    client, _created = create_client(
        owner=member.user,
        kind="company",
        name="Galeries",
        street="Galerie du Roi 32",
        postal_code="1000",
        city="Bruxelles",
        country="BE",
        email="compta@galeries.example",
        language="fr",
        vat_number="BE1000000021",
    )
    recurring = set_up(member, activity, client)
    late = D(2026, 5, 2)
    barrier = threading.Barrier(4)
    counts: list[int] = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            counts.append(services.run_due_recurring_invoices(today=late, now=NOW))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sum(counts) == 3
    assert [run.period_date for run in recurring.runs.order_by("period_date")] == [
        D(2026, 3, 2),
        D(2026, 4, 2),
        D(2026, 5, 2),
    ]
    assert Invoice.objects.count() == 3
    assert sorted(Invoice.objects.values_list("number", flat=True)) == [
        "2026-000001",
        "2026-000002",
        "2026-000003",
    ]


def test_a_schedule_with_a_count_ends_after_its_last_invoice(
    member, activity, belgian_client, no_review
):
    recurring = set_up(
        member,
        activity,
        belgian_client,
        schedule=Schedule(frequency="weekly", start_date=TODAY, count=2),
    )
    assert services.run_due_recurring_invoices(today=D(2026, 4, 30), now=NOW) == 2
    recurring.refresh_from_db()
    assert (recurring.status, recurring.next_date) == ("ended", None)
    assert [run.period_date for run in recurring.runs.order_by("period_date")] == [
        D(2026, 3, 2),
        D(2026, 3, 9),
    ]


# --- pause, resume, end ----------------------------------------------------------------------


def test_pause_and_resume_do_not_back_fill_the_paused_periods(retainer, member):
    services.run_due_recurring_invoices(today=TODAY, now=NOW)
    services.pause_recurring_invoice(user=member.user, recurring=retainer, now=NOW)
    # Paused through April and May: nothing is invoiced.
    assert services.run_due_recurring_invoices(today=D(2026, 5, 20), now=NOW) == 0
    resumed = services.resume_recurring_invoice(
        user=member.user, recurring=retainer, today=D(2026, 5, 20)
    )
    assert resumed.next_date == D(2026, 6, 2)
    assert services.run_due_recurring_invoices(today=D(2026, 6, 2), now=NOW) == 1
    assert [run.period_date for run in retainer.runs.order_by("period_date")] == [
        D(2026, 3, 2),
        D(2026, 6, 2),
    ]


def test_ending_stops_invoicing(retainer, member):
    services.end_recurring_invoice(user=member.user, recurring=retainer, now=NOW)
    assert services.run_due_recurring_invoices(today=D(2026, 6, 2), now=NOW) == 0
    assert not Invoice.objects.exists()
    with pytest.raises(InvoicingError):
        services.resume_recurring_invoice(user=member.user, recurring=retainer, today=TODAY)
    assert AuditEvent.objects.filter(action="ended", object_pk=str(retainer.pk)).count() == 1


def test_a_change_never_invoices_an_invoiced_period_again(
    retainer, member, activity, belgian_client
):
    services.run_due_recurring_invoices(today=TODAY, now=NOW)
    services.update_recurring_invoice(
        user=member.user,
        recurring=retainer,
        activity=activity,
        client=belgian_client,
        title="Retainer",
        schedule=Schedule(frequency="monthly", start_date=TODAY, day_of_month=2),
        mode=RecurringInvoice.Mode.AUTO_SEND,
        lines=[line("Retainer", quantity="1", unit="piece", price="600.00")],
        today=TODAY,
        buyer_reference="PO-77",
    )
    retainer.refresh_from_db()
    assert retainer.next_date == D(2026, 4, 2)
    assert services.run_due_recurring_invoices(today=TODAY, now=NOW) == 0


# --- modes, review rules, failures -----------------------------------------------------------


def test_review_first_mode_prepares_a_draft_and_tells_the_member(
    member, activity, belgian_client, no_review, django_capture_on_commit_callbacks
):
    recurring = set_up(member, activity, belgian_client, mode=RecurringInvoice.Mode.REVIEW_FIRST)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert services.run_due_recurring_invoices(today=TODAY, now=NOW) == 1
    # The e-mail is queued after the commit; its task calls notify_member_of_draft.
    assert len(callbacks) == 1
    run = recurring.runs.get()
    invoice = run.invoice
    assert (invoice.status, invoice.number) == ("draft", None)
    assert services.notify_member_of_draft(run=run) is True
    [message] = mail.outbox
    assert message.to == ["ana@coop.test"]
    assert "Monthly retainer" in message.subject
    assert f"/invoices/{invoice.pk}/" in message.body
    # Told once, however often the task is delivered.
    assert services.notify_member_of_draft(run=run) is False
    assert len(mail.outbox) == 1


def test_an_invoice_that_needs_review_goes_to_review_not_issued(
    settings, member, activity, belgian_client
):
    settings.COOP_INVOICE_REVIEW_NEW_CLIENTS = False
    settings.COOP_INVOICE_REVIEW_THRESHOLD = Decimal("100.00")
    recurring = set_up(member, activity, belgian_client)
    services.run_due_recurring_invoices(today=TODAY, now=NOW)
    invoice = recurring.runs.get().invoice
    assert invoice.status == "pending_review"
    assert invoice.number is None
    assert invoice.review_reason == "amount_above_threshold:100.00"


def test_a_failure_is_recorded_and_does_not_block_the_others(
    member, activity, belgian_client, no_review, staff
):
    failing = set_up(member, activity, belgian_client, title="Failing")
    other = set_up(member, activity, belgian_client, title="Fine")
    # The member is suspended meanwhile for the first one's Activity only: use a second member.
    second = make_member(
        "zoe@coop.test", legal_name="Zoé Lambert", niss="90010100123", approver=staff
    )
    second_activity = create_activity(owner=second, name="Zoé's")
    client, _created = create_client(
        owner=second.user,
        kind="company",
        name="Cinéma Nova",
        street="Rue d'Arenberg 3",
        postal_code="1000",
        city="Bruxelles",
        country="BE",
        email="nova@example.be",
        language="fr",
    )
    suspended = set_up(second, second_activity, client, title="Suspended")
    Member.objects.filter(pk=second.pk).update(status=Member.Status.SUSPENDED)

    assert services.run_due_recurring_invoices(today=TODAY, now=NOW) == 2
    suspended.refresh_from_db()
    assert suspended.last_error == "Only the Activities of active members can invoice."
    assert suspended.last_error_at == NOW
    assert suspended.next_date == TODAY
    assert not suspended.runs.exists()
    assert failing.runs.count() == 1 and other.runs.count() == 1
    # Tried again at each run; the audit trail notes the problem once.
    assert services.run_due_recurring_invoices(today=TODAY, now=NOW) == 0
    problems = AuditEvent.objects.filter(action="period_failed", object_pk=str(suspended.pk))
    assert problems.count() == 1
    # Once the member is active again, the missed period is invoiced at the next run.
    Member.objects.filter(pk=second.pk).update(status=Member.Status.ACTIVE)
    assert services.run_due_recurring_invoices(today=TODAY, now=NOW) == 1
    suspended.refresh_from_db()
    assert (suspended.last_error, suspended.next_date) == ("", D(2026, 4, 2))


# --- pages -----------------------------------------------------------------------------------


def form_data(the_activity, the_client, **overrides) -> dict:
    data = {
        "title": "Monthly retainer",
        "activity": the_activity.pk,
        "client": the_client.pk,
        "frequency": "monthly",
        "interval": "1",
        "day_of_month": "31",
        "start_date": NEXT_MONTH_END.isoformat(),
        "end_date": "",
        "count": "",
        "mode": "auto_send",
        "buyer_reference": "PO-77",
        "order_reference": "",
        "notes": "",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-0-description": "Retainer {month}",
        "lines-0-quantity": "1",
        "lines-0-unit": "piece",
        "lines-0-unit_price": "500.00",
        "lines-0-vat_category": "S",
        "lines-0-vat_rate": "21.00",
        "lines-0-supply_kind": "services",
        "save": "1",
    }
    data.update(overrides)
    return data


def test_member_sets_up_a_recurring_invoice_through_the_form(
    client, member, activity, belgian_client
):
    client.force_login(member.user)
    response = client.post(
        reverse("invoicing:recurring_create"), form_data(activity, belgian_client)
    )
    recurring = RecurringInvoice.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("invoicing:recurring_detail", args=[recurring.pk])
    assert (recurring.day_of_month, recurring.next_date) == (31, NEXT_MONTH_END)
    page = client.get(reverse("invoicing:recurring_detail", args=[recurring.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    following = (NEXT_MONTH_END + datetime.timedelta(days=1) + relativedelta(months=1)) - (
        datetime.timedelta(days=1)
    )
    for day in (NEXT_MONTH_END, following):
        assert date_format(day, "DATE_FORMAT") in text


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"interval": "0"}, "Ensure this value is greater than or equal to 1."),
        ({"start_date": "2020-01-01"}, "The first invoice cannot be dated in the past."),
        ({"lines-0-unit_price": "abc"}, "Enter a number."),
        (
            {"end_date": LATER.isoformat(), "count": "3"},
            "End on a date or after a number of invoices",
        ),
        ({"activity": "999999"}, "Select a valid choice."),
    ],
)
def test_invalid_form_input_shows_errors_and_saves_nothing(
    client, member, activity, belgian_client, overrides, message
):
    client.force_login(member.user)
    response = client.post(
        reverse("invoicing:recurring_create"), form_data(activity, belgian_client, **overrides)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not RecurringInvoice.objects.exists()


def test_another_members_recurring_invoice_is_not_found(client, retainer, other_member):
    client.force_login(other_member.user)
    for name in ("recurring_detail", "recurring_edit"):
        assert client.get(reverse(f"invoicing:{name}", args=[retainer.pk])).status_code == 404
    for name in ("recurring_pause", "recurring_end"):
        assert client.post(reverse(f"invoicing:{name}", args=[retainer.pk])).status_code == 404
    retainer.refresh_from_db()
    assert retainer.status == "active"
    assert (
        client.get(reverse("invoicing:recurring_list")).content.decode().count("Monthly retainer")
        == 0
    )


def test_pause_resume_and_end_buttons(client, retainer, member):
    client.force_login(member.user)
    client.post(reverse("invoicing:recurring_pause", args=[retainer.pk]))
    retainer.refresh_from_db()
    assert retainer.status == "paused"
    page = client.get(reverse("invoicing:recurring_detail", args=[retainer.pk])).content.decode()
    assert "the periods that passed while paused are not invoiced" in page
    client.post(reverse("invoicing:recurring_resume", args=[retainer.pk]))
    retainer.refresh_from_db()
    assert retainer.status == "active"
    client.post(reverse("invoicing:recurring_end", args=[retainer.pk]))
    retainer.refresh_from_db()
    assert (retainer.status, retainer.next_date) == ("ended", None)


def test_the_list_shows_an_empty_state_then_the_rows(client, member, activity, belgian_client):
    client.force_login(member.user)
    empty = client.get(reverse("invoicing:recurring_list")).content.decode()
    assert "You have no recurring invoice yet" in empty
    set_up(member, activity, belgian_client)
    listed = client.get(reverse("invoicing:recurring_list")).content.decode()
    assert "Monthly retainer" in listed and "Théâtre des Galeries SA" in listed


def test_the_list_reads_as_many_queries_for_one_row_as_for_thirty(
    client, member, activity, belgian_client
):
    client.force_login(member.user)
    set_up(member, activity, belgian_client)
    url = reverse("invoicing:recurring_list")
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for number in range(29):
        set_up(member, activity, belgian_client, title=f"Retainer {number}")
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    # A second page adds its COUNT(*), nothing per row.
    assert len(many) in (len(one), len(one) + 1)


# --- API -------------------------------------------------------------------------------------


def api_body(activity, client, **overrides) -> dict:
    body = {
        "title": "Yearly licence",
        "activity": activity.pk,
        "client": client.pk,
        "frequency": "yearly",
        "interval": 1,
        "start_date": LATER.isoformat(),
        "mode": "review_first",
        "buyer_reference": "PO-77",
        "lines": [
            {
                "description": "Licence {year}",
                "quantity": "1.00",
                "unit": "piece",
                "unit_price": "1200.00",
                "vat_rate": "21.00",
            }
        ],
    }
    body.update(overrides)
    return body


def test_api_creates_lists_and_pauses(member, activity, belgian_client, other_member):
    api = api_client_for(member.user)
    created = api.post(
        "/api/v1/recurring-invoices/", api_body(activity, belgian_client), format="json"
    )
    assert created.status_code == 201, created.content
    pk = created.json()["pk"]
    assert created.json()["next_date"] == LATER.isoformat()
    assert created.json()["upcoming_dates"][:2] == [
        LATER.isoformat(),
        (LATER + relativedelta(years=1)).isoformat(),
    ]
    listed = api.get("/api/v1/recurring-invoices/").json()
    assert [row["pk"] for row in listed["results"]] == [pk]
    paused = api.post(f"/api/v1/recurring-invoices/{pk}/pause/")
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    again = api.post(f"/api/v1/recurring-invoices/{pk}/pause/")
    assert again.status_code == 400
    stranger = api_client_for(other_member.user)
    assert stranger.get(f"/api/v1/recurring-invoices/{pk}/").status_code == 404


def test_api_refuses_invalid_input_with_400(member, activity, belgian_client):
    api = api_client_for(member.user)
    for body in (
        api_body(activity, belgian_client, lines=[]),
        api_body(activity, belgian_client, interval=99),
        api_body(activity, belgian_client, start_date="2020-01-01"),
        api_body(activity, belgian_client, frequency="daily"),
    ):
        assert api.post("/api/v1/recurring-invoices/", body, format="json").status_code == 400
    assert not RecurringInvoice.objects.exists()


def test_api_token_is_required(client):
    assert client.get("/api/v1/recurring-invoices/").status_code == 401


def test_a_co_member_of_the_activity_reads_and_pauses_it(client, staff, member, belgian_client):
    co_member = make_member(
        "emma@coop.test", legal_name="Emma Maes", niss="90010100123", approver=staff
    )
    shared = create_activity(owner=member, name="Shared studio", co_members=[co_member])
    recurring = set_up(member, shared, belgian_client)
    client.force_login(co_member.user)
    page = client.get(reverse("invoicing:recurring_detail", args=[recurring.pk]))
    assert page.status_code == 200
    client.post(reverse("invoicing:recurring_pause", args=[recurring.pk]))
    recurring.refresh_from_db()
    assert recurring.status == "paused"


def test_the_activity_page_links_to_recurring_invoices(client, member, activity):
    client.force_login(member.user)
    page = client.get(reverse("members:activity_detail", args=[activity.pk])).content.decode()
    assert f"{reverse('invoicing:recurring_create')}?activity={activity.pk}" in page
    assert reverse("invoicing:recurring_list") in page


# --- admin -----------------------------------------------------------------------------------


def test_staff_list_filter_and_pause_recurring_invoices_in_the_admin(staff_client, retainer):
    changelist = reverse("admin:invoicing_recurringinvoice_changelist")
    listed = staff_client.get(changelist, {"status": "active", "mode": "auto_send"})
    assert "Monthly retainer" in listed.content.decode()
    page = staff_client.get(reverse("admin:invoicing_recurringinvoice_change", args=[retainer.pk]))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    response = staff_client.post(
        changelist, {"action": "pause", "_selected_action": [retainer.pk]}, follow=True
    )
    assert "1 recurring invoice paused." in response.content.decode()
    retainer.refresh_from_db()
    assert retainer.status == "paused"
    # Paused ones are not listed as active any more.
    assert (
        "Monthly retainer"
        not in staff_client.get(changelist, {"status": "active"}).content.decode()
    )


def test_a_deleted_review_draft_leaves_its_period_invoiced(
    client, member, activity, belgian_client, no_review
):
    recurring = set_up(member, activity, belgian_client, mode=RecurringInvoice.Mode.REVIEW_FIRST)
    services.run_due_recurring_invoices(today=TODAY, now=NOW)
    draft = recurring.runs.get().invoice
    client.force_login(member.user)
    response = client.post(reverse("invoicing:invoice_delete", args=[draft.pk]))
    assert response.status_code == 302
    assert not Invoice.objects.filter(pk=draft.pk).exists()
    run = recurring.runs.get()
    assert (run.period_date, run.invoice) == (TODAY, None)
    # The member declined the period: it is not drawn up again.
    assert services.run_due_recurring_invoices(today=TODAY, now=NOW) == 0
    page = client.get(reverse("invoicing:recurring_detail", args=[recurring.pk]))
    assert "Draft deleted: this period is not invoiced." in page.content.decode()
    api = api_client_for(member.user).get(f"/api/v1/recurring-invoices/{recurring.pk}/")
    assert api.json()["invoices"][0]["invoice"] is None


# --- privacy ---------------------------------------------------------------------------------


def test_the_members_export_holds_their_recurring_invoices_and_an_active_one_blocks_anonymising(
    retainer, member
):
    from invoicing import privacy

    services.run_due_recurring_invoices(today=TODAY, now=NOW)
    [exported] = privacy.export_member_data(member)["data"]["recurring_invoices"]
    assert exported["title"] == "Monthly retainer"
    assert [line["description"] for line in exported["lines"]] == ["Retainer {month} {year}"]
    assert [period["period_date"] for period in exported["periods"]] == [TODAY.isoformat()]
    assert "1 recurring invoice has not ended." in privacy.anonymisation_blockers(member)
    services.end_recurring_invoice(user=member.user, recurring=retainer, now=NOW)
    assert "1 recurring invoice has not ended." not in privacy.anonymisation_blockers(member)
