"""Payments, credit notes, bank statements and reminders, and what they do to the ledger."""

import datetime
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import translation

from invoicing.errors import InvoicingError
from invoicing.models import BankStatement, BankStatementLine, Invoice, Payment, Reminder
from invoicing.services.credit import CreditLineInput, request_credit_note
from invoicing.services.issue import approve_invoice, submit_invoice
from invoicing.services.payments import import_bank_statement, record_payment
from invoicing.services.reminders import send_due_reminders
from members.models import Activity, LedgerEntry
from tests.conftest import NOW, run_at_once
from tests.invoicing.conftest import TODAY, days, line, make_draft


@pytest.fixture
def issued(member, activity, belgian_client, no_review):
    draft = make_draft(member, activity, belgian_client, [line(quantity="10", price="100.00")])
    return submit_invoice(user=member.user, invoice=draft, today=TODAY, now=NOW)  # 1210.00


def balances(activity):
    row = Activity.objects.with_balances().get(pk=activity.pk)
    return row.available_balance, row.planned_balance


def ledger(invoice):
    return list(
        LedgerEntry.objects.filter(reference=invoice.number)
        .order_by("pk")
        .values_list("kind", "stage", "amount")
    )


def test_full_payment_posts_income_and_the_fee(issued, staff, activity):
    record_payment(
        invoice=issued, amount=Decimal("1210.00"), received_on=TODAY, actor=staff, now=NOW
    )
    issued.refresh_from_db()
    assert issued.status == "paid"
    assert ledger(issued) == [
        ("client_income", "planned", Decimal("1000.00")),
        ("client_income", "planned", Decimal("-1000.00")),
        ("client_income", "available", Decimal("1000.00")),
        ("cooperative_fee", "available", Decimal("-65.00")),
    ]
    assert balances(activity) == (Decimal("935.00"), Decimal("0.00"))


def test_partial_payments_add_up_exactly(issued, staff, activity):
    for amount in ["400.00", "333.33", "476.67"]:
        record_payment(
            invoice=issued, amount=Decimal(amount), received_on=TODAY, actor=staff, now=NOW
        )
        issued.refresh_from_db()
        if amount != "476.67":
            assert issued.status == "partially_paid"
    assert issued.status == "paid"
    assert balances(activity) == (Decimal("935.00"), Decimal("0.00"))
    income = LedgerEntry.objects.filter(kind="client_income", stage="available").aggregate(
        total=Sum("amount")
    )["total"]
    assert income == Decimal("1000.00")


def test_over_payment_brings_no_extra_income(issued, staff, activity):
    # Only money that did arrive can be more than what is due: a bank line staff matched.
    data = camt_file(paying(issued, "1300.00"))
    import_bank_statement(data=data, filename="march.xml", actor=staff, now=NOW)
    record_payment(
        invoice=issued,
        amount=Decimal("1300.00"),
        received_on=TODAY,
        actor=staff,
        method=Payment.Method.BANK_STATEMENT,
        bank_line=BankStatementLine.objects.get(),
        now=NOW,
    )
    amounts = Invoice.objects.with_amounts().get(pk=issued.pk)
    assert (amounts.status, amounts.amount_due) == ("paid", Decimal("-90.00"))
    assert balances(activity) == (Decimal("935.00"), Decimal("0.00"))


@pytest.mark.parametrize(
    ("amount", "received_on"),
    [
        (Decimal("0"), TODAY),
        (Decimal("-5"), TODAY),
        (Decimal("10.001"), TODAY),
        (10.0, TODAY),
        (Decimal("10"), TODAY + days(400)),
    ],
)
def test_bad_payments_are_refused_and_nothing_is_written(issued, staff, amount, received_on):
    with pytest.raises(InvoicingError):
        record_payment(invoice=issued, amount=amount, received_on=received_on, actor=staff, now=NOW)
    assert Payment.objects.count() == 0
    assert len(ledger(issued)) == 1


def test_a_payment_recorded_by_hand_cannot_exceed_what_is_due(issued, staff, activity):
    def pay(amount: str) -> Payment:
        return record_payment(
            invoice=issued, amount=Decimal(amount), received_on=TODAY, actor=staff, now=NOW
        )

    with pytest.raises(InvoicingError) as error:
        pay("9999999999.99")
    assert (error.value.code, error.value.field, error.value.message) == (
        "over_payment",
        "amount",
        "Only 1,210.00\u00a0€ is still due on invoice 2026-000001: a payment recorded by "
        "hand cannot be more (9,999,999,999.99\u00a0€).",
    )
    pay("1000.00")
    with pytest.raises(InvoicingError, match=r"Only 210\.00\u00a0€ is still due"):
        pay("210.01")
    pay("210.00")
    with pytest.raises(InvoicingError, match=r"Only 0\.00\u00a0€ is still due"):
        pay("0.01")
    assert [payment.amount for payment in Payment.objects.all()] == [
        Decimal("1000.00"),
        Decimal("210.00"),
    ]
    amounts = Invoice.objects.with_amounts().get(pk=issued.pk)
    assert (amounts.status, amounts.amount_due) == ("paid", Decimal("0.00"))
    assert balances(activity) == (Decimal("935.00"), Decimal("0.00"))


@pytest.mark.django_db(transaction=True)
def test_parallel_payments_cannot_all_pass_the_limit(issued, staff):
    def pay() -> str:
        try:
            record_payment(
                invoice=issued, amount=Decimal("1210.00"), received_on=TODAY, actor=staff, now=NOW
            )
        except InvoicingError as error:
            return error.code
        return "paid"

    assert run_at_once(pay, times=4) == ["over_payment", "over_payment", "over_payment", "paid"]
    amounts = Invoice.objects.with_amounts().get(pk=issued.pk)
    assert (amounts.amount_paid, amounts.amount_due) == (Decimal("1210.00"), Decimal("0.00"))


def test_draft_cannot_be_paid(draft, staff):
    with pytest.raises(InvoicingError) as error:
        record_payment(invoice=draft, amount=Decimal("1"), received_on=TODAY, actor=staff, now=NOW)
    assert error.value.code == "not_payable"


def test_full_credit_note_cancels_the_planned_income(issued, member, staff, activity):
    credit_note = request_credit_note(user=member.user, invoice=issued, reason="Show cancelled")
    assert (credit_note.status, credit_note.number) == ("pending_review", None)
    assert credit_note.total_incl_vat == Decimal("1210.00")
    from invoicing.services.issue import approve_invoice

    approve_invoice(staff_user=staff, invoice=credit_note, today=TODAY, now=NOW)
    issued.refresh_from_db()
    assert issued.status == "credited"
    assert balances(activity) == (Decimal("0.00"), Decimal("0.00"))
    assert Invoice.objects.with_amounts().get(pk=issued.pk).amount_due == Decimal("0.00")


def credit(issued, *, staff, **request):
    """Credit an issued invoice: its member requests the credit note, staff approve it."""
    credit_note = request_credit_note(user=issued.created_by, invoice=issued, **request)
    return approve_invoice(staff_user=staff, invoice=credit_note, today=TODAY, now=NOW)


def test_partial_credit_then_payment_of_the_rest(issued, staff, activity):
    credit(
        issued,
        staff=staff,
        reason="One day less",
        lines=[CreditLineInput(position=1, quantity=Decimal("1"), description="One day less")],
    )
    record_payment(
        invoice=issued, amount=Decimal("1089.00"), received_on=TODAY, actor=staff, now=NOW
    )
    issued.refresh_from_db()
    assert issued.status == "paid"
    assert balances(activity) == (Decimal("841.50"), Decimal("0.00"))


def test_credit_notes_cannot_exceed_the_invoice(issued, staff):
    credit(issued, staff=staff, reason="x")
    with pytest.raises(InvoicingError) as error:
        request_credit_note(
            user=staff,
            invoice=issued,
            reason="again",
            lines=[CreditLineInput(position=1, amount=Decimal("1"))],
        )
    assert error.value.code == "credit_too_large"
    assert Invoice.objects.filter(kind="credit_note").count() == 1


def test_draft_cannot_be_credited(draft, staff):
    with pytest.raises(InvoicingError) as error:
        request_credit_note(user=staff, invoice=draft, reason="x")
    assert error.value.code == "not_issued"


CAMT = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
 <BkToCstmrStmt>
  <GrpHdr><MsgId>MSG-1</MsgId><CreDtTm>2026-03-02T09:00:00</CreDtTm></GrpHdr>
  <Stmt>
   <Id>{statement_id}</Id>
   <CreDtTm>2026-03-02T09:00:00</CreDtTm>
   <Acct><Id><IBAN>BE71096123456769</IBAN></Id><Ccy>EUR</Ccy></Acct>
   {entries}
  </Stmt>
 </BkToCstmrStmt>
</Document>"""

ENTRY = """<Ntry>
 <Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>{direction}</CdtDbtInd><Sts>BOOK</Sts>
 <BookgDt><Dt>2026-03-02</Dt></BookgDt><ValDt><Dt>2026-03-02</Dt></ValDt>
 <AcctSvcrRef>{reference}</AcctSvcrRef>
 <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
 <NtryDtls><TxDtls>
  <Refs><AcctSvcrRef>{reference}</AcctSvcrRef></Refs>
  <RltdPties><Dbtr><Nm>Theatre des Galeries</Nm></Dbtr>
   <DbtrAcct><Id><IBAN>BE68539007547034</IBAN></Id></DbtrAcct></RltdPties>
  <RmtInf>{remittance}</RmtInf>
 </TxDtls></NtryDtls>
</Ntry>"""


def structured(ogm: str) -> str:
    return (
        "<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry><Issr>BBA</Issr></Tp>"
        f"<Ref>{ogm.strip('+').replace('/', '')}</Ref></CdtrRefInf></Strd>"
    )


def paying(invoice: Invoice, amount: str, *, reference: str = "B1") -> str:
    """An entry crediting ``amount`` with the invoice's structured communication."""
    return ENTRY.format(
        amount=amount,
        direction="CRDT",
        reference=reference,
        remittance=structured(invoice.structured_communication),
    )


def camt_file(*entries: str, statement_id: str = "2026-058") -> bytes:
    return CAMT.format(statement_id=statement_id, entries="".join(entries)).encode()


def test_bank_statement_matches_by_structured_communication(issued, staff, activity):
    data = camt_file(
        paying(issued, "600.00"),
        ENTRY.format(
            amount="50.00",
            direction="CRDT",
            reference="B2",
            remittance="<Ustrd>Invoice of March, thanks</Ustrd>",
        ),
        ENTRY.format(
            amount="20.00",
            direction="CRDT",
            reference="B3",
            remittance=structured("+++000/0000/09797+++"),
        ),
        ENTRY.format(
            amount="75.00", direction="DBIT", reference="B4", remittance="<Ustrd>Rent</Ustrd>"
        ),
    )
    (statement,) = import_bank_statement(data=data, filename="march.xml", actor=staff, now=NOW)
    lines = {line.bank_reference: line for line in statement.lines.all()}
    assert {ref: line.status for ref, line in lines.items()} == {
        "B1": "matched",
        "B2": "unmatched",
        "B3": "unmatched",
        "B4": "ignored",
    }
    assert lines["B1"].invoice == issued
    assert lines["B1"].note == "Partial payment: 610.00\u00a0€ still due."
    payment = Payment.objects.get()
    assert (payment.amount, payment.method, payment.bank_line) == (
        Decimal("600.00"),
        "bank_statement",
        lines["B1"],
    )
    issued.refresh_from_db()
    assert issued.status == "partially_paid"


def test_bank_line_notes_write_amounts_in_the_active_language(issued, staff):
    data = camt_file(paying(issued, "600.00"), paying(issued, "1250.00", reference="B2"))
    with translation.override("nl"):
        import_bank_statement(data=data, filename="march.xml", actor=staff, now=NOW)
    notes = dict(BankStatementLine.objects.values_list("bank_reference", "note"))
    assert "610,00\u00a0€" in notes["B1"]
    assert "1.250,00\u00a0€" in notes["B2"]
    assert "610,00\u00a0€" in notes["B2"]


def without_bank_reference(entry: str, *, end_to_end: str) -> str:
    """The entry as a bank writes it that gives no reference of its own."""
    payer_reference = f"<Refs><EndToEndId>{end_to_end}</EndToEndId></Refs>"
    return entry.replace("<AcctSvcrRef></AcctSvcrRef>\n", "").replace(
        "<Refs><AcctSvcrRef></AcctSvcrRef></Refs>", payer_reference
    )


def test_entries_without_a_bank_reference_and_the_same_payer_reference_are_imported(issued, staff):
    data = camt_file(
        without_bank_reference(paying(issued, "600.00", reference=""), end_to_end="E2E"),
        without_bank_reference(paying(issued, "10.00", reference=""), end_to_end="E2E"),
    )
    assert b"AcctSvcrRef" not in data
    import_bank_statement(data=data, filename="march.xml", actor=staff, now=NOW)
    assert list(
        BankStatementLine.objects.order_by("pk").values_list("bank_reference", "amount", "status")
    ) == [
        ("2026-058/1", Decimal("600.00"), "matched"),
        ("2026-058/2", Decimal("10.00"), "matched"),
    ]
    with pytest.raises(InvoicingError) as error:
        import_bank_statement(data=data, filename="march.xml", actor=staff, now=NOW)
    assert error.value.code == "duplicate_statement"
    assert BankStatementLine.objects.count() == 2


def test_entries_with_the_same_bank_reference_are_imported_by_their_position(issued, staff):
    data = camt_file(
        paying(issued, "600.00", reference="B1"),
        paying(issued, "10.00", reference="B2"),
        paying(issued, "20.00", reference="B1"),
    )
    import_bank_statement(data=data, filename="march.xml", actor=staff, now=NOW)
    assert list(
        BankStatementLine.objects.order_by("pk").values_list("bank_reference", "amount")
    ) == [
        ("2026-058/1", Decimal("600.00")),
        ("B2", Decimal("10.00")),
        ("2026-058/3", Decimal("20.00")),
    ]
    assert Payment.objects.count() == 3


def test_lines_whose_references_cannot_be_stored_apart_refuse_the_file_cleanly(issued, staff):
    # A statement id of 140 characters leaves no room for the line's position in its reference.
    statement_id = "S" * 140
    data = camt_file(
        without_bank_reference(paying(issued, "600.00", reference=""), end_to_end="NOTPROVIDED"),
        without_bank_reference(paying(issued, "10.00", reference=""), end_to_end="NOTPROVIDED"),
        statement_id=statement_id,
    )
    with pytest.raises(InvoicingError) as error:
        import_bank_statement(data=data, filename="march.xml", actor=staff, now=NOW)
    assert error.value.message == (
        f"Statement {statement_id}: two of its lines cannot be told apart by their references. "
        "Nothing of the file was imported."
    )
    assert not BankStatement.objects.exists()
    assert not Payment.objects.exists()


def test_over_payment_from_the_bank_is_flagged(issued, staff):
    data = camt_file(paying(issued, "1250.00"))
    import_bank_statement(data=data, filename="march.xml", actor=staff, now=NOW)
    line = BankStatementLine.objects.get()
    # More than is due is not matched on its own: staff look at it first.
    assert (line.status, line.invoice, line.note) == (
        "to_review",
        None,
        "1,250.00\u00a0€ is more than the 1,210.00\u00a0€ still due on invoice 2026-000001: "
        "check it, then match it by hand and refund the difference, or set it aside.",
    )
    assert Payment.objects.count() == 0
    issued.refresh_from_db()
    assert issued.status == "issued"


def test_a_bank_line_beyond_what_is_left_due_goes_to_review(issued, staff):
    record_payment(
        invoice=issued, amount=Decimal("1000.00"), received_on=TODAY, actor=staff, now=NOW
    )
    data = camt_file(
        *(
            paying(issued, amount, reference=reference)
            for amount, reference in [("210.00", "B1"), ("210.00", "B2")]
        )
    )
    import_bank_statement(data=data, filename="march.xml", actor=staff, now=NOW)
    assert list(BankStatementLine.objects.values_list("bank_reference", "status", "note")) == [
        ("B1", "matched", ""),
        (
            "B2",
            "to_review",
            "210.00\u00a0€ is more than the 0.00\u00a0€ still due on invoice 2026-000001: check "
            "it, then match it by hand and refund the difference, or set it aside.",
        ),
    ]
    assert Invoice.objects.with_amounts().get(pk=issued.pk).amount_due == Decimal("0.00")


def test_an_amount_beyond_what_can_be_stored_is_refused_and_nothing_is_written(issued, staff):
    data = camt_file(
        paying(issued, "100.00"),
        paying(issued, "99999999999999999.99", reference="B2"),
    )
    with pytest.raises(InvoicingError) as error:
        import_bank_statement(data=data, filename="march.xml", actor=staff, now=NOW)
    assert (error.value.code, error.value.field, error.value.message) == (
        "camt",
        "file",
        "Statement 2026-058, entry 2: the amount 99999999999999999.99 is larger than "
        "9999999999.99, the largest amount that can be recorded.",
    )
    assert (BankStatement.objects.count(), Payment.objects.count()) == (0, 0)


def test_the_same_statement_cannot_be_imported_twice(issued, staff):
    data = camt_file(paying(issued, "100.00"))
    import_bank_statement(data=data, filename="march.xml", actor=staff, now=NOW)
    with pytest.raises(InvoicingError) as error:
        import_bank_statement(data=data, filename="march.xml", actor=staff, now=NOW)
    assert error.value.code == "duplicate_statement"
    assert Payment.objects.count() == 1
    assert BankStatement.objects.count() == 1


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7 not xml",
        b"<?xml version='1.0'?><Document xmlns='urn:iso:std:iso:20022:tech:xsd:pain.001.001.03'/>",
        b"",
    ],
)
def test_files_that_are_not_camt053_are_refused_cleanly(staff, data):
    with pytest.raises(InvoicingError) as error:
        import_bank_statement(data=data, filename="x", actor=staff, now=NOW)
    assert error.value.field == "file"
    assert error.value.message
    assert BankStatement.objects.count() == 0


def test_reminders_go_out_once_per_level_even_if_runs_are_skipped_or_repeated(
    issued, django_capture_on_commit_callbacks
):
    due = issued.due_date
    assert send_due_reminders(today=due, now=NOW) == 0
    assert send_due_reminders(today=due + days(6), now=NOW) == 0
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert send_due_reminders(today=due + days(7), now=NOW) == 1
        assert send_due_reminders(today=due + days(7), now=NOW) == 0  # ran twice
    assert len(callbacks) == 1
    # The scheduler skipped two weeks: the missed level follows, one per run.
    assert send_due_reminders(today=due + days(40), now=NOW) == 1
    assert send_due_reminders(today=due + days(40), now=NOW) == 0
    assert send_due_reminders(today=due + days(41), now=NOW) == 1
    assert send_due_reminders(today=due + days(42), now=NOW) == 0
    assert list(Reminder.objects.values_list("level", "sent_on")) == [
        (1, due + days(7)),
        (2, due + days(40)),
        (3, due + days(41)),
    ]
    issued.refresh_from_db()
    assert issued.formal_notice_due_at == NOW


def test_paid_invoices_get_no_reminder(issued, staff):
    record_payment(
        invoice=issued, amount=Decimal("1210.00"), received_on=TODAY, actor=staff, now=NOW
    )
    assert send_due_reminders(today=issued.due_date + days(60), now=NOW) == 0


def test_reminder_email_is_sent_once_in_the_client_language(issued, mailoutbox):
    from invoicing.services.documents import send_reminder_email

    send_due_reminders(today=issued.due_date + days(8), now=NOW)
    reminder = Reminder.objects.get()
    assert send_reminder_email(reminder=reminder) is True
    assert send_reminder_email(reminder=reminder) is False
    (message,) = mailoutbox
    assert message.to == ["compta@galeries.example"]
    assert issued.number in message.subject
    assert "1\u00a0210,00\u00a0€" in message.body  # amounts written the client's (French) way
    assert issued.structured_communication in message.body


def test_overdue(issued):
    assert issued.is_overdue(issued.due_date) is False
    assert issued.is_overdue(issued.due_date + datetime.timedelta(days=1)) is True
