"""CAMT.053 bank statements: parsed values from Belgian bank exports, and the errors they raise."""

import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation
from lxml import etree
from stdnum.be import ogm_vcs

from coop.errors import CoopError
from invoicing.camt import (
    MAX_FILE_SIZE,
    BankStatement,
    CamtError,
    StatementLine,
    find_structured_communication,
    parse_camt053,
)
from invoicing.models import BankStatementLine

DATA = Path(__file__).parent / "data"
BELFIUS_V02 = "camt053_v02_belfius.xml"
KBC_V08 = "camt053_v08_kbc.xml"
BRUSSELS = ZoneInfo("Europe/Brussels")
MARCH_2 = datetime.date(2026, 3, 2)
MARCH_5 = datetime.date(2026, 3, 5)
BELFIUS_STATEMENT = "BE71096123456769-2026-042"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def sample(name: str = BELFIUS_V02) -> bytes:
    return (DATA / name).read_bytes()


def replaced(old: str, new: str, name: str = BELFIUS_V02) -> bytes:
    """Return the sample with one unique piece of text replaced."""
    text = sample(name).decode()
    assert text.count(old) == 1, old
    return text.replace(old, new).encode()


def error_of(data: bytes) -> CamtError:
    with pytest.raises(CamtError) as raised:
        parse_camt053(data)
    return raised.value


def belfius_lines() -> list[StatementLine]:
    [statement] = parse_camt053(sample())
    return statement.lines


# Belfius, camt.053.001.02


def test_belfius_statement_gives_account_identifier_creation_time_and_balances():
    [statement] = parse_camt053(sample())
    assert statement.account_iban == "BE71096123456769"
    assert statement.statement_id == BELFIUS_STATEMENT
    assert statement.created_at == datetime.datetime(2026, 3, 3, 6, 12, 45, tzinfo=BRUSSELS)
    assert statement.opening_balance == Decimal("15234.56")
    assert statement.closing_balance == Decimal("18523.56")
    assert len(statement.lines) == 6


def test_ogm_given_as_twelve_digits_in_the_structured_reference_is_normalised():
    assert belfius_lines()[0] == StatementLine(
        amount=Decimal("1210.00"),
        currency="EUR",
        is_credit=True,
        is_reversal=False,
        booking_date=MARCH_2,
        value_date=MARCH_2,
        structured_communication="+++123/4567/89002+++",
        free_text="",
        counterparty_name="Atelier Mosaïque SRL",
        counterparty_iban="BE35310123456737",
        bank_reference="2026030200011",
    )


def test_ogm_typed_in_the_free_text_is_found_and_normalised():
    assert belfius_lines()[1] == StatementLine(
        amount=Decimal("484.00"),
        currency="EUR",
        is_credit=True,
        is_reversal=False,
        booking_date=MARCH_2,
        value_date=datetime.date(2026, 3, 1),
        structured_communication="+++010/8068/17183+++",
        free_text="Facture F2026-0018 010/8068/17183",
        counterparty_name="PEETERS JAN",
        counterparty_iban="BE66363987654343",
        bank_reference="2026030200012",
    )


def test_credit_with_free_text_only_has_no_structured_communication():
    assert belfius_lines()[2] == StatementLine(
        amount=Decimal("30.00"),
        currency="EUR",
        is_credit=True,
        is_reversal=False,
        booking_date=MARCH_2,
        value_date=MARCH_2,
        structured_communication="",
        free_text="Part sociale / aandeel Marie Dubois 2026",
        counterparty_name="DUBOIS MARIE",
        counterparty_iban="BE39068247000019",
        bank_reference="2026030200013",
    )


def test_debit_names_the_creditor_as_counterparty():
    line = belfius_lines()[3]
    assert line == StatementLine(
        amount=Decimal("250.00"),
        currency="EUR",
        is_credit=False,
        is_reversal=False,
        booking_date=MARCH_2,
        value_date=MARCH_2,
        structured_communication="",
        free_text="Facture 2026/114 impression programmes",
        counterparty_name="Imprimerie du Canal SA",
        counterparty_iban="BE21001234567803",
        bank_reference="2026030200014",
    )
    assert line.signed_amount == Decimal("-250.00")


def test_batch_entry_gives_one_line_per_transaction_with_its_own_amount_and_ogm():
    municipality = {
        "currency": "EUR",
        "is_credit": True,
        "is_reversal": False,
        "booking_date": MARCH_2,
        "value_date": MARCH_2,
        "free_text": "",
        "counterparty_name": "Commune de Molenbeek-Saint-Jean",
        "counterparty_iban": "BE59000325146626",
    }
    assert belfius_lines()[4:] == [
        StatementLine(
            amount=Decimal("605.00"),
            structured_communication="+++202/6000/01711+++",
            bank_reference="2026030200015/1",
            **municipality,
        ),
        StatementLine(
            amount=Decimal("1210.00"),
            structured_communication="+++202/6000/01812+++",
            bank_reference="2026030200015/2",
            **municipality,
        ),
    ]


@pytest.mark.parametrize("name", [BELFIUS_V02, KBC_V08])
def test_lines_take_each_statement_from_its_opening_to_its_closing_balance(name):
    for statement in parse_camt053(sample(name)):
        moved = sum((line.signed_amount for line in statement.lines), Decimal(0))
        assert statement.opening_balance + moved == statement.closing_balance


@pytest.mark.parametrize("version", [f"{number:02d}" for number in range(2, 14)])
def test_every_camt053_version_from_02_to_13_is_accepted(version):
    data = replaced("camt.053.001.02", f"camt.053.001.{version}")
    assert parse_camt053(data) == parse_camt053(sample())


def test_mistyped_ogm_in_the_structured_reference_stays_visible_in_the_free_text():
    line = parse_camt053(replaced("<Ref>123456789002</Ref>", "<Ref>123456789003</Ref>"))[0]
    assert (line.lines[0].structured_communication, line.lines[0].free_text) == (
        "",
        "123456789003",
    )


def test_creditor_reference_beside_the_ogm_is_kept_in_the_free_text():
    data = replaced(
        "<Ref>123456789002</Ref>\n                </CdtrRefInf>\n              </Strd>",
        "<Ref>123456789002</Ref>\n                </CdtrRefInf>\n              </Strd>"
        "<Strd><CdtrRefInf><Ref>RF18539007547034</Ref></CdtrRefInf></Strd>",
    )
    line = parse_camt053(data)[0].lines[0]
    assert (line.structured_communication, line.free_text) == (
        "+++123/4567/89002+++",
        "RF18539007547034",
    )


def test_two_different_ogms_in_the_free_text_give_none():
    data = replaced("010/8068/17183", "010/8068/17183 et +++123/4567/89002+++")
    line = parse_camt053(data)[0].lines[1]
    assert line.structured_communication == ""
    assert line.free_text == "Facture F2026-0018 010/8068/17183 et +++123/4567/89002+++"


def test_batch_without_an_amount_per_transaction_stays_one_line():
    text = sample().decode()
    without = text.replace(
        '<AmtDtls>\n              <TxAmt>\n                <Amt Ccy="EUR">605.00</Amt>\n'
        "              </TxAmt>\n            </AmtDtls>",
        "",
    )
    assert without != text
    line = parse_camt053(without.encode())[0].lines[4]
    assert line == StatementLine(
        amount=Decimal("1815.00"),
        currency="EUR",
        is_credit=True,
        is_reversal=False,
        booking_date=MARCH_2,
        value_date=MARCH_2,
        structured_communication="",
        free_text="",
        counterparty_name="",
        counterparty_iban="",
        bank_reference="2026030200015",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+++123/4567/89002+++", "+++123/4567/89002+++"),
        ("***123/4567/89002***", "+++123/4567/89002+++"),
        ("Facture 17 - 123/4567/89002", "+++123/4567/89002+++"),
        ("123456789002", "+++123/4567/89002+++"),
        ("com. 123 4567 89002 merci", "+++123/4567/89002+++"),
        ("+++ 000 / 0000 / 09797 +++", "+++000/0000/09797+++"),
        ("+++010/8068/17180+++", ""),  # check digits wrong
        ("1234567890021", ""),  # 13 digits: part of another number
        ("IBAN BE35 3101 2345 6737", ""),
        ("123/4567/89002 and 000/0000/09797", ""),  # two invoices: ambiguous
        ("123/4567/89002 again 123456789002", "+++123/4567/89002+++"),
        ("", ""),
    ],
)
def test_structured_communication_is_found_in_free_text(text, expected):
    assert find_structured_communication(text) == expected


def test_ogms_of_the_samples_have_valid_check_digits():
    for ogm in ["123/4567/89002", "010/8068/17183", "202/6000/01711", "202/6000/01812"]:
        assert ogm_vcs.is_valid(ogm), ogm
    assert ogm_vcs.is_valid("202/6000/01913")
    assert ogm_vcs.is_valid("000/0000/09797")


# KBC, camt.053.001.08, two statements


def test_kbc_file_gives_one_statement_per_account():
    statements = parse_camt053(sample(KBC_V08))
    assert [(s.account_iban, s.statement_id) for s in statements] == [
        ("BE09734123456757", "BE09734123456757-20260305"),
        ("BE95734555000158", "BE95734555000158-20260305"),
    ]


def test_newer_party_structure_and_booking_date_time_are_read():
    line = parse_camt053(sample(KBC_V08))[0].lines[0]
    assert line == StatementLine(
        amount=Decimal("726.00"),
        currency="EUR",
        is_credit=True,
        is_reversal=False,
        booking_date=MARCH_5,
        value_date=MARCH_5,
        structured_communication="+++202/6000/01913+++",
        free_text="",
        counterparty_name="Studio Lumen BV",
        counterparty_iban="NL91ABNA0417164300",
        bank_reference="054209876543210001",
    )


def test_reversed_credit_is_a_debit_flagged_as_reversal_naming_the_original_payer():
    line = parse_camt053(sample(KBC_V08))[0].lines[1]
    assert line == StatementLine(
        amount=Decimal("150.00"),
        currency="EUR",
        is_credit=False,
        is_reversal=True,
        booking_date=MARCH_5,
        value_date=MARCH_5,
        structured_communication="+++000/0000/09797+++",
        free_text="Facture F2026-0020 +++000/0000/09797+++",
        counterparty_name="PEETERS JAN",
        counterparty_iban="BE66363987654343",
        bank_reference="054209876543210002",
    )


def test_pending_entry_is_left_out_and_batch_debit_uses_end_to_end_references():
    lines = parse_camt053(sample(KBC_V08))[0].lines
    assert [(line.amount, line.bank_reference) for line in lines] == [
        (Decimal("726.00"), "054209876543210001"),
        (Decimal("150.00"), "054209876543210002"),
        (Decimal("120.50"), "PAY-2026-0305-01"),
        (Decimal("79.50"), "PAY-2026-0305-02"),
    ]
    assert [line.counterparty_name for line in lines[2:]] == [
        "Brasserie de la Senne",
        "Son et Lumière SRL",
    ]
    assert {line.is_credit for line in lines[2:]} == {False}


def test_entry_without_details_takes_its_text_and_a_reference_from_its_position():
    statement = parse_camt053(sample(KBC_V08))[1]
    assert statement == BankStatement(
        account_iban="BE95734555000158",
        statement_id="BE95734555000158-20260305",
        # No creation time of its own: the file's.
        created_at=datetime.datetime(2026, 3, 6, 5, 30, 12, tzinfo=BRUSSELS),
        opening_balance=Decimal("50000.00"),
        closing_balance=Decimal("50125.40"),
        lines=[
            StatementLine(
                amount=Decimal("125.40"),
                currency="EUR",
                is_credit=True,
                is_reversal=False,
                booking_date=MARCH_5,
                value_date=None,
                structured_communication="",
                free_text="Intérêts créditeurs 2025",
                counterparty_name="",
                counterparty_iban="",
                bank_reference="BE95734555000158-20260305/1",
            )
        ],
    )


# Errors


def test_camt_error_is_a_coop_error_so_the_api_answers_400():
    assert issubclass(CamtError, CoopError)


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>",
        b"Date;Amount;Communication\n2026-03-02;1210.00;+++123/4567/89002+++\n",
        b"<Document><Stmt>",
        b"\x00\x01\x02\x03",
    ],
)
def test_file_that_is_not_xml_is_refused(data):
    error = error_of(data)
    assert (error.message, error.code) == ("This file is not XML.", "camt_not_xml")


def test_empty_file_is_refused():
    assert error_of(b"").message == "This file is empty."


def test_file_over_the_size_limit_is_refused_before_parsing():
    error = error_of(b" " * (MAX_FILE_SIZE + 1))
    assert error.message == "This file is larger than 10 MB: it cannot be a bank statement export."


@pytest.mark.parametrize(
    ("data", "found"),
    [
        (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02">'
            b"<BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>1</MsgId></GrpHdr>"
            b"</BkToCstmrDbtCdtNtfctn></Document>",
            "camt.054.001.02",
        ),
        (
            b'<?xml version="1.0" encoding="UTF-8"?>'
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03">'
            b"<CstmrCdtTrfInitn><GrpHdr><MsgId>PAY-1</MsgId></GrpHdr></CstmrCdtTrfInitn>"
            b"</Document>",
            "pain.001.001.03",
        ),
        (
            b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"/>',
            "Invoice",
        ),
        (b"<Document><BkToCstmrStmt/></Document>", "Document"),
        (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.xx"/>',
            "camt.053.001.xx",
        ),
    ],
)
def test_xml_of_another_kind_is_refused_naming_what_was_found(data, found):
    error = error_of(data)
    assert error.message == (f"This XML file is not a CAMT.053 bank statement (found {found}).")
    assert error.code == "camt_kind"


def test_statement_document_without_statements_is_refused():
    data = b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>'
    data += b"<GrpHdr><MsgId>1</MsgId><CreDtTm>2026-03-03T06:12:45</CreDtTm></GrpHdr>"
    data += b"</BkToCstmrStmt></Document>"
    assert error_of(data).message == "The file contains no statement."


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE Document [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
  <BkToCstmrStmt><Stmt><Id>&lol9;</Id></Stmt></BkToCstmrStmt>
</Document>
"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE Document [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
  <BkToCstmrStmt><Stmt><Id>&secret;</Id></Stmt></BkToCstmrStmt>
</Document>
"""


# In UTF-16 the bytes "<!DOCTYPE" do not appear: the check after parsing must catch it.
UTF16_ENTITY = (
    '<?xml version="1.0" encoding="UTF-16"?>'
    '<!DOCTYPE Document [<!ENTITY name "COOP SCE">]>'
    '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">'
    "<BkToCstmrStmt><Stmt><Id>&name;</Id></Stmt></BkToCstmrStmt></Document>"
).encode("utf-16")


@pytest.mark.parametrize("data", [BILLION_LAUGHS, EXTERNAL_ENTITY, UTF16_ENTITY])
def test_document_type_declaration_with_entities_is_refused(data):
    error = error_of(data)
    assert error.message == (
        "This XML file declares a document type (DTD), which bank statements never do."
    )
    assert error.code == "camt_dtd"


def test_amount_that_is_not_a_number_is_refused_with_its_place():
    data = replaced('<Amt Ccy="EUR">30.00</Amt>', '<Amt Ccy="EUR">12,50</Amt>')
    assert error_of(data).message == (
        f"Statement {BELFIUS_STATEMENT}, entry 3: the amount “12,50” is not a number."
    )


@pytest.mark.parametrize(
    "amount", ["-30.00", "+30.00", "3e1", "NaN", "Infinity", "", "30.000001", "٣٠.٠٠"]
)
def test_amount_outside_the_iso_20022_format_is_refused(amount):
    data = replaced('<Amt Ccy="EUR">30.00</Amt>', f'<Amt Ccy="EUR">{amount}</Amt>')
    assert error_of(data).message == (
        f"Statement {BELFIUS_STATEMENT}, entry 3: the amount “{amount}” is not a number."
    )


@pytest.mark.parametrize("amount", ["99999999999999999.99", "10000000000.00", "9999999999.995"])
def test_amount_larger_than_a_statement_line_holds_is_refused_with_its_place(amount):
    data = replaced('<Amt Ccy="EUR">30.00</Amt>', f'<Amt Ccy="EUR">{amount}</Amt>')
    error = error_of(data)
    assert (error.code, error.message) == (
        "camt_invalid",
        f"Statement {BELFIUS_STATEMENT}, entry 3: the amount {amount} is larger than "
        "9999999999.99, the largest amount that can be recorded.",
    )


def test_largest_amount_a_statement_line_holds_is_read():
    data = replaced('<Amt Ccy="EUR">30.00</Amt>', '<Amt Ccy="EUR">9999999999.99</Amt>')
    [statement] = parse_camt053(data)
    assert Decimal("9999999999.99") in [line.amount for line in statement.lines]


def test_balance_larger_than_a_statement_line_holds_is_refused():
    data = replaced('<Amt Ccy="EUR">15234.56</Amt>', '<Amt Ccy="EUR">99999999999999999.99</Amt>')
    assert error_of(data).message == (
        f"Statement {BELFIUS_STATEMENT}: the amount 99999999999999999.99 is larger than "
        "9999999999.99, the largest amount that can be recorded."
    )


def test_largest_amount_read_is_what_the_amount_column_holds():
    field = BankStatementLine._meta.get_field("amount")
    cent = Decimal(1).scaleb(-field.decimal_places)
    largest = Decimal(10 ** (field.max_digits - field.decimal_places)) - cent
    parse_camt053(replaced('<Amt Ccy="EUR">30.00</Amt>', f'<Amt Ccy="EUR">{largest}</Amt>'))
    with pytest.raises(CamtError):
        parse_camt053(
            replaced('<Amt Ccy="EUR">30.00</Amt>', f'<Amt Ccy="EUR">{largest + cent}</Amt>')
        )


def test_amount_in_a_batch_transaction_is_checked_with_its_place():
    data = replaced('<Amt Ccy="EUR">605.00</Amt>', '<Amt Ccy="EUR">605.OO</Amt>')
    assert error_of(data).message == (
        f"Statement {BELFIUS_STATEMENT}, entry 5, transaction 1: "
        "the amount “605.OO” is not a number."
    )


def test_batch_whose_transactions_do_not_add_up_is_refused():
    data = replaced('<Amt Ccy="EUR">605.00</Amt>', '<Amt Ccy="EUR">600.00</Amt>')
    assert error_of(data).message == (
        f"Statement {BELFIUS_STATEMENT}, entry 5: "
        "its transactions add up to 1810.00 EUR but the entry books 1815.00 EUR."
    )


def test_batch_transaction_in_another_currency_than_its_entry_is_refused():
    data = replaced('<Amt Ccy="EUR">605.00</Amt>', '<Amt Ccy="CHF">605.00</Amt>')
    assert error_of(data).message == (
        f"Statement {BELFIUS_STATEMENT}, entry 5, transaction 1: "
        "the amount is in CHF but the entry is in EUR."
    )


def test_amount_without_currency_is_refused():
    data = replaced('<Amt Ccy="EUR">30.00</Amt>', "<Amt>30.00</Amt>")
    assert error_of(data).message == (
        f"Statement {BELFIUS_STATEMENT}, entry 3: the amount has no valid currency code (found “”)."
    )


def test_other_currency_is_kept_for_the_caller_to_decide():
    data = replaced('<Amt Ccy="EUR">30.00</Amt>', '<Amt Ccy="CHF">30.00</Amt>')
    line = parse_camt053(data)[0].lines[2]
    assert (line.amount, line.currency) == (Decimal("30.00"), "CHF")


def test_account_given_by_another_identifier_is_read_with_its_scheme_and_issuer():
    data = replaced(
        "<IBAN>BE71096123456769</IBAN>\n        </Id>\n        <Ccy>",
        "<Othr><Id>096-1234567-69</Id><SchmeNm><Cd>BBAN</Cd></SchmeNm><Issr>Belfius</Issr>"
        "</Othr>\n        </Id>\n        <Ccy>",
    )
    [statement] = parse_camt053(data)
    assert (
        statement.account_iban,
        statement.account_other_id,
        statement.account_scheme,
        statement.account_issuer,
        statement.account,
    ) == ("", "096-1234567-69", "BBAN", "Belfius", "096-1234567-69 (BBAN, Belfius)")
    assert len(statement.lines) == 6


def test_account_given_by_a_proprietary_scheme_and_no_issuer():
    data = replaced(
        "<IBAN>BE71096123456769</IBAN>\n        </Id>\n        <Ccy>",
        "<Othr><Id>0961234567</Id><SchmeNm><Prtry>ACCOUNT</Prtry></SchmeNm></Othr>"
        "\n        </Id>\n        <Ccy>",
    )
    [statement] = parse_camt053(data)
    assert (statement.account_other_id, statement.account) == ("0961234567", "0961234567 (ACCOUNT)")


def test_statement_without_any_account_identifier_is_refused():
    data = replaced(
        "<IBAN>BE71096123456769</IBAN>\n        </Id>\n        <Ccy>",
        "<Othr><SchmeNm><Cd>BBAN</Cd></SchmeNm></Othr>\n        </Id>\n        <Ccy>",
    )
    error = error_of(data)
    assert error.message == (
        f"Statement {BELFIUS_STATEMENT}: the account has neither an IBAN nor another identifier."
    )
    assert error.code == "camt_invalid"


def test_statement_identifier_longer_than_can_be_kept_is_refused():
    data = replaced(f"<Id>{BELFIUS_STATEMENT}</Id>", f"<Id>{'S' * 141}</Id>")
    assert error_of(data).message == (
        "Statement 1 of the file has an identifier longer than 140 characters."
    )


def test_account_identifier_longer_than_the_standard_allows_is_refused():
    data = replaced(
        "<IBAN>BE71096123456769</IBAN>\n        </Id>\n        <Ccy>",
        f"<Othr><Id>{'1' * 35}</Id></Othr>\n        </Id>\n        <Ccy>",
    )
    assert error_of(data).message == (
        f"Statement {BELFIUS_STATEMENT}: the account identifier {'1' * 35} is longer than 34"
        " characters."
    )


def test_statement_with_a_wrong_account_iban_is_refused():
    data = replaced(
        "<IBAN>BE71096123456769</IBAN>\n        </Id>\n        <Ccy>",
        "<IBAN>BE71096123456768</IBAN>\n        </Id>\n        <Ccy>",
    )
    assert error_of(data).message == (
        f"Statement {BELFIUS_STATEMENT}: the account IBAN BE71096123456768 is not valid."
    )


def test_statement_without_identifier_is_refused():
    data = replaced(f"<Id>{BELFIUS_STATEMENT}</Id>", "")
    assert error_of(data).message == "Statement 1 of the file has no identifier."


def test_unknown_credit_debit_indicator_is_refused():
    data = replaced(
        "<CdtDbtInd>DBIT</CdtDbtInd>\n        <Sts>", "<CdtDbtInd>DEBIT</CdtDbtInd>\n        <Sts>"
    )
    assert error_of(data).message == (
        f"Statement {BELFIUS_STATEMENT}, entry 4: "
        "the credit/debit indicator must be CRDT or DBIT, not “DEBIT”."
    )


def test_impossible_date_is_refused():
    data = replaced(
        "<Dt>2026-03-01</Dt>\n        </ValDt>", "<Dt>2026-02-30</Dt>\n        </ValDt>"
    )
    assert error_of(data).message == (
        f"Statement {BELFIUS_STATEMENT}, entry 2: the date “2026-02-30” is not valid."
    )


def test_booked_entry_without_booking_date_is_refused():
    data = replaced(
        '<Amt Ccy="EUR">30.00</Amt>\n        <CdtDbtInd>CRDT</CdtDbtInd>\n        <Sts>BOOK</Sts>\n'
        "        <BookgDt>\n          <Dt>2026-03-02</Dt>\n        </BookgDt>",
        '<Amt Ccy="EUR">30.00</Amt>\n        <CdtDbtInd>CRDT</CdtDbtInd>\n        <Sts>BOOK</Sts>',
    )
    assert error_of(data).message == (
        f"Statement {BELFIUS_STATEMENT}, entry 3: the entry has no booking date."
    )


def elements(data: bytes) -> int:
    return sum(1 for _ in etree.fromstring(data).iter())


def without_element(data: bytes, index: int) -> bytes:
    root = etree.fromstring(data)
    element = list(root.iter())[index]
    element.getparent().remove(element)
    return etree.tostring(root)


def leaves(data: bytes) -> list[int]:
    return [
        index for index, element in enumerate(etree.fromstring(data).iter()) if not len(element)
    ]


def with_text(data: bytes, index: int, text: str) -> bytes:
    root = etree.fromstring(data)
    element = list(root.iter())[index]
    element.text = text
    return etree.tostring(root)


def parses_or_says_why(data: bytes) -> None:
    try:
        parse_camt053(data)
    except CamtError as error:
        assert error.message


@pytest.mark.parametrize("name", [BELFIUS_V02, KBC_V08])
def test_removing_any_element_gives_statements_or_a_camt_error(name):
    data = sample(name)
    for index in range(1, elements(data)):
        parses_or_says_why(without_element(data, index))


@pytest.mark.parametrize("name", [BELFIUS_V02, KBC_V08])
@pytest.mark.parametrize("text", ["", "x", "2026-13-45T99:00:00", "9" * 60])
def test_any_element_holding_junk_gives_statements_or_a_camt_error(name, text):
    data = sample(name)
    for index in leaves(data):
        parses_or_says_why(with_text(data, index, text))


def test_truncated_file_is_not_xml():
    data = sample()
    for length in range(1, len(data) - 20, 97):
        assert error_of(data[:length]).code == "camt_not_xml"
