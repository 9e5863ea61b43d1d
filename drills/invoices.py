"""Issuing a batch of invoices for the drills: the demo member, one Belgian company client."""

import datetime
from decimal import Decimal

from django.utils import timezone

from invoicing.models import Dispatch, Invoice, InvoiceDocument
from invoicing.services.clients import create_client
from invoicing.services.drafts import LineInput, save_draft
from invoicing.services.issue import submit_invoice
from members.models import Member

DEMO_MEMBER = "ana.peeters@coop.test"


def drill_seller():
    """Return the demo member, her first Activity and a Belgian company client (Peppol too)."""
    member = Member.objects.select_related("user").get(user__email=DEMO_MEMBER)
    activity = member.activities.order_by("pk").first()
    client, _created = create_client(
        owner=member.user,
        kind="company",
        name="Théâtre des Galeries SA",
        street="Galerie du Roi 32",
        postal_code="1000",
        city="Bruxelles",
        country="BE",
        email="compta@galeries.example",
        language="fr",
        vat_number="BE1000000021",
    )
    return member, activity, client


def issue_one(member, activity, client, index: int) -> Invoice:
    """Save a draft of two lines and issue it."""
    today = timezone.localdate()
    lines = [
        LineInput(
            description=f"Lighting design, performance {index}",
            quantity=Decimal("3"),
            unit="hour",
            unit_price=Decimal("65.00"),
        ),
        LineInput(
            description="Travel", quantity=Decimal("1"), unit="piece", unit_price=Decimal("40")
        ),
    ]
    draft = save_draft(
        user=member.user,
        activity=activity,
        client=client,
        lines=lines,
        today=today,
        due_date=today + datetime.timedelta(days=30),
        buyer_reference=f"PO-{index}",
    )
    return submit_invoice(user=member.user, invoice=draft, today=today)


def documents_of(invoice_pks):
    return InvoiceDocument.objects.filter(invoice__in=invoice_pks)


def dispatches_of(invoice_pks):
    return Dispatch.objects.filter(invoice__in=invoice_pks)
