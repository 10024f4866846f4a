"""Two operator's commands on the published snapshot, outside a pipeline run:

- ``python -m police_assets.publish relink [PUBLISHED_DIR]``: after ``published/`` was moved or copied, point
  each snapshot's ``serving.duckdb`` at its own Parquet files (its views hold absolute paths). Without an
  argument it relinks the configured data folder's ``published/`` (``POLICE_DATA_DIR``).
- ``python -m police_assets.publish load-postgres``: load the current snapshot into the BI copy in PostgreSQL
  (``POLICE_MARTS_POSTGRES_URL``) now, as ``publish/marts_postgres`` does after every publish: after a restore,
  or when the BI copy is first turned on, instead of waiting for the next release. No month to name: it loads
  whatever is published.
"""

import sys
from pathlib import Path

from police_assets.core.storage import PoliceStorage
from police_assets.publish.postgres import load_published
from police_assets.publish.snapshot import relink

USAGE = "usage: python -m police_assets.publish relink [PUBLISHED_DIR] | load-postgres"


def load_postgres() -> int:
    try:
        result = load_published(
            PoliceStorage.from_env().published_dir, log=print, warn=lambda message: print(message, file=sys.stderr)
        )
    except (FileNotFoundError, RuntimeError) as error:
        print(error, file=sys.stderr)
        return 1
    print(f"snapshot {result.snapshot}: {len(result.tables)} tables served from schema {result.schema}")
    return 0


def main(argv: list[str]) -> int:
    if argv == ["load-postgres"]:
        return load_postgres()
    if not argv or argv[0] != "relink" or len(argv) > 2:
        print(USAGE, file=sys.stderr)
        return 2
    published = Path(argv[1]) if len(argv) == 2 else PoliceStorage.from_env().published_dir
    try:
        done = relink(published)
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 1
    if done:
        print(f"{published}: serving.duckdb of {len(done)} snapshot(s) now reads its own files: {', '.join(done)}")
    else:
        print(f"{published}: every serving.duckdb already reads its own files; nothing changed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
