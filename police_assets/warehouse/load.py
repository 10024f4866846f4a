"""The warehouse's landing relations ``landing.<dataset>``: views over one Parquet file per loaded month.

A month is loaded by hard-linking the lake's file for it into the warehouse's own folder
(``<warehouse>_landing/<dataset>/<YYYY-MM>.parquet``), put in place with one rename. So:

- the landing relations are not a second copy of the lake on disk: a loaded month is the lake's file under a
  second name (a copy only when the two folders are on different file systems);
- they still change only when this stage runs: the lake replaces a month by renaming a new file in, which
  leaves the warehouse's name on the file it loaded;
- loading a month any number of times leaves one copy of it, and a reader (dbt, in the same ``duckdb`` pool,
  so never at the same time) sees the month's old file or its new one, never a mix or nothing;
- a file that is not what the dataset's contract says (other columns or types, rows of another month) is
  refused before the rename, and the month keeps the copy it had.

The view reads the folder by absolute path (DuckDB resolves a relative path against the reader's working
folder), so every writer step points it at this storage's folder again when the data folder has moved.
``landing._loads`` records every load; ``landing.force_files`` stays a table (a few hundred rows a month).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from police_assets.core.datasets import DATASETS, DatasetSpec, dataset_for_member
from police_assets.core.sql import LAKE_PARQUET_COPY_OPTIONS, sql_literal
from police_assets.core.tempfiles import linked_temp, sweep, temp_path
from police_assets.lake.convert import lake_schema
from police_assets.raw.zone import RawMonth

SCHEMA = "landing"  # not "warehouse": that is the catalog name of warehouse.duckdb, and DuckDB finds it ambiguous
READ_OPTIONS = (
    "hive_partitioning = false, union_by_name = true"  # a file written before a column was added reads it as NULL
)


class LandingFileRefused(ValueError):
    """A month's file is not what its dataset's contract says; the month keeps the copy it had."""


def table_name(spec: DatasetSpec) -> str:
    return f"{SCHEMA}.{spec.name}"


def landing_folder(landing_dir: Path, spec: DatasetSpec) -> Path:
    return Path(landing_dir) / spec.name


def landing_file(landing_dir: Path, spec: DatasetSpec, month: str) -> Path:
    return landing_folder(landing_dir, spec) / f"{month}.parquet"


def _ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    con.execute(f"""
        CREATE TABLE IF NOT EXISTS {SCHEMA}._loads (
            dataset VARCHAR, month DATE, rows BIGINT, source VARCHAR, loaded_at TIMESTAMP DEFAULT current_timestamp
        )
    """)


def _relation_kind(con: duckdb.DuckDBPyConnection, spec: DatasetSpec) -> str | None:
    """'BASE TABLE', 'VIEW' or None (absent)."""
    found = con.execute(
        "SELECT table_type FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [SCHEMA, spec.name],
    ).fetchone()
    return found[0] if found else None


def _view_select(spec: DatasetSpec, landing_dir: Path) -> tuple[str, str | None]:
    """The view's query: the dataset's columns in contract order over every month's file, or no rows of the
    right types while no month is loaded (DuckDB will not make a view over a pattern that matches nothing).
    With it, the query's start up to the file pattern (DuckDB keeps a view's text re-printed, its options in
    brackets, so that is the part to compare), or None for the empty view."""
    schema = lake_schema(spec)
    folder = landing_folder(landing_dir, spec).resolve()
    if any(folder.glob("*.parquet")):
        head = f"SELECT {', '.join(n for n, _ in schema)} FROM read_parquet({sql_literal(folder / '*.parquet')}"
        return f"{head}, {READ_OPTIONS})", head
    return f"SELECT {', '.join(f'CAST(NULL AS {t}) AS {n}' for n, t in schema)} WHERE false", None


def _migrate_table(con: duckdb.DuckDBPyConnection, spec: DatasetSpec, landing_dir: Path) -> str:
    """A warehouse from before the landing views holds ``landing.<dataset>`` as a table: each of its months is
    written to the month's file (exactly the rows the table held), then the table gives way to the view, in
    one transaction. Killed part way, the table is still there and the next run starts again."""
    months = [
        m
        for (m,) in con.execute(
            f"SELECT DISTINCT strftime(month, '%Y-%m') FROM {table_name(spec)} ORDER BY 1"
        ).fetchall()
    ]
    for month in months:
        target = landing_file(landing_dir, spec, month)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = temp_path(target)
        con.execute(
            f"COPY (SELECT * FROM {table_name(spec)} WHERE month = DATE {sql_literal(month + '-01')}) "
            f"TO {sql_literal(tmp)} ({LAKE_PARQUET_COPY_OPTIONS})"
        )
        os.replace(tmp, target)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"DROP TABLE {table_name(spec)}")
        con.execute(f"CREATE VIEW {table_name(spec)} AS {_view_select(spec, landing_dir)[0]}")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return (
        f"{table_name(spec)} was a table (a warehouse from before the landing views): its {len(months)} months "
        f"are now files in {landing_folder(landing_dir, spec)}, and it is a view over them"
    )


def _point_view(con: duckdb.DuckDBPyConnection, spec: DatasetSpec, landing_dir: Path) -> None:
    """(Re)make the view unless it already reads this storage's folder with the contract's columns."""
    select, head = _view_select(spec, landing_dir)
    stored = con.execute(
        "SELECT sql FROM duckdb_views() WHERE schema_name = ? AND view_name = ?", [SCHEMA, spec.name]
    ).fetchone()
    if stored and head and stored[0].startswith(f"CREATE VIEW {table_name(spec)} AS {head}"):
        return
    con.execute(f"CREATE OR REPLACE VIEW {table_name(spec)} AS {select}")


def ensure_landing(
    con: duckdb.DuckDBPyConnection, landing_dir: Path, specs: list[DatasetSpec] | tuple[DatasetSpec, ...] = DATASETS
) -> list[str]:
    """The landing schema, the load log, and each dataset's view over its folder (an older warehouse's landing
    table moved to files first: what was moved is returned, for the run's log); what a killed load left in the
    folders is swept."""
    moved = []
    _ensure_schema(con)
    for spec in specs:
        folder = landing_folder(landing_dir, spec)
        folder.mkdir(parents=True, exist_ok=True)
        sweep(folder)
        if _relation_kind(con, spec) == "BASE TABLE":
            moved.append(_migrate_table(con, spec, landing_dir))
        _point_view(con, spec, landing_dir)
    return moved


def _checked_rows(
    con: duckdb.DuckDBPyConnection, spec: DatasetSpec, month: str, parquet: Path, named: Path | None = None
) -> int:
    """The file's row count, once it is shown to hold the dataset's columns with their types, and only rows of
    ``month``; else :class:`LandingFileRefused` saying what differs (of the file ``named``, if given: the name
    the user knows it by)."""
    source = f"read_parquet({sql_literal(parquet)}, hive_partitioning = false)"
    named = named or parquet
    got = {name: kind for name, kind, *_ in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
    want = dict(lake_schema(spec))
    if got != want:
        differences = [f"missing {c}" for c in want if c not in got]
        differences += [f"unexpected {c}" for c in got if c not in want]
        differences += [f"{c} is {got[c]}, not {t}" for c, t in want.items() if c in got and got[c] != t]
        raise LandingFileRefused(f"{named} is not the {spec.name} contract: {'; '.join(differences)}")
    rows, other = con.execute(
        f"SELECT count(*), count(*) FILTER (month IS DISTINCT FROM DATE {sql_literal(month + '-01')}) FROM {source}"
    ).fetchone()
    if other:
        raise LandingFileRefused(f"{named} has {other} of its {rows} rows outside {month}")
    return rows


def _file_rows(con: duckdb.DuckDBPyConnection, parquet: Path) -> int:
    return con.execute(f"SELECT count(*) FROM read_parquet({sql_literal(parquet)})").fetchone()[0]


@dataclass
class LoadResult:
    dataset: str
    month: str
    rows: int
    deleted: int
    seconds: float


def load_month(
    con: duckdb.DuckDBPyConnection, spec: DatasetSpec, month: str, parquet: Path, landing_dir: Path
) -> LoadResult:
    """Make the lake file ``parquet`` the month's copy in ``landing.<dataset>`` (one rename), once checked."""
    if not Path(parquet).is_file():
        raise FileNotFoundError(f"no lake file for {spec.name} {month} at {parquet} (materialise lake first)")
    started = time.monotonic()
    ensure_landing(con, landing_dir, [spec])
    target = landing_file(landing_dir, spec, month)
    tmp = linked_temp(parquet, target)  # checked under its own name: the lake may rename a new file in meanwhile
    try:
        rows = _checked_rows(con, spec, month, tmp, named=Path(parquet))
        deleted = _file_rows(con, target) if target.is_file() else 0
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _point_view(con, spec, landing_dir)  # the first month loaded turns the empty view into one over the folder
    con.execute(
        f"INSERT INTO {SCHEMA}._loads (dataset, month, rows, source) VALUES (?, CAST(? AS DATE), ?, ?)",
        [spec.name, f"{month}-01", rows, str(parquet)],
    )
    return LoadResult(spec.name, month, rows, deleted, time.monotonic() - started)


FORCE_FILES = f"{SCHEMA}.force_files"


def _replace_month(
    con: duckdb.DuckDBPyConnection, table: str, month: str, insert_sql: str, params: list, source: str
) -> tuple[int, int]:
    """Delete ``month`` from ``table`` and run ``insert_sql``, in one transaction; returns (rows, deleted)."""
    month_date = f"{month}-01"
    con.execute("BEGIN TRANSACTION")
    try:
        deleted = con.execute(f"DELETE FROM {table} WHERE month = CAST(? AS DATE)", [month_date]).fetchone()[0]
        con.execute(insert_sql, params)
        rows = con.execute(f"SELECT count(*) FROM {table} WHERE month = CAST(? AS DATE)", [month_date]).fetchone()[0]
        con.execute(
            f"INSERT INTO {SCHEMA}._loads (dataset, month, rows, source) VALUES (?, CAST(? AS DATE), ?, ?)",
            [table.split(".")[-1], month_date, rows, source],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return rows, deleted


def load_force_files(con: duckdb.DuckDBPyConnection, month: str, rows: list[tuple], source: str) -> LoadResult:
    """Replace ``month`` of ``landing.force_files``: ``(force_id, force_name, dataset, has_file, file_bytes,
    set_aside_reason)`` rows."""
    started = time.monotonic()
    _ensure_schema(con)
    con.execute(f"""
        CREATE TABLE IF NOT EXISTS {FORCE_FILES} (
            month DATE, force_id VARCHAR, force_name VARCHAR, dataset VARCHAR, has_file BOOLEAN, file_bytes BIGINT,
            set_aside_reason VARCHAR
        )
    """)
    # a warehouse from before files could be set aside: the column is added (last, where CREATE puts it)
    con.execute(f"ALTER TABLE {FORCE_FILES} ADD COLUMN IF NOT EXISTS set_aside_reason VARCHAR")
    values = ", ".join(["(CAST(? AS DATE), ?, ?, ?, ?, ?, ?)"] * len(rows)) or None
    params = [v for r in rows for v in (f"{month}-01", *r)]
    sql = f"INSERT INTO {FORCE_FILES} VALUES {values}" if values else "SELECT 1"
    n, deleted = _replace_month(con, FORCE_FILES, month, sql, params, source)
    return LoadResult("force_files", month, n, deleted, time.monotonic() - started)


def force_file_rows(raw: RawMonth, set_aside: dict[tuple[str, str], str] | None = None) -> list[tuple]:
    """One row per force x dataset for the month: did the force publish a file, how big was it, and why the lake
    set it aside, if it did (``set_aside``: (force, file suffix) -> reason).

    Forces come from the API's list at fetch time plus any force that has a file (a force missing from the API
    list still counts); the dataset is the spec's file suffix (street, outcomes, stop-and-search).
    """
    set_aside = set_aside or {}
    files = {}
    for member in raw.members:
        hit = dataset_for_member(member["name"], raw.month)
        if hit:
            files[(hit[1], hit[0].file_suffix)] = member["size"]
    forces = dict(raw.forces)
    for force, _ in files:
        forces.setdefault(force, force)
    return [
        (
            force,
            name,
            spec.file_suffix,
            (force, spec.file_suffix) in files,
            files.get((force, spec.file_suffix), 0),
            set_aside.get((force, spec.file_suffix)),
        )
        for force, name in sorted(forces.items())
        for spec in DATASETS
    ]
