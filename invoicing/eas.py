"""Electronic Address Schemes (EAS): how a party is addressed on the Peppol network.

Both tables come from what OpenPeppol publishes, not from memory: ``EAS_CODES`` is the list
the Peppol BIS Billing rule PEPPOL-EN16931-CL008 accepts for an EndpointID (release 3.0.19),
and ``VAT_SCHEMES`` maps a VAT number's country prefix to the scheme the EAS code list
(``structure/codelist/eas.xml`` of the same release) names as that country's VAT number.
Countries the list gives no VAT scheme (Denmark, Sweden, …) are reached through a participant
id or a GLN only. "EM" (e-mail) is not an EAS code: an e-mail address is never an endpoint.
"""

from stdnum import ean
from stdnum.exceptions import ValidationError

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
