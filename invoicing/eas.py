"""Electronic Address Schemes (EAS): how a party is addressed on the Peppol network.

Both tables come from what OpenPeppol publishes, not from memory: ``EAS_CODES`` is the list
the Peppol BIS Billing rule PEPPOL-EN16931-CL008 accepts for an EndpointID (release 3.0.19),
and ``VAT_SCHEMES`` maps a VAT number's country prefix to the scheme the EAS code list
(``structure/codelist/eas.xml`` of the same release) names as that country's VAT number.
Countries the list gives no VAT scheme (Denmark, Sweden, …) are reached through a participant
id or a GLN only. "EM" (e-mail) is not an EAS code: an e-mail address is never an endpoint.
"""

import re
from collections.abc import Callable

from django.utils.translation import gettext as _
from stdnum import ean
from stdnum.be import vat as be_vat
from stdnum.dk import cvr
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError
from stdnum.fi import ytunnus
from stdnum.fr import siren, siret
from stdnum.no import orgnr as no_orgnr
from stdnum.se import orgnr as se_orgnr
from stdnum.util import get_cc_module

EAS_CODES = frozenset(
    [
        "0002",
        "0007",
        "0009",
        "0037",
        "0060",
        "0088",
        "0096",
        "0097",
        "0106",
        "0130",
        "0135",
        "0142",
        "0147",
        "0151",
        "0154",
        "0158",
        "0170",
        "0177",
        "0183",
        "0184",
        "0188",
        "0190",
        "0191",
        "0192",
        "0193",
        "0194",
        "0195",
        "0196",
        "0198",
        "0199",
        "0200",
        "0201",
        "0202",
        "0203",
        "0204",
        "0205",
        "0208",
        "0209",
        "0210",
        "0211",
        "0212",
        "0213",
        "0215",
        "0216",
        "0217",
        "0218",
        "0221",
        "0225",
        "0230",
        "0235",
        "0240",
        "9910",
        "9913",
        "9914",
        "9915",
        "9918",
        "9919",
        "9920",
        "9922",
        "9923",
        "9924",
        "9925",
        "9926",
        "9927",
        "9928",
        "9929",
        "9930",
        "9931",
        "9932",
        "9933",
        "9934",
        "9935",
        "9936",
        "9937",
        "9938",
        "9939",
        "9940",
        "9941",
        "9942",
        "9943",
        "9944",
        "9945",
        "9946",
        "9947",
        "9948",
        "9949",
        "9950",
        "9951",
        "9952",
        "9953",
        "9957",
        "9959",
    ]
)

BELGIAN_ENTERPRISE = "0208"
GLN = "0088"

# VAT number prefix → EAS code of that country's VAT number (Greece's prefix is EL).
VAT_SCHEMES = {
    "AD": "9922",  # Andorra VAT number
    "AL": "9923",  # Albania VAT number
    "AT": "9914",  # Österreichische Umsatzsteuer-Identifikationsnummer
    "BA": "9924",  # Bosnia and Herzegovina VAT number
    "BE": "9925",  # Belgium VAT number
    "BG": "9926",  # Bulgaria VAT number
    "CH": "9927",  # Switzerland VAT number
    "CY": "9928",  # Cyprus VAT number
    "CZ": "9929",  # Czech Republic VAT number
    "DE": "9930",  # Germany VAT number
    "EE": "9931",  # Estonia VAT number
    "EL": "9933",  # Greece VAT number
    "ES": "9920",  # Agencia Española de Administración Tributaria
    "FI": "0213",  # Finnish Organization Value Add Tax Identifier
    "FR": "9957",  # French VAT number
    "GB": "9932",  # United Kingdom VAT number
    "HR": "9934",  # Croatia VAT number
    "HU": "9910",  # Hungary VAT number
    "IE": "9935",  # Ireland VAT number
    "IT": "0211",  # Partita IVA
    "LI": "9936",  # Liechtenstein VAT number
    "LT": "9937",  # Lithuania VAT number
    "LU": "9938",  # Luxemburg VAT number
    "LV": "9939",  # Latvia VAT number
    "MC": "9940",  # Monaco VAT number
    "ME": "9941",  # Montenegro VAT number
    "MK": "9942",  # North Macedonia VAT number
    "MT": "9943",  # Malta VAT number
    "NL": "9944",  # Netherlands VAT number
    "PL": "9945",  # Poland VAT number
    "PT": "9946",  # Portugal VAT number
    "RO": "9947",  # Romania VAT number
    "RS": "9948",  # Serbia VAT number
    "SI": "9949",  # Slovenia VAT number
    "SK": "9950",  # Slovakia VAT number
    "SM": "9951",  # San Marino VAT number
    "TR": "9952",  # Turkey VAT number
    "VA": "9953",  # Holy See (Vatican City State) VAT number
}


def split_participant_id(value: str) -> tuple[str, str]:
    """Return (scheme, identifier) of a participant id "0208:0403019261".

    Raise ValueError when it is not of that form or its scheme is not an EAS code.
    """
    scheme, separator, identifier = value.strip().partition(":")
    if not separator or not identifier.strip():
        raise ValueError(f"Peppol id {value!r} is not of the form scheme:identifier.")
    if scheme not in EAS_CODES:
        raise ValueError(f"Peppol id {value!r}: {scheme!r} is not an EAS code.")
    return scheme, identifier.strip()


def clean_gln(value: str) -> str:
    """Return a Global Location Number as 13 digits; raise ValueError when it is not one."""
    compact = "".join(character for character in value if not character.isspace())
    if not compact:
        return ""
    try:
        compact = ean.validate(compact)
    except ValidationError as error:
        raise ValueError(f"{value!r} is not a valid GLN.") from error
    if len(compact) != 13:
        raise ValueError(f"{value!r} is not a valid GLN: a GLN has 13 digits.")
    return compact


# Peppol policy for identifiers: a participant identifier value has at most 50 characters.
PARTICIPANT_ID_MAX_LENGTH = 50
PARTICIPANT_ID_SYNTAX = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-_/+@]*")


def _gln(identifier: str) -> str:
    if not (identifier.isdigit() and len(identifier) == 13):
        raise ValidationError()
    return ean.validate(identifier)


def _enterprise_number(identifier: str) -> str:
    compact = be_vat.compact(identifier)
    if not (compact.isdigit() and len(compact) == 10):
        raise ValidationError()
    return be_vat.validate(compact)


def _duns(identifier: str) -> str:
    if not (identifier.isdigit() and len(identifier) == 9):
        raise ValidationError()
    return identifier


def _vat_scheme_check(prefix: str) -> Callable[[str], str]:
    """Check a VAT number under its country's scheme with python-stdnum, when it has a module."""
    country = "gr" if prefix == "EL" else prefix.lower()
    module = get_cc_module(country, "vat")

    def check(identifier: str) -> str:
        value = identifier.upper()
        if prefix == "EL" and value.startswith("GR"):
            value = f"EL{value[2:]}"
        if country in eu_vat.MEMBER_STATES:
            if not value.startswith(prefix):
                value = f"{prefix}{value}"
            return eu_vat.validate(value)
        if module is None:
            raise LookupError(prefix)
        for candidate in (value, value.removeprefix(prefix)):
            if module.is_valid(candidate):
                return value
        raise ValidationError()

    return check


def _checks() -> dict[str, tuple[Callable[[str], str], Callable[[], str]]]:
    checks = {
        GLN: (_gln, lambda: _("a GLN has 13 digits, the last one a check digit")),
        BELGIAN_ENTERPRISE: (
            _enterprise_number,
            lambda: _("a Belgian enterprise number has 10 digits and passes the modulo 97 check"),
        ),
        "0060": (_duns, lambda: _("a DUNS number has 9 digits")),
        "0192": (no_orgnr.validate, lambda: _("a Norwegian organisation number has 9 digits")),
        "0007": (se_orgnr.validate, lambda: _("a Swedish organisation number has 10 digits")),
        "0184": (cvr.validate, lambda: _("a Danish CVR number has 8 digits")),
        "0002": (siren.validate, lambda: _("a French SIREN number has 9 digits")),
        "0009": (siret.validate, lambda: _("a French SIRET number has 14 digits")),
        "0037": (ytunnus.validate, lambda: _("a Finnish business id is written 1234567-8")),
    }
    for prefix, scheme in VAT_SCHEMES.items():
        checks[scheme] = (
            _vat_scheme_check(prefix),
            lambda prefix=prefix: (
                _("a VAT number of country %(country)s has that country's prefix and valid digits")
                % {"country": prefix}
            ),
        )
    return checks


IDENTIFIER_CHECKS = _checks()


def check_participant_id(value: str) -> str:
    """Return a participant id "scheme:identifier" with its identifier checked by its scheme.

    The identifier of a scheme python-stdnum (or a check digit) covers is validated and returned
    in compact form; any other scheme's identifier is checked for its syntax only. Raise
    ValueError with a readable, translated reason.
    """
    try:
        scheme, identifier = split_participant_id(value)
    except ValueError as error:
        raise ValueError(
            _(
                "This Peppol id is not valid: write it as scheme:identifier, with a scheme "
                "of the Peppol list (0208 for a Belgian enterprise number)."
            )
        ) from error
    if len(identifier) > PARTICIPANT_ID_MAX_LENGTH or not PARTICIPANT_ID_SYNTAX.fullmatch(
        identifier
    ):
        raise ValueError(
            _(
                "This Peppol id is not valid: its identifier has at most %(count)d letters, "
                "digits and . - _ / + @, without spaces."
            )
            % {"count": PARTICIPANT_ID_MAX_LENGTH}
        )
    check, description = IDENTIFIER_CHECKS.get(scheme, (None, None))
    if check is None:
        return f"{scheme}:{identifier}"
    try:
        identifier = check(identifier)
    except LookupError:
        return f"{scheme}:{identifier}"  # a VAT scheme python-stdnum does not know
    except ValidationError as error:
        raise ValueError(
            _("This Peppol id is not valid: under scheme %(scheme)s, %(rule)s.")
            % {"scheme": scheme, "rule": description()}
        ) from error
    return f"{scheme}:{identifier}"
