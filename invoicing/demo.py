"""The invoicing part of the demo world: clients, and invoices in every state."""

import datetime
from decimal import Decimal

from django.utils import timezone
from django.utils.html import escape
from django.utils.text import slugify

from invoicing.models import BankAccount, Dispatch, Invoice, RecurringInvoice, Refund, Reminder
from invoicing.services.clients import create_client
from invoicing.services.credit import request_credit_note
from invoicing.services.drafts import AllowanceChargeInput, LineInput, save_draft
from invoicing.services.issue import approve_invoice, submit_invoice
from invoicing.services.payments import import_bank_statement, record_payment
from invoicing.services.recurring import (
    Schedule,
    create_recurring_invoice,
    invoice_due_periods,
)
from invoicing.services.refunds import (
    create_refund_payment_file,
    refundable_amount,
    request_refund,
)
from invoicing.services.reminders import send_due_reminders
from invoicing.vat import is_eu

CLIENTS = [
    (
        "company",
        "Théâtre des Galeries SA",
        "Galerie du Roi 32",
        "1000",
        "Bruxelles",
        "BE",
        "fr",
        "BE0403019261",
    ),
    (
        "company",
        "Kunstencentrum Vooruit vzw",
        "Sint-Pietersnieuwstraat 23",
        "9000",
        "Gent",
        "BE",
        "nl",
        "BE1000000021",
    ),
    (
        "company",
        "Atelier Lumière SARL",
        "12 rue de la Paix",
        "75002",
        "Paris",
        "FR",
        "fr",
        "FR40303265045",
    ),
    ("person", "Jan Janssens", "Kerkstraat 5", "2000", "Antwerpen", "BE", "nl", ""),
    ("person", "Claire Dumont", "Rue Haute 120", "1000", "Bruxelles", "BE", "fr", ""),
    (
        "company",
        "Festival Lumières Léman SA",
        "Avenue de la Gare 12",
        "1003",
        "Lausanne",
        "CH",
        "en",
        "CHE-116.281.710 MWST",
    ),
]
# The work is services: reverse charged for a business elsewhere in the EU (art. 21 §2),
# outside the scope of Belgian VAT for one outside the EU.
CATEGORY_AND_RATE = {"BE": ("S", "21"), "EU": ("AE", "0"), "world": ("O", "0")}
WORK = [
    ("Rehearsal days, lighting design", "day", "450.00"),
    ("Sound engineering", "day", "380.00"),
    ("Illustrations for the season brochure", "piece", "220.00"),
    ("Photography, opening night", "hour", "85.00"),
    ("Workshop for children", "hour", "60.00"),
]


def seed(context: dict, *, stdout) -> None:
    """Create clients and a history of invoices, ending today."""
    rng = context["rng"]
    staff = context["staff"]
    members = context["members"][:6]
    today = context["today"]
    now = timezone.now()
    # Each member keeps their own record of the buyers they work for.
    clients = {member.pk: [] for member in members}
    for kind, name, street, postal_code, city, country, language, vat_number in CLIENTS:
        for member in members:
            client, _created = create_client(
                owner=member.user,
                kind=kind,
                name=name,
                street=street,
                postal_code=postal_code,
                city=city,
                country=country,
                email=f"invoices@{slugify(name.split()[0])}.example",
                language=language,
                vat_number=vat_number,
            )
            clients[member.pk].append(client)

    # Issue dates only move forward; payments follow the issue date.
    day = today - datetime.timedelta(days=150)
    issued = []
    for index in range(14):
        member = members[index % len(members)]
        activity = member.activities.first()
        client = clients[member.pk][index % len(CLIENTS)]
        description, unit, price = WORK[index % len(WORK)]
        region = "BE" if client.country == "BE" else "EU" if is_eu(client.country) else "world"
        category, rate = CATEGORY_AND_RATE[region]
        # Every fifth invoice shows a discount, a travel charge and a purchase order instead.
        with_extras = index % 5 == 2
        draft = save_draft(
            user=member.user,
            activity=activity,
            client=client,
            lines=[
                LineInput(
                    description=description,
                    quantity=Decimal(rng.choice([1, 2, 3, 4, 8])),
                    unit=unit,
                    unit_price=Decimal(price),
                    vat_category=category,
                    vat_rate=Decimal(rate),
                    allowance_percent=Decimal("10") if with_extras else None,
                    allowance_reason="Repeat client" if with_extras else "",
                )
            ],
            today=day,
            buyer_reference="" if with_extras else f"PO-{2026 * 10 + index}",
            order_reference=f"BC-{2026 * 10 + index}" if with_extras else "",
            allowance_charges=[
                AllowanceChargeInput(
                    is_charge=True,
                    reason="Travel costs",
                    amount=Decimal("35.00"),
                    vat_category=category,
                    vat_rate=Decimal(rate),
                )
            ]
            if with_extras
            else [],
        )
        invoice = submit_invoice(user=member.user, invoice=draft, today=day, now=now)
        if invoice.status == Invoice.Status.PENDING_REVIEW:
            invoice = approve_invoice(staff_user=staff, invoice=invoice, today=day, now=now)
        issued.append(invoice)
        day += datetime.timedelta(days=10)

    for invoice in issued[:7]:
        record_payment(
            invoice=invoice,
            amount=invoice.total_incl_vat,
            received_on=invoice.issue_date + datetime.timedelta(days=20),
            actor=staff,
            now=now,
        )
    record_payment(
        invoice=issued[7],
        amount=(issued[7].total_incl_vat / 2).quantize(Decimal("0.01")),
        received_on=issued[7].issue_date + datetime.timedelta(days=25),
        actor=staff,
        now=now,
    )
    credit_note = request_credit_note(
        user=issued[8].created_by, invoice=issued[8], reason="Performance cancelled", now=now
    )
    approve_invoice(staff_user=staff, invoice=credit_note, today=today, now=now)
    send_due_reminders(today=today, now=now)

    # One draft and one invoice waiting for review, so every state shows.
    member = members[0]
    save_draft(
        user=member.user,
        activity=member.activities.first(),
        client=clients[member.pk][0],
        lines=[LineInput("Poster design", Decimal("1"), "piece", Decimal("350.00"))],
        today=today,
        buyer_reference="Poster 2026",
    )
    big = save_draft(
        user=members[1].user,
        activity=members[1].activities.first(),
        client=clients[members[1].pk][1],
        lines=[LineInput("Festival production", Decimal("30"), "day", Decimal("450.00"))],
        today=today,
        order_reference="BC-FESTIVAL-2026",
    )
    submit_invoice(user=members[1].user, invoice=big, today=today, now=now)
    recurring = _seed_recurring(member, clients[member.pk][0], start=today, today=today)
    # Its first month is invoiced as the beat task would, today.
    invoice_due_periods(recurring_pk=recurring.pk, today=today, now=now)
    for run in recurring.runs.select_related("invoice"):
        if run.invoice.status == Invoice.Status.PENDING_REVIEW:
            approve_invoice(staff_user=staff, invoice=run.invoice, today=today, now=now)
    # The demo clients are fictitious: nothing is actually sent to them.
    Dispatch.objects.update(status=Dispatch.Status.SENT, sent_at=now, reference="demo")
    Reminder.objects.update(emailed_at=now)
    invoices = Invoice.objects.count()
    stdout.write(f"{len(CLIENTS)} clients of {len(members)} members, {invoices} invoices.")


def _seed_recurring(member, client, *, start: datetime.date, today: datetime.date):
    """A monthly retainer of the member's first Activity, issued and sent when due."""
    return create_recurring_invoice(
        user=member.user,
        activity=member.activities.order_by("pk").first(),
        client=client,
        title="Monthly retainer",
        schedule=Schedule(frequency=RecurringInvoice.Frequency.MONTHLY, start_date=start),
        mode=RecurringInvoice.Mode.AUTO_SEND,
        lines=[
            LineInput(
                "Illustration retainer, {month} {year}", Decimal("1"), "piece", Decimal("450.00")
            )
        ],
        today=today,
        buyer_reference="Retainer 2026",
    )


def seed_heavy(context: dict, *, stdout) -> None:
    """Give each heavy member of a scaled world a draft with many lines, and the first of them
    a credit note waiting for staff: the draft form and the review page have their heaviest
    rows to show."""
    today = context["today"]
    now = timezone.now()
    drafts = 0
    for member in context["members"]:
        activity = member.activities.order_by("pk").first()
        client = member.user.clients.filter(country="BE").order_by("pk").first()
        if activity is None or client is None:
            continue
        lines = [
            LineInput(
                description=description,
                quantity=Decimal(position % 4 + 1),
                unit=unit,
                unit_price=Decimal(price),
                allowance_percent=Decimal("5") if position == 0 else None,
                allowance_reason="Repeat client" if position == 0 else "",
            )
            for position, (description, unit, price) in enumerate(WORK * 2)
        ]
        save_draft(
            user=member.user,
            activity=activity,
            client=client,
            lines=lines,
            today=today,
            buyer_reference="Season 2027",
            allowance_charges=[
                AllowanceChargeInput(is_charge=True, reason="Travel costs", amount=Decimal("35.00"))
            ],
        )
        drafts += 1
        # A monthly retainer from the first of next month: the recurring list has a row.
        next_month = (today.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
        _seed_recurring(member, client, start=next_month, today=today)
    first = context["members"][0] if context["members"] else None
    issued = (
        Invoice.objects.filter(
            activity__owner=first, kind=Invoice.Kind.INVOICE, status=Invoice.Status.ISSUED
        )
        .order_by("-pk")
        .first()
        if first
        else None
    )
    if issued is not None:
        request_credit_note(
            user=first.user, invoice=issued, reason="Performance cancelled", now=now
        )
    credit_notes = 1 if issued is not None else 0
    refunds = _seed_refund(
        context["members"][1:2],
        (context["staff"], context["second_staff"]),
        today=today,
        now=now,
    )
    lines = _seed_statement(context["staff"], today=today, now=now)
    stdout.write(
        f"{drafts} draft invoices and recurring invoices of heavy members, "
        f"{credit_notes} credit note, {refunds} refund in a payment file, "
        f"a bank statement of {lines} lines."
    )


def _seed_refund(members, staff: tuple, *, today: datetime.date, now: datetime.datetime) -> int:
    """Credit a paid invoice of the given heavy member in full and put the refund owed to the
    client in a SEPA payment file: the refund and payment-file pages have a row to show."""
    paid = (
        Invoice.objects.filter(
            activity__owner__in=members, kind=Invoice.Kind.INVOICE, status=Invoice.Status.PAID
        )
        .order_by("-pk")
        .first()
    )
    if paid is None:
        return 0
    credit_note = request_credit_note(
        user=paid.created_by, invoice=paid, reason="Event cancelled by the client", now=now
    )
    requester, sender = staff
    credit_note = approve_invoice(staff_user=requester, invoice=credit_note, today=today, now=now)
    refund = request_refund(
        staff_user=requester,
        credit_note=credit_note,
        amount=refundable_amount(credit_note),
        client_iban="BE68068897250734",
        method=Refund.Method.SEPA_TRANSFER,
        now=now,
    )
    create_refund_payment_file(staff_user=sender, refunds=[refund], execution_date=today, now=now)
    return 1


# A day's statement at a cooperative of SMart's size: a thousand transfers whose communication
# names no invoice (for staff to match), and the account's own costs.
STATEMENT_LINES = 1000


def _seed_statement(staff, *, today: datetime.date, now: datetime.datetime) -> int:
    """Import a CAMT.053 statement of ``STATEMENT_LINES`` lines that pay no invoice, into the
    cooperative's first active account with an IBAN (none: no statement)."""
    account = (
        BankAccount.objects.filter(active=True)
        .exclude(iban="")
        .order_by("pk")
        .values_list("iban", flat=True)
        .first()
    )
    if account is None:
        return 0
    day = today.isoformat()
    entries = []
    for number in range(1, STATEMENT_LINES + 1):
        credit = number % 10 != 0
        name = CLIENTS[number % len(CLIENTS)][1]
        remittance = f"Facture {number} merci" if credit else "Frais bancaires"
        entries.append(
            "<Ntry>"
            f'<Amt Ccy="EUR">{Decimal(number % 97 + 10):.2f}</Amt>'
            f"<CdtDbtInd>{'CRDT' if credit else 'DBIT'}</CdtDbtInd><Sts>BOOK</Sts>"
            f"<BookgDt><Dt>{day}</Dt></BookgDt><ValDt><Dt>{day}</Dt></ValDt>"
            f"<AcctSvcrRef>SCALE-{number}</AcctSvcrRef>"
            "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd>"
            "</Fmly></Domn></BkTxCd><NtryDtls><TxDtls>"
            f"<Refs><AcctSvcrRef>SCALE-{number}</AcctSvcrRef></Refs>"
            f"<RltdPties><Dbtr><Nm>{escape(name)}</Nm></Dbtr></RltdPties>"
            f"<RmtInf><Ustrd>{remittance}</Ustrd></RmtInf>"
            "</TxDtls></NtryDtls></Ntry>"
        )
    created = f"{day}T09:00:00"
    document = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>'
        f"<GrpHdr><MsgId>SCALE-{day}</MsgId><CreDtTm>{created}</CreDtTm></GrpHdr>"
        f"<Stmt><Id>SCALE-{day}</Id><CreDtTm>{created}</CreDtTm>"
        f"<Acct><Id><IBAN>{account}</IBAN></Id><Ccy>EUR</Ccy></Acct>"
        f"{''.join(entries)}</Stmt></BkToCstmrStmt></Document>"
    )
    import_bank_statement(data=document.encode(), filename="scale.xml", actor=staff, now=now)
    return STATEMENT_LINES
