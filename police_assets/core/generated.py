"""The mark of generated sample data: a folder holding this file says its data is made up.

A data folder gets it from its first fetch from a source of generated data (police_assets.raw.provenance) or from
``make demo``; the published manifest, every dashboard page and every download then say the numbers are
generated. A source folder of generated archives (the development tools' fake data.police.uk) holds it too.
This module is the file's one reader and writer, and imports nothing heavy: the fake source reads it as well.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

SAMPLE_MARKER = "GENERATED-SAMPLE-DATA.json"


def read_note(folder: Path) -> dict | None:
    """What generated the data in ``folder`` (``{"generated_by": ..., ...}``), or None for real data."""
    marker = Path(folder) / SAMPLE_MARKER
    return json.loads(marker.read_text()) if marker.is_file() else None


def write_note(folder: Path, generated_by: str, **more: str) -> None:
    """Mark ``folder`` as holding data that ``generated_by`` made up (``more``: what else the note records)."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    note = {"generated_by": generated_by, **more, "marked_at": datetime.now(UTC).isoformat(timespec="seconds")}
    (Path(folder) / SAMPLE_MARKER).write_text(json.dumps(note, indent=1))
