"""Every official schema committed under ``schemas/`` is the file its PROVENANCE describes.

Each folder's PROVENANCE names the publisher, version, source (with its commit) and licence, and
records the SHA-256 of each file it covers; a committed file without its checksum line, or
whose bytes differ from it, fails here. (The Peppol rule sets, which may not be redistributed,
hold only their PROVENANCE: tests/invoicing/test_peppol_validation.py checks those.)
"""

import hashlib
import re
from pathlib import Path

from django.conf import settings

SCHEMAS = Path(settings.BASE_DIR) / "schemas"
CHECKSUM_LINE = re.compile(r"^([0-9a-f]{64})\s+(\S+)$")
NOT_SCHEMAS = {"PROVENANCE", "README.md"}


def recorded(provenance: Path) -> dict[str, str]:
    checksums = {}
    for line in provenance.read_text(encoding="utf-8").splitlines():
        match = CHECKSUM_LINE.match(line.strip())
        if match:
            checksums[match.group(2)] = match.group(1)
    return checksums


def test_every_committed_schema_matches_the_checksum_of_its_provenance():
    files = [path for path in SCHEMAS.rglob("*") if path.is_file() and path.name not in NOT_SCHEMAS]
    assert any(path.name == "Belcotax-2024.xsd" for path in files)
    for path in files:
        provenance = path.parent / "PROVENANCE"
        assert provenance.exists(), f"{path} has no PROVENANCE"
        checksum = recorded(provenance).get(path.name)
        assert checksum, f"{path.name} has no SHA-256 line in {provenance}"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == checksum, path


def test_every_provenance_names_its_publisher_version_source_and_licence():
    for provenance in SCHEMAS.rglob("PROVENANCE"):
        text = provenance.read_text(encoding="utf-8")
        for field in ("Publisher:", "Version:", "Source:", "Licence:"):
            assert field in text, f"{provenance} lacks {field}"


def test_the_belcotax_2024_schema_is_the_one_recorded():
    provenance = SCHEMAS / "belcotax" / "2024" / "PROVENANCE"
    text = provenance.read_text(encoding="utf-8")
    assert "Publisher: FPS Finance" in text
    assert "2f69bc651222af6bded657c9b21975dffea28888" in text
    assert recorded(provenance) == {
        "Belcotax-2024.xsd": "50dfe6d6b54bcb869398a630a05c1a4c86dedd7e4010baeddc102f25482ebb79"
    }
