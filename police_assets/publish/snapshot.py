"""The published zone: what readers (dashboards, analysts) use, so nobody ever opens the live warehouse.

``<data>/published/marts/<table>.parquet``: every table and view of the dbt ``marts`` schema, as Parquet (a view,
such as ``fct_street_crimes``, is computed once here so readers never pay for its join);
``<data>/published/serving.duckdb``: the same tables for SQL users, as views over those Parquet files by
absolute path (never over the live warehouse): a DuckDB file any process opens from any folder, and no second copy
of the marts on disk (docs/decisions/0009-disk-footprint.md);
``<data>/published/manifest.json``: when, which months, how many rows.

DuckDB allows one read-write process per file and a reader blocks writers, so a dashboard holding the live
warehouse open would make every run fail.

One snapshot, swapped in whole. Each publish builds a complete snapshot folder
``published/snapshots/<id>/{marts/, serving.duckdb, manifest.json}`` beside the others, then points the
symlink ``published/current`` at it with one rename; ``marts``, ``serving.duckdb`` and ``manifest.json`` in
``published/`` are fixed symlinks through ``current``. So every path a reader opens belongs to one finished
publish: a crash or a failure mid-publish leaves the previous snapshot in place, and a reader that resolves
``current`` once (:func:`snapshot_dir`) reads every table from the same publish. The previous snapshot is kept
until the next publish, for readers still holding it.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from police_assets.core.config import duckdb_config
from police_assets.core.sql import PARQUET_COPY_OPTIONS, sql_literal
from police_assets.core.tempfiles import build_name, link_in, swap_to_build, sweep, temp_path

MARTS_SCHEMA = "marts"
SNAPSHOTS, CURRENT = "snapshots", "current"
ENTRIES = ("marts", "serving.duckdb", "manifest.json")  # what a snapshot holds, each linked from published/
LICENCE = "Contains public sector information licensed under the Open Government Licence v3.0."


@dataclass
class PublishResult:
    tables: dict[str, int]  # table -> rows
    bytes: int
    months: list[str]
    serving: Path
    seconds: float
    snapshot: Path


def snapshot_dir(published_dir: Path) -> Path:
    """The folder of the current snapshot, resolved once: read every table from here to read one publish."""
    current = Path(published_dir) / CURRENT
    if current.is_symlink() or current.is_dir():
        return current.resolve()
    return Path(published_dir)  # a published zone from before snapshots: the files sit in it directly


def _build(
    warehouse: duckdb.DuckDBPyConnection,
    folder: Path,
    name: str,
    release: Callable[[list[str]], dict],
    labels: dict,
    generated: dict | None,
    docs: dict[str, dict],
) -> tuple[dict[str, int], list[str]]:
    """Write the marts as Parquet and the manifest of snapshot ``name`` into ``folder``; returns rows and
    months."""
    tables = [
        r[0]
        for r in warehouse.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ? "
            "AND table_type IN ('BASE TABLE', 'VIEW') ORDER BY 1",
            [MARTS_SCHEMA],
        ).fetchall()
    ]
    if not tables:
        raise RuntimeError(f"the warehouse has no {MARTS_SCHEMA} tables to publish (has dbt run?)")
    parquet_dir = folder / "marts"
    parquet_dir.mkdir(parents=True)
    rows = {}
    for table in tables:
        target = sql_literal(parquet_dir / f"{table}.parquet")
        copy = f"COPY {MARTS_SCHEMA}.{table} TO {target} ({PARQUET_COPY_OPTIONS})"
        rows[table] = warehouse.execute(copy).fetchone()[0]
    months = (
        [
            r[0]
            # from the file just written: the view would join every crime to its journey again
            for r in warehouse.execute(
                "SELECT DISTINCT strftime(crime_month, '%Y-%m') FROM "
                f"read_parquet({sql_literal(parquet_dir / 'fct_street_crimes.parquet')}) ORDER BY 1"
            ).fetchall()
        ]
        if "fct_street_crimes" in rows
        else []
    )
    catalogue = {}
    for table in tables:
        described = docs.get(table, {})
        schema = warehouse.execute(
            f"DESCRIBE SELECT * FROM read_parquet({sql_literal(parquet_dir / f'{table}.parquet')})"
        ).fetchall()
        catalogue[table] = {
            "description": described.get("description", ""),
            "columns": [[name, kind, described.get("columns", {}).get(name, "")] for name, kind, *_ in schema],
        }
    manifest = {
        "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "snapshot": name,
        "months": months,
        "tables": rows,
        "licence": LICENCE,
        "release": release(months),  # where the months came from: {"archives": [...], "fetched": date}
        "labels": labels,  # the marts' own labels the dashboards must match, e.g. {"unknown": "(unknown)"}
        "generated": generated,  # None for real data; what generated it for sample data (make demo)
        "catalogue": catalogue,  # per table: its dbt description, and its columns [name, type, description]
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return rows, months


def _write_serving(snapshot: Path, tables: list[str]) -> None:
    """``serving.duckdb`` of a snapshot already in its final folder: one view per mart over the snapshot's own
    Parquet file, by absolute path (DuckDB resolves a view's relative path against the reader's working folder,
    not the database file's, and checks the file exists when the view is created, hence after the snapshot's
    folder has its name). The price of absolute paths: a moved or copied ``published/`` needs :func:`relink`."""
    target = snapshot / "serving.duckdb"
    tmp = temp_path(target)
    try:
        with duckdb.connect(str(tmp), config=duckdb_config()) as con:
            con.execute(f"CREATE SCHEMA {MARTS_SCHEMA}")
            for table in tables:
                source = sql_literal(snapshot / "marts" / f"{table}.parquet")
                con.execute(
                    f"CREATE VIEW {MARTS_SCHEMA}.{table} AS "
                    f"SELECT * FROM read_parquet({source}, hive_partitioning = false)"
                )
            con.execute("CHECKPOINT")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def stale_serving(snapshot: Path) -> list[str]:
    """The views of a snapshot's ``serving.duckdb`` that read files outside that snapshot's own folder: after
    ``published/`` was moved (they fail) or copied (they read the original's files)."""
    snapshot = Path(snapshot)
    own = {sql_literal(folder / "marts")[1:-1] + "/" for folder in (snapshot.absolute(), snapshot.resolve())}
    with duckdb.connect(str(snapshot / "serving.duckdb"), read_only=True, config=duckdb_config()) as con:
        views = con.execute("SELECT view_name, sql FROM duckdb_views() WHERE NOT internal").fetchall()
    return sorted(name for name, sql in views if not any(path in sql for path in own))


def relink(published_dir: Path) -> list[str]:
    """Point every snapshot's ``serving.duckdb`` in ``published_dir`` at that snapshot's own files, after the
    folder was moved or copied; returns the snapshots rewritten (none when all were right). Readers connected
    before keep the file they opened; a reader connecting after gets the new one (written beside, renamed in)."""
    snapshots = Path(published_dir) / SNAPSHOTS
    if not snapshots.is_dir():
        raise FileNotFoundError(f"{published_dir} holds no snapshots/: not a published folder of this platform")
    done = []
    for snapshot in sorted(snapshots.iterdir()):
        manifest = snapshot / "manifest.json"
        if snapshot.name.startswith(".") or not manifest.is_file() or not (snapshot / "serving.duckdb").is_file():
            continue
        if stale_serving(snapshot):
            _write_serving(snapshot.absolute(), sorted(json.loads(manifest.read_text())["tables"]))
            done.append(snapshot.name)
    return done


def read_manifest(published_dir: Path) -> dict:
    """The current snapshot's manifest.json: months, tables and rows, licence, release, labels."""
    path = snapshot_dir(published_dir) / "manifest.json"
    if not path.is_file():
        raise FileNotFoundError(f"no published snapshot in {published_dir}: materialise publish/marts_snapshot first")
    return json.loads(path.read_text())


def publish_marts(
    warehouse: duckdb.DuckDBPyConnection,
    published_dir: Path,
    release: Callable[[list[str]], dict] = lambda months: {},
    labels: dict | None = None,
    generated: dict | None = None,
    docs: dict[str, dict] | None = None,
) -> PublishResult:
    """Export the marts through ``warehouse`` (an open connection) as a new snapshot and swap it in.

    ``release(months)`` describes where the published months came from; ``labels`` are the marts' own labels
    (the unknown label) that readers must match; ``generated`` says what generated sample data (None for real
    data); ``docs`` the dbt descriptions of the marts and their columns (the data dictionary). All go into the
    manifest."""
    started = time.monotonic()
    published_dir = Path(published_dir)
    snapshots = published_dir / SNAPSHOTS
    snapshots.mkdir(parents=True, exist_ok=True)
    sweep(snapshots)  # what a killed publish left
    sweep(published_dir)
    name = build_name()
    done = snapshots / name
    building = temp_path(done)
    try:
        rows, months = _build(warehouse, building, name, release, labels or {}, generated, docs or {})
        os.rename(building, done)
        # Not yet linked from ``current``: a snapshot left without it here is removed by the next publish.
        _write_serving(done, sorted(rows))
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        shutil.rmtree(done, ignore_errors=True)
        raise
    # the swap (one rename); the snapshot being replaced is kept for readers that resolved it just before
    swap_to_build(published_dir / CURRENT, snapshots, name)
    for entry in ENTRIES:
        link_in(published_dir / entry, Path(CURRENT) / entry)
    size = sum(p.stat().st_size for p in done.rglob("*") if p.is_file())
    return PublishResult(rows, size, months, published_dir / "serving.duckdb", time.monotonic() - started, done)
