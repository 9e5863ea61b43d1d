"""The C4 at the end of an engagement: produced by staff for an ended, paid engagement, its
fields frozen, downloaded by the member only as a PDF and as structured data."""

import datetime
import json
from decimal import Decimal

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from contracts.c4 import c4_data, produce_c4
from contracts.errors import ContractsError
from contracts.models import C4Certificate, ContractWorker
from contracts.services.payroll import run_payroll
from tests.conftest import NOW
from tests.contracts.test_payroll_run import MARCH, PAY_DAY, pdf_text
from tests.invoicing.conftest import staff_client  # noqa: F401 - shared fixture


@pytest.fixture
def paid_worker(staff, approved):
    run_payroll(staff_user=staff, today=PAY_DAY, now=NOW, **MARCH)
    return ContractWorker.objects.get(contract=approved)


@pytest.fixture
def certificate(staff, paid_worker, settings):
    settings.COOP_ONSS_NUMBER = "51234567"
    return produce_c4(
        staff_user=staff, worker=paid_worker, end_reason="end_of_term", today=PAY_DAY, now=NOW
    )


def test_c4_holds_the_fields_of_the_form(certificate, approved, member):
    snapshot = certificate.snapshot
    assert snapshot["employer"] == {
        "name": "coop SCE",
        "enterprise_number": "0812345603",
        "onss_number": "51234567",
        "address": "Rue Ransfort 27, 1080 Bruxelles",
        "joint_committee": "200",
    }
    assert snapshot["worker"]["name"] == "Ana Peeters"
    assert snapshot["worker"]["niss_masked"] == "**.**.**-***.28"
    assert "85073003328" not in json.dumps(snapshot)  # the full number stays encrypted
    assert snapshot["engagement"]["first_day"] == "2026-03-09"
    assert snapshot["engagement"]["last_day"] == "2026-03-20"
    assert snapshot["engagement"]["contract"] == approved.reference
    assert snapshot["engagement"]["work_regime"] == "days"
    assert snapshot["end"] == {"reason": "end_of_term", "date": "2026-03-20"}
    assert snapshot["pay"] == {
        "gross": "4000.00",
        "days": "10.0",
        "daily_wage": "400.00",
        "hours": None,
    }
    assert snapshot["issued"]["on"] == "2026-03-23"
    assert (certificate.language, certificate.member) == ("fr", member)
    data = c4_data(certificate, with_national_number=True)
    assert data["worker"]["niss"] == "85073003328"
    assert "niss" not in c4_data(certificate, with_national_number=False)["worker"]
    assert data["reference"] == certificate.reference
    assert AuditEvent.objects.filter(
        action="created", object_pk=str(certificate.pk), actor=certificate.created_by
    ).exists()


def test_c4_is_refused_before_the_end_before_pay_and_twice(staff, approved, paid_worker):
    def produce(today):
        return produce_c4(
            staff_user=staff, worker=paid_worker, end_reason="end_of_task", today=today
        )

    with pytest.raises(ContractsError) as error:
        produce(datetime.date(2026, 3, 20))
    assert error.value.code == "c4_not_ended"
    with pytest.raises(ContractsError) as error:
        produce_c4(staff_user=staff, worker=paid_worker, end_reason="fired", today=PAY_DAY)
    assert error.value.code == "c4_reason"
    assert not C4Certificate.objects.exists()
    produce(PAY_DAY)
    with pytest.raises(ContractsError) as error:
        produce(PAY_DAY)
    assert error.value.code == "c4_exists"
    assert C4Certificate.objects.count() == 1


def test_c4_is_refused_for_unpaid_work(staff, approved):
    worker = ContractWorker.objects.get(contract=approved)
    with pytest.raises(ContractsError) as error:
        produce_c4(staff_user=staff, worker=worker, end_reason="end_of_term", today=PAY_DAY)
    assert error.value.code == "c4_not_paid"


def test_member_downloads_their_c4_and_no_one_elses(client, certificate, member, other_member):
    client.force_login(member.user)
    page = client.get(reverse("contracts:work-statement")).content.decode()
    assert reverse("contracts:c4-pdf", args=[certificate.pk]) in page
    response = client.get(reverse("contracts:c4-pdf", args=[certificate.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = " ".join(pdf_text(response.content).split())
    # In the member's language; the labels reach French once the catalogue has them, the
    # figures and dates are French already.
    assert certificate.reference in text
    assert "Ana Peeters" in text and "**.**.**-***.28" in text
    assert "09/03/2026" in text and "20/03/2026" in text
    assert "4 000,00 €" in text and "400,00 €" in text
    data = client.get(reverse("contracts:c4-data", args=[certificate.pk]))
    assert data.status_code == 200
    # The member's copy shows the number masked; staff file it with the number in full.
    assert "85073003328" not in data.content.decode()
    assert json.loads(data.content)["worker"]["niss_masked"] == "**.**.**-***.28"
    client.force_login(other_member.user)
    assert client.get(reverse("contracts:c4-pdf", args=[certificate.pk])).status_code == 404
    assert client.get(reverse("contracts:c4-data", args=[certificate.pk])).status_code == 404


def test_english_c4_pdf(client, certificate, member):
    C4Certificate.objects.filter(pk=certificate.pk).update(language="en")
    client.force_login(member.user)
    response = client.get(reverse("contracts:c4-pdf", args=[certificate.pk]))
    text = " ".join(pdf_text(response.content).split())
    assert "Unemployment certificate (C4)" in text
    assert "Reason of the end End of the fixed-term contract" in text
    assert "Start of the engagement 03/09/2026" in text
    assert "Gross pay of the engagement 4,000.00 €" in text
    assert "Joint committee 200" in text


def test_staff_produce_the_c4_from_the_admin(staff_client, paid_worker):  # noqa: F811
    url = reverse("admin:contracts_c4certificate_add")
    assert staff_client.get(url).status_code == 200
    response = staff_client.post(url, {"worker": paid_worker.pk, "end_reason": "end_of_task"})
    assert response.status_code == 302
    certificate = C4Certificate.objects.get()
    assert (certificate.worker, certificate.end_reason) == (paid_worker, "end_of_task")
    assert certificate.snapshot["pay"]["gross"] == "4000.00"
    # A second one is refused as a form error, not a server error.
    again = staff_client.post(url, {"worker": paid_worker.pk, "end_reason": "end_of_task"})
    assert again.status_code == 200
    assert "A C4 was already produced for this engagement." in again.content.decode()
    assert C4Certificate.objects.count() == 1
    change = staff_client.get(
        reverse("admin:contracts_c4certificate_change", args=[certificate.pk])
    )
    assert change.status_code == 200


def test_decimal_gross_in_the_data(certificate):
    assert Decimal(c4_data(certificate, with_national_number=False)["pay"]["gross"]) == Decimal(
        "4000.00"
    )
