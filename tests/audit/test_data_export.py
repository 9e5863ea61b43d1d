"""A member's data export: a zip of their data and documents, and nobody else's."""

import datetime
import hashlib
import io
import json
import zipfile
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from audit import privacy
from audit.models import AuditEvent, DataExport
from audit.services import AuditError
from audit.tasks import build_data_export_task, data_export_housekeeping_task
from contracts.services import expenses
from contracts.services.contracts import approve_contract, submit_contract
from contracts.services.documents import render_payslip
from contracts.services.payroll import run_payroll
from invoicing.models import InvoiceDocument
from invoicing.services.clients import create_client
from invoicing.services.documents import render_document
from invoicing.services.issue import submit_invoice
from tests.conftest import NOW
from tests.contracts.conftest import make_contract, worker
from tests.invoicing.conftest import TODAY, line, make_draft

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path, no_review):
    settings.MEDIA_ROOT = tmp_path


def issued_invoice(member, activity, client, lines=None):
    invoice = make_draft(member, activity, client, lines)
    submit_invoice(user=member.user, invoice=invoice, today=TODAY, now=NOW)
    invoice.refresh_from_db()
    render_document(document=invoice.documents.get(format=InvoiceDocument.Format.PDF))
    return invoice


def claim_with_receipt(member, activity, name):
    return expenses.start_expense_claim(
        user=member.user,
        activity=activity,
        description=f"{name} claim",
        receipts=[
            expenses.ReceiptInput(
                upload=SimpleUploadedFile(f"{name}.png", PNG),
                description=f"{name} receipt",
                category="supplies",
                spent_on=datetime.date(2026, 2, 20),
                amount=Decimal("12.10"),
                vat=Decimal("2.10"),
            )
        ],
        today=TODAY,
    )


def paid_payslip(member, activity, staff):
    today = timezone.localdate()
    start = today + datetime.timedelta(days=14 - today.weekday())
    contract = make_contract(
        member, activity, workers=[worker(member, start=start, count=2)], today=today
    )
    submit_contract(user=member.user, contract=contract, today=today)
    approve_contract(staff_user=staff, contract=contract, today=today)
    payroll = run_payroll(
        staff_user=staff,
        period_start=contract.first_work_day,
        period_end=contract.last_work_day,
        today=contract.last_work_day + datetime.timedelta(days=1),
    )
    payslip = payroll.payslips.get()
    render_payslip(payslip=payslip)
    payslip.refresh_from_db()
    return contract, payslip


def export_for(user, django_capture_on_commit_callbacks) -> DataExport:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        export = privacy.request_data_export(user=user)
    assert len(callbacks) == 1  # the task, queued after commit
    build_data_export_task(export.pk)
    export.refresh_from_db()
    return export


def test_the_zip_holds_exactly_the_members_data_and_documents(
    member, other_member, activity, other_activity, staff, django_capture_on_commit_callbacks
):
    client, _created = create_client(
        owner=member.user,
        kind="company",
        name="Galeries SA",
        street="Galerie du Roi 32",
        postal_code="1000",
        city="Bruxelles",
        country="BE",
        email="compta@galeries.example",
        language="fr",
        vat_number="BE1000000021",
    )
    theirs, _created = create_client(
        owner=other_member.user,
        kind="company",
        name="Lumière SARL",
        street="12 rue de la Paix",
        postal_code="75002",
        city="Paris",
        country="FR",
        email="factures@lumiere.example",
        language="en",
        vat_number="FR40303265045",
    )
    invoice = issued_invoice(member, activity, client)
    # A service to a business in another member state is reverse charged (art. 21 §2).
    reverse_charged = [line(vat_category="AE", vat_rate=Decimal("0"))]
    other_invoice = issued_invoice(other_member, other_activity, theirs, reverse_charged)
    claim = claim_with_receipt(member, activity, "gels")
    claim_with_receipt(other_member, other_activity, "cables")
    contract, payslip = paid_payslip(member, activity, staff)
    paid_payslip(other_member, other_activity, staff)

    export = export_for(member.user, django_capture_on_commit_callbacks)

    assert export.status == DataExport.Status.READY
    assert export.expires_at == export.ready_at + datetime.timedelta(days=7)
    content = export.file.read()
    assert hashlib.sha256(content).hexdigest() == export.sha256
    assert len(content) == export.size
    archive = zipfile.ZipFile(io.BytesIO(content))
    receipt = claim.receipts.get()
    assert sorted(archive.namelist()) == sorted(
        [
            "data.json",
            f"invoices/{invoice.number}.pdf",
            f"payslips/{payslip.reference}.pdf",
            f"receipts/{claim.pk}/{receipt.pk}-{receipt.file.name.rsplit('/', 1)[-1]}",
        ]
    )
    assert archive.read(f"payslips/{payslip.reference}.pdf") == payslip.file.open("rb").read()
    data = json.loads(archive.read("data.json"))
    assert data["user"]["email"] == "ana@coop.test"
    assert data["member"]["niss"] == "85073003328"  # their own number, in full
    assert data["member"]["legal_name"] == "Ana Peeters"
    assert [row["name"] for row in data["activities"]] == ["Illustration"]
    assert [row["name"] for row in data["clients"]] == ["Galeries SA"]
    assert [row["number"] for row in data["invoices"]] == [invoice.number]
    assert [line["description"] for line in data["invoices"][0]["lines"]] == ["Lighting design"]
    assert [row["id"] for row in data["contracts"]] == [contract.pk]
    assert len(data["contracts"][0]["my_work"]["days"]) == 2
    assert [row["id"] for row in data["payslips"]] == [payslip.pk]
    assert [row["description"] for row in data["expense_claims"]] == ["gels claim"]
    assert data["expense_claims"][0]["receipts"][0]["amount"] == "12.10"
    assert [row["number_of_shares"] for row in data["shares"]] == [1]
    assert [row["kind"] for row in data["membership_events"]] == [
        "applied",
        "approved",
        "activated",
    ]
    assert data["missing_files"] == []
    # Nothing of the other member's, anywhere in the zip.
    everything = b"".join(archive.read(name) for name in archive.namelist()).decode("latin-1")
    for foreign in (
        "Lucas Dubois",
        "lucas@coop.test",
        "17073003384",
        "Lumière",
        "cables",
        other_invoice.number,
        "Stage lighting",
    ):
        assert foreign not in everything, foreign
    assert list(
        AuditEvent.objects.filter(object_type__in=["audit.dataexport", "members.member"])
        .filter(action__in=["requested", "exported"])
        .order_by("pk")
        .values_list("actor__email", "action", "object_pk")
    ) == [
        ("ana@coop.test", "requested", str(export.pk)),
        ("ana@coop.test", "exported", str(member.pk)),
    ]


def test_the_member_downloads_their_own_ready_export_only(
    client, member, other_member, django_capture_on_commit_callbacks
):
    export = export_for(member.user, django_capture_on_commit_callbacks)
    url = reverse("audit:data_export_download", args=[export.pk])
    client.force_login(other_member.user)
    assert client.get(url).status_code == 404
    client.force_login(member.user)
    page = client.get(reverse("audit:data_exports")).content.decode()
    assert url in page and export.sha256 in page
    response = client.get(url)
    assert (response.status_code, response["Content-Type"]) == (200, "application/zip")
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == export.sha256
    assert AuditEvent.objects.filter(action="downloaded", object_pk=str(export.pk)).count() == 1


def test_an_expired_export_is_deleted_and_no_longer_served(
    client, member, django_capture_on_commit_callbacks
):
    export = export_for(member.user, django_capture_on_commit_callbacks)
    name = export.file.name
    DataExport.objects.filter(pk=export.pk).update(expires_at=timezone.now())
    data_export_housekeeping_task()
    export.refresh_from_db()
    assert (export.status, export.file.name) == ("expired", "")
    assert not export.file.storage.exists(name)
    client.force_login(member.user)
    assert client.get(reverse("audit:data_export_download", args=[export.pk])).status_code == 404


def test_one_export_is_prepared_at_a_time(client, member, django_capture_on_commit_callbacks):
    client.force_login(member.user)
    with django_capture_on_commit_callbacks(execute=False):
        assert client.post(reverse("audit:data_exports")).status_code == 302
        response = client.post(reverse("audit:data_exports"), follow=True)
    assert "already being prepared" in response.content.decode()
    assert DataExport.objects.filter(user=member.user).count() == 1


def test_a_user_without_a_member_record_cannot_ask_for_an_export(staff):
    with pytest.raises(AuditError):
        privacy.request_data_export(user=staff)
    assert not DataExport.objects.exists()


def test_a_redelivered_task_builds_nothing_twice(member, django_capture_on_commit_callbacks):
    export = export_for(member.user, django_capture_on_commit_callbacks)
    sha256 = export.sha256
    assert privacy.build_data_export(export=export) is False
    export.refresh_from_db()
    assert export.sha256 == sha256
    assert AuditEvent.objects.filter(action="exported").count() == 1
