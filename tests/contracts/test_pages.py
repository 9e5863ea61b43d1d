"""Member pages, the API and the staff admin of contracts and payroll."""

import datetime
import html
import json
import re
from decimal import Decimal

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import formats, timezone
from rest_framework.test import APIClient

from contracts.models import Contract, ContractAttachment, DimonaDeclaration, PayrollRun, Payslip
from contracts.services.contracts import approve_contract, submit_contract
from contracts.services.documents import render_payslip
from contracts.services.payroll import run_payroll
from members.services import create_activity
from tests.contracts.conftest import make_contract, worker

D = Decimal


def future_monday() -> datetime.date:
    today = timezone.localdate()
    return today + datetime.timedelta(days=14 - today.weekday())


@pytest.fixture
def upcoming(member, activity):
    start = future_monday()
    return make_contract(
        member, activity, workers=[worker(member, start=start, count=3)], today=timezone.localdate()
    )


@pytest.fixture
def staff_client(client, staff):
    TOTP.activate(staff, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    client.force_login(staff)
    return client


def api_for(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_member_creates_a_contract_in_the_browser(client, member, activity):
    client.force_login(member.user)
    start = future_monday()
    response = client.post(
        reverse("contracts:create"),
        {
            "activity": activity.pk,
            "client": "",
            "title": "Workshop",
            "description": "",
            "place": "LaVallée",
            "kind": "artistic",
            "amount_to_invoice": "900.00",
            "workers-TOTAL_FORMS": "1",
            "workers-INITIAL_FORMS": "0",
            "workers-MIN_NUM_FORMS": "0",
            "workers-MAX_NUM_FORMS": "20",
            "workers-0-member": member.pk,
            "workers-0-daily_wage": "250.00",
            "workers-0-days": f"{start}\n{start + datetime.timedelta(days=1)} half",
        },
    )
    contract = Contract.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("contracts:detail", args=[contract.pk])
    assert [day.portion for day in contract.workers.get().days.all()] == ["1.0", "0.5"]
    page = client.get(response["Location"])
    assert b"Workshop" in page.content
    assert b"Submit for approval" in page.content


def test_form_shows_the_rule_that_refused_it(client, member, activity):
    client.force_login(member.user)
    response = client.post(
        reverse("contracts:create"),
        {
            "activity": activity.pk,
            "title": "Workshop",
            "place": "LaVallée",
            "kind": "artistic",
            "amount_to_invoice": "900.00",
            "workers-TOTAL_FORMS": "1",
            "workers-INITIAL_FORMS": "0",
            "workers-0-member": member.pk,
            "workers-0-daily_wage": "50.00",
            "workers-0-days": future_monday().isoformat(),
        },
    )
    assert response.status_code == 200
    assert "below the legal minimum" in response.content.decode()
    assert not Contract.objects.exists()


def test_member_submits_and_lists(client, member, upcoming):
    client.force_login(member.user)
    client.post(reverse("contracts:submit", args=[upcoming.pk]))
    upcoming.refresh_from_db()
    assert upcoming.status == Contract.Status.SUBMITTED
    listing = client.get(reverse("contracts:index"))
    assert upcoming.reference in listing.content.decode()
    assert "Awaiting approval" in listing.content.decode()


def test_other_members_contract_is_not_found(client, other_member, upcoming):
    client.force_login(other_member.user)
    assert client.get(reverse("contracts:detail", args=[upcoming.pk])).status_code == 404
    assert client.post(reverse("contracts:submit", args=[upcoming.pk])).status_code == 404


def test_attachment_type_is_checked(client, member, upcoming):
    client.force_login(member.user)
    url = reverse("contracts:attachment-add", args=[upcoming.pk])
    client.post(url, {"file": SimpleUploadedFile("quote.pdf", b"not a pdf at all")})
    assert not ContractAttachment.objects.exists()
    client.post(url, {"file": SimpleUploadedFile("quote.pdf", b"%PDF-1.7\n...")})
    attachment = ContractAttachment.objects.get()
    assert attachment.content_type == "application/pdf"
    other = client.get(reverse("contracts:attachment-download", args=[attachment.pk]))
    assert other.status_code == 200


def test_simulator_page(client, member):
    client.force_login(member.user)
    response = client.get(
        reverse("contracts:simulator"),
        {
            "invoice_excl_vat": "1000.00",
            "expenses": "0",
            "kind": "non_artistic",
            "household": "single",
            "children": "0",
        },
    )
    assert response.status_code == 200
    assert response.context["result"].payslip.gross == D("748.00")


def test_payslips_are_listed_and_downloaded_by_their_owner_only(
    client, staff, member, other_member, upcoming
):
    submit_contract(user=member.user, contract=upcoming, today=timezone.localdate())
    approve_contract(staff_user=staff, contract=upcoming, today=timezone.localdate())
    payroll = run_payroll(
        staff_user=staff,
        period_start=upcoming.first_work_day,
        period_end=upcoming.last_work_day,
        today=upcoming.last_work_day + datetime.timedelta(days=1),
    )
    payslip = payroll.payslips.get()
    render_payslip(payslip=payslip)
    client.force_login(member.user)
    assert payslip.reference in client.get(reverse("contracts:payslips")).content.decode()
    download = client.get(reverse("contracts:payslip-download", args=[payslip.pk]))
    assert download["Content-Type"] == "application/pdf"
    client.force_login(other_member.user)
    assert client.get(reverse("contracts:payslip-download", args=[payslip.pk])).status_code == 404
    assert api_for(other_member.user).get("/api/v1/payslips/").json()["results"] == []
    mine = api_for(member.user).get("/api/v1/payslips/").json()["results"]
    assert [row["net"] for row in mine] == [str(payslip.net)]


def test_api_creates_and_submits_a_contract(member, activity):
    api = api_for(member.user)
    start = future_monday()
    response = api.post(
        "/api/v1/contracts/",
        {
            "activity": activity.pk,
            "title": "Concert",
            "place": "Bozar",
            "kind": "artistic",
            "amount_to_invoice": "1500.00",
            "workers": [
                {"member": member.pk, "daily_wage": "300.00", "days": [{"date": start.isoformat()}]}
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["first_work_day"]) == ("draft", start.isoformat())
    submitted = api.post(f"/api/v1/contracts/{body['pk']}/submit/")
    assert submitted.json()["status"] == "submitted"
    assert submitted.json()["history"][0]["to_status"] == "submitted"


def test_api_maps_rule_errors_to_400(member, activity):
    response = api_for(member.user).post(
        "/api/v1/contracts/",
        {
            "activity": activity.pk,
            "title": "Concert",
            "place": "Bozar",
            "kind": "artistic",
            "amount_to_invoice": "1500.00",
            "workers": [
                {"member": member.pk, "daily_wage": "300.00", "days": [{"date": "2020-01-06"}]}
            ],
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "day_in_past"
    assert not Contract.objects.exists()


def test_api_simulation_and_schema(member):
    api = api_for(member.user)
    response = api.post(
        "/api/v1/salary-simulations/",
        {"invoice_excl_vat": "1000.00", "kind": "non_artistic"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["gross"] == "748.00"
    schema = api.get("/api/schema/").content.decode()
    assert "/api/v1/contracts/" in schema
    assert "/api/v1/payslips/{id}/pdf/" in schema


def test_staff_sees_awaiting_approval_with_budget_and_approves(staff_client, member, upcoming):
    submit_contract(user=member.user, contract=upcoming, today=timezone.localdate())
    url = reverse("admin:contracts_contractawaitingapproval_changelist")
    page = staff_client.get(url)
    assert page.status_code == 200
    content = page.content.decode()
    assert upcoming.reference in content
    assert "short by 1,500.00\u00a0€" in content  # 3 days × 400 × 1.25 on an empty Activity
    response = staff_client.post(
        url, {"action": "approve", "_selected_action": [upcoming.pk]}, follow=True
    )
    assert "1 contract approved." in response.content.decode()
    upcoming.refresh_from_db()
    assert upcoming.status == Contract.Status.APPROVED
    assert DimonaDeclaration.objects.count() == 1


def test_staff_rejects_in_bulk_with_a_reason(staff_client, member, activity, upcoming):
    second = make_contract(
        member,
        activity,
        workers=[worker(member, start=future_monday() + datetime.timedelta(days=7), count=1)],
        today=timezone.localdate(),
    )
    for contract in (upcoming, second):
        submit_contract(user=member.user, contract=contract, today=timezone.localdate())
    response = staff_client.post(
        reverse("admin:contracts_contract_changelist"),
        {"action": "reject", "_selected_action": [upcoming.pk, second.pk], "reason": "Budget"},
        follow=True,
    )
    assert "2 contracts rejected." in response.content.decode()
    assert set(Contract.objects.values_list("status", flat=True)) == {"rejected"}
    assert list(Contract.objects.get(pk=second.pk).events.values_list("reason", flat=True)) == [
        "",
        "Budget",
    ]


def test_staff_runs_payroll_from_the_admin(staff_client, staff, member, upcoming):
    submit_contract(user=member.user, contract=upcoming, today=timezone.localdate())
    approve_contract(staff_user=staff, contract=upcoming, today=timezone.localdate())
    url = reverse("admin:contracts_payrollrun_run")
    response = staff_client.post(url, {"period_start": "2026-01-01", "period_end": "2026-01-31"})
    assert "Nothing to pay" in response.content.decode()
    assert not PayrollRun.objects.exists()
    assert staff_client.get(reverse("admin:contracts_payrollrun_changelist")).status_code == 200
    for name in ("payrollrate", "taxbracket", "specialcontributionbracket", "payslip"):
        assert staff_client.get(reverse(f"admin:contracts_{name}_changelist")).status_code == 200
    assert (
        staff_client.get(reverse("admin:contracts_contract_change", args=[upcoming.pk])).status_code
        == 200
    )
    assert not Payslip.objects.exists()


def test_demo_seed_adds_every_state_and_a_payroll_run(staff, member, activity):
    import io
    import random

    from contracts import demo

    demo.seed(
        {
            "rng": random.Random(1),
            "staff": staff,
            "members": [member],
            "today": timezone.localdate(),
        },
        stdout=io.StringIO(),
    )
    states = set(Contract.objects.values_list("status", flat=True))
    assert states == set(Contract.Status.values)
    run = PayrollRun.objects.get()
    assert run.payslip_count == Payslip.objects.count() > 0
    assert run.sepa_file


def test_staff_approves_expense_claims_in_the_admin(staff_client, member, activity):
    from contracts.models import ExpenseClaim
    from tests.contracts.test_payroll_run import claim_for

    claim = claim_for(member, activity)
    url = reverse("admin:contracts_expenseclaim_changelist")
    assert "Lighting supplies" in staff_client.get(url).content.decode()
    staff_client.post(url, {"action": "approve_claims", "_selected_action": [claim.pk]})
    claim.refresh_from_db()
    assert claim.status == ExpenseClaim.Status.APPROVED
    page = staff_client.get(reverse("admin:contracts_expenseclaim_change", args=[claim.pk]))
    assert page.status_code == 200


def test_member_claims_a_receipt_in_the_browser(client, member, other_member, activity):
    from contracts.models import ExpenseClaim

    client.force_login(member.user)
    url = reverse("contracts:expenses")
    response = client.post(
        url,
        {
            "activity": activity.pk,
            "description": "Paper",
            "receipts-TOTAL_FORMS": "1",
            "receipts-INITIAL_FORMS": "0",
            "receipts-0-receipt": SimpleUploadedFile("r.png", b"\x89PNG\r\n\x1a\n rest"),
            "receipts-0-receipt_description": "A3 paper",
            "receipts-0-category": "supplies",
            "receipts-0-spent_on": "2026-01-05",
            "receipts-0-amount": "60.50",
            "receipts-0-vat": "10.50",
        },
    )
    assert response.status_code == 302
    claim = ExpenseClaim.objects.get()
    assert (claim.total, claim.total_vat, claim.status) == (D("60.50"), D("10.50"), "submitted")
    assert "Paper" in client.get(url).content.decode()
    client.force_login(other_member.user)
    assert "Paper" not in client.get(url).content.decode()


def test_member_claims_several_receipts_in_the_browser(
    client, member, activity, settings, tmp_path
):
    from contracts.models import ExpenseClaim

    settings.MEDIA_ROOT = tmp_path
    client.force_login(member.user)
    url = reverse("contracts:expenses")
    page = client.get(url, {"rows": "3"}).content.decode()
    assert page.count('type="file"') == 3
    assert 'href="?rows=4"' in page
    response = client.post(
        f"{url}?rows=3",
        {
            "activity": activity.pk,
            "description": "Exhibition",
            "receipts-TOTAL_FORMS": "3",
            "receipts-INITIAL_FORMS": "0",
            "receipts-0-receipt": SimpleUploadedFile("a.png", b"\x89PNG\r\n\x1a\n rest"),
            "receipts-0-receipt_description": "A3 paper",
            "receipts-0-category": "supplies",
            "receipts-0-spent_on": "2026-01-05",
            "receipts-0-amount": "60.50",
            "receipts-0-vat": "10.50",
            "receipts-1-receipt": SimpleUploadedFile("b.pdf", b"%PDF-1.4 frames"),
            "receipts-1-receipt_description": "Frames",
            "receipts-1-category": "supplies",
            "receipts-1-spent_on": "2026-01-06",
            "receipts-1-amount": "121.00",
            "receipts-1-vat": "21.00",
            "receipts-2-vat": "0.00",
        },
    )
    assert response.status_code == 302
    claim = ExpenseClaim.objects.get()
    assert (claim.total, claim.total_vat) == (D("181.50"), D("31.50"))
    assert sorted(claim.receipts.values_list("description", "content_type")) == [
        ("A3 paper", "image/png"),
        ("Frames", "application/pdf"),
    ]


def test_browser_claim_with_a_bad_receipt_keeps_nothing(client, member, activity):
    from contracts.models import ExpenseClaim

    client.force_login(member.user)
    response = client.post(
        reverse("contracts:expenses"),
        {
            "activity": activity.pk,
            "description": "Exhibition",
            "receipts-TOTAL_FORMS": "2",
            "receipts-INITIAL_FORMS": "0",
            "receipts-0-receipt": SimpleUploadedFile("a.png", b"\x89PNG\r\n\x1a\n rest"),
            "receipts-0-receipt_description": "A3 paper",
            "receipts-0-category": "supplies",
            "receipts-0-spent_on": "2026-01-05",
            "receipts-0-amount": "60.50",
            "receipts-0-vat": "10.50",
            "receipts-1-receipt": SimpleUploadedFile("b.pdf", b"plain text"),
            "receipts-1-receipt_description": "Frames",
            "receipts-1-category": "supplies",
            "receipts-1-spent_on": "2026-01-06",
            "receipts-1-amount": "121.00",
            "receipts-1-vat": "21.00",
        },
    )
    assert response.status_code == 200
    assert "Receipt 2: upload a PDF, PNG or JPEG file." in response.content.decode()
    assert not ExpenseClaim.objects.exists()


def test_work_days_field_carries_the_calendar_from_tomorrow(client, member, activity):
    client.force_login(member.user)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)

    page = client.get(reverse("contracts:create")).content.decode()

    assert 'src="/static/js/work-days.js"' in page
    assert page.count("data-work-days") == 2  # the worker form and the spare one
    assert f'data-first-day="{tomorrow.isoformat()}"' in page
    assert 'data-half="half day"' in page


def test_contract_page_in_the_admin_shows_the_members_other_contracts(
    staff_client, member, activity, upcoming
):
    url = reverse("admin:contracts_contract_change", args=[upcoming.pk])
    assert "first contract." in staff_client.get(url).content.decode()

    second = make_contract(
        member,
        activity,
        workers=[worker(member, start=future_monday() + datetime.timedelta(days=7), count=1)],
        today=timezone.localdate(),
    )
    submit_contract(user=member.user, contract=second, today=timezone.localdate())

    content = staff_client.get(url).content.decode()
    assert "1 awaiting approval — " in content
    assert "?q=Ana+Peeters" in content


def test_staff_download_the_sepa_file_of_a_run_from_the_admin(
    staff_client, client, staff, approved, member, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    last_day = approved.last_work_day
    run = run_payroll(
        staff_user=staff,
        period_start=last_day,
        period_end=last_day,
        today=last_day + datetime.timedelta(days=1),
    )
    url = reverse("admin:contracts_payrollrun_sepa", args=[run.pk])

    page = staff_client.get(reverse("admin:contracts_payrollrun_changelist")).content.decode()
    assert url in page
    assert "/media/" not in page
    response = staff_client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    content = b"".join(response.streaming_content)
    assert content == run.sepa_file.open("rb").read()
    assert b"pain.001" in content

    payslip = run.payslips.get()
    render_payslip(payslip=payslip)
    page = staff_client.get(
        reverse("admin:contracts_payslip_change", args=[payslip.pk])
    ).content.decode()
    assert reverse("contracts:payslip-download", args=[payslip.pk]) in page
    assert "/media/" not in page

    staff_client.logout()
    client.force_login(member.user)
    assert client.get(url).status_code == 302  # to the admin's sign-in, not the file


def test_a_worker_who_left_the_activity_sees_only_their_own_pay(client, member, other_member):
    shared = create_activity(owner=member, name="Festival", co_members=[other_member])
    contract = make_contract(
        member, shared, workers=[worker(member, wage="410.00"), worker(other_member)]
    )
    url = reverse("contracts:detail", args=[contract.pk])
    client.force_login(member.user)
    page = client.get(url).content.decode()
    assert "Ana Peeters" in page and "Lucas Dubois" in page and "410.00" in page.replace(",", ".")

    shared.co_members.remove(other_member)
    client.force_login(other_member.user)
    page = client.get(url).content.decode()
    assert "Lucas Dubois" in page
    assert "Ana Peeters" not in page and "410" not in page
    body = api_for(other_member.user).get(f"/api/v1/contracts/{contract.pk}/").json()
    assert [row["member_name"] for row in body["workers"]] == ["Lucas Dubois"]
    owner_view = api_for(member.user).get(f"/api/v1/contracts/{contract.pk}/").json()
    assert [row["member_name"] for row in owner_view["workers"]] == ["Ana Peeters", "Lucas Dubois"]


@pytest.mark.parametrize(
    ("kind", "invoiced", "rows"),
    [
        # 1,000 invoiced: 65 fee, 935 budget = 748 gross + 25 % employer contributions.
        (
            "non_artistic",
            "1000.00",
            [
                ("Budget for your salary (employer cost)", "935.00"),
                ("Employer social security contributions", "− 187.00"),
                ("Gross salary", "748.00"),
            ],
        ),
        # An artist's contributions are on 108 % of the gross: one cent of the budget is left.
        (
            "artistic",
            "1234.56",
            [
                ("Budget for your salary (employer cost)", "1,154.31"),
                ("Employer social security contributions", "− 245.40"),
                ("Left in the budget (the gross is rounded down to the cent)", "− 0.01"),
                ("Gross salary", "908.90"),
            ],
        ),
    ],
)
def test_simulator_shows_the_employer_contributions_between_budget_and_gross(
    client, member, kind, invoiced, rows
):
    client.force_login(member.user)
    client.cookies["coop_language"] = "en"
    page = client.get(
        reverse("contracts:simulator"),
        {
            "invoice_excl_vat": invoiced,
            "expenses": "0",
            "kind": kind,
            "household": "single",
            "children": "0",
        },
    ).content.decode()
    expected = "".join(
        f'<tr><th scope="row">{label}</th><td class="number">{amount}\xa0€</td></tr>'
        for label, amount in rows
    )
    assert expected in re.sub(r">\s+<", "><", page)


def test_the_calendar_shows_the_days_taken_by_another_contract(client, member, activity):
    start = future_monday()
    other = make_contract(
        member, activity, workers=[worker(member, start=start, count=2)], today=timezone.localdate()
    )
    client.force_login(member.user)
    client.cookies["coop_language"] = "en"
    taken = {
        day.isoformat(): other.reference for day in (start, start + datetime.timedelta(days=1))
    }
    for url in (reverse("contracts:create"), reverse("contracts:edit", args=[other.pk])):
        page = client.get(url).content.decode()
        if url.endswith("/edit/"):
            # Its own days are not taken by another contract.
            assert "data-taken" not in page
            continue
        # The first worker form (the member) carries the taken days; the spare one none.
        assert page.count("data-taken=") == 1
        assert f'data-taken="{html.escape(json.dumps(taken))}"' in page
        assert 'data-taken-label="already working on contract %(reference)s"' in page
        day_text = formats.date_format(start, "SHORT_DATE_FORMAT")
        assert f"Already working on another contract: {day_text} ({other.reference})," in page
    # A second contract of the same days is still refused on saving.
    response = client.post(
        reverse("contracts:create"),
        {
            "activity": activity.pk,
            "client": "",
            "title": "Clash",
            "description": "",
            "place": "LaVallée",
            "kind": "artistic",
            "amount_to_invoice": "1000.00",
            "workers-TOTAL_FORMS": "1",
            "workers-INITIAL_FORMS": "0",
            "workers-MIN_NUM_FORMS": "0",
            "workers-MAX_NUM_FORMS": "20",
            "workers-0-member": member.pk,
            "workers-0-daily_wage": "250.00",
            "workers-0-days": start.isoformat(),
        },
    )
    assert response.status_code == 200
    assert f"already works on contract {other.reference}" in response.content.decode()
