"""The DmfA file of a demo quarter: worker records, totals, and the official schema."""

import datetime
from decimal import Decimal

from lxml import etree

from declarations.dmfa import build_dmfa, schema_errors
from declarations.selectors import Quarter, quarter_declaration
from tests.conftest import NOW

Q1 = Quarter(2026, 1)


def test_probe(quarter_paid):
    declaration = quarter_declaration(Q1)
    document = build_dmfa(declaration, now=NOW)
    print(document.decode())
    print(schema_errors(document))
    for record in declaration.records:
        print(record.name, record.category, record.occupations)
    print(declaration.holiday)
