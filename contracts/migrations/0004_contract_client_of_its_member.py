"""A contract's client is the record of the member behind the contract.

Client records now belong to one member each (invoicing 0005). A contract whose client
record went to another member points to its own member's copy, made here if missing.
"""

from django.db import migrations

COPY_FIELDS = [
    "kind", "name", "street", "postal_code", "city", "country", "email", "language",
    "vat_number", "enterprise_number", "peppol_id", "payment_terms_days", "created_at", "buyer_id",
]


def point_contracts_to_their_members_clients(apps, schema_editor):
    Contract = apps.get_model("contracts", "Contract")
    Client = apps.get_model("invoicing", "Client")
    contracts = (
        Contract.objects.filter(client__isnull=False)
        .select_related("client", "activity__owner__user")
        .order_by("pk")
    )
    for contract in contracts.iterator():
        user_id = contract.activity.owner.user_id
        client = contract.client
        staff_activity = contract.activity.owner.user.is_staff
        if client.owner_id == user_id or (client.owner_id is None and staff_activity):
            continue
        same = {"vat_number": client.vat_number}
        if not client.vat_number:
            same.update(name=client.name, email=client.email)
        own = Client.objects.filter(owner_id=user_id, **same).first()
        if own is None:
            own = Client.objects.create(
                owner_id=user_id, **{field: getattr(client, field) for field in COPY_FIELDS}
            )
        Contract.objects.filter(pk=contract.pk).update(client=own)


class Migration(migrations.Migration):
    dependencies = [
        ("contracts", "0003_expense_claim_drafts_and_categories"),
        ("invoicing", "0005_client_ownership"),
    ]

    operations = [
        migrations.RunPython(
            point_contracts_to_their_members_clients, migrations.RunPython.noop, elidable=False
        ),
    ]
