"""The warehouse: DuckDB tables ``landing.<dataset>`` loaded month by month from the lake.

Each month is replaced by delete-then-insert inside one transaction, so re-loading a month any number of times
leaves exactly one copy, and a failed insert (e.g. a lake file with another schema) rolls back to the previous
copy instead of leaving the month empty. The table DDL comes from the dataset spec, so the table exists with
the right types even when the first month loaded has no rows. ``landing._loads`` records every load.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from police_assets.core.datasets import DATASETS, DatasetSpec, dataset_for_member
from police_assets.lake.convert import lake_schema
from police_assets.raw.zone import RawMonth

log = logging.getLogger(__name__)

SCHEMA = "landing"  # not "warehouse": that is the catalog name of warehouse.duckdb, and DuckDB finds it ambiguous


def table_name(spec: DatasetSpec) -> str:
    return f"{SCHEMA}.{spec.name}"


def _ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    con.execute(f"""
        CREATE TABLE IF NOT EXISTS {SCHEMA}._loads (
            dataset VARCHAR, month DATE, rows BIGINT, source VARCHAR, loaded_at TIMESTAMP DEFAULT current_timestamp
        )
    """)


def ensure_tables(con: duckdb.DuckDBPyConnection, spec: DatasetSpec) -> None:
    _ensure_schema(con)
    cols = ", ".join(f"{n} {t}" for n, t in lake_schema(spec))
    con.execute(f"CREATE TABLE IF NOT EXISTS {table_name(spec)} ({cols})")


@dataclass
class LoadResult:
    dataset: str
    month: str
    rows: int
    deleted: int
    seconds: float


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


def load_month(con: duckdb.DuckDBPyConnection, spec: DatasetSpec, month: str, parquet: Path) -> LoadResult:
    """Replace ``month`` of ``landing.<dataset>`` with the lake file's rows, in one transaction."""
    if not Path(parquet).is_file():
        raise FileNotFoundError(f"no lake file for {spec.name} {month} at {parquet} (materialise lake first)")
    started = time.monotonic()
    ensure_tables(con, spec)
    rows, deleted = _replace_month(
        con,
        table_name(spec),
        month,
        # hive_partitioning off: the folder's `month=YYYY-MM` would otherwise replace the DATE column.
        f"INSERT INTO {table_name(spec)} BY NAME SELECT * FROM read_parquet(?, hive_partitioning = false)",
        [str(parquet)],
        str(parquet),
    )
    return LoadResult(spec.name, month, rows, deleted, time.monotonic() - started)


FORCE_FILES = f"{SCHEMA}.force_files"


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
