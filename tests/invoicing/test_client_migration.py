"""Migrating shared client records to one owner each changes no issued invoice.

The test goes back to the schema before ownership (invoicing 0004), builds a client shared
by two members the old way, with issued invoices, a draft and a contract of each, migrates
forward and compares. PostgreSQL's transactional DDL rolls it all back with the test.
"""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [
    ("invoicing", "0004_freeze_supply_date"),
    ("contracts", "0003_expense_claim_drafts_and_categories"),
]
AFTER = [
    ("invoicing", "0005_client_ownership"),
    ("contracts", "0004_contract_client_of_its_member"),
]
NOW = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=datetime.UTC)


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def issued_rows(Invoice):
    return list(Invoice.objects.filter(number__isnull=False).order_by("pk").values())


@pytest.mark.django_db
def test_shared_clients_split_by_owner_and_issued_invoices_stay_as_they_were():
    apps = migrate(BEFORE)
    User = apps.get_model("members", "User")
    Member = apps.get_model("members", "Member")
    Activity = apps.get_model("members", "Activity")
    Client = apps.get_model("invoicing", "Client")
    Invoice = apps.get_model("invoicing", "Invoice")
    Contract = apps.get_model("contracts", "Contract")

    staff = User.objects.create(email="staff@coop.test", is_staff=True)
    people = {}
    for name in ("ana", "lucas"):
        user = User.objects.create(email=f"{name}@coop.test")
        member = Member.objects.create(
            user=user,
            legal_name=name.title(),
            street="Rue 1",
            postal_code="1000",
            city="Bruxelles",
            iban="BE71096123456769",
            status="active",
            approved_at=NOW,
        )
        people[name] = (user, Activity.objects.create(owner=member, name=f"{name} work"))
    shared = Client.objects.create(
        kind="company",
        name="Théâtre des Galeries SA",
        street="Galerie du Roi 32",
        postal_code="1000",
        city="Bruxelles",
        country="BE",
        email="compta@galeries.example",
        language="fr",
        vat_number="BE1000000021",
        enterprise_number="1000000021",
        peppol_id="0208:1000000021",
    )
    shared.added_by.add(people["ana"][0], people["lucas"][0], staff)
    renter = Client.objects.create(
        kind="company",
        name="Design Week asbl",
        street="Rue de la Loi 155",
        postal_code="1040",
        city="Etterbeek",
        country="BE",
        email="booking@designweek.example",
        language="fr",
        vat_number="BE0203201340",
    )
    renter.added_by.add(staff)

    def invoice(name, sequence=None):
        user, activity = people[name]
        issued = {}
        if sequence is not None:
            issued = {
                "series": "2026",
                "sequence_number": sequence,
                "number": f"2026-{sequence:06d}",
                "issue_date": datetime.date(2026, 2, sequence),
                "status": "issued",
                "snapshot": {"buyer": {"name": "Théâtre des Galeries SA"}},
            }
        return Invoice.objects.create(
            activity=activity,
            client=shared,
            created_by=user,
            language="fr",
            total_excl_vat=Decimal("100.00"),
            total_incl_vat=Decimal("121.00"),
            total_vat=Decimal("21.00"),
            **issued,
        )

    invoice("lucas", 1)
    invoice("ana", 2)
    lucas_draft = invoice("lucas")
    ana_draft = invoice("ana")
    contract = Contract.objects.create(
        activity=people["lucas"][1],
        client=shared,
        title="Lights",
        place="Brussels",
        kind="artistic",
        amount_to_invoice=Decimal("500.00"),
        created_by=people["lucas"][0],
    )
    before = issued_rows(Invoice)

    apps = migrate(AFTER)
    Client = apps.get_model("invoicing", "Client")
    Invoice = apps.get_model("invoicing", "Invoice")
    Buyer = apps.get_model("invoicing", "Buyer")
    Contract = apps.get_model("contracts", "Contract")
    ana, lucas = people["ana"][0], people["lucas"][0]

    assert issued_rows(Invoice) == before
    # The member behind the earliest issued invoice keeps the record; the other gets a copy.
    original = Client.objects.get(pk=shared.pk)
    assert original.owner_id == lucas.pk
    copy = Client.objects.get(owner_id=ana.pk)
    fields = ["name", "street", "email", "vat_number", "peppol_id", "language", "buyer_id"]
    assert [getattr(copy, field) for field in fields] == [
        getattr(original, field) for field in fields
    ]
    assert Invoice.objects.get(pk=ana_draft.pk).client_id == copy.pk
    assert Invoice.objects.get(pk=lucas_draft.pk).client_id == original.pk
    assert Contract.objects.get(pk=contract.pk).client_id == original.pk
    # Only staff added the renter: it is the cooperative's own record.
    assert Client.objects.get(pk=renter.pk).owner_id is None
    assert Client.objects.filter(vat_number="BE1000000021").count() == 2
    buyer = Buyer.objects.get(vat_number="BE1000000021")
    assert (buyer.verified_at, original.buyer_id) == (None, buyer.pk)
