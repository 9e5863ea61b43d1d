"""Compile an ISO Schematron schema (query binding xslt2) into an XSLT 3 stylesheet.

The Peppol BIS rules are published only as Schematron, and Saxon runs XSLT: this module turns
the one into the other, so the official ``.sch`` file is run as published. It covers what the
Peppol and CEN rule files use: ``ns``, ``let`` (schema, pattern and rule level), ``pattern``,
``rule``, ``assert`` and ``report`` with ``value-of`` and ``name`` in their messages, and XSLT
functions declared at the top level. Abstract patterns, rules and ``include`` are refused
rather than run wrongly.

Semantics follow ISO/IEC 19757-3: every pattern visits the whole document, and within a pattern
a node is handled by the first rule whose context matches it. Each pattern therefore becomes
one XSLT mode, and the rules of a pattern get descending priorities in document order. The
output is SVRL, as the official compiled stylesheets produce it.
"""

from lxml import etree

SCH = "http://purl.oclc.org/dsdl/schematron"
XSL = "http://www.w3.org/1999/XSL/Transform"
SVRL = "http://purl.oclc.org/dsdl/svrl"
SUPPORTED_QUERY_BINDINGS = {"xslt2", "xslt3"}


class SchematronError(ValueError):
    """The schema uses something this compiler does not implement."""


def compile_schematron(schema: bytes) -> bytes:
    """Return the XSLT 3 stylesheet (UTF-8 bytes) that checks a document against ``schema``."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)
    root = etree.fromstring(schema, parser)
    if root.tag != f"{{{SCH}}}schema":
        raise SchematronError("The file is not an ISO Schematron schema.")
    binding = root.get("queryBinding", "xslt")
    if binding not in SUPPORTED_QUERY_BINDINGS:
        raise SchematronError(f"Query binding {binding!r} is not supported.")
    for unsupported in ("include", "extends"):
        if root.find(f".//{{{SCH}}}{unsupported}") is not None:
            raise SchematronError(f"sch:{unsupported} is not supported.")
    if root.find(f".//{{{SCH}}}*[@abstract='true']") is not None:
        raise SchematronError("Abstract patterns and rules are not supported.")

    namespaces = {"xsl": XSL, "svrl": SVRL}
    for declaration in root.iterfind(f"{{{SCH}}}ns"):
        namespaces[declaration.get("prefix")] = declaration.get("uri")
    stylesheet = etree.Element(f"{{{XSL}}}stylesheet", nsmap=namespaces, version="3.0")
    stylesheet.set("exclude-result-prefixes", " ".join(p for p in namespaces if p != "svrl"))
    etree.SubElement(stylesheet, f"{{{XSL}}}output", method="xml", indent="no")

    patterns = list(root.iterfind(f"{{{SCH}}}pattern"))
    # Schema- and pattern-level variables are evaluated once, against the document: global
    # variables. XSLT resolves their order itself, so document order is kept only for reading.
    seen: set[str] = set()
    for element in root.iter(f"{{{SCH}}}let"):
        parent = element.getparent()
        if parent.tag == f"{{{SCH}}}rule":
            continue
        name = element.get("name")
        if name in seen:
            raise SchematronError(f"Variable ${name} is declared twice.")
        seen.add(name)
        _variable(stylesheet, element)
    for foreign in root:
        if isinstance(foreign.tag, str) and foreign.tag.startswith(f"{{{XSL}}}"):
            stylesheet.append(_copy(foreign))

    main = etree.SubElement(stylesheet, f"{{{XSL}}}template", match="/")
    output = etree.SubElement(main, f"{{{SVRL}}}schematron-output")
    output.set("schemaVersion", root.get("schemaVersion", ""))
    for index, pattern in enumerate(patterns):
        mode = f"pattern-{index}"
        active = etree.SubElement(output, f"{{{SVRL}}}active-pattern")
        if pattern.get("id"):
            active.set("id", pattern.get("id"))
        etree.SubElement(output, f"{{{XSL}}}apply-templates", select="/", mode=mode)
        _compile_pattern(stylesheet, pattern, mode)
    return etree.tostring(stylesheet, xml_declaration=True, encoding="UTF-8")


def _compile_pattern(stylesheet: etree._Element, pattern: etree._Element, mode: str) -> None:
    rules = list(pattern.iterfind(f"{{{SCH}}}rule"))
    for position, rule in enumerate(rules):
        template = etree.SubElement(
            stylesheet,
            f"{{{XSL}}}template",
            match=rule.get("context"),
            mode=mode,
            priority=str(len(rules) - position + 1),
        )
        for child in rule:
            if child.tag == f"{{{SCH}}}let":
                _variable(template, child)
            elif child.tag in (f"{{{SCH}}}assert", f"{{{SCH}}}report"):
                _check(template, child)
        _descend(template, mode)
    # Nodes no rule of the pattern matches: walk on through attributes and children.
    fallback = etree.SubElement(
        stylesheet, f"{{{XSL}}}template", match="node() | @*", mode=mode, priority="-1"
    )
    _descend(fallback, mode)
    etree.SubElement(stylesheet, f"{{{XSL}}}template", match="text()", mode=mode, priority="0")


def _descend(template: etree._Element, mode: str) -> None:
    etree.SubElement(template, f"{{{XSL}}}apply-templates", select="@* | node()", mode=mode)


def _variable(parent: etree._Element, let: etree._Element) -> None:
    if let.get("value") is None:
        raise SchematronError(f"Variable ${let.get('name')} has no value attribute.")
    etree.SubElement(parent, f"{{{XSL}}}variable", name=let.get("name"), select=let.get("value"))


def _check(template: etree._Element, check: etree._Element) -> None:
    is_assert = check.tag == f"{{{SCH}}}assert"
    test = check.get("test")
    condition = etree.SubElement(
        template, f"{{{XSL}}}if", test=f"not({test})" if is_assert else test
    )
    result = etree.SubElement(
        condition, f"{{{SVRL}}}{'failed-assert' if is_assert else 'successful-report'}"
    )
    for attribute in ("id", "flag"):
        if check.get(attribute):
            result.set(attribute, check.get(attribute))
    result.set("test", test)
    location = etree.SubElement(result, f"{{{XSL}}}attribute", name="location")
    location.set("select", "path()")
    text = etree.SubElement(result, f"{{{SVRL}}}text")
    _message(text, check)


def _message(target: etree._Element, source: etree._Element) -> None:
    """Copy a message's text, evaluating its value-of and name elements."""
    _text(target, source.text)
    for child in source:
        if child.tag == f"{{{SCH}}}value-of":
            etree.SubElement(target, f"{{{XSL}}}value-of", select=child.get("select"))
        elif child.tag == f"{{{SCH}}}name":
            path = child.get("path", ".")
            etree.SubElement(target, f"{{{XSL}}}value-of", select=f"name({path})")
        else:
            _message(target, child)
        _text(target, child.tail)


def _text(target: etree._Element, text: str | None) -> None:
    if text:
        etree.SubElement(target, f"{{{XSL}}}text").text = text


def _copy(element: etree._Element) -> etree._Element:
    copied = etree.fromstring(etree.tostring(element))
    copied.tail = None
    return copied
