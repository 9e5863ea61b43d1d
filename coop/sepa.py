"""SEPA credit transfer files (pain.001.001.03) for whatever the cooperative pays out."""

import datetime
import functools
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import sepaxml
from django.conf import settings
from lxml import etree
from sepaxml import SepaTransfer

SCHEMA = "pain.001.001.03"
SCHEMA_PATH = Path(sepaxml.__file__).parent / "schemas" / f"{SCHEMA}.xsd"


@dataclass(frozen=True)
class Transfer:
    name: str
    iban: str
    amount: Decimal
    execution_date: datetime.date
    description: str
    end_to_end_id: str


def build_credit_transfer(
    *, debtor_name: str, debtor_iban: str, debtor_bic: str, transfers: list[Transfer]
) -> bytes:
    """Return a pain.001 file paying every transfer from the debtor's account, XSD-checked."""
    transfer = SepaTransfer(
        {
            "name": debtor_name[:70],
            "IBAN": debtor_iban,
            "BIC": debtor_bic,
            "batch": True,
            "currency": "EUR",
        },
        schema=SCHEMA,
    )
    for item in transfers:
        transfer.add_payment(
            {
                "name": item.name[:70],
                "IBAN": item.iban,
                "amount": int(item.amount * 100),
                "execution_date": item.execution_date,
                "description": item.description[:140],
                "endtoend_id": item.end_to_end_id[:35],
            }
        )
    content = transfer.export(validate=False)
    # lxml's validator (libxml2) checks tens of thousands of transfers in well under a second.
    _schema().assertValid(etree.fromstring(content))
    return content


def pay_from_cooperative(transfers: list[Transfer]) -> tuple[bytes, str]:
    """Return a pain.001 file paying the transfers from the cooperative's account, and its id."""
    content = build_credit_transfer(
        debtor_name=settings.COOP_SELLER["name"],
        debtor_iban=settings.COOP_SELLER["iban"],
        debtor_bic=settings.COOP_SELLER["bic"],
        transfers=transfers,
    )
    message_id = etree.fromstring(content).findtext(".//{*}GrpHdr/{*}MsgId") or ""
    return content, message_id[:35]


@functools.cache
def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))
