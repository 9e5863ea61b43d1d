"""A member's client record is theirs alone: no other member reads, takes over or changes it.

The first test replays an attack that worked before client records had owners: another
member posted the VAT number of a client they could not see, got its full record back, then
rewrote its name and e-mail, and the owner's next invoice went out with them.
"""

import datetime

from django.core import mail
from django.urls import reverse
from rest_framework.test import APIClient

from audit.models import AuditEvent
from invoicing.models import Buyer, Client, Dispatch
from invoicing.services.documents import request_resend, send_reminder_email
from invoicing.services.issue import submit_invoice
from invoicing.services.reminders import send_due_reminders
from members.services import create_activity
from tests.conftest import NOW, api_client_for, make_member
from tests.invoicing.conftest import TODAY, make_draft


def api_for(user) -> APIClient:
    return api_client_for(user)


def issue(member, activity, client, today=TODAY):
    draft = make_draft(member, activity, client)
    return submit_invoice(user=member.user, invoice=draft, today=today, now=NOW)


ATTACK = {
    "kind": "company",
    "name": "Galeries — attacker's name",
    "street": "Nowhere 1",
    "postal_code": "1000",
    "city": "Bruxelles",
    "country": "BE",
    "email": "attacker@evil.example",
    "language": "fr",
    "vat_number": "BE1000000021",
}


def test_another_member_cannot_take_over_a_client_through_its_vat_number(
    member, other_member, activity, belgian_client, no_review
):
    first = issue(member, activity, belgian_client)
    attacker = api_for(other_member.user)

    found = attacker.post("/api/v1/clients/", ATTACK, format="json")

    assert found.status_code == 201
    body = found.json()
    assert body["pk"] != belgian_client.pk
    assert (body["name"], body["email"], body["street"]) == (
        "Galeries — attacker's name",
        "attacker@evil.example",
        "Nowhere 1",
    )
    assert "compta@galeries.example" not in found.content.decode()
    assert "Galerie du Roi" not in found.content.decode()
    rewrite = {"name": "Rewritten SA", "email": "attacker@evil.example"}
    assert (
        attacker.patch(f"/api/v1/clients/{belgian_client.pk}/", rewrite, format="json").status_code
        == 404
    )
    assert attacker.get(f"/api/v1/clients/{belgian_client.pk}/").status_code == 404
    own = attacker.patch(f"/api/v1/clients/{body['pk']}/", rewrite, format="json")
    assert own.status_code == 200
    # Every write is on record, and none reached the owner's record.
    trail = AuditEvent.objects.filter(object_type="invoicing.client").order_by("pk")
    assert [(event.action, event.actor, event.object_pk) for event in trail] == [
        ("created", None, str(belgian_client.pk)),
        ("created", other_member.user, str(body["pk"])),
        ("changed", other_member.user, str(body["pk"])),
    ]
    assert trail.last().changes == {
        "name": ["Galeries — attacker's name", "Rewritten SA"],
    }

    belgian_client.refresh_from_db()
    assert (belgian_client.name, belgian_client.email, belgian_client.owner) == (
        "Théâtre des Galeries SA",
        "compta@galeries.example",
        member.user,
    )
    second = issue(member, activity, belgian_client, today=TODAY + datetime.timedelta(days=1))
    assert second.snapshot["buyer"]["name"] == "Théâtre des Galeries SA"
    assert second.snapshot["buyer"]["email"] == "compta@galeries.example"
    recipients = set(
        Dispatch.objects.filter(invoice__in=[first, second], channel="email").values_list(
            "recipient", flat=True
        )
    )
    assert recipients == {"compta@galeries.example"}
    # Both records point to the one staff-side buyer, which no member's edit reached.
    buyer = Buyer.objects.get(vat_number="BE1000000021")
    assert set(buyer.clients.values_list("owner", flat=True)) == {
        member.user.pk,
        other_member.user.pk,
    }
    assert (buyer.legal_name, buyer.verified_at) == ("", None)


def test_reminders_and_resends_go_to_the_address_the_invoice_was_issued_to(
    member, activity, belgian_client, no_review, settings
):
    invoice = issue(member, activity, belgian_client)
    belgian_client.email = "new-address@galeries.example"
    belgian_client.save(update_fields=["email"])

    dispatch = request_resend(invoice=invoice, user=member.user)
    assert dispatch.recipient == "compta@galeries.example"
    mail.outbox.clear()
    assert send_due_reminders(today=invoice.due_date + datetime.timedelta(days=7), now=NOW) == 1
    assert send_reminder_email(reminder=invoice.reminders.get(), now=NOW) is True
    assert [message.to for message in mail.outbox] == [["compta@galeries.example"]]


def test_creating_a_client_without_kind_country_or_language_is_a_400(member):
    required = ("kind", "country", "language")
    incomplete = {key: value for key, value in ATTACK.items() if key not in required}
    response = api_for(member.user).post("/api/v1/clients/", incomplete, format="json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 400
    assert {field: problem["errors"][field] for field in required} == {
        field: ["This field is required."] for field in required
    }
    assert Client.objects.count() == 0


def test_an_applicant_cannot_add_clients(db, staff):
    applicant = make_member("noah@coop.test", legal_name="Noah Janssens", niss="", active=False)
    response = api_for(applicant.user).post("/api/v1/clients/", ATTACK, format="json")
    assert response.status_code == 403
    assert Client.objects.count() == 0


def test_staff_see_every_members_record_of_a_buyer(staff, member, other_member, belgian_client):
    api_for(other_member.user).post("/api/v1/clients/", ATTACK, format="json")
    listed = api_for(staff).get("/api/v1/clients/", {"search": "BE1000000021"}).json()
    assert listed["count"] == 2


def test_look_up_returns_public_identification_never_a_members_entries(
    member, other_member, belgian_client, staff
):
    api = api_for(other_member.user)
    unchecked = api.get(
        "/api/v1/clients/lookup/", {"vat_number": "BE 1000.000.021", "country": "BE"}
    )
    assert unchecked.status_code == 200
    assert unchecked.json() == {
        "vat_number": "BE1000000021",
        "enterprise_number": "1000000021",
        "peppol_id": "0208:1000000021",
        "country": "BE",
        "verified": False,
    }
    invalid = api.get("/api/v1/clients/lookup/", {"vat_number": "BE123", "country": "BE"})
    assert invalid.status_code == 400


def test_kind_is_settled_and_peppol_ids_follow_the_vat_number(member, belgian_client):
    api = api_for(member.user)
    url = f"/api/v1/clients/{belgian_client.pk}/"
    refused = api.patch(url, {"kind": "person"}, format="json")
    assert refused.status_code == 400
    assert refused.json()["errors"]["kind"] == ["The kind of a client is settled when it is added."]
    moved = api.patch(url, {"vat_number": "BE0403019261"}, format="json")
    assert moved.status_code == 200
    assert (moved.json()["enterprise_number"], moved.json()["peppol_id"]) == (
        "0403019261",
        "0208:0403019261",
    )
    other = api.post(
        "/api/v1/clients/",
        {**ATTACK, "vat_number": "BE0417497106", "peppol_id": "9925:BE0999999999"},
        format="json",
    )
    assert other.status_code == 400
    assert other.json()["field"] == "peppol_id"
    assert Client.objects.filter(vat_number="BE0417497106").count() == 0


def test_a_co_member_edits_a_shared_draft_keeping_its_authors_client(
    client, member, other_member, belgian_client
):
    shared = create_activity(owner=member, name="Festival", co_members=[other_member])
    draft = make_draft(member, shared, belgian_client)
    payload = {
        "activity": shared.pk,
        "client": belgian_client.pk,
        "notes": "Edited by the co-member",
        "lines": [
            {"description": "Lights", "quantity": "2", "unit": "hour", "unit_price": "50.00"}
        ],
    }
    response = api_for(other_member.user).put(
        f"/api/v1/invoices/{draft.pk}/", payload, format="json"
    )
    assert response.status_code == 200, response.content
    draft.refresh_from_db()
    assert (draft.client_id, draft.notes) == (belgian_client.pk, "Edited by the co-member")
    # The author's client stays the author's: the co-member reads it on the draft only.
    assert (
        api_for(other_member.user).get(f"/api/v1/clients/{belgian_client.pk}/").status_code == 404
    )
    client.force_login(other_member.user)
    page = client.get(reverse("invoicing:invoice_edit", args=[draft.pk])).content.decode()
    assert f'<option value="{belgian_client.pk}" selected>' in page
    # A new draft offers only the co-member's own clients.
    new = client.get(reverse("invoicing:invoice_create")).content.decode()
    assert f'<option value="{belgian_client.pk}"' not in new
