"""The member's copyright pages and API, the statement download and the staff's admin."""

import datetime
from decimal import Decimal

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from copyrights.models import CopyrightParameters, CopyrightPayment
from copyrights.services import approve_copyright_payment, render_statement
from tests.contracts.test_pages import api_for
from tests.copyrights.conftest import record
from tests.copyrights.test_payments import pay

D = Decimal


@pytest.fixture
def this_year(db):
    """The income-2024 figures, for whatever year the tests run in."""
    year = timezone.localdate().year
    row = CopyrightParameters.objects.get(income_year=2024)
    row.pk, row.income_year, row.is_unverified = None, year, True
    CopyrightParameters.objects.filter(income_year=year).delete()
    row.save()
    return year


@pytest.fixture
def staff_client(client, staff):
    TOTP.activate(staff, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    client.force_login(staff)
    return client


def form(activity, **extra):
    return {
        "activity": activity.pk,
        "contract": "",
        "work_kind": "literary",
        "work_title": "Translation of 'Het Kanaal'",
        "gross": "25000.00",
        "salary_gross": "",
        **extra,
    }


def test_empty_state_and_record_in_the_browser(client, member, activity, this_year):
    client.force_login(member.user)
    page = client.get(reverse("copyrights:index")).content.decode()
    assert "No copyright payment yet." in page
    assert "73,070.00" in page
    response = client.post(reverse("copyrights:record"), form(activity))
    assert response.status_code == 302
    payment = CopyrightPayment.objects.get()
    assert (payment.withholding, payment.status) == (D("2082.00"), "submitted")
    page = client.get(reverse("copyrights:index")).content.decode()
    assert payment.reference in page and "2,082.00" in page
    assert "48,070.00" in page  # still possible this year


def test_refusals_are_form_errors(client, member, activity, this_year):
    client.force_login(member.user)
    software = client.post(reverse("copyrights:record"), form(activity, work_kind="database"))
    assert software.status_code == 200
    assert "Software and databases do not qualify" in software.content.decode()
    too_much = client.post(reverse("copyrights:record"), form(activity, gross="80000.00"))
    assert "at most 73,070.00" in too_much.content.decode()
    capped = client.post(
        reverse("copyrights:record"), form(activity, gross="500.00", salary_gross="1000.00")
    )
    assert "428.57" in capped.content.decode()
    garbage = client.post(reverse("copyrights:record"), form(activity, gross="12,5,0"))
    assert garbage.status_code == 200
    assert not CopyrightPayment.objects.exists()


def test_member_cannot_charge_another_members_activity(client, member, other_activity, this_year):
    client.force_login(member.user)
    response = client.post(reverse("copyrights:record"), form(other_activity))
    assert response.status_code == 200
    assert not CopyrightPayment.objects.exists()


def test_member_cancels_while_awaiting_approval(client, member, activity):
    payment = record(member, activity, "100.00")
    client.force_login(member.user)
    response = client.post(
        reverse("copyrights:cancel", args=[payment.pk]), {"reason": "Wrong Activity"}
    )
    assert response.status_code == 302
    payment.refresh_from_db()
    assert (payment.status, payment.reason) == ("cancelled", "Wrong Activity")


def test_statement_download_and_api(client, staff, member, other_member, activity):
    payment = record(member, activity, "10000.00")
    approve_copyright_payment(staff_user=staff, payment=payment)
    pay(staff)
    render_statement(statement=payment.statement)
    client.force_login(member.user)
    download = client.get(reverse("copyrights:statement", args=[payment.pk]))
    assert download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content).startswith(b"%PDF-")
    assert AuditEvent.objects.filter(
        action="downloaded", object_type__contains="statement"
    ).exists()
    mine = api_for(member.user).get("/api/v1/copyright-payments/").json()["results"]
    assert [(row["gross"], row["withholding"], row["net"], row["status"]) for row in mine] == [
        ("10000.00", "750.00", "9250.00", "paid")
    ]
    assert mine[0]["statement_ready"] is True
    pdf = api_for(member.user).get(f"/api/v1/copyright-payments/{payment.pk}/statement/")
    assert pdf["Content-Type"] == "application/pdf"
    # Another member sees nothing of it.
    client.force_login(other_member.user)
    assert client.get(reverse("copyrights:statement", args=[payment.pk])).status_code == 404
    other = api_for(other_member.user)
    assert other.get("/api/v1/copyright-payments/").json()["results"] == []
    assert other.get(f"/api/v1/copyright-payments/{payment.pk}/").status_code == 404
    # The API only reads.
    assert api_for(member.user).post("/api/v1/copyright-payments/", {}).status_code == 405


def test_api_is_documented(member):
    schema = api_for(member.user).get("/api/schema/").content.decode()
    assert "/api/v1/copyright-payments/{id}/statement/" in schema


def test_staff_approves_in_the_admin(staff_client, member, activity):
    payment = record(member, activity, "100.00", today=datetime.date(2024, 3, 4))
    changelist = reverse("admin:copyrights_copyrightpayment_changelist")
    assert payment.reference in staff_client.get(changelist).content.decode()
    response = staff_client.post(
        changelist, {"action": "approve_payments", "_selected_action": [payment.pk]}
    )
    assert response.status_code == 302
    payment.refresh_from_db()
    assert payment.status == "approved"
    change = reverse("admin:copyrights_copyrightpayment_change", args=[payment.pk])
    assert staff_client.get(change).status_code == 200


def test_staff_list_reads_members_and_activities_in_the_same_query(staff_client, member, activity):
    changelist = reverse("admin:copyrights_copyrightpayment_changelist")
    record(member, activity, "100.00", today=datetime.date(2024, 3, 4))
    staff_client.get(changelist)  # the session's first write out of the way
    with CaptureQueriesContext(connection) as one:
        assert staff_client.get(changelist).status_code == 200
    for gross in ("200.00", "300.00"):
        record(member, activity, gross, today=datetime.date(2024, 3, 5))
    with CaptureQueriesContext(connection) as three:
        page = staff_client.get(changelist).content.decode()
    assert page.count("DA0") >= 3
    assert len(three.captured_queries) == len(one.captured_queries)


def test_staff_records_for_a_member_in_the_admin(
    staff_client, member, activity, other_activity, this_year
):
    url = reverse("admin:copyrights_copyrightpayment_record")
    assert staff_client.get(url).status_code == 200
    data = {
        "member": member.pk,
        "activity": other_activity.pk,
        "contract": "",
        "work_kind": "visual",
        "work_title": "Poster",
        "gross": "1000.00",
        "salary_gross": "",
    }
    refused = staff_client.post(url, data)
    assert "Choose one of the beneficiary&#x27;s Activities." in refused.content.decode()
    assert not CopyrightPayment.objects.exists()
    response = staff_client.post(url, {**data, "activity": activity.pk})
    payment = CopyrightPayment.objects.get()
    assert response["Location"] == reverse(
        "admin:copyrights_copyrightpayment_change", args=[payment.pk]
    )
    assert (payment.member, payment.withholding) == (member, D("75.00"))


def test_members_cannot_open_the_staff_record_page(client, member):
    client.force_login(member.user)
    response = client.get(reverse("admin:copyrights_copyrightpayment_record"))
    assert response.status_code == 302
