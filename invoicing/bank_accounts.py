"""The cooperative's own bank accounts, as configured in ``COOP_BANK_ACCOUNTS``.

The setting seeds the ``BankAccount`` table (a data migration); staff keep that table in the
admin afterwards. Each entry is an IBAN, or ``othr:<id>[:<scheme>[:<issuer>]]`` for a statement
that names the account by ``Acct/Id/Othr`` (an identifier of the bank's own, a BBAN…).
"""

from dataclasses import dataclass

from django.core import checks
from stdnum import iban as iban_module

OTHER_PREFIX = "othr:"


@dataclass(frozen=True, kw_only=True)
class ConfiguredAccount:
    iban: str = ""
    other_id: str = ""
    other_scheme: str = ""
    other_issuer: str = ""


def parse_configured_accounts(entries: list[str]) -> list[ConfiguredAccount]:
    """Read the setting's entries; raise ValueError naming the first one that is wrong."""
    accounts = []
    for entry in entries:
        if entry.lower().startswith(OTHER_PREFIX):
            other_id, scheme, issuer, *rest = [
                *(part.strip() for part in entry[len(OTHER_PREFIX) :].split(":")),
                "",
                "",
            ]
            if not other_id or any(rest):
                raise ValueError(
                    f"COOP_BANK_ACCOUNTS: “{entry}” must be othr:<id>[:<scheme>[:<issuer>]]."
                )
            accounts.append(
                ConfiguredAccount(other_id=other_id, other_scheme=scheme, other_issuer=issuer)
            )
            continue
        iban = iban_module.compact(entry)
        if not iban_module.is_valid(iban):
            raise ValueError(
                f"COOP_BANK_ACCOUNTS: “{entry}” is not a valid IBAN (an identifier that is not"
                " an IBAN is written othr:<id>[:<scheme>[:<issuer>]])."
            )
        accounts.append(ConfiguredAccount(iban=iban))
    return accounts


def check_configured_accounts(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """System check: every configured account can be read, and there is at least one."""
    from django.conf import settings

    try:
        accounts = parse_configured_accounts(settings.COOP_BANK_ACCOUNTS)
    except ValueError as error:
        return [checks.Error(str(error), id="invoicing.E001")]
    if not accounts:
        return [
            checks.Error(
                "COOP_BANK_ACCOUNTS is empty: no bank statement could be imported.",
                id="invoicing.E002",
            )
        ]
    return []
