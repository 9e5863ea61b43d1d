"""Read ISO 20022 CAMT.053 bank statements as Belgian banks export them.

BNP Paribas Fortis, KBC, Belfius and ING export versions camt.053.001.02 to .001.13; the parts
read here have the same shape in all of them, except the related parties (``Dbtr/Nm`` became
``Dbtr/Pty/Nm`` in .001.08) and the per-transaction amount (``AmtDtls/TxAmt/Amt`` in .001.02,
``TxDtls/Amt`` from .001.04).

A statement names its account by ``Acct/Id/IBAN``, or at some banks by ``Acct/Id/Othr/Id`` (with
an optional scheme and issuer): both are read; whether the account is the cooperative's is for
the importer to decide.

The parser yields one ``StatementLine`` per transaction: an entry (``Ntry``) of a batch booking
carries several transactions (``NtryDtls/TxDtls``), each with its own amount and remittance
information. Everything malformed raises ``CamtError`` with a message a staff member can act on;
no lxml or ``ValueError`` escapes.
"""

import re
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from lxml import etree
from stdnum import iban as iban_module
from stdnum.be import ogm_vcs

from coop.errors import CoopError

NAMESPACE_PREFIX = "urn:iso:std:iso:20022:tech:xsd:camt.053.001."
ISO_20022_PREFIX = "urn:iso:std:iso:20022:tech:xsd:"
MAX_FILE_SIZE = 10 * 1024 * 1024
DOCTYPE = b"<!DOCTYPE"

# ISO 20022 amounts: at most 18 digits, 5 of them decimals; never signed, never an exponent.
AMOUNT = re.compile(r"\d{1,18}(\.\d{1,5})?", re.ASCII)
CURRENCY = re.compile(r"[A-Z]{3}")
ISO_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})(Z|[+-]\d{2}:\d{2})?", re.ASCII)
# A structured communication typed by hand: 3, 4 and 5 digits, with or without slashes or spaces
# between them and +++ or *** around them (the decoration is ignored, the check digits decide).
OGM_IN_TEXT = re.compile(
    r"(?<!\d)(\d{3})(?:\s*/\s*|\s+)?(\d{4})(?:\s*/\s*|\s+)?(\d{5})(?!\d)", re.ASCII
)
# Pending, informative and future entries are not booked: the same money comes back booked later.
UNBOOKED_STATUSES = {"PDNG", "INFO", "FUTR"}
OPENING_BALANCES = ("OPBD", "PRCD")
CLOSING_BALANCES = ("CLBD",)
NOT_PROVIDED = "NOTPROVIDED"
SHOWN_VALUE_LENGTH = 40
MAX_ACCOUNT_ID_LENGTH = 34  # ISO 20022 Max34Text
MAX_STATEMENT_ID_LENGTH = 140  # what is stored; ISO 20022 allows 35, some banks write more
# What a statement line's amount column holds (12 digits, 2 of them decimals); ISO 20022 allows
# 18 digits. Balances are held to the same bound: no account of the cooperative comes near it.
MAX_AMOUNT = Decimal("9999999999.99")


class CamtError(CoopError):
    """The bank statement file cannot be read; ``message`` tells the user why."""


@dataclass(frozen=True, kw_only=True)
class StatementLine:
    """One booked transaction: a payment received or made, never a sum of several."""

    amount: Decimal  # never negative: ``is_credit`` gives the direction
    currency: str
    is_credit: bool  # money came into the account
    # The entry undoes an earlier one of the opposite direction: a reversed credit is booked as
    # a debit, so a line that is a credit and a reversal is not a payment from a client.
    is_reversal: bool
    booking_date: date
    value_date: date | None
    structured_communication: str  # "+++123/4567/89002+++", or "" when none is valid
    free_text: str
    counterparty_name: str
    counterparty_iban: str  # compact, as the bank gave it; "" when unknown
    bank_reference: str

    @property
    def signed_amount(self) -> Decimal:
        return self.amount if self.is_credit else -self.amount


@dataclass(frozen=True, kw_only=True)
class BankStatement:
    """One statement (``Stmt``) of one account; a file may hold several."""

    account_iban: str  # compact; "" when the bank names the account by another identifier
    statement_id: str
    created_at: datetime | None  # the statement's, else the file's
    lines: list[StatementLine]  # booked entries only, in the bank's order
    opening_balance: Decimal | None = None  # signed: negative when overdrawn
    closing_balance: Decimal | None = None
    # ``Acct/Id/Othr``: the account's identifier when the bank gives no IBAN.
    account_other_id: str = ""
    account_scheme: str = ""  # SchmeNm/Cd or SchmeNm/Prtry
    account_issuer: str = ""

    @property
    def account(self) -> str:
        """The account as staff read it."""
        return account_label(
            iban=self.account_iban,
            other_id=self.account_other_id,
            scheme=self.account_scheme,
            issuer=self.account_issuer,
        )


def account_label(*, iban: str, other_id: str, scheme: str = "", issuer: str = "") -> str:
    """An IBAN in groups of four, or another identifier followed by its scheme and issuer."""
    if iban:
        return iban_module.format(iban)
    qualifiers = ", ".join(part for part in (scheme, issuer) if part)
    return f"{other_id} ({qualifiers})" if qualifiers else other_id


def parse_camt053(data: bytes) -> list[BankStatement]:
    """Return the statements of a CAMT.053 file, or raise CamtError saying what is wrong."""
    root = _parse_document(data)
    statements = root.findall("BkToCstmrStmt/Stmt")
    if not statements:
        raise CamtError(_("The file contains no statement."), code="camt_empty")
    group_created_at = _datetime(root, "BkToCstmrStmt/GrpHdr/CreDtTm", where=_("The file"))
    return [
        _statement(element, number=number, group_created_at=group_created_at)
        for number, element in enumerate(statements, start=1)
    ]


def find_structured_communication(text: str) -> str:
    """Return the one valid OGM in a text as "+++ddd/dddd/ddddd+++"; "" for none or several."""
    found = {
        "".join(match.groups())
        for match in OGM_IN_TEXT.finditer(text)
        if ogm_vcs.is_valid("".join(match.groups()))
    }
    return _format_ogm(found.pop()) if len(found) == 1 else ""


def _format_ogm(digits: str) -> str:
    return f"+++{ogm_vcs.format(digits)}+++"


def _parse_document(data: bytes) -> etree._Element:
    """Parse the bytes safely and return the root with the CAMT namespace removed from tags."""
    if not data:
        raise CamtError(_("This file is empty."), code="camt_empty")
    if len(data) > MAX_FILE_SIZE:
        raise CamtError(
            _("This file is larger than %(size)s MB: it cannot be a bank statement export.")
            % {"size": MAX_FILE_SIZE // (1024 * 1024)},
            code="camt_too_large",
        )
    # A bank never sends a DTD, so one is an attack (entity expansion, external entities) or junk.
    # The byte search names it before libxml2 rejects an entity bomb as a mere syntax error; the
    # doctype check after parsing catches it in encodings the search cannot see (UTF-16).
    if DOCTYPE in data:
        raise _dtd_error()
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(data, parser)
    except (etree.XMLSyntaxError, ValueError) as error:
        raise CamtError(_("This file is not XML."), code="camt_not_xml") from error
    if root.getroottree().docinfo.doctype:
        raise _dtd_error()
    qualified = etree.QName(root)
    namespace = qualified.namespace or ""
    version = namespace.removeprefix(NAMESPACE_PREFIX)
    is_statement = (
        qualified.localname == "Document"
        and namespace.startswith(NAMESPACE_PREFIX)
        and version.isascii()
        and version.isdigit()
    )
    if not is_statement:
        found = (
            namespace.removeprefix(ISO_20022_PREFIX)
            if namespace.startswith(ISO_20022_PREFIX)
            else qualified.localname
        )
        raise CamtError(
            _("This XML file is not a CAMT.053 bank statement (found %(found)s).")
            % {"found": _shown(found)},
            code="camt_kind",
        )
    tag_prefix = f"{{{namespace}}}"
    for element in root.iter():
        if element.tag.startswith(tag_prefix):
            element.tag = element.tag.removeprefix(tag_prefix)
    return root


def _dtd_error() -> CamtError:
    return CamtError(
        _("This XML file declares a document type (DTD), which bank statements never do."),
        code="camt_dtd",
    )


def _statement(
    element: etree._Element, *, number: int, group_created_at: datetime | None
) -> BankStatement:
    statement_id = _text(element, "Id")
    if not statement_id:
        raise CamtError(
            _("Statement %(number)s of the file has no identifier.") % {"number": number},
            code="camt_invalid",
        )
    if len(statement_id) > MAX_STATEMENT_ID_LENGTH:
        raise CamtError(
            _(
                "Statement %(number)s of the file has an identifier longer than %(length)s "
                "characters."
            )
            % {"number": number, "length": MAX_STATEMENT_ID_LENGTH},
            code="camt_invalid",
        )
    where = _("Statement %(statement)s") % {"statement": _shown(statement_id)}
    account_iban = iban_module.compact(_text(element, "Acct/Id/IBAN"))
    other_id = _text(element, "Acct/Id/Othr/Id")
    if not account_iban and not other_id:
        raise CamtError(
            _("%(where)s: the account has neither an IBAN nor another identifier.")
            % {"where": where},
            code="camt_invalid",
        )
    if not account_iban and len(other_id) > MAX_ACCOUNT_ID_LENGTH:
        raise CamtError(
            _("%(where)s: the account identifier %(value)s is longer than %(length)s characters.")
            % {"where": where, "value": _shown(other_id), "length": MAX_ACCOUNT_ID_LENGTH},
            code="camt_invalid",
        )
    if account_iban and not iban_module.is_valid(account_iban, check_country=False):
        raise CamtError(
            _("%(where)s: the account IBAN %(iban)s is not valid.")
            % {"where": where, "iban": _shown(account_iban)},
            code="camt_invalid",
        )
    lines: list[StatementLine] = []
    positions: list[str] = []
    for entry_number, entry in enumerate(element.findall("Ntry"), start=1):
        if _text(entry, "Sts") not in UNBOOKED_STATUSES:
            entry_lines = _entry_lines(entry, statement_id=statement_id, number=entry_number)
            lines += entry_lines
            positions += (
                [f"{statement_id}/{entry_number}"]
                if len(entry_lines) == 1
                else [
                    f"{statement_id}/{entry_number}/{position}"
                    for position in range(1, len(entry_lines) + 1)
                ]
            )
    return BankStatement(
        lines=_unique_references(lines, positions),
        account_iban=account_iban,
        statement_id=statement_id,
        created_at=_datetime(element, "CreDtTm", where=where) or group_created_at,
        opening_balance=_balance(element, OPENING_BALANCES, where=where),
        closing_balance=_balance(element, CLOSING_BALANCES, where=where),
        account_other_id="" if account_iban else other_id,
        account_scheme=""
        if account_iban
        else (
            _text(element, "Acct/Id/Othr/SchmeNm/Cd")
            or _text(element, "Acct/Id/Othr/SchmeNm/Prtry")
        ),
        account_issuer="" if account_iban else _text(element, "Acct/Id/Othr/Issr"),
    )


def _unique_references(lines: list[StatementLine], positions: list[str]) -> list[StatementLine]:
    """Give each line a reference of its own within the statement.

    A bank may give no reference of its own and the payers the same end-to-end reference, or
    repeat one reference: such lines take their place in the statement instead (statement,
    entry and transaction numbers), which is the same each time the file is read.
    """
    counts = Counter(line.bank_reference for line in lines)
    unique = [
        line if counts[line.bank_reference] == 1 else replace(line, bank_reference=position)
        for line, position in zip(lines, positions, strict=True)
    ]
    if len({line.bank_reference for line in unique}) == len(unique):
        return unique
    # A bank's own reference happens to look like a position: every line takes its position.
    return [
        replace(line, bank_reference=position)
        for line, position in zip(lines, positions, strict=True)
    ]


def _balance(statement: etree._Element, codes: tuple[str, ...], *, where: str) -> Decimal | None:
    for code in codes:
        for balance in statement.findall("Bal"):
            if _text(balance, "Tp/CdOrPrtry/Cd") == code:
                amount, _currency = _amount(balance.find("Amt"), where=where)
                return amount if _is_credit(balance, where=where) else -amount
    return None


@dataclass(frozen=True, kw_only=True)
class _EntryFacts:
    """What an entry tells about all of its transactions."""

    statement_id: str
    number: int
    where: str
    amount: Decimal
    currency: str
    is_credit: bool
    is_reversal: bool
    booking_date: date
    value_date: date | None
    reference: str


def _entry_lines(entry: etree._Element, *, statement_id: str, number: int) -> list[StatementLine]:
    """Return one line per transaction of the entry, or one for the entry when it has no details."""
    where = _("Statement %(statement)s, entry %(entry)s") % {
        "statement": _shown(statement_id),
        "entry": number,
    }
    amount, currency = _amount(entry.find("Amt"), where=where)
    is_credit = _is_credit(entry, where=where)
    booking_date = _date(entry, "BookgDt", where=where)
    if booking_date is None:
        raise CamtError(
            _("%(where)s: the entry has no booking date.") % {"where": where}, code="camt_invalid"
        )
    facts = _EntryFacts(
        statement_id=statement_id,
        number=number,
        where=where,
        amount=amount,
        currency=currency,
        is_credit=is_credit,
        is_reversal=_text(entry, "RvslInd").lower() in {"true", "1"},
        booking_date=booking_date,
        value_date=_date(entry, "ValDt", where=where),
        reference=_text(entry, "AcctSvcrRef"),
    )
    transactions = entry.findall("NtryDtls/TxDtls")
    if len(transactions) > 1:
        lines = _batch_lines(transactions, facts)
        if lines is not None:
            return lines
    return [
        _line(
            # One transaction, or a batch that cannot be split: the entry gives the amount.
            transactions[0] if len(transactions) == 1 else etree.Element("TxDtls"),
            facts,
            amount=amount,
            currency=currency,
            is_credit=is_credit,
            fallback_references=[facts.reference, f"{statement_id}/{number}"],
            fallback_text=_text(entry, "AddtlNtryInf"),
        )
    ]


def _batch_lines(
    transactions: list[etree._Element], facts: _EntryFacts
) -> list[StatementLine] | None:
    """Return a line per transaction of a batch, or None when they do not all give an amount."""
    found: list[tuple[etree._Element, str, tuple[Decimal, str]]] = []
    for position, transaction in enumerate(transactions, start=1):
        where = _("Statement %(statement)s, entry %(entry)s, transaction %(transaction)s") % {
            "statement": _shown(facts.statement_id),
            "entry": facts.number,
            "transaction": position,
        }
        amount_and_currency = _transaction_amount(transaction, where=where)
        if amount_and_currency is None:
            return None
        found.append((transaction, where, amount_and_currency))
    lines = []
    for position, (transaction, where, (amount, currency)) in enumerate(found, start=1):
        if currency != facts.currency:
            raise CamtError(
                _("%(where)s: the amount is in %(found)s but the entry is in %(currency)s.")
                % {"where": where, "found": currency, "currency": facts.currency},
                code="camt_invalid",
            )
        lines.append(
            _line(
                transaction,
                facts,
                amount=amount,
                currency=currency,
                is_credit=(
                    _is_credit(transaction, where=where)
                    if _text(transaction, "CdtDbtInd")
                    else facts.is_credit
                ),
                fallback_references=[
                    f"{facts.reference}/{position}" if facts.reference else "",
                    f"{facts.statement_id}/{facts.number}/{position}",
                ],
                fallback_text="",
            )
        )
    total = sum((line.signed_amount for line in lines), Decimal(0))
    booked = facts.amount if facts.is_credit else -facts.amount
    if total != booked:
        raise CamtError(
            _("%(where)s: its transactions add up to %(total)s but the entry books %(booked)s.")
            % {
                "where": facts.where,
                "total": f"{total} {facts.currency}",
                "booked": f"{booked} {facts.currency}",
            },
            code="camt_invalid",
        )
    return lines


def _line(
    transaction: etree._Element,
    facts: _EntryFacts,
    *,
    amount: Decimal,
    currency: str,
    is_credit: bool,
    fallback_references: list[str],
    fallback_text: str,
) -> StatementLine:
    """Build a line from the transaction details (an empty element when the entry has none)."""
    structured_references = [
        _text(reference, "CdtrRefInf/Ref") for reference in transaction.findall("RmtInf/Strd")
    ]
    valid = {
        digits for digits in map(_ogm_digits, structured_references) if ogm_vcs.is_valid(digits)
    }
    chosen = valid.pop() if len(valid) == 1 else ""
    structured = _format_ogm(chosen) if chosen else ""
    unstructured = [
        _clean("".join(text.itertext())) for text in transaction.findall("RmtInf/Ustrd")
    ]
    # A structured reference that is not the OGM (an RF reference, a mistyped OGM) stays visible.
    others = [
        reference
        for reference in structured_references
        if reference and _ogm_digits(reference) != chosen
    ]
    free_text = " ".join(part for part in [*unstructured, *others] if part)
    if not free_text:
        free_text = _text(transaction, "AddtlTxInf") or fallback_text
    if not structured:
        structured = find_structured_communication(free_text)

    # The counterparty is the other side of the original transfer, even when it is reversed.
    party = "Dbtr" if is_credit != facts.is_reversal else "Cdtr"
    end_to_end = _text(transaction, "Refs/EndToEndId")
    candidates = [
        _text(transaction, "Refs/AcctSvcrRef"),
        fallback_references[0],
        "" if end_to_end.upper() == NOT_PROVIDED else end_to_end,
        *fallback_references[1:],
    ]
    return StatementLine(
        amount=amount,
        currency=currency,
        is_credit=is_credit,
        is_reversal=facts.is_reversal,
        booking_date=facts.booking_date,
        value_date=facts.value_date,
        structured_communication=structured,
        free_text=free_text,
        counterparty_name=(
            _text(transaction, f"RltdPties/{party}/Nm")
            or _text(transaction, f"RltdPties/{party}/Pty/Nm")
        ),
        counterparty_iban=iban_module.compact(_text(transaction, f"RltdPties/{party}Acct/Id/IBAN")),
        bank_reference=next(reference for reference in candidates if reference),
    )


def _ogm_digits(reference: str) -> str:
    return re.sub(r"[\s+*/]", "", reference)


def _transaction_amount(transaction: etree._Element, *, where: str) -> tuple[Decimal, str] | None:
    for path in ("Amt", "AmtDtls/TxAmt/Amt"):
        element = transaction.find(path)
        if element is not None:
            return _amount(element, where=where)
    return None


def _amount(element: etree._Element | None, *, where: str) -> tuple[Decimal, str]:
    if element is None:
        raise CamtError(
            _("%(where)s: the amount is missing.") % {"where": where}, code="camt_invalid"
        )
    text = _clean("".join(element.itertext()))
    if not AMOUNT.fullmatch(text):
        raise CamtError(
            _("%(where)s: the amount “%(value)s” is not a number.")
            % {"where": where, "value": _shown(text)},
            code="camt_invalid",
        )
    currency = (element.get("Ccy") or "").strip()
    if not CURRENCY.fullmatch(currency):
        raise CamtError(
            _("%(where)s: the amount has no valid currency code (found “%(value)s”).")
            % {"where": where, "value": _shown(currency)},
            code="camt_invalid",
        )
    amount = Decimal(text)
    if amount > MAX_AMOUNT:
        raise CamtError(
            _(
                "%(where)s: the amount %(value)s is larger than %(max)s, the largest amount that "
                "can be recorded."
            )
            % {"where": where, "value": _shown(text), "max": MAX_AMOUNT},
            code="camt_invalid",
        )
    return amount, currency


def _is_credit(element: etree._Element, *, where: str) -> bool:
    indicator = _text(element, "CdtDbtInd")
    if indicator not in {"CRDT", "DBIT"}:
        raise CamtError(
            _("%(where)s: the credit/debit indicator must be CRDT or DBIT, not “%(value)s”.")
            % {"where": where, "value": _shown(indicator)},
            code="camt_invalid",
        )
    return indicator == "CRDT"


def _date(element: etree._Element, path: str, *, where: str) -> date | None:
    """Return the date of a ``Dt`` or ``DtTm`` choice, as the bank wrote it (its local day)."""
    day = _text(element, f"{path}/Dt")
    if day:
        match = ISO_DATE.fullmatch(day)
        parsed = _iso_date(match.group(1)) if match else None
        if parsed is None:
            raise _date_error(day, where)
        return parsed
    moment = _datetime(element, f"{path}/DtTm", where=where)
    return moment.date() if moment else None


def _iso_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _datetime(element: etree._Element, path: str, *, where: str) -> datetime | None:
    """Return an aware datetime; without an offset, the site's time zone (Brussels) is assumed."""
    text = _text(element, path)
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise _date_error(text, where) from error
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_default_timezone())
    return moment


def _date_error(text: str, where: str) -> CamtError:
    return CamtError(
        _("%(where)s: the date “%(value)s” is not valid.")
        % {"where": where, "value": _shown(text)},
        code="camt_invalid",
    )


def _text(element: etree._Element, path: str) -> str:
    found = element.find(path)
    return "" if found is None else _clean("".join(found.itertext()))


def _clean(text: str) -> str:
    return " ".join(text.split())


def _shown(value: str) -> str:
    """Shorten a value quoted in a message: a broken file may hold megabytes in one element."""
    if len(value) <= SHOWN_VALUE_LENGTH:
        return value
    return value[: SHOWN_VALUE_LENGTH - 1] + "…"
