"""Giving the warehouse's free space back to the disk: a copy of the live file without it, swapped in whole.

DuckDB gives back to the disk only the free space at a database file's end. The rest of the space of replaced
months, deleted journeys and dropped tables is reused by later writes but stays in the file: a backfill leaves
some, and a full refresh, which builds every model beside its old copy, more (docs/decisions/0009-disk-footprint.md).
Compaction copies every schema, table, view and sequence into a new file (DuckDB's ``COPY FROM DATABASE``), checks
the copy, and renames it over the live file.

What must stay true:
- The live file's data is never changed (a checkpoint first moves its write-ahead log into it, as closing it
  would). It is opened read-write, so DuckDB's lock keeps every other writer out for the whole compaction,
  including the rename (the Dagster job also holds the ``duckdb`` pool). A failure or a kill before the rename
  leaves it as it was, plus a temp file that the next compaction removes.
- The copy replaces the live file only once it holds the same tables with the same columns and row counts,
  and the same views.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from police_assets.core.sql import sql_literal
from police_assets.core.tempfiles import sweep, temp_path


class CompactionError(RuntimeError):
    """The warehouse could not be compacted; the live file is as it was."""


@dataclass(frozen=True)
class Compacted:
    before_bytes: int
    after_bytes: int
    free_bytes: int  # the free blocks found in the live file, after a checkpoint
    tables: int
    views: int
    seconds: float


def database_size(con: duckdb.DuckDBPyConnection, database: str) -> tuple[int, int]:
    """``(bytes in blocks, bytes in free blocks)`` of an attached database, as DuckDB counts them."""
    block_size, total, free = con.execute(
        "SELECT block_size, total_blocks, free_blocks FROM pragma_database_size() WHERE database_name = ?",
        [database],
    ).fetchone()
    return block_size * total, block_size * free


def _catalogue(con: duckdb.DuckDBPyConnection, database: str) -> tuple[list, list]:
    """What a copy must hold the same of: each table with its columns and row count, and each view's name."""
    tables = []
    for schema, table in con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = ? ORDER BY 1, 2", [database]
    ).fetchall():
        columns = con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = ? AND schema_name = ? "
            "AND table_name = ? ORDER BY column_index",
            [database, schema, table],
        ).fetchall()
        rows = con.execute(f'SELECT count(*) FROM "{database}"."{schema}"."{table}"').fetchone()[0]
        tables.append((schema, table, columns, rows))
    views = con.execute(
        "SELECT schema_name, view_name FROM duckdb_views() WHERE database_name = ? AND NOT internal ORDER BY 1, 2",
        [database],
    ).fetchall()
    return tables, views


def compact_warehouse(con: duckdb.DuckDBPyConnection, path: Path, log=None) -> Compacted:
    """Compact the warehouse at ``path``, which ``con`` holds open read-write (and so locked); see the module."""
    started = time.monotonic()
    path = Path(path)
    sweep(path.parent)  # what a killed compaction left: its temp file and that file's write-ahead log
    live = con.execute("SELECT current_database()").fetchone()[0]
    con.execute(f'CHECKPOINT "{live}"')  # the write-ahead log into the file, so the copy reads every change
    before = path.stat().st_size
    used, free = database_size(con, live)
    needed = used - free
    available = shutil.disk_usage(path.parent).free
    if available < needed * 1.1:
        raise CompactionError(
            f"compacting {path} needs about {needed / 1e6:,.0f} MB free beside it for the copy; "
            f"{available / 1e6:,.0f} MB are free. Nothing was changed."
        )
    if log:
        log.info(f"compacting {path}: {before / 1e6:,.0f} MB, of which {free / 1e6:,.0f} MB free blocks")
    tmp = temp_path(path)
    try:
        con.execute(f"ATTACH {sql_literal(str(tmp))} AS compacted")
        try:
            con.execute(f'COPY FROM DATABASE "{live}" TO compacted')
            con.execute("CHECKPOINT compacted")
            expected, copied = _catalogue(con, live), _catalogue(con, "compacted")
        finally:
            con.execute("DETACH compacted")
        if copied != expected:
            missing = sorted({(s, t) for s, t, *_ in expected[0]} ^ {(s, t) for s, t, *_ in copied[0]})
            raise CompactionError(
                f"the compacted copy of {path} does not hold the same tables and views "
                f"(differing: {missing or 'columns or row counts'}); the live file was left as it was"
            )
        # Renamed while the live file is still open: DuckDB's lock on it keeps other writers out until the copy
        # has taken its name; the old file's space is freed when the connection closes.
        os.replace(tmp, path)
        _sync_folder(path.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)
        raise
    tables, views = expected
    return Compacted(before, path.stat().st_size, free, len(tables), len(views), time.monotonic() - started)


def _sync_folder(folder: Path) -> None:
    """The rename made durable: without it a power cut could bring back the old name's file."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
