"""Every translatable string can be found by makemessages.

xgettext (which makemessages runs) does not read inside f-strings: a ``gettext("…")`` written
in an f-string's braces never reaches the catalogs, and the page shows it in English whatever
the reader's language.
"""

import ast
from pathlib import Path

from django.conf import settings

APPS = ["coop", "members", "invoicing", "quotes", "portal", "checkout", "audit"]
TRANSLATING = {"_", "gettext", "gettext_lazy", "ngettext", "pgettext", "npgettext"}


def _translating_calls_in_fstrings(source: str) -> list[int]:
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.JoinedStr):
            continue
        for inner in ast.walk(node):
            if (
                isinstance(inner, ast.Call)
                and isinstance(inner.func, ast.Name)
                and inner.func.id in TRANSLATING
            ):
                lines.append(inner.lineno)
    return lines


def test_no_string_is_translated_inside_an_fstring():
    found = []
    for app in APPS:
        for path in sorted((Path(settings.BASE_DIR) / app).rglob("*.py")):
            for line in _translating_calls_in_fstrings(path.read_text()):
                found.append(f"{path.relative_to(settings.BASE_DIR)}:{line}")
    assert found == []


def test_the_check_finds_a_string_translated_inside_an_fstring():
    assert _translating_calls_in_fstrings("x = f\"<b>{gettext('VAT breakdown')}</b>\"") == [1]
    assert _translating_calls_in_fstrings('label = gettext("VAT breakdown")\nx = f"{label}"') == []
