"""Every URL and every API operation, opened by each persona, answers as the authorization table
says (tests/authorization_table.txt).

The routes come from Django's URL resolver and the API operations from the OpenAPI schema, so a
new route or operation without a row in the table fails here, and so does a row that matches
nothing. URLs are filled with the objects of one world, owned by ``member``. Reads (GET) are sent
for every persona; writes (POST, PUT, PATCH, DELETE) are sent only for the personas the table
says must be refused, and must change nothing in the database, the stored files or the outbox.

``AUTHZ_PRINT=1 pytest tests/test_authorization.py`` prints the observed matrix in the table's
layout, rows missing from the table included (every persona asked, writes too, each in a
rolled-back savepoint; "!" marks a write that changed something), to review additions before
copying rows into the table.
"""

import datetime
import json
import os
import re
import sys
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from drf_spectacular.generators import SchemaGenerator

from audit.models import AuditEvent, DataExport
from audit.privacy import build_data_export, request_data_export
from checkout.links import pay_token
from checkout.services import start_online_payment
from contracts.allowances import AllowanceInput, claim_allowance
from contracts.c4 import produce_c4
from contracts.models import (
    AllowanceRate,
    ContractAttachment,
    DimonaDeclaration,
    ExpenseReceipt,
    MileageSystem,
    PayrollRate,
    SpecialContributionBracket,
    TaxBracket,
    TaxProfile,
    YearEndPremiumRule,
)
from contracts.services.contracts import add_attachment, approve_contract, submit_contract
from contracts.services.documents import render_payslip
from contracts.services.expenses import ReceiptInput, start_expense_claim, submit_expense_claim
from contracts.services.payroll import run_payroll
from copyrights.models import CopyrightMemberYear, CopyrightParameters, CopyrightPayment
from copyrights.services import (
    approve_copyright_payment,
    record_copyright_payment,
    render_statement,
)
from declarations.selectors import Quarter
from declarations.services import export_dmfa
from invoicing.models import BankStatementLine, InvoiceDocument, Refund, RefundPaymentFile
from invoicing.services.clients import create_client
from invoicing.services.credit import CreditLineInput, request_credit_note
from invoicing.services.documents import render_document
from invoicing.services.drafts import LineInput
from invoicing.services.issue import approve_invoice, submit_invoice
from invoicing.services.payments import import_bank_statement, record_payment
from invoicing.services.recurring import Schedule, create_recurring_invoice
from members import services as member_services
from members.models import LedgerEntry
from portal.models import PortalQuestion, PortalToken
from quotes import documents as quote_documents
from quotes import services as quote_services
from quotes.orders import create_order_invoice
from spaces.services import feed_tokens, leasing, lifecycle
from taxforms.documents import render_certificate
from taxforms.models import Form as TaxForm
from taxforms.models import TaxCertificate
from taxforms.services import export_belcotax, prepare_certificates
from tests.conftest import NOW, make_member, make_user
from tests.contracts.conftest import TODAY, make_contract, worker
from tests.invoicing.conftest import make_draft
from tests.invoicing.test_payments import ENTRY, camt_file, structured
from tests.quotes.conftest import make_draft as make_quote
from tests.quotes.orders_helpers import make_quote as make_order_quote
from tests.spaces.conftest import DAY, at, make_room

TABLE = Path(__file__).with_name("authorization_table.txt")
PERSONAS = (
    "anonymous",
    "applicant",
    "member",
    "other_member",
    "co_member",
    "space_manager",
    "staff",
)
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
# What a refused write may answer: sent to sign in, redirected away, or an HTTP refusal (400
# where a service refuses the persona whatever the body: the API maps service errors to 400).
REFUSALS = {"login", "admin-login", "301", "302", "400", "401", "403", "404", "405"}
# An authorised persona's write is tested with the feature; here it is not sent.
ALLOWED = "ok"
API_PREFIX = "/api/v1/"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


# --- routes and operations -------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    key: str  # the URL name with its namespace, or the pattern when it has no name
    pattern: str
    name: str | None


def all_routes() -> dict[str, Route]:
    """Every URL pattern of the site, found through the resolver, by key."""
    routes: dict[str, Route] = {}

    def walk(patterns, prefix: str, namespace: str | None) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                inner = namespace
                if entry.namespace:
                    inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
                walk(entry.url_patterns, prefix + str(entry.pattern), inner)
            elif isinstance(entry, URLPattern):
                pattern = prefix + str(entry.pattern)
                name = entry.name and (f"{namespace}:{entry.name}" if namespace else entry.name)
                key = name or pattern
                assert key not in routes, f"two URL patterns share the key {key}"
                routes[key] = Route(key=key, pattern=pattern, name=name)

    walk(get_resolver().url_patterns, "", None)
    return routes


def is_api(route: Route) -> bool:
    return route.pattern.startswith(API_PREFIX.lstrip("/"))


def api_operations() -> dict[tuple[str, str], str]:
    """Every operation of the OpenAPI schema, (route key, method) -> its schema path."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = {}
    for path, methods in schema["paths"].items():
        match = resolve(re.sub(r"\{[^}]+\}", "1", path))
        for method in methods:
            if method.upper() in ("GET", *UNSAFE):
                operations[(match.view_name, method.upper())] = path
    return operations


# --- the table -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    route: str  # a route key, optionally followed by [variant] for another object of the world
    method: str
    expected: dict[str, str]
    line: int

    @property
    def base(self) -> str:
        return self.route.split("[", 1)[0]

    @property
    def variant(self) -> str | None:
        return self.route[len(self.base) + 1 : -1] if "[" in self.route else None


def read_table() -> list[Row]:
    rows = []
    for number, text in enumerate(TABLE.read_text().splitlines(), 1):
        text = text.split("#", 1)[0].strip()
        if not text:
            continue
        route, method, *statuses = text.split()
        assert len(statuses) == len(PERSONAS), f"line {number}: one status per persona"
        rows.append(Row(route, method, dict(zip(PERSONAS, statuses, strict=True)), number))
    return rows


def test_the_table_has_one_row_per_route_and_operation_and_no_other():
    routes = all_routes()
    operations = api_operations()
    rows = read_table()
    problems = []

    seen = {}
    for row in rows:
        if (row.route, row.method) in seen:
            problems.append(f"line {row.line}: {row.route} {row.method} is listed twice")
        seen[(row.route, row.method)] = row
        route = routes.get(row.base)
        if route is None:
            problems.append(f"line {row.line}: {row.base} matches no URL pattern")
            continue
        if row.variant is not None and row.variant not in VARIANTS:
            problems.append(f"line {row.line}: the world has no object for [{row.variant}]")
        if is_api(route):
            if row.method != "GET" and (row.base, row.method) not in operations:
                problems.append(f"line {row.line}: the schema has no {row.method} {row.base}")
        elif row.method not in ("GET", "POST"):
            problems.append(f"line {row.line}: only GET and POST are checked outside the API")
        for persona, status in row.expected.items():
            if row.method == "GET" and status == ALLOWED:
                problems.append(f"line {row.line}: a GET needs the status {persona} gets")
            if row.method in UNSAFE and status not in REFUSALS | {ALLOWED}:
                problems.append(
                    f"line {row.line}: {persona}'s {row.method} must be '{ALLOWED}' or a refusal"
                )

    required = set()
    for route in routes.values():
        required.add((route.key, "GET"))
        if not is_api(route):
            required.add((route.key, "POST"))
    required |= set(operations)
    api_routes = {route.key for route in routes.values() if is_api(route)}
    documented = {key for key, _method in operations}
    for key in sorted(api_routes - documented):
        problems.append(f"{key} is an API URL that the OpenAPI schema does not document")
    for key, method in sorted(required - set(seen)):
        problems.append(f"missing row: {key} {method}  (pattern {routes[key].pattern})")
    assert not problems, "\n".join(problems)


# --- the world -------------------------------------------------------------------------------


@dataclass
class World:
    users: dict[str, object | None] = field(default_factory=dict)
    objects: dict[str, object] = field(default_factory=dict)

    def __getattr__(self, name):
        try:
            return self.objects[name]
        except KeyError:
            raise AttributeError(name) from None


def build_world() -> World:
    """Personas, and one of everything owned by ``member`` (some shared with ``co_member``)."""
    world = World()
    o = world.objects
    staff = make_user("authz-staff@coop.test", is_staff=True, is_superuser=True, name="Staff")
    TOTP.activate(staff, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    applicant = make_member(
        "authz-applicant@coop.test", legal_name="Noah Janssens", niss="85073003328", active=False
    )
    member = make_member(
        "authz-member@coop.test", legal_name="Ana Peeters", niss="17073003384", approver=staff
    )
    other = make_member(
        "authz-other@coop.test", legal_name="Lucas Dubois", niss="93051822361", approver=staff
    )
    co_member = make_member(
        "authz-co@coop.test", legal_name="Emma Maes", niss="90010100123", approver=staff
    )
    house = make_member(
        "authz-house@coop.test", legal_name="LaVallée", niss="88021500153", approver=staff
    )
    space_manager = make_user("authz-spaces@coop.test", name="Sofia Space")
    space_managers = Group.objects.get_or_create(name="Space managers")[0]
    space_manager.groups.add(space_managers)
    world.users = {
        "anonymous": None,
        "applicant": applicant.user,
        "member": member.user,
        "other_member": other.user,
        "co_member": co_member.user,
        "space_manager": space_manager,
        "staff": staff,
    }
    o.update(member=member, staff=staff, group=space_managers)

    activity = member_services.create_activity(
        owner=member, name="Inkwell Studio", co_members=[co_member]
    )
    member_services.create_activity(owner=other, name="Stage lighting")
    o["activity"] = activity

    # Invoicing: a client, a draft, an issued invoice (paid in part), a credit note.
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
    o["client"] = client
    o["draft"] = make_draft(member, activity, client)
    issued = submit_invoice(
        user=member.user, invoice=make_draft(member, activity, client), today=TODAY, now=NOW
    )
    if issued.status != "issued":
        issued = approve_invoice(staff_user=staff, invoice=issued, today=TODAY, now=NOW)
    o["invoice"] = issued
    credit_note = request_credit_note(
        user=member.user,
        invoice=issued,
        reason="One hour less",
        lines=[CreditLineInput(position=1, quantity=Decimal("1"))],
    )
    o["credit_note"] = approve_invoice(staff_user=staff, invoice=credit_note, today=TODAY, now=NOW)
    o["recurring"] = create_recurring_invoice(
        user=member.user,
        activity=activity,
        client=client,
        title="Monthly retainer",
        schedule=Schedule(frequency="monthly", start_date=TODAY),
        mode="auto_send",
        lines=[
            LineInput(
                description="Retainer {month}",
                quantity=Decimal("1"),
                unit="piece",
                unit_price=Decimal("500.00"),
            )
        ],
        today=TODAY,
        buyer_reference="PO-2026-77",
    )
    o["payment"] = record_payment(
        invoice=issued, amount=Decimal("10.00"), received_on=TODAY, actor=staff, now=NOW
    )
    [statement] = import_bank_statement(
        data=camt_file(
            ENTRY.format(
                amount="5.00",
                direction="CRDT",
                reference="AUTHZ-1",
                remittance=structured(issued.structured_communication),
            )
        ),
        filename="march.xml",
        actor=staff,
        now=NOW,
    )
    o["bankstatement"] = statement
    o["bankaccount"] = statement.bank_account
    o["bankstatementline"] = BankStatementLine.objects.filter(statement=statement).first()
    o["dispatch"] = issued.dispatches.first()
    # An online payment of what is left, started with the simulated provider.
    o["onlinepayment"] = start_online_payment(
        invoice=issued,
        redirect_url_for=lambda reference: f"http://testserver/return/{reference}/",
        webhook_url="http://testserver/checkout/webhook/simulated/",
        now=NOW,
    )
    # A refund in a payment file: staff-side only, written as the services would leave it.
    o["refundpaymentfile"] = RefundPaymentFile.objects.create(
        file=ContentFile(b"<Document/>", name="refunds-authz.xml"),
        message_id="AUTHZ-REFUNDS",
        execution_date=TODAY,
        transfer_count=1,
        total=Decimal("1.00"),
        created_by=staff,
    )
    o["refund"] = Refund.objects.create(
        credit_note=o["credit_note"],
        amount=Decimal("1.00"),
        account_holder=client.name,
        client_iban="BE68068897250734",
        method=Refund.Method.SEPA_TRANSFER,
        status=Refund.Status.IN_PAYMENT_FILE,
        payment_file=o["refundpaymentfile"],
        requested_by=staff,
    )
    # The client portal: a link of the client's address, a question on the issued invoice.
    o["portaltoken"] = PortalToken.objects.create(
        kind="email",
        email="compta@galeries.example",
        token_hash="0" * 64,
        created_at=NOW,
        expires_at=NOW + datetime.timedelta(days=180),
    )
    o["portalquestion"] = PortalQuestion.objects.create(
        invoice=issued, email="compta@galeries.example", message="Can we pay in two parts?"
    )
    for document in InvoiceDocument.objects.filter(invoice__in=[issued, o["credit_note"]]):
        render_document(document=document, now=NOW)

    # Quotes: a draft, one sent (its PDF rendered) with its public page's token, and one whose
    # link was withdrawn.
    o["quote_draft"] = make_quote(member, activity, client)
    o["quote"], o["quote_token"] = quote_services.send_quote(
        user=member.user, quote=make_quote(member, activity, client)
    )
    quote_documents.render_document(document=o["quote"].current_version.document)
    revoked_quote, o["quote_token_revoked"] = quote_services.send_quote(
        user=member.user, quote=make_quote(member, activity, client)
    )
    quote_services.revoke_link(user=member.user, quote=revoked_quote)
    # Orders: an accepted quote waiting for staff, and a confirmed order with a deposit drawn up.
    o["order_waiting"] = make_order_quote(activity=activity, client=client, user=member.user)
    o["order"] = make_order_quote(
        activity=activity,
        client=client,
        user=member.user,
        status="confirmed",
        deposit_percent="30",
        work_start=TODAY + datetime.timedelta(days=20),
        work_end=TODAY + datetime.timedelta(days=22),
    )
    o["orderinvoice"] = create_order_invoice(
        user=member.user, quote=o["order"], part="deposit", today=TODAY
    )

    # Contracts: one paid (with its payslip), one waiting for approval, one draft.
    paid = make_contract(member, activity, workers=[worker(member)], client=client)
    submit_contract(user=member.user, contract=paid, today=TODAY, now=NOW)
    o["contract"] = approve_contract(staff_user=staff, contract=paid, today=TODAY, now=NOW)
    # A copyright payment, approved: the payroll run pays it with the salaries.
    copyright_payment = record_copyright_payment(
        user=member.user,
        member=member,
        activity=activity,
        work_kind="visual",
        work_title="Poster for the première",
        gross=Decimal("1000.00"),
        today=TODAY,
        now=NOW,
    )
    approve_copyright_payment(staff_user=staff, payment=copyright_payment, now=NOW)
    o["payrollrun"] = run_payroll(
        staff_user=staff,
        period_start=datetime.date(2026, 3, 1),
        period_end=datetime.date(2026, 3, 22),
        today=datetime.date(2026, 3, 23),
        now=NOW,
    )
    payslip = o["payrollrun"].payslips.get()
    render_payslip(payslip=payslip, now=NOW)
    o["payslip"] = payslip
    # The year's 281.10 of that payslip (beside the 281.45 of the copyright payment), and the
    # Belcotax-on-web file that declares them.
    prepare_certificates(year=2026, staff_user=staff, now=NOW)
    o["taxcertificate"] = TaxCertificate.objects.get(member=member, form=TaxForm.SALARY)
    render_certificate(certificate=o["taxcertificate"], now=NOW)
    o["belcotaxexport"] = export_belcotax(year=2026, staff_user=staff, now=NOW)
    o["copyrightpayment"] = CopyrightPayment.objects.get(pk=copyright_payment.pk)
    render_statement(statement=o["copyrightpayment"].statement, now=NOW)
    o["copyrightparameters"] = CopyrightParameters.objects.order_by("pk").first()
    o["copyrightmemberyear"] = CopyrightMemberYear.objects.get(member=member)
    waiting = make_contract(
        member, activity, workers=[worker(member, start=datetime.date(2026, 5, 4))]
    )
    o["contract_waiting"] = submit_contract(
        user=member.user, contract=waiting, today=TODAY, now=NOW
    )
    o["contract_draft"] = make_contract(
        member, activity, workers=[worker(member, start=datetime.date(2026, 4, 6))]
    )
    o["attachment"] = add_attachment(
        user=member.user,
        contract=o["contract_draft"],
        upload=SimpleUploadedFile("quote.pdf", PDF),
        now=NOW,
    )

    # Expense claims: one sent to staff, one draft, each with a receipt.
    def receipt(name: str) -> ReceiptInput:
        return ReceiptInput(
            upload=SimpleUploadedFile(name, PNG),
            description="Paper",
            spent_on=TODAY - datetime.timedelta(days=3),
            amount=Decimal("60.50"),
            vat=Decimal("10.50"),
        )

    o["claim"] = submit_expense_claim(
        user=member.user,
        activity=activity,
        description="Exhibition supplies",
        receipts=[receipt("paper.png")],
        today=TODAY,
        now=NOW,
    )
    o["claim_draft"] = start_expense_claim(
        user=member.user,
        activity=activity,
        description="Frames",
        receipts=[receipt("frames.png")],
        today=TODAY,
        now=NOW,
    )
    o["receipt"] = o["claim"].receipts.get()
    o["c4"] = produce_c4(
        staff_user=staff,
        worker=o["contract"].workers.get(),
        end_reason="end_of_term",
        today=datetime.date(2026, 3, 23),
        now=NOW,
    )
    o["allowance"] = claim_allowance(
        user=member.user,
        activity=activity,
        allowance=AllowanceInput(
            kind="mileage",
            travelled_on=TODAY - datetime.timedelta(days=3),
            description="Van to the gallery",
            kilometres=Decimal("42.0"),
        ),
        today=TODAY,
        now=NOW,
    ).allowance
    o["allowancerate"] = AllowanceRate.objects.order_by("pk").first()
    o["mileagesystem"] = MileageSystem.objects.order_by("pk").first()
    o["receipt_draft"] = o["claim_draft"].receipts.get()

    # Spaces: LaVallée's site and rooms, the member's booking, lease and calendar feed.
    house_activity = member_services.create_activity(owner=house, name="LaVallée rentals")
    from spaces.models import OpeningHours, Site

    site = Site.objects.create(
        name="LaVallée",
        street="Rue Adolphe Lavallée 39",
        postal_code="1080",
        city="Molenbeek-Saint-Jean",
        income_activity=house_activity,
    )
    for weekday in range(6):
        OpeningHours.objects.create(
            site=site, weekday=weekday, opens_at=datetime.time(8), closes_at=datetime.time(22)
        )
    o["site"] = site
    o["room"] = make_room(site)
    atelier = make_room(site, name="Atelier 7", kind="atelier", is_bookable=False)
    o["booking"] = lifecycle.book_room(
        actor=member.user,
        room=o["room"],
        start=at(DAY, 10),
        end=at(DAY, 12),
        title="Inkwell rehearsal",
        activity=activity,
        now=NOW,
    )
    o["booking_later"] = lifecycle.book_room(
        actor=member.user,
        room=o["room"],
        start=at(DAY + datetime.timedelta(days=1), 10),
        end=at(DAY + datetime.timedelta(days=1), 12),
        title="Second rehearsal",
        activity=activity,
        now=NOW,
    )
    o["lease"] = leasing.create_lease(
        actor=space_manager, room=atelier, activity=activity, starts_on=DAY
    )
    o["feedtoken"] = feed_tokens.create_feed_token(user=member.user)
    revoked = feed_tokens.create_feed_token(user=member.user)
    o["feedtoken_revoked"] = feed_tokens.revoke_feed_token(user=member.user, token=revoked)

    # What only the admin shows.
    o["apitoken"], _key = member_services.create_api_token(
        user=member.user, name="Accounting", lifetime_days=30
    )
    # Exports expire after a week: this one is made now, not on the world's fixed date.
    export = request_data_export(user=member.user)
    build_data_export(export=export)
    o["dataexport"] = DataExport.objects.get(pk=export.pk)
    o["buyer"] = o["client"].buyer
    o["auditevent"] = AuditEvent.objects.order_by("pk").first()
    o["emailaddress"] = member.user.emailaddress_set.get()
    o["authenticator"] = Authenticator.objects.get(user=staff)
    o["sharesubscription"] = member.shares.get()
    o["ledgerentry"] = LedgerEntry.objects.filter(activity=activity).order_by("pk").first()
    o["taxprofile"] = TaxProfile.objects.get_or_create(member=member)[0]
    o["dimonadeclaration"] = DimonaDeclaration.objects.filter(
        worker__contract=o["contract"]
    ).first()
    o["payrollrate"] = PayrollRate.objects.order_by("pk").first()
    o["taxbracket"] = TaxBracket.objects.order_by("pk").first()
    o["specialcontributionbracket"] = SpecialContributionBracket.objects.order_by("pk").first()
    o["yearendpremiumrule"] = YearEndPremiumRule.objects.order_by("pk").first()
    o["dmfaexport"] = export_dmfa(
        staff_user=staff, quarter=Quarter(2026, 1), today=datetime.date(2026, 4, 10), now=NOW
    )
    assert all(value is not None for value in o.values()), [k for k, v in o.items() if v is None]
    assert ContractAttachment.objects.count() == 1 and ExpenseReceipt.objects.count() == 2
    return world


# Which object of the world each model's admin pages open.
ADMIN_OBJECTS = {
    "contracts_yearendpremiumrule": "yearendpremiumrule",
    "declarations_dmfaexport": "dmfaexport",
    "declarations_engagementterms": "contract_waiting",
    "auth_group": "group",
    "members_apitoken": "apitoken",
    "invoicing_buyer": "buyer",
    "audit_auditevent": "auditevent",
    "audit_dataexport": "dataexport",
    "account_emailaddress": "emailaddress",
    "mfa_authenticator": "authenticator",
    "members_user": "member.user",
    "members_member": "member",
    "members_sharesubscription": "sharesubscription",
    "members_activity": "activity",
    "members_ledgerentry": "ledgerentry",
    "invoicing_invoice": "invoice",
    "invoicing_client": "client",
    "invoicing_payment": "payment",
    "checkout_onlinepayment": "onlinepayment",
    "invoicing_bankaccount": "bankaccount",
    "invoicing_refund": "refund",
    "invoicing_refundpaymentfile": "refundpaymentfile",
    "invoicing_bankstatement": "bankstatement",
    "invoicing_bankstatementline": "bankstatementline",
    "invoicing_dispatch": "dispatch",
    "invoicing_recurringinvoice": "recurring",
    "quotes_quote": "quote",
    "quotes_quoteawaitingconfirmation": "order_waiting",
    "quotes_orderinvoice": "orderinvoice",
    "contracts_contract": "contract",
    "contracts_contractawaitingapproval": "contract_waiting",
    "contracts_payrollrate": "payrollrate",
    "contracts_taxbracket": "taxbracket",
    "contracts_specialcontributionbracket": "specialcontributionbracket",
    "contracts_taxprofile": "taxprofile",
    "contracts_dimonadeclaration": "dimonadeclaration",
    "contracts_payrollrun": "payrollrun",
    "contracts_payslip": "payslip",
    "taxforms_taxcertificate": "taxcertificate",
    "taxforms_belcotaxexport": "belcotaxexport",
    "contracts_expenseclaim": "claim",
    "contracts_allowancerate": "allowancerate",
    "contracts_mileagesystem": "mileagesystem",
    "contracts_allowance": "allowance",
    "contracts_c4certificate": "c4",
    "copyrights_copyrightparameters": "copyrightparameters",
    "copyrights_copyrightpayment": "copyrightpayment",
    "copyrights_copyrightmemberyear": "copyrightmemberyear",
    "spaces_site": "site",
    "spaces_room": "room",
    "spaces_booking": "booking",
    "spaces_lease": "lease",
    "spaces_feedtoken": "feedtoken",
    "portal_portaltoken": "portaltoken",
    "portal_portalquestion": "portalquestion",
}

# The object behind ``pk`` of each route; a write goes to the object it could change most (a
# draft rather than an issued invoice), so a missing check would show as a change.
OBJECTS = {
    "admin:declarations_dmfaexport_file": "dmfaexport",
    "members:activity_detail": "activity",
    "members:api_token_revoke": "apitoken",
    "api:api-token-detail": "apitoken",
    "audit:data_export_download": "dataexport",
    "admin:members_member_national_number": "member",
    "api:activity-detail": "activity",
    "api:activity-ledger": "activity",
    "invoicing:invoice_detail": "invoice",
    "invoicing:invoice_edit": "draft",
    "invoicing:invoice_delete": "draft",
    "invoicing:invoice_submit": "draft",
    "invoicing:invoice_pdf": "invoice",
    "invoicing:invoice_ubl": "invoice",
    "invoicing:invoice_resend": "invoice",
    "invoicing:invoice_credit": "invoice",
    "invoicing:client_edit": "client",
    "invoicing:recurring_detail": "recurring",
    "invoicing:recurring_edit": "recurring",
    "invoicing:recurring_pause": "recurring",
    "invoicing:recurring_resume": "recurring",
    "invoicing:recurring_end": "recurring",
    "api:recurring-invoice-detail": "recurring",
    "api:recurring-invoice-pause": "recurring",
    "api:recurring-invoice-resume": "recurring",
    "api:recurring-invoice-end": "recurring",
    "api:client-detail": "client",
    "api:invoice-detail": "invoice",
    "api:invoice-credit-notes": "invoice",
    "api:invoice-payments": "invoice",
    "api:invoice-online-payments": "invoice",
    "api:invoice-pdf": "invoice",
    "api:invoice-submit": "draft",
    "api:invoice-ubl": "invoice",
    "quotes:quote_detail": "quote",
    "orders:order_detail": "order",
    "api:order-detail": "order",
    "api:order-invoices": "order",
    "orders:order_invoice": "order",
    "orders:order_contract": "order",
    "quotes:quote_edit": "quote_draft",
    "quotes:quote_delete": "quote_draft",
    "quotes:quote_send": "quote_draft",
    "quotes:quote_resend": "quote",
    "quotes:quote_revoke": "quote",
    "quotes:quote_new_version": "quote",
    "api:quote-detail": "quote",
    "api:quote-send": "quote_draft",
    "api:quote-new-version": "quote",
    "contracts:detail": "contract",
    "contracts:edit": "contract_draft",
    "contracts:submit": "contract_draft",
    "contracts:cancel": "contract_waiting",
    "contracts:invoice": "contract",
    "contracts:attachment-add": "contract_draft",
    "contracts:attachment-download": "attachment",
    "api:contract-detail": "contract",
    "api:contract-cancel": "contract_waiting",
    "api:contract-invoice": "contract",
    "api:contract-submit": "contract_draft",
    "contracts:payslip-download": "payslip",
    "taxforms:certificate-download": "taxcertificate",
    "contracts:c4-pdf": "c4",
    "contracts:c4-data": "c4",
    "api:payslip-detail": "payslip",
    "api:payslip-pdf": "payslip",
    "copyrights:cancel": "copyrightpayment",
    "copyrights:statement": "copyrightpayment",
    "api:copyright-payment-detail": "copyrightpayment",
    "api:copyright-payment-statement": "copyrightpayment",
    "contracts:expense-claim": "claim",
    "contracts:expense-claim-submit": "claim_draft",
    "contracts:expense-claim-delete": "claim_draft",
    "contracts:expense-receipt-download": "receipt",
    "contracts:expense-receipt-remove": "receipt_draft",
    "api:expense-claim-detail": "claim",
    "api:expense-claim-approve": "claim",
    "api:expense-claim-reject": "claim",
    "api:expense-claim-receipts": "claim_draft",
    "api:expense-claim-submit": "claim_draft",
    "spaces:room_detail": "room",
    "spaces:calendar": "site",
    "spaces:occupancy": "site",
    "spaces:lease_list": "site",
    "spaces:lease_create": "site",
    "spaces:booking_detail": "booking",
    "spaces:booking_cancel": "booking_later",
    "spaces:booking_move": "booking_later",
    "spaces:booking_check_in": "booking",
    "spaces:booking_approve": "booking",
    "spaces:booking_refuse": "booking",
    "spaces:booking_no_show": "booking",
    "api:site-detail": "site",
    "api:room-detail": "room",
    "api:room-busy": "room",
    "api:booking-detail": "booking",
    "api:booking-approve": "booking",
    "api:booking-cancel": "booking_later",
    "api:booking-check-in": "booking",
    "api:booking-move": "booking_later",
    "api:booking-refuse": "booking",
    "portal:document_detail": "invoice",
    "portal:document_pdf": "invoice",
    "portal:document_ubl": "invoice",
    "portal:quote_pdf": "quote",
    "portal:document_question": "invoice",
    "portal:question_answered": "portalquestion",
    "api:portal-document-detail": "invoice",
}
WRITE_OBJECTS = {
    "api:invoice-detail": "draft",
    "api:quote-detail": "quote_draft",
    "api:contract-detail": "contract_draft",
    "api:expense-claim-detail": "claim_draft",
}
# Writes whose body is checked before the object is looked up get a valid body, so that the
# refusal seen is the lookup's, not the validation's.
BODIES = {
    "api:contract-cancel": lambda: {"reason": "No longer needed"},
    "api:invoice-credit-notes": lambda: {"reason": "Show cancelled"},
    "api:booking-refuse": lambda: {"reason": "Closed that day"},
    "api:booking-move": lambda: {"date": "2026-03-12", "start_time": "14:00", "end_time": "16:00"},
    "api:expense-claim-receipts": lambda: {
        "receipts[0]file": SimpleUploadedFile("ink.png", PNG),
        "receipts[0]description": "Ink",
        "receipts[0]spent_on": "2026-02-20",
        "receipts[0]amount": "12.10",
        "receipts[0]vat": "2.10",
    },
}
# Reads that need their question to answer anything but a 400.
QUERIES = {
    "declarations:account-download": "?year=2026",
    "admin:declarations_dmfaexport_quarter": "?quarter=2026-1",
    "api:room-busy": "?start=2026-03-10T08:00:00%2B01:00&end=2026-03-11T08:00:00%2B01:00",
    "api:room-free": "?date=2026-03-12&start_time=10:00&duration_minutes=60",
    "spaces:search": "?date=2026-03-12&start_time=10:00&duration_minutes=60",
    "admin:autocomplete": "?app_label=invoicing&model_name=payment&field_name=invoice",
    "api:client-lookup": "?vat_number=BE1000000021&country=BE",
}
VARIANTS = {
    "credit_note": "credit_note",
    "draft": "draft",
    "revoked": "feedtoken_revoked",
}


def lookup(world: World, path: str):
    value = world
    for part in path.split("."):
        value = getattr(value, part)
    return value


def url_for(route: Route, world: World, *, variant: str | None, write: bool) -> str:
    """The route's address with the world's objects, and its question for a read."""
    path = path_for(route, world, variant=variant, write=write)
    return path if write else path + QUERIES.get(route.key, "")


def path_for(route: Route, world: World, *, variant: str | None, write: bool) -> str:
    """Fill the route's arguments with the world's objects."""
    name = route.name or ""
    admin_match = "<path:object_id>" in route.pattern and (
        re.match(r"admin:(\w+?)_(history|delete|change)$", name)
        or re.match(r"admin/(\w+)/(\w+)/<path:object_id>/$", route.pattern)
    )
    if route.name is None and route.pattern.endswith("(?P<url>.*)$"):
        return "/admin/no-such-page/"
    if admin_match:
        # e.g. invoicing_invoice
        model = admin_match.group(1) if route.name else "_".join(admin_match.group(1, 2))
        pk = lookup(world, ADMIN_OBJECTS[model]).pk
        if route.name is None:
            return "/" + route.pattern.replace("<path:object_id>", str(pk))
        return reverse(name, kwargs={"object_id": pk})
    object_action = re.match(r"admin:(\w+)_object_action$", name)
    if object_action:
        # A change page's decision button: the first action its admin offers there.
        from django.contrib import admin

        model = object_action.group(1)
        model_admin = next(
            model_admin
            for registered, model_admin in admin.site._registry.items()
            if f"{registered._meta.app_label}_{registered._meta.model_name}" == model
        )
        return reverse(
            name,
            kwargs={
                "object_id": lookup(world, ADMIN_OBJECTS[model]).pk,
                "action": next(iter(model_admin.object_actions)),
            },
        )
    if name == "admin:auth_user_password_change":
        return reverse(name, kwargs={"id": world.member.user.pk})
    if name == "admin:invoicing_refundpaymentfile_sepa":
        return reverse(name, kwargs={"pk": world.refundpaymentfile.pk})
    if name == "admin:invoicing_invoice_review":
        return reverse(name, kwargs={"pk": world.credit_note.pk})
    if name == "admin:contracts_payrollrun_sepa":
        return reverse(name, kwargs={"pk": world.payrollrun.pk})
    if name == "admin:taxforms_belcotaxexport_file":
        return reverse(name, kwargs={"pk": world.belcotaxexport.pk})
    if name == "admin:view_on_site":
        activity = world.activity
        content_type = ContentType.objects.get_for_model(activity)
        return reverse(name, kwargs={"content_type_id": content_type.pk, "object_id": activity.pk})
    if name == "admin:app_list":
        return reverse(name, kwargs={"app_label": "invoicing"})
    if name == "account_confirm_email":
        return reverse(name, kwargs={"key": "no-such-key"})
    if name == "account_reset_password_from_key":
        return reverse(name, kwargs={"uidb36": "1", "key": "no-such-key"})
    if name == "portal:sign_in":
        # An unknown token: what anyone who guesses one gets.
        return reverse(name, kwargs={"token": "no-such-token"})
    if name == "spaces:feed":
        token = world.feedtoken_revoked if variant == "revoked" else world.feedtoken
        return reverse(name, kwargs={"secret": token.secret})
    if name in ("quotes:public", "quotes:public_pdf"):
        token = world.quote_token_revoked if variant == "revoked" else world.quote_token
        return reverse(name, kwargs={"token": token})
    if name == "quotes:quote_pdf":
        return reverse(name, kwargs={"pk": world.quote.pk, "version": 1})
    if name in ("checkout:pay", "checkout:pay_online", "checkout:pay_return"):
        # Public pages behind the invoice's signed link (checkout/links.py).
        invoice = lookup(world, VARIANTS[variant] if variant else "invoice")
        kwargs = {"token": pay_token(invoice)}
        if name == "checkout:pay_return":
            kwargs["reference"] = world.onlinepayment.reference
        return reverse(name, kwargs=kwargs)
    if name == "checkout:webhook":
        return reverse(name, kwargs={"provider": world.onlinepayment.provider})
    if name == "checkout:simulated":
        return reverse(name, kwargs={"payment_id": world.onlinepayment.provider_payment_id})
    if name == "api:expense-claim-remove-receipt":
        receipt = world.receipt_draft
        return reverse(name, kwargs={"pk": receipt.claim_id, "receipt_pk": receipt.pk})
    if "<" not in route.pattern and "(?P<" not in route.pattern:
        return reverse(name)
    object_name = (write and WRITE_OBJECTS.get(name)) or OBJECTS[name]
    if variant is not None:
        object_name = VARIANTS[variant]
    return reverse(name, kwargs={"pk": lookup(world, object_name).pk})


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    media_root = tmp_path_factory.mktemp("authz-media")
    with (
        django_db_blocker.unblock(),
        override_settings(
            MEDIA_ROOT=media_root,
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
            COOP_INVOICE_REVIEW_NEW_CLIENTS=False,
            PAYMENT_PROVIDER="simulated",
            LANGUAGE_CODE="en",
        ),
        transaction.atomic(),
    ):
        world = build_world()
        world.objects["media_root"] = media_root
        yield world
        transaction.set_rollback(True)


# --- asking ----------------------------------------------------------------------------------


def observed(response) -> str:
    """The response's status as the table writes it."""
    status = response.status_code
    if status in (301, 302):
        location = response["Location"]
        if location.startswith(reverse("account_login")):
            return "login"
        if location.startswith(reverse("admin:login")):
            return "admin-login"
    return str(status)


# What only ``member`` (and those who share or manage it) may read: it must appear in no page or
# API answer given to these personas. The feed is read by whoever holds its secret address.
# The member's national register number is shown in full to nobody but staff, not even to them.
NATIONAL_NUMBER = ["17073003384", "17.07.30-033.84", "170730-033"]
MEMBERS_OWN = ["Ana Peeters", "Inkwell", "compta@galeries.example", "Exhibition supplies"]
LEAKS = {
    "anonymous": NATIONAL_NUMBER,
    "applicant": [*NATIONAL_NUMBER, *MEMBERS_OWN, "Les Bonnes"],
    "member": NATIONAL_NUMBER,
    "other_member": [*NATIONAL_NUMBER, *MEMBERS_OWN, "Les Bonnes"],
    # A co-member shares the Activity, not the member's expense claims.
    "co_member": [*NATIONAL_NUMBER, "Exhibition supplies"],
    "space_manager": [
        *NATIONAL_NUMBER,
        "compta@galeries.example",
        "Exhibition supplies",
        "Les Bonnes",
    ],
}
# Read by whoever holds the secret link: the quote names the member who offers the work.
READ_BY_SECRET = {
    "spaces:feed",
    "quotes:public",
    "checkout:pay",
    "checkout:pay_return",
    "checkout:simulated",
}


def leaks(persona: str, route: Route, response) -> list[str]:
    if route.key in READ_BY_SECRET or response.status_code != 200:
        return []
    if getattr(response, "streaming", False):
        return []  # files: their access is the status
    text = response.content.decode(errors="replace")
    return [secret for secret in LEAKS.get(persona, []) if secret in text]


def clients_for(world: World) -> dict[str, Client]:
    clients = {}
    for persona, user in world.users.items():
        browser = Client(HTTP_ACCEPT_LANGUAGE="en")
        if user is not None:
            browser.force_login(user)
        clients[persona] = browser
    return clients


def send(browser: Client, method: str, url: str, *, api: bool, body: dict):
    if method == "GET":
        response = browser.get(url)
    elif any(isinstance(value, SimpleUploadedFile) for value in body.values()):
        response = browser.post(url, data=body)  # multipart
    elif api:
        response = browser.generic(
            method, url, data=json.dumps(body), content_type="application/json"
        )
    else:
        form = "application/x-www-form-urlencoded"
        response = browser.generic(method, url, data="", content_type=form)
    if getattr(response, "streaming", False):
        b"".join(response.streaming_content)  # the client closes the file at the end
    return response


def footprint(media_root: Path) -> tuple:
    """What a request could have changed: rows written in this transaction, files, e-mails.

    Sessions, the cache (rate limits, lock-outs) and the API rate windows change on any request.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(SUM(n_tup_ins + n_tup_upd + n_tup_del), 0)"
            " FROM pg_stat_xact_user_tables"
            " WHERE relname NOT IN ('django_session', 'coop_cache', 'coop_ratewindow')"
        )
        written = cursor.fetchone()[0]
    files = sum(len(names) for _root, _dirs, names in os.walk(media_root))
    return written, files, len(mail.outbox)


def required_checks(routes: dict[str, Route]) -> list[tuple[str, str]]:
    """(route, method) pairs the table must hold, in the resolver's order."""
    operations = api_operations()
    pairs = []
    for route in routes.values():
        pairs.append((route.key, "GET"))
        if not is_api(route):
            pairs.append((route.key, "POST"))
        pairs += [
            (route.key, method)
            for key, method in operations
            if key == route.key and method != "GET"
        ]
    return pairs


def ask(browser: Client, method: str, url: str, *, api: bool, body: dict, media_root: Path):
    """Send one request and return the response and whether it changed anything.

    A write runs in a savepoint rolled back afterwards (and the browser keeps its session), so
    that the world stays as it was for the next question.
    """
    if method == "GET":
        return send(browser, method, url, api=api, body=body), False
    cookies = browser.cookies
    browser.cookies = type(cookies)(cookies.output(header="", sep=";"))
    with transaction.atomic():
        before = footprint(media_root)
        response = send(browser, method, url, api=api, body=body)
        changed = footprint(media_root) != before
        transaction.set_rollback(True)
    browser.cookies = cookies
    return response, changed


def test_every_route_and_operation_answers_each_persona_as_the_table_says(world, db, capsys):
    routes = all_routes()
    clients = clients_for(world)
    printing = bool(os.environ.get("AUTHZ_PRINT"))
    rows = read_table()
    if printing:
        listed = {(row.route, row.method) for row in rows}
        rows += [
            Row(route, method, dict.fromkeys(PERSONAS), line=0)
            for route, method in required_checks(routes)
            if (route, method) not in listed
        ]
    mismatches, side_effects, leaked, matrix = [], [], [], []
    for row in rows:
        route = routes.get(row.base)
        if route is None:
            continue  # the table's own test names it
        url = url_for(route, world, variant=row.variant, write=row.method != "GET")
        observed_row = {}
        for persona in PERSONAS:
            expected = row.expected[persona]
            if row.method in UNSAFE and expected == ALLOWED:
                observed_row[persona] = ALLOWED
                continue
            response, changed = ask(
                clients[persona],
                row.method,
                url,
                api=is_api(route),
                body=BODIES.get(route.key, dict)(),
                media_root=world.media_root,
            )
            got = observed(response)
            # A write that changed something shows with "!" in the printed matrix.
            observed_row[persona] = f"{got}!" if changed else got
            if got != expected:
                mismatches.append(
                    f"{row.route} {row.method} {url} as {persona}: expected {expected}, got {got}"
                )
            if changed:
                side_effects.append(f"{row.method} {url} as {persona} changed something ({got})")
            if secrets := leaks(persona, route, response):
                leaked.append(f"{row.method} {url} shows {persona} the member's {secrets}")
        matrix.append((row.route, row.method, observed_row))
    if printing:
        with capsys.disabled():
            print_matrix(matrix, sys.stdout)
    problems = [*leaked, *side_effects, *mismatches]
    assert not problems, f"{len(problems)} answers differ from the table:\n" + "\n".join(problems)


def print_matrix(matrix, stream) -> None:
    """Write the observed answers in the table's own layout."""
    header = "# route" + " " * 55 + " method " + " ".join(f"{p:<12}" for p in PERSONAS)
    stream.write("\n" + header.rstrip())
    for route, method, row in matrix:
        cells = " ".join(f"{row[persona]!s:<12}" for persona in PERSONAS)
        stream.write(f"\n{route:<62} {method:<6} {cells}".rstrip())
    stream.write("\n")
