"""The Belcotax-on-web XML file of an income year: 281.10 and 281.45 fiches, their 325
summaries and the control totals, and the FPS Finance's XSD that checks its structure.

Every element name below is the XSD's (``schemas/belcotax/<year>/``). The schema declares all
values as strings; the rules on values come from each element's documentation there: amounts in
eurocents without separators, dates ``DD-MM-YYYY``, and the totals:

- ``f10_2059_totaalcontrole`` / ``f45_2059_totaalcontrole``: "total des zones 2.60 à 2.88 y
  compris", the sum of the fiche's amounts whose code lies in 2060…2088;
- ``r8010_aantalrecords``: the declaration's records, "premier et dernier enregistrement
  compris" (its fiches + 2); ``r8011_controletotaal``: "somme des zones 2.9" (the fiche
  numbers); ``r8012_controletotaal``: "somme des zones 2.59"; ``r8013_totaalvoorheffingen``:
  the withholding taxes of its fiches;
- ``r9010_aantallogbestanden``: the declarations + 2 (start and end);
  ``r9011_totaalaantalrecords``: the sum of the r8010 + 2; ``r9012``/``r9013``/``r9014``: the
  sums of the r8011/r8012/r8013.
"""

import datetime
import hashlib
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from lxml import etree

from taxforms.models import Form

SCHEMAS = Path(settings.BASE_DIR) / "schemas" / "belcotax"

# File type (v0010_bestandtype): "mention 'BELCOTAX' ou 'BCTEST' selon qu'il s'agit d'un support
# 'réalité' ou d'un support 'test'".
REAL, TEST = "BELCOTAX", "BCTEST"

# Treatment of a fiche (f2028_typetraitement, "cette zone doit être = 0, 1, 2 ou 3"): an
# original fiche, a modification of one already sent (same fiche number), a fiche added to a
# year already declared, a cancellation.
ORIGINAL, MODIFICATION, ADDITION, CANCELLATION = "0", "1", "2", "3"

# Language codes (v0022, a1020, f2027): "1 = néerlandais, 2 = français, 3 = allemand". The
# administration writes to English-speaking members in French.
LANGUAGE_CODES = {"nl": "1", "fr": "2", "de": "3", "en": "2"}

# Opgave (325 summary) of each fiche type, and the prefix of its own elements.
SUMMARY: dict[str, tuple[str, str, str]] = {
    Form.SALARY: ("Opgave32510", "Fiche28110", "f10"),
    Form.COPYRIGHT: (
        "Opgave32545",
        "Fiche28145",
        "f45",
    ),
}

# Amount codes counted in a fiche's control total (f10_2059 / f45_2059: "zones 2.60 à 2.88").
CONTROL_RANGE = range(2060, 2089)


@dataclass(frozen=True)
class Party:
    """The debtor of the income (the cooperative), who also sends the file."""

    name: str
    street: str
    postal_code: str
    city: str
    phone: str
    email: str
    contact: str
    enterprise_number: str
    language: str


@dataclass(frozen=True)
class Beneficiary:
    niss: str
    name: str
    street: str
    postal_code: str
    city: str
    country: str
    language: str


@dataclass(frozen=True)
class Fiche:
    form: str
    sequence: int
    treatment: str
    beneficiary: Beneficiary
    # {element suffix: amount in euros}, e.g. {"2060_gewonebezoldiginge": Decimal("1234.56")}
    amounts: dict[str, Decimal]
    # {element suffix: code}, e.g. {"2030_aardpersoon": "1"}
    codes: dict[str, str] = field(default_factory=dict)

    @property
    def control_total(self) -> int:
        return sum(
            cents(amount)
            for name, amount in self.amounts.items()
            if int(name.split("_", 1)[0]) in CONTROL_RANGE
        )

    @property
    def withholding(self) -> int:
        return sum(
            cents(self.amounts.get(name, Decimal("0")))
            for name in ("2074_bedrijfsvoorheffing", "2063_roerendevoorheffing")
        )


@dataclass(frozen=True)
class Totals:
    """The totals of the file's closing record (r90xx), and the count of each fiche type."""

    declarations: int  # r9010: the declarations, with the file's start and end
    records: int
    sequence_total: int
    control_total: int
    withholding_total: int
    fiches: dict[str, int]


def cents(amount: Decimal) -> int:
    """Return an amount in euros as whole eurocents (Belcotax's unit)."""
    return int((amount * 100).to_integral_value())


def _date(day: datetime.date) -> str:
    return day.strftime("%d-%m-%Y")


def _text(parent: etree._Element, name: str, value) -> None:
    etree.SubElement(parent, name).text = str(value)


def build_file(
    *, year: int, fiches: list[Fiche], party: Party, created: datetime.date, is_test: bool
) -> tuple[bytes, Totals]:
    """Return the XML bytes of the year's file and its totals: one declaration per fiche type."""
    root = etree.Element("Verzendingen")
    sending = etree.SubElement(root, "Verzending")
    _text(sending, "v0002_inkomstenjaar", year)
    _text(sending, "v0010_bestandtype", TEST if is_test else REAL)
    _text(sending, "v0011_aanmaakdatum", _date(created))
    _text(sending, "v0014_naam", party.name)
    _text(sending, "v0015_adres", party.street)
    _text(sending, "v0016_postcode", party.postal_code)
    _text(sending, "v0017_gemeente", party.city)
    _text(sending, "v0018_telefoonnummer", party.phone)
    _text(sending, "v0021_contactpersoon", party.contact)
    _text(sending, "v0022_taalcode", LANGUAGE_CODES[party.language])
    _text(sending, "v0023_emailadres", party.email)
    _text(sending, "v0024_nationaalnr", party.enterprise_number)
    # v0025_typeenvoi ("type d'envoi"): 0, an ordinary sending. Corrections are told apart
    # fiche by fiche (f2028_typetraitement), so a file may hold originals and corrections.
    _text(sending, "v0025_typeenvoi", "0")
    declarations = etree.SubElement(sending, "Aangiften")
    for form, of_form in _by_form(fiches):
        summary_name, fiche_name, prefix = SUMMARY[form]
        declaration = etree.SubElement(declarations, "Aangifte")
        _text(declaration, "a1002_inkomstenjaar", year)
        _text(declaration, "a1005_registratienummer", party.enterprise_number)
        _text(declaration, "a1011_naamnl1", party.name)
        _text(declaration, "a1013_adresnl", party.street)
        _text(declaration, "a1014_postcodebelgisch", party.postal_code)
        _text(declaration, "a1015_gemeente", party.city)
        _text(declaration, "a1016_landwoonplaats", "0")  # "zéro si Belgique"
        _text(declaration, "a1020_taalcode", LANGUAGE_CODES[party.language])
        summaries = etree.SubElement(declaration, "Opgaven")
        summary = etree.SubElement(summaries, summary_name)
        for fiche in of_form:
            _fiche(summary, fiche, fiche_name=fiche_name, prefix=prefix, year=year)
        records, sequence_total, control_total, withholding_total = _declaration_totals(of_form)
        _text(declaration, "r8002_inkomstenjaar", year)
        _text(declaration, "r8010_aantalrecords", records)
        _text(declaration, "r8011_controletotaal", sequence_total)
        _text(declaration, "r8012_controletotaal", control_total)
        _text(declaration, "r8013_totaalvoorheffingen", withholding_total)
    totals = file_totals(fiches)
    _text(sending, "r9002_inkomstenjaar", year)
    _text(sending, "r9010_aantallogbestanden", totals.declarations)
    _text(sending, "r9011_totaalaantalrecords", totals.records)
    _text(sending, "r9012_controletotaal", totals.sequence_total)
    _text(sending, "r9013_controletotaal", totals.control_total)
    _text(sending, "r9014_controletotaal", totals.withholding_total)
    content = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return content, totals


def _by_form(fiches: list[Fiche]) -> list[tuple[str, list[Fiche]]]:
    """The fiches grouped by type, each group by fiche number: one declaration per type."""
    groups: list[tuple[str, list[Fiche]]] = []
    for form in (Form.SALARY, Form.COPYRIGHT):
        of_form = sorted((f for f in fiches if f.form == form), key=lambda f: f.sequence)
        if of_form:
            groups.append((form, of_form))
    return groups


def _declaration_totals(fiches: list[Fiche]) -> tuple[int, int, int, int]:
    """A declaration's r8010 (records, its first and last included), r8011, r8012 and r8013."""
    return (
        len(fiches) + 2,
        sum(f.sequence for f in fiches),
        sum(f.control_total for f in fiches),
        sum(f.withholding for f in fiches),
    )


def file_totals(fiches: list[Fiche]) -> Totals:
    """The closing totals of a file of these fiches (r9010 to r9014)."""
    groups = _by_form(fiches)
    sums = [_declaration_totals(of_form) for _form, of_form in groups]
    return Totals(
        declarations=len(groups) + 2,
        records=sum(row[0] for row in sums) + 2,
        sequence_total=sum(row[1] for row in sums),
        control_total=sum(row[2] for row in sums),
        withholding_total=sum(row[3] for row in sums),
        fiches={form: len(of_form) for form, of_form in groups},
    )


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _fiche(parent, fiche: Fiche, *, fiche_name: str, prefix: str, year: int) -> None:
    element = etree.SubElement(parent, fiche_name)
    person = fiche.beneficiary
    # The common part (complexType "Fiche"), in the schema's order.
    _text(element, "f2002_inkomstenjaar", year)
    _text(element, "f2008_typefiche", fiche.form)
    _text(element, "f2009_volgnummer", fiche.sequence)
    if person.niss:
        _text(element, "f2011_nationaalnr", person.niss)
    _text(element, "f2013_naam", person.name)
    _text(element, "f2015_adres", person.street)
    is_belgian = person.country == "BE"
    if is_belgian:
        # f2016: "code postal belge du bénéficiaire (uniquement si 2.18 = 0 (Belgique))".
        _text(element, "f2016_postcodebelgisch", person.postal_code)
    _text(element, "f2017_gemeente", person.city)
    if is_belgian:
        _text(element, "f2018_landwoonplaats", "0")  # "zéro si Belgique"
    _text(element, "f2027_taalcode", LANGUAGE_CODES.get(person.language, "2"))
    _text(element, "f2028_typetraitement", fiche.treatment)
    _text(element, "f2029_enkelopgave325", "0")  # "0 = fiche 281"
    if not is_belgian:
        _text(element, "f2112_buitenlandspostnummer", person.postal_code)
    # The fiche type's own elements, in the schema's order (their codes ascend).
    own = {name: str(code) for name, code in fiche.codes.items()}
    own["2059_totaalcontrole"] = str(fiche.control_total)
    own.update({name: str(cents(amount)) for name, amount in fiche.amounts.items() if amount})
    for name in sorted(own, key=lambda name: int(name.split("_", 1)[0])):
        _text(element, f"{prefix}_{name}", own[name])


# --- the schema --------------------------------------------------------------------------------

_schemas: dict[str, etree.XMLSchema] = {}
_lock = threading.Lock()


class SchemaError(Exception):
    """A schema file is missing or is not the one its PROVENANCE records."""


def recorded_checksums(year: int) -> dict[str, str]:
    """Return {file name: SHA-256} from the PROVENANCE of an income year's schema."""
    provenance = SCHEMAS / str(year) / "PROVENANCE"
    checksums = {}
    if provenance.exists():
        for line in provenance.read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if len(parts) == 2 and len(parts[0]) == 64 and parts[1].endswith(".xsd"):
                checksums[parts[1]] = parts[0]
    return checksums


def schema_for(year: int) -> tuple[int, Path]:
    """Return the income year of the schema to use for ``year`` and its path.

    The year's own schema when it is installed, else the newest earlier one; a file whose
    SHA-256 differs from its PROVENANCE is refused.
    """
    installed = sorted(
        (int(folder.name) for folder in SCHEMAS.iterdir() if folder.name.isdigit()),
        reverse=True,
    )
    for candidate in installed:
        if candidate > year:
            continue
        for name, checksum in recorded_checksums(candidate).items():
            path = SCHEMAS / str(candidate) / name
            if not path.exists():
                continue
            if hashlib.sha256(path.read_bytes()).hexdigest() != checksum:
                raise SchemaError(f"{path} is not the file recorded in its PROVENANCE.")
            return candidate, path
    raise SchemaError(f"No Belcotax schema for the income year {year} or earlier is installed.")


def schema_label(year: int) -> str:
    schema_year, path = schema_for(year)
    return f"{path.name} (income year {schema_year})"


def validate(content: bytes, *, year: int) -> list[str]:
    """Validate the file against the schema of its income year; return the errors."""
    _schema_year, path = schema_for(year)
    with _lock:
        if str(path) not in _schemas:
            _schemas[str(path)] = etree.XMLSchema(etree.parse(str(path)))
        schema = _schemas[str(path)]
    document = etree.fromstring(content)
    if schema.validate(document):
        return []
    return [f"line {error.line}: {error.message}" for error in schema.error_log]


def euros(amount_in_cents: int) -> Decimal:
    """Return whole eurocents as an amount in euros."""
    return (Decimal(amount_in_cents) / 100).quantize(Decimal("0.01"))
