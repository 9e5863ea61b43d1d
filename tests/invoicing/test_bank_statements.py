"""Bank statements book only what belongs to the cooperative's accounts, with sane dates.

A statement of an account that is not the cooperative's, or dated in the future or years ago,
is refused as a whole; a credit booked before the invoice it names was issued waits for staff.
Payments recorded by hand or through the API cannot be older than their invoice either.
"""

import datetime
from decimal import Decimal

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.core.checks import Error
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation

from audit.models import AuditEvent
from invoicing.bank_accounts import (
    ConfiguredAccount,
    check_configured_accounts,
    parse_configured_accounts,
)
from invoicing.errors import InvoicingError
from invoicing.models import BankAccount, BankStatement, BankStatementLine, Invoice, Payment
from invoicing.services.issue import submit_invoice
from invoicing.services.payments import import_bank_statement, record_payment
from tests.conftest import NOW
from tests.invoicing.conftest import TODAY, days, line, make_draft
from tests.invoicing.test_api import api_for

COOP_IBAN = "BE71096123456769"  # the seller IBAN of the settings, seeded as the coop's account
FOREIGN_IBAN = "NL77ABNA0574908765"

ACCOUNT_BY_IBAN = "<Id><IBAN>{iban}</IBAN></Id>"
ACCOUNT_BY_OTHER_ID = (
    "<Id><Othr><Id>{other_id}</Id><SchmeNm><Cd>{scheme}</Cd></SchmeNm><Issr>{issuer}</Issr>"
    "</Othr></Id>"
)

STATEMENT = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
  <BkToCstmrStmt>
    <GrpHdr>
      <MsgId>CAMT053-{statement_id}</MsgId>
      <CreDtTm>{created}T06:12:45</CreDtTm>
      <MsgPgntn><PgNb>1</PgNb><LastPgInd>true</LastPgInd></MsgPgntn>
    </GrpHdr>
    <Stmt>
      <Id>{statement_id}</Id>
      <ElctrncSeqNb>1</ElctrncSeqNb>
      <CreDtTm>{created}T06:12:45</CreDtTm>
      <Acct>
        {account}
        <Ccy>EUR</Ccy>
        <Ownr><Nm>COOP SCE</Nm></Ownr>
      </Acct>
      <Bal>
        <Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp>
        <Amt Ccy="EUR">1000.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>
        <Dt><Dt>{booked}</Dt></Dt>
      </Bal>
      <Bal>
        <Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp>
        <Amt Ccy="EUR">{closing}</Amt><CdtDbtInd>CRDT</CdtDbtInd>
        <Dt><Dt>{booked}</Dt></Dt>
      </Bal>
      <Ntry>
        <NtryRef>1</NtryRef>
        <Amt Ccy="EUR">{amount}</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts>BOOK</Sts>
        <BookgDt><Dt>{booked}</Dt></BookgDt>
        <ValDt><Dt>{booked}</Dt></ValDt>
        <AcctSvcrRef>{statement_id}-0001</AcctSvcrRef>
        <BkTxCd>
          <Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn>
        </BkTxCd>
        <NtryDtls>
          <TxDtls>
            <Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>
            <AmtDtls><TxAmt><Amt Ccy="EUR">{amount}</Amt></TxAmt></AmtDtls>
            <RltdPties>
              <Dbtr><Nm>Theatre des Galeries SA</Nm></Dbtr>
              <DbtrAcct><Id><IBAN>BE35310123456737</IBAN></Id></DbtrAcct>
            </RltdPties>
            <RmtInf>
              <Strd>
                <CdtrRefInf>
                  <Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry><Issr>BBA</Issr></Tp>
                  <Ref>{ogm}</Ref>
                </CdtrRefInf>
              </Strd>
            </RmtInf>
          </TxDtls>
        </NtryDtls>
      </Ntry>
    </Stmt>
  </BkToCstmrStmt>
</Document>
"""


def statement(
    invoice: Invoice,
    *,
    booked: datetime.date,
    created: datetime.date | None = None,
    account: str = ACCOUNT_BY_IBAN.format(iban=COOP_IBAN),
    statement_id: str = "2026-061",
    amount: str | None = None,
) -> bytes:
    """A one-credit statement paying ``invoice`` by its structured communication."""
    amount = amount or f"{invoice.total_incl_vat:.2f}"
    return STATEMENT.format(
        statement_id=statement_id,
        created=(created or booked).isoformat(),
        account=account,
        booked=booked.isoformat(),
        amount=amount,
        closing=f"{Decimal('1000.00') + Decimal(amount):.2f}",
        ogm=invoice.structured_communication.strip("+").replace("/", ""),
    ).encode()


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def issue(member, activity, client, *, today: datetime.date = TODAY) -> Invoice:
    draft = make_draft(member, activity, client, [line(quantity="10", price="100.00")])
    return submit_invoice(user=member.user, invoice=draft, today=today, now=NOW)  # 1210.00


@pytest.fixture
def issued(member, activity, belgian_client, no_review) -> Invoice:
    return issue(member, activity, belgian_client)


def refusal(data: bytes, staff, *, now: datetime.datetime = NOW) -> InvoicingError:
    with pytest.raises(InvoicingError) as raised:
        import_bank_statement(data=data, filename="statement.xml", actor=staff, now=now)
    return raised.value


def unpaid(invoice: Invoice) -> bool:
    invoice.refresh_from_db()
    return invoice.status == "issued" and not Payment.objects.exists()


def nothing_written(invoice: Invoice) -> bool:
    invoice.refresh_from_db()
    return (
        invoice.status == "issued"
        and not BankStatement.objects.exists()
        and not BankStatementLine.objects.exists()
        and not Payment.objects.exists()
    )


# The cooperative's accounts


def test_the_seller_iban_of_the_settings_is_the_cooperatives_account_after_migrating(db):
    assert list(BankAccount.objects.values_list("iban", "other_id", "active")) == [
        (COOP_IBAN, "", True)
    ]


def test_configured_accounts_are_ibans_or_explicit_other_identifiers():
    assert parse_configured_accounts(
        ["BE71 0961 2345 6769", "othr:0961234567:BBAN:Belfius", "othr:ACC-77"]
    ) == [
        ConfiguredAccount(iban=COOP_IBAN),
        ConfiguredAccount(other_id="0961234567", other_scheme="BBAN", other_issuer="Belfius"),
        ConfiguredAccount(other_id="ACC-77"),
    ]


@pytest.mark.parametrize(
    ("entries", "error"),
    [
        (
            ["BE71096123456768"],
            "COOP_BANK_ACCOUNTS: “BE71096123456768” is not a valid IBAN (an identifier that is"
            " not an IBAN is written othr:<id>[:<scheme>[:<issuer>]]).",
        ),
        (["othr:"], "COOP_BANK_ACCOUNTS: “othr:” must be othr:<id>[:<scheme>[:<issuer>]]."),
        (
            ["othr:1:BBAN:KBC:extra"],
            "COOP_BANK_ACCOUNTS: “othr:1:BBAN:KBC:extra” must be othr:<id>[:<scheme>[:<issuer>]].",
        ),
        ([], "COOP_BANK_ACCOUNTS is empty: no bank statement could be imported."),
    ],
)
def test_the_system_check_names_a_wrong_configured_account(settings, entries, error):
    settings.COOP_BANK_ACCOUNTS = entries
    [found] = check_configured_accounts()
    assert isinstance(found, Error)
    assert found.msg == error


def test_the_default_configuration_passes_the_system_check():
    assert check_configured_accounts() == []


# Whose account


def test_the_2014_statement_of_another_account_is_refused_and_the_invoice_stays_unpaid(
    issued, staff
):
    data = statement(
        issued,
        booked=datetime.date(2014, 1, 5),
        account=ACCOUNT_BY_IBAN.format(iban=FOREIGN_IBAN),
        statement_id="2014-001",
    )
    error = refusal(data, staff)
    assert error.message == (
        "Statement 2014-001: NL77 ABNA 0574 9087 65 is not one of the cooperative's accounts."
        " Nothing of the file was imported."
    )
    assert (error.code, error.field) == ("foreign_account", "file")
    assert nothing_written(issued)


def test_a_statement_of_the_cooperatives_account_from_2014_is_refused_for_its_age(issued, staff):
    data = statement(issued, booked=datetime.date(2014, 1, 5), statement_id="2014-001")
    error = refusal(data, staff)
    assert error.message == (
        "Statement 2014-001 is dated 01/05/2014, more than 400 days ago: statements are imported"
        " as they arrive. Nothing of the file was imported."
    )
    assert error.code == "statement_date"
    assert nothing_written(issued)


def test_a_statement_of_an_inactive_account_is_refused(issued, staff):
    BankAccount.objects.filter(iban=COOP_IBAN).update(active=False)
    error = refusal(statement(issued, booked=TODAY), staff)
    assert error.message == (
        "Statement 2026-061: BE71 0961 2345 6769 is an account of the cooperative that is no"
        " longer active. Nothing of the file was imported."
    )
    assert nothing_written(issued)


def two_statements(first: bytes, second: bytes) -> bytes:
    """One file holding the ``Stmt`` of both files."""
    start, end = "<Stmt>", "</Stmt>"
    text, other = first.decode(), second.decode()
    added = other[other.index(start) : other.index(end) + len(end)]
    return text.replace(end, end + added, 1).encode()


def test_one_foreign_statement_in_a_file_refuses_the_whole_file(issued, staff):
    foreign = statement(
        issued,
        booked=TODAY,
        account=ACCOUNT_BY_IBAN.format(iban=FOREIGN_IBAN),
        statement_id="2026-062",
    )
    error = refusal(two_statements(statement(issued, booked=TODAY), foreign), staff)
    assert error.message.startswith("Statement 2026-062: NL77 ABNA 0574 9087 65 is not one")
    assert nothing_written(issued)


def test_a_file_holding_the_same_statement_twice_is_refused_cleanly(issued, staff):
    ours = statement(issued, booked=TODAY)
    error = refusal(two_statements(ours, ours), staff)
    assert error.message == ("Statement 2026-061 of BE71 0961 2345 6769 was already imported.")
    assert error.code == "duplicate_statement"
    assert nothing_written(issued)


OTHER_ID_ACCOUNT = ACCOUNT_BY_OTHER_ID.format(
    other_id="0961234567", scheme="BBAN", issuer="Belfius"
)


def test_a_statement_naming_its_account_by_another_identifier_is_booked_when_configured(
    issued, staff
):
    account = BankAccount.objects.create(
        other_id="0961234567", other_scheme="BBAN", label="Belfius (BBAN export)"
    )
    [imported] = import_bank_statement(
        data=statement(issued, booked=TODAY, account=OTHER_ID_ACCOUNT),
        filename="statement.xml",
        actor=staff,
        now=NOW,
    )
    assert (imported.account_iban, imported.bank_account) == ("0961234567", account)
    assert imported.lines.get().status == "matched"
    issued.refresh_from_db()
    assert issued.status == "paid"
    assert Payment.objects.get().received_on == TODAY


def test_a_statement_naming_its_account_by_another_identifier_is_refused_when_not_configured(
    issued, staff
):
    error = refusal(statement(issued, booked=TODAY, account=OTHER_ID_ACCOUNT), staff)
    assert error.message == (
        "Statement 2026-061: 0961234567 (BBAN, Belfius) is not one of the cooperative's"
        " accounts. Nothing of the file was imported."
    )
    assert nothing_written(issued)


def test_another_identifier_of_another_scheme_is_not_the_configured_account(issued, staff):
    BankAccount.objects.create(other_id="0961234567", other_scheme="BBAN")
    account = ACCOUNT_BY_OTHER_ID.format(other_id="0961234567", scheme="CUST", issuer="Belfius")
    error = refusal(statement(issued, booked=TODAY, account=account), staff)
    assert error.message.startswith("Statement 2026-061: 0961234567 (CUST, Belfius) is not one")
    assert nothing_written(issued)


# Dates


@pytest.mark.parametrize(
    ("booked", "created", "error"),
    [
        (
            TODAY + days(2),
            TODAY,
            "Statement 2026-061 books an entry on 03/04/2026, in the future. Nothing of the file"
            " was imported.",
        ),
        (
            TODAY,
            TODAY + days(3),
            "Statement 2026-061 is dated 03/05/2026, in the future. Nothing of the file was"
            " imported.",
        ),
        (
            TODAY - days(401),
            TODAY,
            "Statement 2026-061 books an entry on 01/25/2025, more than 400 days ago: statements"
            " are imported as they arrive. Nothing of the file was imported.",
        ),
    ],
)
def test_statements_dated_in_the_future_or_long_ago_are_refused(
    issued, staff, booked, created, error
):
    assert refusal(statement(issued, booked=booked, created=created), staff).message == error
    assert nothing_written(issued)


def test_a_statement_booked_tomorrow_is_accepted_for_the_time_zones(issued, staff):
    # Banks date in their own time zone: a day ahead of Brussels is not a wrong date.
    import_bank_statement(
        data=statement(issued, booked=TODAY + days(1)),
        filename="statement.xml",
        actor=staff,
        now=NOW,
    )
    payment = Payment.objects.get()
    # The payment is not recorded in the future: it is received today at the latest.
    assert (payment.received_on, payment.invoice) == (TODAY, issued)


def test_a_credit_booked_before_the_invoice_was_issued_waits_for_staff(issued, staff):
    [imported] = import_bank_statement(
        data=statement(issued, booked=TODAY - days(10)),
        filename="statement.xml",
        actor=staff,
        now=NOW,
    )
    line = imported.lines.get()
    assert (line.status, line.invoice) == ("to_review", None)
    assert line.get_status_display() == "To review before matching"
    assert line.note == (
        f"Booked on 02/20/2026, before invoice {issued.number} was issued on 03/02/2026: check"
        " that it is its payment, then match it by hand."
    )
    assert unpaid(issued)


# Payments recorded by hand or through the API


def dated_before(invoice: Invoice) -> str:
    return (
        f"The payment is dated 01/05/2014, before invoice {invoice.number} was issued"
        " (03/02/2026): it cannot be a payment of this invoice."
    )


def test_a_payment_dated_before_the_invoice_is_refused_by_the_service(issued, staff):
    with pytest.raises(InvoicingError) as raised:
        record_payment(
            invoice=issued,
            amount=Decimal("1210.00"),
            received_on=datetime.date(2014, 1, 5),
            actor=staff,
            now=NOW,
        )
    assert raised.value.message == dated_before(issued)
    assert (raised.value.code, raised.value.field) == ("before_issue", "received_on")
    assert not Payment.objects.exists()


def test_only_a_bank_line_can_be_confirmed_as_paid_before_the_invoice(issued, staff):
    with pytest.raises(InvoicingError):
        record_payment(
            invoice=issued,
            amount=Decimal("1210.00"),
            received_on=TODAY - days(1),
            actor=staff,
            before_issue_checked=True,
            now=NOW,
        )
    assert not Payment.objects.exists()


def test_api_refuses_a_payment_dated_before_the_invoice_with_a_problem(issued, staff):
    response = api_for(staff).post(
        f"/api/v1/invoices/{issued.pk}/payments/",
        {"amount": "1210.00", "received_on": "2014-01-05"},
        format="json",
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert (body["code"], body["field"]) == ("before_issue", "received_on")
    assert body["detail"] == dated_before(issued)
    assert unpaid(issued)


def test_api_refuses_a_payment_dated_in_the_future(issued, staff):
    tomorrow = timezone.localdate() + days(1)
    response = api_for(staff).post(
        f"/api/v1/invoices/{issued.pk}/payments/",
        {"amount": "1210.00", "received_on": tomorrow.isoformat()},
        format="json",
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert list(response.json()["errors"]) == ["received_on"]
    assert not Payment.objects.exists()


# The admin


@pytest.fixture
def staff_client(client, staff):
    TOTP.activate(staff, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    client.force_login(staff)
    return client


def test_the_admin_import_shows_why_a_statement_is_refused(staff_client, issued):
    data = statement(issued, booked=TODAY, account=ACCOUNT_BY_IBAN.format(iban=FOREIGN_IBAN))
    response = staff_client.post(
        reverse("admin:invoicing_bankstatement_import"),
        {"file": SimpleUploadedFile("statement.xml", data)},
    )
    assert response.status_code == 200
    assert (
        "Statement 2026-061: NL77 ABNA 0574 9087 65 is not one of the cooperative&#x27;s accounts."
        " Nothing of the file was imported." in response.content.decode()
    )
    assert nothing_written(issued)


@pytest.fixture
def line_to_review(member, activity, belgian_client, no_review, staff) -> BankStatementLine:
    """A line booked ten days before its invoice was issued, imported today (the real day)."""
    today = timezone.localdate()
    invoice = issue(member, activity, belgian_client, today=today)
    import_bank_statement(
        data=statement(invoice, booked=today - days(10)),
        filename="statement.xml",
        actor=staff,
    )
    return BankStatementLine.objects.get(status="to_review")


def test_the_admin_lists_lines_to_review_with_their_reason(staff_client, line_to_review):
    response = staff_client.get(
        reverse("admin:invoicing_bankstatementline_changelist"), {"status__exact": "to_review"}
    )
    page = response.content.decode()
    assert "To review before matching" in page
    assert "Reason or note" in page
    assert f"before invoice {Invoice.objects.get().number} was issued on" in page


def test_staff_match_a_reviewed_line_only_after_confirming_it(staff_client, line_to_review):
    invoice = Invoice.objects.get()
    url = reverse("admin:invoicing_bankstatementline_change", args=[line_to_review.pk])
    refused = staff_client.post(url, {"invoice": invoice.pk})
    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors == {
        "paid_before_issue_checked": [
            f"Booked on {line_to_review.booking_date:%m/%d/%Y}, before invoice {invoice.number} "
            f"was issued on {invoice.issue_date:%m/%d/%Y}. If you checked that the client did "
            "pay this invoice before it was issued, tick “I checked it: the client paid this "
            "invoice before it was issued” and save again."
        ]
    }
    line_to_review.refresh_from_db()
    assert line_to_review.status == "to_review"
    assert not Payment.objects.exists()

    accepted = staff_client.post(url, {"invoice": invoice.pk, "paid_before_issue_checked": "on"})
    assert accepted.status_code == 302
    line_to_review.refresh_from_db()
    assert (line_to_review.status, line_to_review.invoice) == ("matched", invoice)
    assert line_to_review.note == "Matched by hand: paid before the invoice was issued, checked"
    payment = Payment.objects.get()
    assert (payment.received_on, payment.amount, payment.bank_line) == (
        line_to_review.booking_date,
        Decimal("1210.00"),
        line_to_review,
    )
    invoice.refresh_from_db()
    assert invoice.status == "paid"


def test_the_admin_payment_form_refuses_a_date_before_the_invoice(
    staff_client, member, activity, belgian_client, no_review
):
    invoice = issue(member, activity, belgian_client, today=timezone.localdate())
    response = staff_client.post(
        reverse("admin:invoicing_payment_add"),
        {"invoice": invoice.pk, "amount": "1210.00", "received_on": "2014-01-05"},
    )
    assert response.status_code == 200
    assert f"before invoice {invoice.number} was issued" in response.content.decode()
    assert not Payment.objects.exists()


def test_staff_add_an_account_of_the_cooperative_in_the_admin(staff_client):
    response = staff_client.post(
        reverse("admin:invoicing_bankaccount_add"),
        {"label": "KBC", "iban": "BE68 5390 0754 7034", "other_id": "", "active": "on"},
    )
    assert response.status_code == 200
    assert "This IBAN is not valid." in response.content.decode()
    response = staff_client.post(
        reverse("admin:invoicing_bankaccount_add"),
        {"label": "KBC", "iban": "BE62 5100 0754 7061", "other_id": "", "active": "on"},
    )
    assert response.status_code == 302
    assert BankAccount.objects.get(label="KBC").iban == "BE62510007547061"


def test_staff_set_aside_a_line_that_is_no_client_payment(staff_client, line_to_review, staff):
    changelist = reverse("admin:invoicing_bankstatementline_changelist")
    response = staff_client.post(
        changelist,
        {"action": "set_aside", "_selected_action": [line_to_review.pk]},
        follow=True,
    )

    assert "1 line set aside." in response.content.decode()
    line_to_review.refresh_from_db()
    assert line_to_review.status == "ignored"
    assert line_to_review.note.startswith("Set aside by ")
    assert "not a client payment. Before: Booked on " in line_to_review.note
    assert not Payment.objects.exists()
    assert Invoice.objects.get().status == "issued"
    event = AuditEvent.objects.get(action="set_aside")
    assert (event.actor, event.changes) == (staff, {"status": ["to_review", "ignored"]})

    again = staff_client.post(
        changelist, {"action": "set_aside", "_selected_action": [line_to_review.pk]}, follow=True
    )
    assert "can be set aside" in again.content.decode()
    assert AuditEvent.objects.filter(action="set_aside").count() == 1


def test_staff_confirm_an_over_payment_and_the_invoice_shows_it_to_refund(
    staff_client, member, activity, belgian_client, no_review, staff
):
    today = timezone.localdate()
    invoice = issue(member, activity, belgian_client, today=today)
    import_bank_statement(
        data=statement(invoice, booked=today, amount="1250.00"),
        filename="statement.xml",
        actor=staff,
    )
    line = BankStatementLine.objects.get()
    assert (line.status, line.note) == (
        "to_review",
        f"1,250.00\u00a0€ is more than the 1,210.00\u00a0€ still due on invoice {invoice.number}: "
        "check it, then match it by hand and refund the difference, or set it aside.",
    )
    assert unpaid(invoice)

    url = reverse("admin:invoicing_bankstatementline_change", args=[line.pk])
    assert staff_client.post(url, {"invoice": invoice.pk}).status_code == 302
    line.refresh_from_db()
    assert (line.status, line.invoice, line.note) == (
        "matched",
        invoice,
        "Matched by hand. Over-payment of 40.00\u00a0€: refund the client.",
    )
    amounts = Invoice.objects.with_amounts().get(pk=invoice.pk)
    assert (amounts.status, amounts.amount_due) == ("paid", Decimal("-40.00"))

    changelist = reverse("admin:invoicing_invoice_changelist")
    page = staff_client.get(changelist, {"overdue": "overpaid"}).content.decode()
    assert invoice.number in page
    assert "Overpaid by 40.00\xa0€: refund the client" in page
    paid_in_full = issue(member, activity, belgian_client, today=today)
    record_payment(invoice=paid_in_full, amount=Decimal("1210.00"), received_on=today, actor=staff)
    page = staff_client.get(changelist, {"overdue": "overpaid"}).content.decode()
    assert paid_in_full.number not in page


def test_the_invoice_of_a_matched_line_cannot_be_changed_in_the_admin(
    staff_client, member, activity, belgian_client, no_review, staff
):
    today = timezone.localdate()
    invoice = issue(member, activity, belgian_client, today=today)
    other = issue(member, activity, belgian_client, today=today)
    import_bank_statement(
        data=statement(invoice, booked=today), filename="statement.xml", actor=staff
    )
    line = BankStatementLine.objects.get()
    assert (line.status, line.invoice) == ("matched", invoice)
    url = reverse("admin:invoicing_bankstatementline_change", args=[line.pk])

    page = staff_client.get(url).content.decode()
    assert 'name="_save"' not in page
    for typed in ["99999", "abc", str(other.pk)]:
        response = staff_client.post(url, {"invoice": typed}, follow=True)
        text = response.content.decode()
        assert "changed successfully" not in text
        assert "This line is closed (Matched): its invoice cannot be changed here." in text
        line.refresh_from_db()
        assert (line.status, line.invoice) == ("matched", invoice)
    assert Payment.objects.get().invoice == invoice


def _form_errors(response) -> dict:
    """The add form's errors by field ("__all__" for the form), as staff read them."""
    form = response.context["adminform"].form
    return {field: list(messages) for field, messages in form.errors.items()}


@pytest.mark.parametrize(
    ("values", "errors"),
    [
        (
            {"iban": "BE62 5100 0754 7061"},
            {"iban": ["This IBAN is already listed as an account of the cooperative."]},
        ),
        (
            {"iban": "", "other_id": ""},
            {"iban": ["Give the IBAN or the other identifier: one of them, not both."]},
        ),
        (
            {"iban": "BE68 5390 0754 7034", "other_id": "0961234567"},
            {"other_id": ["Give the IBAN or the other identifier: one of them, not both."]},
        ),
        (
            {"iban": "", "other_id": "0961234567", "other_scheme": "BBAN"},
            {"other_id": ["An account with this identifier, scheme and issuer is already listed."]},
        ),
    ],
)
def test_staff_read_why_an_account_is_refused_on_its_field(staff_client, values, errors):
    BankAccount.objects.create(iban="BE62510007547061", label="Existing")
    BankAccount.objects.create(other_id="0961234567", other_scheme="BBAN")
    form = {"label": "New", "iban": "", "other_id": "", "other_scheme": "", "other_issuer": ""}
    count = BankAccount.objects.count()

    response = staff_client.post(
        reverse("admin:invoicing_bankaccount_add"), {**form, "active": "on", **values}
    )

    assert response.status_code == 200
    assert _form_errors(response) == errors
    assert "Constraint" not in response.content.decode()
    assert BankAccount.objects.count() == count
