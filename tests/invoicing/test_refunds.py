"""Refunds: what a credit note leaves owed to a client who paid goes back, once, on the ledger."""

from decimal import Decimal

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.test import Client
from django.urls import reverse
from lxml import etree

from invoicing.errors import InvoicingError
from invoicing.models import Invoice, Refund
from invoicing.services.credit import CreditLineInput, request_credit_note
from invoicing.services.issue import approve_invoice
from invoicing.services.payments import record_payment
from invoicing.services.refunds import create_refund_payment_file, record_refund, request_refund
from members.models import Activity, LedgerEntry
from tests.conftest import NOW, api_client_for, make_user
from tests.invoicing.conftest import TODAY, bank_line_matched_by_hand

NBSP = "\u00a0"
CLIENT_IBAN = "BE68068897250734"


@pytest.fixture
def colleague(db):
    return make_user("colleague@coop.test", is_staff=True, is_superuser=True, name="Noor Colleague")


@pytest.fixture
def invoice(two_rate_invoice):
    return two_rate_invoice


def credit_line_1(invoice, staff):
    credit_note = request_credit_note(
        user=invoice.created_by,
        invoice=invoice,
        reason="Room not used",
        lines=[CreditLineInput(position=1, amount=Decimal("150.00"))],
    )
    return approve_invoice(staff_user=staff, invoice=credit_note, today=TODAY, now=NOW)


def ask_refund(credit_note, staff, amount="1.00", method=Refund.Method.MANUAL):
    return request_refund(
        staff_user=staff,
        credit_note=credit_note,
        amount=Decimal(amount),
        client_iban=CLIENT_IBAN,
        method=method,
    )


def balances(activity):
    row = Activity.objects.with_balances().get(pk=activity.pk)
    return row.available_balance, row.planned_balance


@pytest.fixture
def paid_and_credited(invoice, staff):
    record_payment(
        invoice=invoice, amount=Decimal("1369.00"), received_on=TODAY, actor=staff, now=NOW
    )
    return credit_line_1(invoice, staff)


def test_a_credit_note_on_a_paid_invoice_is_refunded(paid_and_credited, invoice):
    settlement = paid_and_credited.snapshot["settlement"]
    assert (settlement["deducted"], settlement["refunded"]) == ("0.00", "159.00")
    assert Invoice.objects.with_amounts().get(pk=invoice.pk).amount_due == Decimal("-159.00")


def test_refund_by_sepa_transfer_from_request_to_paid(
    paid_and_credited, invoice, staff, colleague, activity, member, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    credit_note = paid_and_credited
    assert balances(activity) == (Decimal("1075.25"), Decimal("-150.00"))

    refund = request_refund(
        staff_user=staff,
        credit_note=credit_note,
        amount=Decimal("159.00"),
        client_iban="BE68 0688 9725 0734",
        method=Refund.Method.SEPA_TRANSFER,
        now=NOW,
    )
    assert (refund.status, refund.client_iban, refund.account_holder) == (
        "requested",
        CLIENT_IBAN,
        "Théâtre des Galeries SA",
    )
    with pytest.raises(InvoicingError) as error:
        ask_refund(credit_note, staff, "0.01")
    assert error.value.message == f"At most 0.00{NBSP}€ is owed to the client for this credit note."

    with pytest.raises(InvoicingError) as error:
        create_refund_payment_file(
            staff_user=staff, refunds=[refund], execution_date=TODAY, now=NOW
        )
    assert error.value.code == "own_request"
    payment_file = create_refund_payment_file(
        staff_user=colleague, refunds=[refund], execution_date=TODAY, now=NOW
    )
    root = etree.fromstring(payment_file.file.read())
    transfers = root.findall(".//{*}CdtTrfTxInf")
    assert [
        (
            transfer.findtext("{*}Cdtr/{*}Nm"),
            transfer.findtext("{*}CdtrAcct/{*}Id/{*}IBAN"),
            transfer.findtext("{*}Amt/{*}InstdAmt"),
            transfer.findtext("{*}PmtId/{*}EndToEndId"),
        )
        for transfer in transfers
        # The SEPA character set has no accents: the builder writes them plain.
    ] == [("Theatre des Galeries SA", CLIENT_IBAN, "159.00", f"REFUND-{refund.pk}")]
    assert root.findtext(".//{*}DbtrAcct/{*}Id/{*}IBAN") == settings.COOP_SELLER["iban"]
    refund.refresh_from_db()
    assert (refund.status, refund.payment_file) == ("in_payment_file", payment_file)
    assert balances(activity) == (Decimal("1075.25"), Decimal("-150.00"))

    record_refund(
        staff_user=colleague, refund=refund, paid_on=TODAY, bank_reference="BANK-REF-1", now=NOW
    )
    refund.refresh_from_db()
    assert (refund.status, refund.paid_on, refund.settled_by) == ("paid", TODAY, colleague)
    assert list(
        LedgerEntry.objects.filter(source_id=refund.pk, reference=credit_note.number)
        .order_by("pk")
        .values_list("kind", "stage", "amount")
    ) == [
        ("client_income", "planned", Decimal("150.00")),
        ("client_income", "available", Decimal("-150.00")),
        ("cooperative_fee", "available", Decimal("9.75")),
    ]
    # What is left: 1000.00 of income less the 6.5 % fee; nothing planned.
    assert balances(activity) == (Decimal("935.00"), Decimal("0.00"))
    assert Invoice.objects.with_amounts().get(pk=invoice.pk).amount_due == Decimal("0.00")

    with pytest.raises(InvoicingError) as error:
        record_refund(
            staff_user=colleague, refund=refund, paid_on=TODAY, bank_reference="BANK-REF-2"
        )
    assert error.value.code == "already_settled"
    assert (
        LedgerEntry.objects.filter(source_id=refund.pk, reference=credit_note.number).count() == 3
    )

    body = api_client_for(member.user).get(f"/api/v1/invoices/{credit_note.pk}/").json()
    assert body["amount_due"] is None
    assert body["amount_refundable"] == "0.00"
    assert [(row["amount"], row["status"], row["method"]) for row in body["refunds"]] == [
        ("159.00", "paid", "sepa_transfer")
    ]


def test_a_refund_recorded_by_hand_needs_a_second_person_and_counts_once(
    paid_and_credited, staff, colleague, activity
):
    refund = ask_refund(paid_and_credited, staff, "100.00")
    with pytest.raises(InvoicingError) as error:
        record_refund(staff_user=staff, refund=refund, paid_on=TODAY, bank_reference="REF-9")
    assert error.value.code == "own_request"

    record_refund(staff_user=colleague, refund=refund, paid_on=TODAY, bank_reference="REF-9")
    refund.refresh_from_db()
    assert (refund.status, refund.bank_reference) == ("recorded", "REF-9")
    with pytest.raises(InvoicingError):
        record_refund(staff_user=colleague, refund=refund, paid_on=TODAY, bank_reference="REF-9")
    # 100.00 of 159.00: 94.34 of income and its fee of 6.13 go back.
    assert balances(activity) == (
        Decimal("1075.25") - Decimal("94.34") + Decimal("6.13"),
        Decimal("-55.66"),
    )

    second = ask_refund(paid_and_credited, staff, "59.00")
    with pytest.raises(InvoicingError) as error:
        record_refund(staff_user=colleague, refund=second, paid_on=TODAY, bank_reference="REF-9")
    assert error.value.code == "duplicate_reference"


def test_a_credit_note_on_an_unpaid_invoice_leaves_nothing_to_refund(invoice, staff):
    credit_note = credit_line_1(invoice, staff)

    assert Invoice.objects.with_amounts().get(pk=invoice.pk).amount_due == Decimal("1210.00")
    with pytest.raises(InvoicingError) as error:
        ask_refund(credit_note, staff, "1.00")
    assert error.value.code == "refund_too_large"
    assert not Refund.objects.exists()


def test_staff_of_the_activity_and_members_cannot_refund(paid_and_credited, member):
    with pytest.raises(InvoicingError) as error:
        ask_refund(paid_and_credited, member.user, "1.00")
    assert error.value.code == "not_staff"
    member.user.is_staff = True
    member.user.save(update_fields=["is_staff"])
    with pytest.raises(InvoicingError) as error:
        ask_refund(paid_and_credited, member.user, "1.00")
    assert error.value.code == "own_invoice"
    assert not Refund.objects.exists()


def admin_client_for(user):
    client = Client()
    TOTP.activate(user, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    client.force_login(user)
    return client


def test_staff_request_send_and_record_refunds_in_the_admin(
    paid_and_credited, staff, colleague, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    requester, sender = admin_client_for(staff), admin_client_for(colleague)
    add = requester.post(
        reverse("admin:invoicing_refund_add"),
        {
            "credit_note": paid_and_credited.pk,
            "amount": "159.00",
            "client_iban": CLIENT_IBAN,
            "account_holder": "",
            "method": "sepa_transfer",
        },
    )
    assert add.status_code == 302
    refund = Refund.objects.get()
    assert (refund.status, refund.requested_by) == ("requested", staff)

    changelist = reverse("admin:invoicing_refund_changelist")
    waiting = sender.get(changelist, {"status__exact": "requested"}).content.decode()
    assert paid_and_credited.number in waiting
    assert (
        paid_and_credited.number
        not in sender.get(changelist, {"status__exact": "paid"}).content.decode()
    )

    own = requester.post(
        changelist, {"action": "make_payment_file", "_selected_action": [refund.pk]}, follow=True
    ).content.decode()
    assert "You requested this refund: another staff member sends and records it." in own
    made = sender.post(
        changelist, {"action": "make_payment_file", "_selected_action": [refund.pk]}, follow=True
    ).content.decode()
    assert "made with 1 refund: upload it to the bank." in made
    refund.refresh_from_db()
    assert refund.status == "in_payment_file"
    download = sender.get(
        reverse("admin:invoicing_refundpaymentfile_sepa", args=[refund.payment_file.pk])
    )
    assert CLIENT_IBAN.encode() in b"".join(download.streaming_content)

    paid = {
        "action": "mark_paid",
        "_selected_action": [refund.pk],
        "paid_on": TODAY.isoformat(),
        "bank_reference": "BANK-77",
    }
    assert "1 refund recorded." in sender.post(changelist, paid, follow=True).content.decode()
    again = sender.post(changelist, paid, follow=True).content.decode()
    assert "This refund is already recorded" in again
    refund.refresh_from_db()
    assert (refund.status, refund.bank_reference) == ("paid", "BANK-77")
    assert LedgerEntry.objects.filter(source_id=refund.pk, kind="cooperative_fee").count() == 1


def test_recording_a_refund_paid_on_a_date_that_is_not_one_says_so(
    paid_and_credited, staff, colleague
):
    refund = ask_refund(paid_and_credited, staff, "159.00")
    changelist = reverse("admin:invoicing_refund_changelist")
    page = admin_client_for(colleague).post(
        changelist,
        {"action": "mark_paid", "_selected_action": [refund.pk], "paid_on": "abc"},
        follow=True,
    )
    text = page.content.decode()
    assert "Give the date of payment." in text
    assert "No action selected." not in text
    refund.refresh_from_db()
    assert refund.status == "requested"


def test_a_refund_to_an_account_of_the_cooperative_is_refused(paid_and_credited, staff):
    with pytest.raises(InvoicingError) as error:
        request_refund(
            staff_user=staff,
            credit_note=paid_and_credited,
            amount=Decimal("159.00"),
            client_iban="be71 0961 2345 6769",
            method=Refund.Method.SEPA_TRANSFER,
        )
    assert (error.value.code, error.value.field, error.value.message) == (
        "own_iban",
        "client_iban",
        "BE71 0961 2345 6769 is an account of the cooperative: a refund goes to the client's "
        "own account.",
    )
    assert not Refund.objects.exists()


def test_the_member_sees_how_the_credit_note_is_settled(paid_and_credited, staff, member, client):
    ask_refund(paid_and_credited, staff, "159.00", method=Refund.Method.SEPA_TRANSFER)
    client.force_login(member.user)
    page = client.get(reverse("invoicing:invoice_detail", args=[paid_and_credited.pk]))

    text = page.content.decode()
    assert paid_and_credited.snapshot["settlement"]["text"] in text
    assert f"Refund of 159.00{NBSP}€: Requested." in text


# A fully credited invoice partly paid, then over-paid: refunds never reverse unposted income


@pytest.fixture
def room_invoice(member, activity, belgian_client, no_review):
    """1 × 150.00 at 6 %: 159.00."""
    from invoicing.services.issue import submit_invoice
    from tests.invoicing.conftest import line, make_draft

    draft = make_draft(
        member,
        activity,
        belgian_client,
        [line("Rehearsal room", quantity="1", unit="piece", price="150.00", vat_rate=6)],
    )
    return submit_invoice(user=member.user, invoice=draft, today=TODAY, now=NOW)


def credit(invoice, staff, amount_excl_vat):
    credit_note = request_credit_note(
        user=invoice.created_by,
        invoice=invoice,
        reason="Room not used",
        lines=[CreditLineInput(position=1, amount=Decimal(amount_excl_vat))],
    )
    return approve_invoice(staff_user=staff, invoice=credit_note, today=TODAY, now=NOW)


@pytest.fixture
def credited_and_over_paid(room_invoice, staff):
    record_payment(
        invoice=room_invoice, amount=Decimal("100.00"), received_on=TODAY, actor=staff, now=NOW
    )
    return credit(room_invoice, staff, "100.00"), credit(room_invoice, staff, "50.00")


def test_refunds_never_reverse_income_that_was_never_made_available(
    credited_and_over_paid, room_invoice, staff, colleague, activity
):
    first, second = credited_and_over_paid
    # 100.00 paid made 94.34 available, less the fee 6.13; the credit notes unplan 150.00.
    assert balances(activity) == (Decimal("88.21"), Decimal("-94.34"))
    bank_line_matched_by_hand(room_invoice, staff, "59.00")
    # All over-payment: the invoice is fully credited, nothing more becomes income.
    assert balances(activity) == (Decimal("88.21"), Decimal("-94.34"))

    for credit_note, amount, reference in ((first, "106.00", "R-1"), (second, "53.00", "R-2")):
        refund = ask_refund(credit_note, staff, amount)
        record_refund(
            staff_user=colleague, refund=refund, paid_on=TODAY, bank_reference=reference, now=NOW
        )
    # Only the 94.34 of income and the 6.13 of fee ever posted are reversed: nothing is owed.
    assert balances(activity) == (Decimal("0.00"), Decimal("0.00"))
    refunds = Refund.objects.order_by("pk")
    assert [
        sorted(
            (entry.kind, entry.stage, entry.amount)
            for entry in LedgerEntry.objects.filter(
                source_type__model="refund", source_id=refund.pk
            )
        )
        for refund in refunds
    ] == [
        [
            ("client_income", "available", Decimal("-94.34")),
            ("client_income", "planned", Decimal("94.34")),
            ("cooperative_fee", "available", Decimal("6.13")),
        ],
        [],
    ]
    assert Invoice.objects.with_amounts().get(pk=room_invoice.pk).amount_due == Decimal("0.00")


def test_the_refundable_amounts_of_an_invoices_credit_notes_add_up_to_what_was_paid(
    credited_and_over_paid, staff
):
    first, second = credited_and_over_paid
    refundable = Invoice.objects.with_refundable().filter(pk__in=[first.pk, second.pk])
    assert dict(refundable.values_list("pk", "amount_refundable")) == {
        first.pk: Decimal("100.00"),
        second.pk: Decimal("0.00"),
    }
    with pytest.raises(InvoicingError) as error:
        ask_refund(second, staff, "0.01")
    assert error.value.message == f"At most 0.00{NBSP}€ is owed to the client for this credit note."
    ask_refund(first, staff, "60.00")
    refundable = Invoice.objects.with_refundable().filter(pk__in=[first.pk, second.pk])
    assert dict(refundable.values_list("pk", "amount_refundable")) == {
        first.pk: Decimal("40.00"),
        second.pk: Decimal("0.00"),
    }


def test_a_fully_credited_invoice_partly_paid_is_credited_with_the_payment_to_refund(
    credited_and_over_paid, room_invoice, staff, colleague, member, client
):
    room_invoice.refresh_from_db()
    assert room_invoice.status == "credited"
    body = api_client_for(member.user).get(f"/api/v1/invoices/{room_invoice.pk}/").json()
    assert (body["status"], body["amount_due"], body["amount_to_refund"]) == (
        "credited",
        "0.00",
        "100.00",
    )
    client.force_login(member.user)
    listed = client.get(reverse("invoicing:invoice_list")).content.decode()
    assert f"100.00{NBSP}€ to refund" in listed
    assert f"-100.00{NBSP}€" not in listed
    detail = client.get(reverse("invoicing:invoice_detail", args=[room_invoice.pk]))
    assert f"To refund to the client</dt><dd>100.00{NBSP}€" in detail.content.decode()
    changelist = admin_client_for(colleague).get(reverse("admin:invoicing_invoice_changelist"))
    row = next(
        row for row in changelist.content.decode().split("<tr") if f">{room_invoice.number}<" in row
    )
    assert "Credited" in row
    assert "Overpaid by 100.00\xa0€: refund the client" in row

    # Once the 100.00 goes back, nothing is due nor owed, and the invoice stays credited.
    refund = ask_refund(credited_and_over_paid[0], staff, "100.00")
    record_refund(staff_user=colleague, refund=refund, paid_on=TODAY, bank_reference="R-3", now=NOW)
    room_invoice.refresh_from_db()
    amounts = Invoice.objects.with_amounts().get(pk=room_invoice.pk)
    assert (room_invoice.status, amounts.amount_due, amounts.amount_to_refund) == (
        "credited",
        Decimal("0.00"),
        Decimal("0.00"),
    )


# An over-payment refunded without a credit note


def test_an_over_payment_is_refunded_without_a_credit_note(
    room_invoice, staff, colleague, activity, member, client, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    bank_line_matched_by_hand(room_invoice, staff, "200.00")
    assert Invoice.objects.with_amounts().get(pk=room_invoice.pk).amount_due == Decimal("-41.00")
    before = balances(activity)

    with pytest.raises(InvoicingError) as error:
        request_refund(
            staff_user=staff,
            invoice=room_invoice,
            amount=Decimal("41.01"),
            client_iban=CLIENT_IBAN,
            method=Refund.Method.SEPA_TRANSFER,
        )
    assert error.value.message == (
        f"At most 41.00{NBSP}€ was paid beyond invoice {room_invoice.number} and is not yet "
        "refunded."
    )
    refund = request_refund(
        staff_user=staff,
        invoice=room_invoice,
        amount=Decimal("41.00"),
        client_iban=CLIENT_IBAN,
        method=Refund.Method.SEPA_TRANSFER,
        now=NOW,
    )
    payment_file = create_refund_payment_file(
        staff_user=colleague, refunds=[refund], execution_date=TODAY, now=NOW
    )
    root = etree.fromstring(payment_file.file.read())
    assert [
        (transfer.findtext("{*}Amt/{*}InstdAmt"), transfer.findtext("{*}RmtInf/{*}Ustrd"))
        for transfer in root.findall(".//{*}CdtTrfTxInf")
    ] == [("41.00", f"Refund of over-payment, invoice {room_invoice.number}")]
    record_refund(
        staff_user=colleague, refund=refund, paid_on=TODAY, bank_reference="R-OVER", now=NOW
    )
    refund.refresh_from_db()
    assert refund.status == "paid"
    # The over-payment never became income: nothing moves on the Activity.
    assert balances(activity) == before
    assert not LedgerEntry.objects.filter(source_type__model="refund").exists()
    assert Invoice.objects.with_amounts().get(pk=room_invoice.pk).amount_due == Decimal("0.00")
    client.force_login(member.user)
    page = client.get(reverse("invoicing:invoice_detail", args=[room_invoice.pk]))
    assert f"Refund of 41.00{NBSP}€: Paid." in page.content.decode()


def test_staff_refund_an_over_payment_from_the_refund_add_form(room_invoice, staff, colleague):
    bank_line_matched_by_hand(room_invoice, staff, "200.00")
    admin = admin_client_for(colleague)
    changelist = admin.get(reverse("admin:invoicing_invoice_changelist")).content.decode()
    add_url = reverse("admin:invoicing_refund_add")
    assert f'<a href="{add_url}?invoice={room_invoice.pk}">Overpaid by 41.00\xa0€' in changelist
    form = {
        "amount": "41.00",
        "client_iban": CLIENT_IBAN,
        "account_holder": "",
        "method": "manual",
    }
    neither = admin.post(add_url, form)
    assert neither.context["adminform"].form.non_field_errors() == [
        "Choose the credit note to refund, or, to refund an over-payment, the invoice: one of "
        "the two."
    ]
    response = admin.post(add_url, {**form, "invoice": room_invoice.pk})
    assert response.status_code == 302
    refund = Refund.objects.get()
    assert (refund.invoice, refund.credit_note, refund.amount, refund.requested_by) == (
        room_invoice,
        None,
        Decimal("41.00"),
        colleague,
    )


def test_api_lists_invoices_as_the_serializer_reads_them_one_by_one(
    paid_and_credited, invoice, staff, member, activity, french_client
):
    """The list reads a page's lines, documents and refunds together; each row says what the
    serializer says of the invoice read alone, relation by relation."""
    from invoicing.api import InvoiceSerializer
    from invoicing.services.drafts import AllowanceChargeInput
    from tests.invoicing.conftest import line, make_draft

    ask_refund(paid_and_credited, staff, "9.00")
    # A draft with a discount and a line taxed in Belgium for a French business: a warning.
    make_draft(
        member,
        activity,
        french_client,
        [line("Consulting", vat_category="S", vat_rate=Decimal("21"))],
        allowance_charges=[
            AllowanceChargeInput(
                is_charge=False,
                reason="Loyalty",
                vat_category="S",
                vat_rate=Decimal("21"),
                percent=Decimal("10"),
                amount=None,
            )
        ],
    )
    browser = api_client_for(member.user)
    rows = browser.get("/api/v1/invoices/").json()["results"]
    request = browser.get("/api/v1/invoices/").wsgi_request
    alone = {
        row["pk"]: InvoiceSerializer(
            Invoice.objects.with_amounts().with_refundable().get(pk=row["pk"]),
            context={"request": request},
        ).data
        for row in rows
    }
    assert [row["pk"] for row in rows] == list(alone)
    assert rows == [alone[row["pk"]] for row in rows]
    assert rows == [browser.get(f"/api/v1/invoices/{row['pk']}/").json() for row in rows]
    assert [row["url"] for row in rows] == [
        f"http://testserver/api/v1/invoices/{row['pk']}/" for row in rows
    ]
    formatted = browser.get("/api/v1/invoices/?format=json").json()["results"]
    assert [row["url"] for row in formatted] == [
        f"http://testserver/api/v1/invoices/{row['pk']}/?format=json" for row in rows
    ]
    by_kind = {(row["kind"], row["status"]): row for row in rows}
    assert {key: len(row["lines"]) for key, row in by_kind.items()} == {
        ("invoice", "draft"): 1,
        ("credit_note", "issued"): 1,
        ("invoice", "paid"): 2,
    }
    assert [refund["amount"] for refund in by_kind[("credit_note", "issued")]["refunds"]] == [
        "9.00"
    ]
    draft = by_kind[("invoice", "draft")]
    assert draft["allowance_charges"][0]["reason"] == "Loyalty"
    assert len(draft["warnings"]) == 1
    assert by_kind[("invoice", "paid")]["lines"][0]["credited_line_position"] is None
    credit_note = by_kind[("credit_note", "issued")]
    assert credit_note["lines"][0]["credited_line_position"] == 1
