"""The portal part of the demo world: a client with portal access, and a question asked.

``python3 dev.py up`` prints the demo client's sign-in link: its token is a constant of the
demo, never of a real installation (``seed_demo`` refuses to run twice and is for demos only).
"""

import datetime

from django.db.models import Count
from django.utils import timezone

from invoicing.models import Client, Invoice
from portal.models import PortalQuestion, PortalToken
from portal.selectors import VISIBLE_STATUSES, normalise_email
from portal.services import email_link, hash_token

DEMO_PORTAL_TOKEN = "demo-client-portal-link-not-for-production"  # noqa: S105
DEMO_PORTAL_PATH = f"/portal/sign-in/{DEMO_PORTAL_TOKEN}/"
PREFERRED_EMAIL = "invoices@theatre.example"


def _demo_email() -> str | None:
    """The demo client: the theatre if it has documents, else the address with the most."""
    addresses = (
        Invoice.objects.filter(status__in=VISIBLE_STATUSES, number__isnull=False)
        .values("client__email")
        .annotate(count=Count("pk"))
        .order_by("-count", "client__email")
    )
    emails = [row["client__email"] for row in addresses]
    if PREFERRED_EMAIL in emails:
        return PREFERRED_EMAIL
    return emails[0] if emails else None


def seed(context: dict, *, stdout) -> None:
    """Give the demo client its portal link, and ask the member a question in its name."""
    email = _demo_email()
    if email is None:
        stdout.write("  portal: no client with documents, no portal link")
        return
    email = normalise_email(email)
    now = timezone.now()
    PortalToken.objects.create(
        kind=PortalToken.Kind.EMAIL,
        email=email,
        token_hash=hash_token(DEMO_PORTAL_TOKEN),
        created_at=now,
        expires_at=now + datetime.timedelta(days=3650),
    )
    invoice = (
        Invoice.objects.filter(
            client__in=Client.objects.filter(email__iexact=email),
            kind=Invoice.Kind.INVOICE,
            status__in=VISIBLE_STATUSES,
        )
        .order_by("-issue_date", "-pk")
        .first()
    )
    if invoice is not None:
        # Written as the service leaves it once e-mailed: the demo sends nothing.
        PortalQuestion.objects.create(
            invoice=invoice,
            email=email,
            message="Could you add our purchase order number PO-4471 to this invoice?",
            asked_at=now,
            emailed_at=now,
        )
    stdout.write(f"  portal: {email} signs in at {DEMO_PORTAL_PATH}")


def seed_heavy(context: dict, *, stdout) -> None:
    """Put a client's question on each heavy member's latest invoice, so that their invoice
    page shows the questions panel at scale."""
    now = timezone.now()
    questions = []
    for member in context["members"]:
        invoice = (
            Invoice.objects.filter(
                activity__owner=member, kind=Invoice.Kind.INVOICE, status__in=VISIBLE_STATUSES
            )
            .select_related("client")
            .order_by("-issue_date", "-pk")
            .first()
        )
        if invoice is not None:
            questions.append(
                PortalQuestion(
                    invoice=invoice,
                    email=normalise_email(invoice.client.email),
                    message="When will the second part be invoiced?",
                    asked_at=now,
                    emailed_at=now,
                )
            )
    PortalQuestion.objects.bulk_create(questions)
    # The link each of these invoices' e-mails carried to its client: staff's pages of portal
    # links have rows to show.
    for question in questions:
        email_link(question.invoice, question.invoice.client.email, now=now)
    stdout.write(f"  portal: {len(questions)} client questions and e-mail links")
