"""Every official file kept under schemas/ is the one its PROVENANCE records, and none is kept
without one."""

import hashlib
import re
from pathlib import Path

from django.conf import settings

SCHEMAS = Path(settings.BASE_DIR) / "schemas"
CHECKSUM_LINE = re.compile(r"^([0-9a-f]{64})  (\S+)$")


def recorded_checksums() -> dict[Path, str]:
    """Each "<sha256>  <file>" line of every PROVENANCE, by the file's path beside it."""
    recorded = {}
    for provenance in SCHEMAS.rglob("PROVENANCE"):
        for line in provenance.read_text().splitlines():
            match = CHECKSUM_LINE.match(line.strip())
            if match:
                recorded[provenance.parent / match.group(2)] = match.group(1)
    return recorded


def test_every_kept_schema_file_matches_its_provenance():
    recorded = recorded_checksums()
    kept = [
        path
        for path in SCHEMAS.rglob("*")
        if path.is_file() and path.name not in ("PROVENANCE", "README.md")
    ]
    assert SCHEMAS / "dmfa-20223" / "DmfAOriginal_20223.xsd" in kept
    for path in kept:
        assert path in recorded, f"{path} has no checksum in a PROVENANCE"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == recorded[path], path


def test_every_provenance_names_publisher_version_source_and_licence():
    for provenance in SCHEMAS.rglob("PROVENANCE"):
        text = provenance.read_text()
        for field in ("Publisher:", "Version:", "Source:", "Licence:"):
            assert field in text, f"{provenance}: no {field}"
