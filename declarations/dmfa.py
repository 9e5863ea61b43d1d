"""The DmfA quarterly declaration to ONSS as XML, and its check against the official schema.

The structure follows ``DmfAOriginal_20223.xsd`` (schemas/dmfa-20223, see its PROVENANCE): the
2022/3 version, the newest the project could obtain. ONSS publishes a new version with each
glossary change and the one in force in 2026 is newer; before filing for real, install it in
its own folder under schemas/ and point ``SCHEMA_VERSION`` at it.

Form / EmployerDeclaration / NaturalPerson / WorkerRecord / Occupation / Service / Remun, and
WorkerContribution per worker record. Amounts are integers in eurocents; days and hours in
hundredths.
"""

import datetime
import hashlib
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from lxml import etree

from declarations.errors import DeclarationsError
from declarations.selectors import Category, QuarterDeclaration, WorkerRecord

SCHEMA_VERSION = "20223"
SCHEMA_FOLDER = Path(settings.BASE_DIR) / "schemas" / "dmfa-20223"
SCHEMA_FILE = "DmfAOriginal_20223.xsd"

# Codes of the DmfA glossary (annexes "worker codes", "remuneration codes", "service codes").
# 495 for employees is recorded in DOMAIN.md §9 [S]; the others were not read in the 2026
# annexes and are to be checked before filing [unverified].
WORKER_CODES = {
    Category.WHITE_COLLAR: 495,
    Category.ARTIST: 495,  # art. 1bis: the ordering party declares the artist as an employee
    Category.BLUE_COLLAR: 15,
}
EMPLOYER_CLASS = 0  # general employer category
SERVICE_PAID_DAYS = 1  # days of work with remuneration
REMUN_ORDINARY = 1  # ordinary pay of the days worked
REMUN_PREMIUM = 2  # premiums paid independently of the days worked (end-of-year premium)
REMUN_EXIT_HOLIDAY = 7  # white-collar exit holiday pay [unverified]
PREMIUM_FREQUENCY_MONTHS = 12
FIVE_DAY_WEEK = 500  # days a week, in hundredths
FULL_TIME_HOURS = 3800  # hours a week, in hundredths
CONTRIBUTION_TYPE_ORDINARY = 0


def cents(amount: Decimal) -> int:
    """An amount in euros as the schema's whole eurocents."""
    return int((amount * 100).to_integral_value())


def hundredths(quantity: Decimal) -> int:
    return int((quantity * 100).to_integral_value())


def _add(parent: etree._Element, name: str, value=None) -> etree._Element:
    element = etree.SubElement(parent, name)
    if value is not None:
        element.text = value if isinstance(value, str) else str(value)
    return element


def _digits(text: str) -> str:
    return "".join(character for character in text if character.isdigit())


def _worker_record(person: etree._Element, record: WorkerRecord, declaration) -> int:
    """Add the worker record; return its contributions in eurocents."""
    quarter = declaration.quarter
    code = WORKER_CODES[record.category]
    element = _add(person, "WorkerRecord")
    _add(element, "EmployerClass", f"{EMPLOYER_CLASS:03d}")
    _add(element, "WorkerCode", f"{code:03d}")
    _add(element, "NOSSQuarterStartingDate", quarter.start.isoformat())
    _add(element, "NOSSQuarterEndingDate", quarter.end.isoformat())
    _add(element, "Border", 0)
    if len(record.occupations) > 99:
        raise DeclarationsError(
            _("%(name)s has more than 99 contracts in the quarter: the DmfA allows 99.")
            % {"name": record.name},
            code="occupations",
        )
    for sequence, occupation in enumerate(record.occupations, 1):
        if occupation.gross < 0 or occupation.days < 0:
            raise DeclarationsError(
                _("Contract %(reference)s was corrected below zero: correct it first.")
                % {"reference": occupation.contract_reference},
                code="negative",
            )
        block = _add(element, "Occupation")
        _add(block, "OccupationSequenceNbr", sequence)
        start = max(occupation.first_work_day or quarter.start, quarter.start)
        _add(block, "OccupationStartingDate", start.isoformat())
        _add(block, "OccupationEndingDate", occupation.last_work_day.isoformat())
        _add(block, "JointCommissionNbr", occupation.joint_committee)
        _add(block, "WorkingDaysSystem", FIVE_DAY_WEEK)
        _add(block, "ContractType", 0)
        _add(block, "RefMeanWorkingHours", FULL_TIME_HOURS)
        _add(block, "MeanWorkingHours", FULL_TIME_HOURS)
        _add(block, "Retired", 0)
        if occupation.days > 0:
            service = _add(block, "Service")
            _add(service, "ServiceSequenceNbr", 1)
            _add(service, "ServiceCode", f"{SERVICE_PAID_DAYS:03d}")
            _add(service, "ServiceNbrDays", hundredths(occupation.days))
        remuneration = [
            (REMUN_ORDINARY, occupation.wage, None),
            (REMUN_EXIT_HOLIDAY, occupation.exit_holiday_pay, None),
            (REMUN_PREMIUM, occupation.year_end_premium, PREMIUM_FREQUENCY_MONTHS),
        ]
        sequence_nbr = 0
        for remun_code, amount, frequency in remuneration:
            if not amount:
                continue
            sequence_nbr += 1
            remun = _add(block, "Remun")
            _add(remun, "RemunSequenceNbr", sequence_nbr)
            _add(remun, "RemunCode", f"{remun_code:03d}")
            if frequency is not None:
                _add(remun, "BonusPaymentFrequency", frequency)
            _add(remun, "RemunAmount", cents(amount))
    contributions = cents(record.contributions)
    contribution = _add(element, "WorkerContribution")
    _add(contribution, "ContributionWorkerCode", f"{code:03d}")
    _add(contribution, "ContributionType", CONTRIBUTION_TYPE_ORDINARY)
    _add(contribution, "ContributionCalculationBasis", cents(record.total("onss_base")))
    _add(contribution, "ContributionAmount", contributions)
    return contributions


def build_dmfa(declaration: QuarterDeclaration, *, now: datetime.datetime) -> bytes:
    """The quarter's original declaration as UTF-8 XML bytes."""
    if not declaration.records:
        raise DeclarationsError(
            _("Nothing to declare: no pay for work that ended in %(quarter)s.")
            % {"quarter": declaration.quarter},
            code="empty",
        )
    now = timezone.localtime(now)
    root = etree.Element("DmfAOriginal")
    form = _add(root, "Form")
    _add(form, "Identification", "DMFA")
    _add(form, "FormCreationDate", now.date().isoformat())
    _add(form, "FormCreationHour", now.strftime("%H:%M:%S.") + f"{now.microsecond // 1000:03d}")
    _add(form, "AttestationStatus", 0)
    _add(form, "TypeForm", "SU")
    employer = _add(form, "EmployerDeclaration")
    _add(employer, "Quarter", declaration.quarter.code)
    _add(employer, "NOSSRegistrationNbr", _digits(settings.COOP_ONSS_NUMBER))
    _add(employer, "Trusteeship", 0)
    _add(employer, "CompanyID", _digits(settings.COOP_SELLER["enterprise_number"]))
    owed = _add(employer, "NetOwedAmount", 0)
    total = 0
    people: dict[int, etree._Element] = {}
    for record in declaration.records:
        person = people.get(record.member_pk)
        if person is None:
            niss = _digits(record.niss)
            if len(niss) != 11:
                raise DeclarationsError(
                    _("%(name)s has no national register number: the DmfA needs it.")
                    % {"name": record.name},
                    code="niss",
                )
            person = people[record.member_pk] = _add(employer, "NaturalPerson")
            _add(person, "NaturalPersonSequenceNbr", len(people))
            _add(person, "INSS", niss)
        total += _worker_record(person, record, declaration)
    owed.text = str(total)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


@lru_cache(maxsize=1)
def schema() -> etree.XMLSchema:
    """The official schema, refused unless it is the file its PROVENANCE records."""
    path = SCHEMA_FOLDER / SCHEMA_FILE
    recorded = provenance_checksums().get(SCHEMA_FILE)
    if recorded != hashlib.sha256(path.read_bytes()).hexdigest():
        raise DeclarationsError(
            _("The DmfA schema is not the file recorded in its PROVENANCE."), code="schema"
        )
    return etree.XMLSchema(etree.parse(str(path)))


def provenance_checksums() -> dict[str, str]:
    """The "<sha256>  <file>" lines of the schema's PROVENANCE."""
    checksums = {}
    for line in (SCHEMA_FOLDER / "PROVENANCE").read_text().splitlines():
        parts = line.split()
        if len(parts) == 2 and len(parts[0]) == 64:
            checksums[parts[1]] = parts[0]
    return checksums


def schema_errors(document: bytes) -> list[str]:
    """What the official schema finds wrong in a DmfA file (nothing: valid)."""
    validator = schema()
    if validator.validate(etree.fromstring(document)):
        return []
    return [f"{error.line}: {error.message}" for error in validator.error_log]
