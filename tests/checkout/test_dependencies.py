"""Invoicing stays below checkout: it reaches the pay link only through invoicing/links.py."""

import ast
from pathlib import Path

from checkout.emails import pay_link_for_email
from invoicing.links import _functions

INVOICING = Path(__file__).resolve().parents[2] / "invoicing"


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_invoicing_imports_nothing_of_checkout():
    offenders = {
        str(path.relative_to(INVOICING.parent)): sorted(names)
        for path in sorted(INVOICING.rglob("*.py"))
        if (names := {name for name in imported_modules(path) if name.split(".")[0] == "checkout"})
    }
    assert offenders == {}


def test_checkout_registers_its_pay_link_once():
    assert _functions.count(pay_link_for_email) == 1
