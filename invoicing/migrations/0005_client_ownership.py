"""Each member keeps their own client records; the cooperative's view of a buyer is staff-side.

Until now one client record per VAT number was shared by every member who looked it up, so
one member's edit changed what the others sent. Each record now has one owner:

- a record goes to the member behind its earliest issued invoice, or else to the first
  member who added it; every other member who used it gets a copy of their own, and their
  unissued invoices move to that copy;
- a record that only staff added or invoiced (an outside renter of LaVallée, say) becomes
  the cooperative's own (no owner);
- each VAT number gets a staff-side buyer record, unverified until staff check it.

Issued invoices and credit notes are not touched: their content is frozen in their snapshot,
and a database trigger forbids any change to them.
"""

from django.conf import settings
from django.db import migrations, models
from django.db.models import Q
import django.db.models.deletion
import django.utils.timezone


def member_of_invoice(invoice, members):
    """The member behind an invoice: its author, else its Activity's owner; None for staff."""
    for user_id in (invoice.created_by_id, invoice.activity.owner.user_id):
        if user_id in members:
            return user_id
    return None


def split_shared_clients(apps, schema_editor):
    # Check foreign keys as rows change, so that no deferred check is left pending when the
    # added_by table is dropped in the same transaction.
    schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    Client = apps.get_model("invoicing", "Client")
    Buyer = apps.get_model("invoicing", "Buyer")
    Invoice = apps.get_model("invoicing", "Invoice")
    Member = apps.get_model("members", "Member")
    # Staff (who may hold the cooperative's own Activities) never own a client record: what
    # they added is the cooperative's.
    members = set(
        Member.objects.filter(user__is_staff=False).values_list("user_id", flat=True)
    )
    copy_fields = [
        "kind", "name", "street", "postal_code", "city", "country", "email", "language",
        "vat_number", "enterprise_number", "peppol_id", "payment_terms_days", "created_at",
    ]
    for client in Client.objects.order_by("pk").iterator():
        invoices = list(
            Invoice.objects.filter(client=client)
            .select_related("activity__owner")
            .order_by("issue_date", "sequence_number", "created_at", "pk")
        )
        users = [
            user_id
            for user_id in client.added_by.order_by("pk").values_list("pk", flat=True)
            if user_id in members
        ]
        for invoice in invoices:
            user_id = member_of_invoice(invoice, members)
            if user_id is not None and user_id not in users:
                users.append(user_id)
        issued = [invoice for invoice in invoices if invoice.number is not None]
        owner = member_of_invoice(issued[0], members) if issued else (users[0] if users else None)
        if client.vat_number:
            buyer, _created = Buyer.objects.get_or_create(
                vat_number=client.vat_number,
                defaults={
                    "enterprise_number": client.enterprise_number,
                    "legal_name": client.name,
                    "street": client.street,
                    "postal_code": client.postal_code,
                    "city": client.city,
                    "country": client.country,
                },
            )
            client.buyer = buyer
        client.owner_id = owner
        client.save(update_fields=["owner", "buyer"])
        for user_id in users:
            if user_id == owner:
                continue
            copy = Client.objects.create(
                owner_id=user_id,
                buyer=client.buyer,
                **{field: getattr(client, field) for field in copy_fields},
            )
            for invoice in invoices:
                if invoice.number is None and member_of_invoice(invoice, members) == user_id:
                    Invoice.objects.filter(pk=invoice.pk).update(client=copy)


class Migration(migrations.Migration):
    dependencies = [
        ("invoicing", "0004_freeze_supply_date"),
        ("members", "0002_ledger_append_only"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Buyer",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("vat_number", models.CharField(max_length=20, unique=True, verbose_name="VAT number")),
                ("enterprise_number", models.CharField(blank=True, max_length=10, verbose_name="enterprise number")),
                ("legal_name", models.CharField(blank=True, max_length=200, verbose_name="registered name")),
                ("street", models.CharField(blank=True, max_length=200, verbose_name="street and number")),
                ("postal_code", models.CharField(blank=True, max_length=16, verbose_name="postal code")),
                ("city", models.CharField(blank=True, max_length=100, verbose_name="city")),
                ("country", models.CharField(max_length=2, verbose_name="country")),
                ("verified_at", models.DateTimeField(blank=True, null=True, verbose_name="identification checked at")),
                ("staff_notes", models.TextField(blank=True, verbose_name="staff notes")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="created at")),
                ("verified_by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL, verbose_name="identification checked by")),
            ],
            options={
                "verbose_name": "buyer",
                "verbose_name_plural": "buyers",
                "ordering": ["vat_number"],
                "constraints": [
                    models.CheckConstraint(
                        condition=Q(verified_at__isnull=True) | ~Q(legal_name=""),
                        name="buyer_verified_has_legal_name",
                    )
                ],
            },
        ),
        migrations.AddField(
            model_name="client",
            name="owner",
            field=models.ForeignKey(blank=True, help_text="Empty for the cooperative's own clients, such as outside renters.", null=True, on_delete=django.db.models.deletion.PROTECT, related_name="clients", to=settings.AUTH_USER_MODEL, verbose_name="member"),
        ),
        migrations.AddField(
            model_name="client",
            name="buyer",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="clients", to="invoicing.buyer", verbose_name="buyer"),
        ),
        migrations.RemoveConstraint(model_name="client", name="client_vat_number_unique"),
        migrations.RemoveConstraint(model_name="client", name="client_enterprise_number_unique"),
        migrations.RunPython(split_shared_clients, migrations.RunPython.noop, elidable=False),
        migrations.RemoveField(model_name="client", name="added_by"),
        migrations.AddIndex(
            model_name="client",
            index=models.Index(fields=["owner", "name", "id"], name="client_owner_name_idx"),
        ),
        migrations.AddConstraint(
            model_name="client",
            constraint=models.UniqueConstraint(
                condition=~Q(vat_number=""),
                fields=("owner", "vat_number"),
                name="client_owner_vat_number_unique",
                nulls_distinct=False,
                violation_error_message="You already have a client with this VAT number.",
            ),
        ),
    ]
