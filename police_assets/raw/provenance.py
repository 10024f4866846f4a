"""Generated data and real data never share a data folder.

A data folder's mark (``core.generated``) makes every page and download say its numbers are made
up. Real months fetched into a marked folder would be published under that banner, beside made-up ones; made-up
months fetched into a real folder would pass for real. So before a run fetches anything, the source's kind (a
source of generated data says so: ``source.client.GENERATED_HEADER``, or the marker in a folder of archives) is
checked against the folder's, and a mismatch stops the run naming both and the way out. A folder that holds no
month yet takes the kind of its first source.
"""

from __future__ import annotations

from police_assets.core.generated import write_note
from police_assets.core.storage import PoliceStorage


class ProvenanceError(RuntimeError):
    """The source's data and the data folder's are of different kinds (generated, real)."""


def holds_months(storage: PoliceStorage) -> bool:
    return storage.raw_dir.is_dir() and any(storage.raw_dir.glob("month=*"))


def check_source(storage: PoliceStorage, base_url: str, generated_by: str | None) -> None:
    """Raise ProvenanceError if ``base_url`` (whose data ``generated_by`` made, None for real data) must not
    feed ``storage``'s folder; mark a folder without months as generated when its first source is."""
    note = storage.sample_note()
    folder = storage.root.resolve()
    if note and not generated_by:
        raise ProvenanceError(
            f"refused: the data folder {folder} holds generated sample data ({note['generated_by']}), and the "
            f"source {base_url} serves real data.police.uk data: real months here would be published as "
            "made-up ones. Give real data a folder of its own: unset POLICE_DATA_DIR for the default (data/, "
            "with DAGSTER_HOME=$PWD/dagster_home), or set it to another folder (make demo keeps its data in "
            "demo/). Nothing was fetched."
        )
    if generated_by and not note:
        if holds_months(storage):
            raise ProvenanceError(
                f"refused: the data folder {folder} holds real data.police.uk data, and the source {base_url} "
                f"serves generated sample data ({generated_by}): made-up months here would pass for real ones. "
                "Give generated data a folder of its own: set POLICE_DATA_DIR to another folder (make demo uses "
                "demo/, and make dev DEMO=1 reads it), or unset DATA_POLICE_UK_URL for https://data.police.uk. "
                "Nothing was fetched."
            )
        write_note(storage.root, generated_by, source=base_url)
