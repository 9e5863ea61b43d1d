"""The yearly individual account: its figures, its PDF in the member's language, who reads it."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from audit.models import AuditEvent
from contracts.models import Payslip
from coop.templatetags.money import euro
from declarations.pdf import render_account_pdf
from declarations.selectors import account_years, year_account
from tests.conftest import NOW
from tests.pdf_layout import check_layout, read_layout

D = Decimal
ACCOUNTS = "declarations:accounts"
DOWNLOAD = "declarations:account-download"


def test_the_year_sums_the_payslips_by_quarter_of_the_work(member, quarter_paid):
    account = year_account(member, 2026)
    payslips = Payslip.objects.filter(member=member)

    first = account.quarters[0]
    assert (first.days, first.gross, first.personal_onss) == (
        D("14.0"),
        D("5384.08"),  # the artist's 4,000.00 and the white-collar 1,384.08
        D("745.52"),  # 564.62 + 180.90
    )
    assert first.withholding_tax == sum(payslip.withholding_tax for payslip in payslips)
    assert first.net == sum(payslip.net for payslip in payslips)
    assert [quarter.gross for quarter in account.quarters[1:]] == [D("0.00")] * 3
    assert (account.exit_holiday_pay, account.year_end_premium) == (D("184.08"), D("0.00"))
    # The holiday certificate counts the artist's work only: 10 days, 4,000.00 × 1.08.
    assert (account.holiday_days, account.holiday_gross, account.holiday_base) == (
        D("10.0"),
        D("4000.00"),
        D("4320.00"),
    )
    assert account_years(member) == [2026]
    assert year_account(member, 2025).is_empty


@pytest.mark.parametrize(("language", "days"), [("fr", "14,0"), ("nl", "14,0"), ("en", "14.0")])
def test_the_pdf_reads_in_the_members_language(member, quarter_paid, language, days):
    member.preferred_language = language
    member.save(update_fields=["preferred_language"])
    account = year_account(member, 2026)

    pdf = render_account_pdf(account, today=NOW.date())

    with translation.override(language):
        amounts = [euro(D(amount)) for amount in ["5384.08", "745.52", "184.08", "4320.00"]]
        title = gettext("Individual account %(year)s") % {"year": 2026}
        holiday = gettext("For your holiday certificate")
    expected = [
        title,
        holiday,
        "Ana Peeters",
        "**.**.**-***.28",
        "0812345603",
        "14.0" if language == "en" else "14,0",
        *amounts,
    ]
    assert check_layout(pdf, expected=expected) == []
    assert "85073003328" not in read_layout(pdf).text


def test_a_member_downloads_their_account_and_nobody_elses(
    client, member, other_member, quarter_paid
):
    client.force_login(member.user)
    page = client.get(reverse(ACCOUNTS))
    assert page.status_code == 200
    assert "?year=2026" in page.content.decode()

    response = client.get(reverse(DOWNLOAD), {"year": "2026"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert AuditEvent.objects.filter(
        action="downloaded", object_type="members.member", object_pk=str(member.pk)
    ).exists()
    # Another member's key is ignored: a member reads only their own account.
    assert (
        client.get(reverse(ACCOUNTS), {"member": other_member.pk}).context["account_member"]
        == member
    )
    assert client.get(reverse(DOWNLOAD), {"year": "2025"}).status_code == 404
    assert client.get(reverse(DOWNLOAD), {"year": "twenty"}).status_code == 404

    # Lucas's account of 2026 is his own.
    client.force_login(other_member.user)
    assert client.get(reverse(ACCOUNTS)).context["account_member"] == other_member
    assert client.get(reverse(DOWNLOAD), {"year": "2025"}).status_code == 404


def test_before_any_pay_the_page_says_so(client, member, staff):
    client.force_login(member.user)
    empty = client.get(reverse(ACCOUNTS))
    assert "No individual account yet" in empty.content.decode()
    assert client.get(reverse(DOWNLOAD), {"year": "2026"}).status_code == 404
    client.force_login(staff)  # staff without a member profile of their own
    assert "No individual account yet" in client.get(reverse(ACCOUNTS)).content.decode()


def test_staff_download_any_members_account(client, staff, member, quarter_paid):
    client.force_login(staff)
    page = client.get(reverse(ACCOUNTS), {"member": member.pk})
    assert "Ana Peeters" in page.content.decode()
    response = client.get(reverse(DOWNLOAD), {"year": "2026", "member": member.pk})
    assert response.status_code == 200
    assert client.get(reverse(DOWNLOAD), {"year": "2026", "member": "x"}).status_code == 404
    assert client.get(reverse(DOWNLOAD), {"year": "2026", "member": 999999}).status_code == 404


def test_the_accounts_page_reads_the_same_queries_however_much_was_paid(
    client, member, staff, activity, quarter_jobs
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.declarations.conftest import pay

    client.force_login(member.user)
    client.get(reverse(ACCOUNTS))  # the session's first request writes it
    with CaptureQueriesContext(connection) as before:
        client.get(reverse(ACCOUNTS))
    pay(staff)
    with CaptureQueriesContext(connection) as after:
        page = client.get(reverse(ACCOUNTS))
    assert "?year=2026" in page.content.decode()
    assert len(after.captured_queries) == len(before.captured_queries)
