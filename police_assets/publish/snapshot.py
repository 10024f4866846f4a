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

import hashlib
import json
import os
import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from police_assets.core.config import duckdb_config
from police_assets.core.sql import PARQUET_COPY_OPTIONS, sql_literal
from police_assets.core.tempfiles import build_name, link_in, link_or_copy, swap_to_build, sweep, temp_path
from police_assets.publish.stitch import CannotStitch, stitch

MARTS_SCHEMA = "marts"
MONTH_VERSIONS = "publish.publish_month_versions"  # dbt: which tables split by month, and each month's version
BOOKKEEPING = ("refreshed_at",)  # the warehouse's own columns (dbt), never published
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
    if not current.is_dir():
        raise FileNotFoundError(f"no published snapshot in {published_dir}: materialise publish/marts_snapshot first")
    return current.resolve()


@dataclass(frozen=True)
class MonthSplit:
    """A table published one file per month, from dbt's ``publish.publish_month_versions``: its month column,
    each month's version, and where some columns change with later months (a crime's journey) the version of
    the others (``own_versions``), the names of those that do not follow it (``later_columns``) and the column
    that identifies a row within its month (``key_column``)."""

    column: str
    versions: dict[str, str]
    own_versions: dict[str, str]
    later_columns: list[str]
    key_column: str | None = None


def _month_versions(warehouse: duckdb.DuckDBPyConnection) -> dict[str, MonthSplit]:
    """The tables published one file per month (:class:`MonthSplit`). A warehouse without
    ``publish.publish_month_versions`` publishes every table whole."""
    try:
        cursor = warehouse.execute(f"SELECT * FROM {MONTH_VERSIONS}")
    except duckdb.CatalogException:
        return {}
    names = [d[0] for d in cursor.description]
    split: dict[str, MonthSplit] = {}
    for values in cursor.fetchall():
        row = dict(zip(names, values, strict=True))
        table, month = row["table_name"], row["data_month"].strftime("%Y-%m")
        entry = split.setdefault(
            table,
            MonthSplit(row["month_column"], {}, {}, list(row.get("later_columns") or []), row.get("key_column")),
        )
        entry.versions[month] = row["month_version"]
        if row.get("own_version") is not None:
            entry.own_versions[month] = row["own_version"]
    return split


def _logic(columns: list[tuple[str, str]], views: str, options: str) -> str:
    """What a month's file depends on besides its data: the table's published ``columns`` (name, type),
    ``views``, the SQL of every view in the warehouse (:func:`_views`; the dbt views compute the marts at read
    time), and ``options``, how the file is written (compression, the generated-data mark). An upgrade that
    changes any of them without rebuilding a table changes this, and every month is written again."""
    return hashlib.sha256(json.dumps([columns, views, options]).encode()).hexdigest()[:16]


def _views(warehouse: duckdb.DuckDBPyConnection) -> str:
    rows = warehouse.execute("SELECT schema_name, view_name, sql FROM duckdb_views() WHERE NOT internal ORDER BY 1, 2")
    return json.dumps(rows.fetchall())


def _carry_over(previous: Path | None, previous_part: dict, month: str, version: str, target: Path) -> int | None:
    """Hard-link the file for ``month`` from the previous snapshot when it holds that month at the same version
    (``previous_part``: that snapshot's record of the table); returns its row count, or None when the month must
    be written again."""
    part = previous_part.get("months", {}).get(month)
    if previous is None or not part or part["version"] != version or not (previous / "marts" / part["file"]).is_file():
        return None
    link_or_copy(previous / "marts" / part["file"], target)
    return part["rows"]


def _own_columns_unchanged(previous: Path | None, previous_part: dict, spec: MonthSplit, month: str) -> Path | None:
    """The previous snapshot's file for ``month`` when only its later columns changed since (the same logic and
    own_version, a key to match the rows on), else None: the month is then written whole."""
    part = previous_part.get("months", {}).get(month)
    own = spec.own_versions.get(month)
    if previous is None or not part or not spec.later_columns or not spec.key_column or own is None:
        return None
    file = previous / "marts" / part["file"]
    return file if part.get("own_version") == own and file.is_file() else None


# A month file's text columns with few values are written through an ENUM of the values the snapshot has seen in
# them: DuckDB's Parquet writer then has each column's dictionary ready instead of building it row by row. The
# file holds the same strings either way (Parquet has no ENUM; readers see text), so these "dictionaries" are a
# hint, never a rule: a value one lacks fails the cast, and that month is written as plain text and its values
# learned. A column with more values than this, or whose values are mostly new each month (the file names), is
# written as text from then on.
DICTIONARY_LIMIT = 1000


def _select_list(columns: list[tuple[str, str]], dictionaries: dict[str, list[str] | None]) -> str:
    """The published columns of a table's rows, those with a dictionary cast to an ENUM of it."""
    parts = []
    for name, _ in columns:
        values = dictionaries.get(name)
        if values:
            parts.append(f'CAST("{name}" AS ENUM({", ".join(sql_literal(v) for v in values)})) AS "{name}"')
        else:
            parts.append(f'"{name}"')
    return ", ".join(parts)


def _learn(
    warehouse: duckdb.DuckDBPyConnection, file: Path, columns: list[tuple[str, str]], dictionaries: dict
) -> None:
    """Add the text values of the month just written as ``file`` to ``dictionaries`` (in place): a column not yet
    known, or whose dictionary missed a value. A column gets None (text from then on) when it would exceed
    DICTIONARY_LIMIT, or when most of the month's values are new to it."""
    candidates = [name for name, kind in columns if kind == "VARCHAR" and dictionaries.get(name, ()) is not None]
    if not candidates:
        return
    found = warehouse.execute(
        "SELECT "
        + ", ".join(
            f'CASE WHEN count(DISTINCT "{name}") <= {DICTIONARY_LIMIT} THEN list(DISTINCT "{name}") END'
            for name in candidates
        )
        + f" FROM read_parquet({sql_literal(file)})"
    ).fetchone()
    for name, values in zip(candidates, found, strict=True):
        known = set(dictionaries.get(name) or ())
        seen = {v for v in values if v is not None} if values is not None else None
        if seen is None or (known and len(seen - known) * 2 > len(seen)):
            dictionaries[name] = None
            continue
        merged = known | seen
        dictionaries[name] = sorted(merged) if len(merged) <= DICTIONARY_LIMIT else None


def _write_month(
    warehouse: duckdb.DuckDBPyConnection,
    source: str,
    columns: list[tuple[str, str]],
    dictionaries: dict,
    target: Path,
    options: str,
    lock: threading.Lock,
) -> tuple[int, bool]:
    """Write the rows of ``source`` (a query's FROM and WHERE) as ``target``; returns the rows and whether a
    value new to a dictionary made it write the month as plain text (and learn its values). ``dictionaries`` is
    shared by the months written side by side: read and learned into only under ``lock``."""

    def copy(select: str) -> int:
        return warehouse.execute(f"COPY (SELECT {select} {source}) TO {sql_literal(target)} ({options})").fetchone()[0]

    with lock:
        cast = any(dictionaries.get(name) for name, _ in columns)
        select = _select_list(columns, dictionaries)
    if cast:
        try:
            return copy(select), False
        except duckdb.ConversionException:
            target.unlink(missing_ok=True)  # what the failed COPY wrote
    count = copy(_select_list(columns, {}))
    with lock:
        _learn(warehouse, target, columns, dictionaries)
    return count, cast  # written as text after a cast was tried: a dictionary missed a value


@dataclass(frozen=True)
class _Written:
    """How a month's file was written: its rows; whether a value new to a dictionary made it write the month
    again as text (``twice``); whether only its later columns were written, the others copied from the previous
    snapshot's file (``later_only``); and, when that was tried but could not be done, why (``whole_because``)."""

    rows: int
    twice: bool
    later_only: bool = False
    whole_because: str | None = None


# A month's job: writes its file through the cursor it is given (the lock guards the shared dictionaries).
MonthJob = Callable[[duckdb.DuckDBPyConnection, threading.Lock], _Written]


def _whole_month(
    source: str, target: Path, columns: list[tuple[str, str]], dictionaries: dict, options: str
) -> MonthJob:
    """The job that writes every column of the rows of ``source`` (a query's FROM and WHERE) as ``target``."""

    def job(cursor: duckdb.DuckDBPyConnection, lock: threading.Lock) -> _Written:
        return _Written(*_write_month(cursor, source, columns, dictionaries, target, options, lock))

    return job


def _later_month(
    table: str,
    spec: MonthSplit,
    where: str,
    previous_file: Path,
    target: Path,
    columns: list[tuple[str, str]],
    dictionaries: dict,
    options: str,
    whole: MonthJob,
) -> MonthJob:
    """The job for a month (its rows: ``where``) whose own columns did not change since ``previous_file`` (the
    previous snapshot's file of the month, same logic and own_version) but whose later columns did: it writes
    only the later columns beside ``target``, row for row in the order of ``previous_file`` (matched on the key
    column), and stitches the two into ``target`` (:func:`police_assets.publish.stitch.stitch`). When the rows
    do not match one to one, or the files cannot be stitched, it runs ``whole`` instead: never a wrong file."""
    later = [(name, kind) for name, kind in columns if name in spec.later_columns]
    matched = (
        f'FROM (SELECT "{spec.key_column}" AS _publish_key, file_row_number AS _publish_row '
        f"FROM read_parquet({sql_literal(previous_file)}, file_row_number = true)) AS previous "
        f'INNER JOIN {MARTS_SCHEMA}.{table} AS current ON current."{spec.key_column}" = previous._publish_key '
        f"AND current.{where} ORDER BY previous._publish_row"
    )

    def job(cursor: duckdb.DuckDBPyConnection, lock: threading.Lock) -> _Written:
        scratch = temp_path(target)
        try:
            rows, twice = _write_month(cursor, matched, later, dictionaries, scratch, options, lock)
            stitch(previous_file, scratch, [name for name, _ in later], target)
            return _Written(rows, twice, later_only=True)
        # the previous file damaged (DuckDB cannot read its keys, or the stitch its footer), or its rows not the
        # month's: written whole, which raises again whatever error is not the previous file's
        except (CannotStitch, duckdb.InvalidInputException, duckdb.IOException) as reason:
            target.unlink(missing_ok=True)
            return replace(whole(cursor, lock), whole_because=str(reason))
        finally:
            scratch.unlink(missing_ok=True)

    return job


# Months written side by side, each through a cursor of its own (a second connection to the same database, which
# only reads): while DuckDB writes one Parquet file it leaves part of a second core idle (docs/benchmarks.md).
MONTH_WRITERS = 2


def _write_months(warehouse: duckdb.DuckDBPyConnection, jobs: dict[str, MonthJob]) -> dict[str, _Written]:
    """Run each month's job (:func:`_whole_month`, :func:`_later_month`), up to MONTH_WRITERS at once; returns
    month -> how it was written. The first failure stops the months not yet started and is raised once the ones
    being written have stopped, so nothing writes into the snapshot's folder after this returns or raises."""
    if not jobs:
        return {}
    threads = int(warehouse.execute("SELECT current_setting('threads')").fetchone()[0])
    lock = threading.Lock()
    cursors: list[duckdb.DuckDBPyConnection] = []
    local = threading.local()

    def write(job: MonthJob) -> _Written:
        if not hasattr(local, "cursor"):
            local.cursor = warehouse.cursor()
            with lock:
                cursors.append(local.cursor)
        return job(local.cursor, lock)

    pool = ThreadPoolExecutor(max_workers=max(1, min(MONTH_WRITERS, threads, len(jobs))), thread_name_prefix="publish")
    try:
        futures = {month: pool.submit(write, job) for month, job in jobs.items()}
        return {month: future.result() for month, future in futures.items()}
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        for cursor in cursors:
            cursor.close()


# The key of the Parquet key-value metadata that marks a published file of generated sample data: the mark
# travels with the file once it is downloaded, where no page banner can follow it.
GENERATED_KEY = "generated_sample_data"


def generated_note(generated: dict) -> str:
    """The one line that marks generated data wherever it goes (a Parquet file's metadata, a CSV's first line)."""
    return f"Generated sample data, not real police figures: made up by {generated['generated_by']}"


def _copy_options(generated: dict | None) -> str:
    if not generated:
        return PARQUET_COPY_OPTIONS
    return f"{PARQUET_COPY_OPTIONS}, KV_METADATA {{{GENERATED_KEY}: {sql_literal(generated_note(generated))}}}"


def _columns(warehouse: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    """The published columns of a table, (name, type): every column but the warehouse's own bookkeeping."""
    described = warehouse.execute(f"DESCRIBE {MARTS_SCHEMA}.{table}").fetchall()
    return [(name, kind) for name, kind, *_ in described if name not in BOOKKEEPING]


def _build(
    warehouse: duckdb.DuckDBPyConnection,
    folder: Path,
    name: str,
    release: Callable[[list[str]], dict],
    labels: dict,
    generated: dict | None,
    docs: dict[str, dict],
    previous: Path | None,
    log: Callable[[str], None],
) -> tuple[dict[str, int], list[str], dict[str, dict]]:
    """Write the marts as Parquet and the manifest of snapshot ``name`` into ``folder``; returns rows, months and
    the month-split tables' parts. A table split by month gets one file per month, ``marts/<table>/<YYYY-MM>
    .parquet``; a month whose version equals the ``previous`` snapshot's is hard-linked from it, not written, and
    one whose own columns alone are unchanged is stitched from its file (:func:`_later_month`)."""
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
    split = {t: v for t, v in _month_versions(warehouse).items() if t in tables}
    previous_parts = _read_parts(previous)
    parquet_dir = folder / "marts"
    parquet_dir.mkdir(parents=True)
    rows: dict[str, int] = {}
    parts: dict[str, dict] = {}
    views = _views(warehouse) if split else ""
    options = _copy_options(generated)
    for table in tables:
        columns = _columns(warehouse, table)
        if table not in split:
            target = sql_literal(parquet_dir / f"{table}.parquet")
            select = f"SELECT {_select_list(columns, {})} FROM {MARTS_SCHEMA}.{table}"
            rows[table] = warehouse.execute(f"COPY ({select}) TO {target} ({options})").fetchone()[0]
            continue
        spec = split[table]
        (parquet_dir / table).mkdir()
        logic = _logic(columns, views, options)
        before = previous_parts.get(table, {})
        before = before if before.get("logic") == logic else {}
        months: dict[str, dict] = {}
        # a hint whatever the logic: a wrong one costs a month written twice, never a wrong file
        dictionaries = {
            name: values
            for name, values in previous_parts.get(table, {}).get("dictionaries", {}).items()
            if (name, "VARCHAR") in columns
        }
        jobs: dict[str, MonthJob] = {}  # the months to write, their rows counted once written
        for month, version in sorted(spec.versions.items()):
            file = f"{table}/{month}.parquet"
            count = _carry_over(previous, before, month, version, parquet_dir / file)
            if count is None:
                target = parquet_dir / file
                where = f"{spec.column} = DATE '{month}-01'"
                whole = _whole_month(
                    f"FROM {MARTS_SCHEMA}.{table} WHERE {where}", target, columns, dictionaries, options
                )
                own = _own_columns_unchanged(previous, before, spec, month)
                jobs[month] = (
                    _later_month(table, spec, where, own, target, columns, dictionaries, options, whole)
                    if own
                    else whole
                )
            months[month] = {"version": version, "rows": count, "file": file}
            if month in spec.own_versions:
                months[month]["own_version"] = spec.own_versions[month]
        done = _write_months(warehouse, jobs)
        for month, written_month in done.items():
            months[month]["rows"] = written_month.rows
        later_only = sum(w.later_only for w in done.values())
        twice = sum(w.twice for w in done.values())
        whole_because = [f"{month}: {w.whole_because}" for month, w in done.items() if w.whole_because]
        log(
            f"{table}: {len(done)} of {len(months)} months written, the others carried over from the last snapshot"
            + (
                f"; {later_only} of them stitched: only their later columns written, the rest copied from the last"
                " snapshot's file"
                if later_only
                else ""
            )
            + (f"; {twice} written again as text for values new to their columns" if twice else "")
            + (
                f"; written whole instead, as the last snapshot's file could not be reused: {whole_because}"
                if whole_because
                else ""
            )
        )
        parts[table] = {"column": spec.column, "logic": logic, "months": months, "dictionaries": dictionaries}
        if spec.later_columns:
            parts[table]["later_columns"] = spec.later_columns
        rows[table] = sum(m["rows"] for m in months.values())
    months = _published_months(warehouse, parquet_dir, parts)
    catalogue = {}
    for table in tables:
        described = docs.get(table, {})
        schema = warehouse.execute(f"DESCRIBE SELECT * FROM {parquet_source(parquet_dir, table, parts)}").fetchall()
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
        # per month-split table: its month column, the logic its rows were computed by (_logic) and, per month,
        # its version, rows and file under marts/; where later months change some columns (fct_street_crimes'
        # journeys), their names (later_columns) and each month's version of the others (own_version); the text
        # columns' dictionaries the next publish writes its months through (DICTIONARY_LIMIT)
        "parts": parts,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return rows, months, parts


def _published_months(warehouse: duckdb.DuckDBPyConnection, parquet_dir: Path, parts: dict) -> list[str]:
    """The months of street-level crime published (the snapshot's months)."""
    if "fct_street_crimes" in parts:
        return sorted(parts["fct_street_crimes"]["months"])
    if not (parquet_dir / "fct_street_crimes.parquet").is_file():
        return []
    return [
        r[0]
        # from the file just written: the view would join every crime to its journey again
        for r in warehouse.execute(
            "SELECT DISTINCT strftime(crime_month, '%Y-%m') FROM "
            f"read_parquet({sql_literal(parquet_dir / 'fct_street_crimes.parquet')}) ORDER BY 1"
        ).fetchall()
    ]


def _read_parts(snapshot: Path | None) -> dict:
    if snapshot is None or not (snapshot / "manifest.json").is_file():
        return {}
    return json.loads((snapshot / "manifest.json").read_text()).get("parts", {})


def parquet_source(marts: Path, table: str, parts: dict) -> str:
    """``read_parquet(...)`` of a table's files: a month-split table through a glob of its folder, so a view
    over it names no month and reads every one the snapshot holds."""
    if table in parts:
        return f"read_parquet({sql_literal(marts / table / '*.parquet')}, hive_partitioning = false)"
    return f"read_parquet({sql_literal(marts / f'{table}.parquet')}, hive_partitioning = false)"


def _write_serving(snapshot: Path, tables: list[str], parts: dict) -> None:
    """``serving.duckdb`` of a snapshot already in its final folder: one view per mart over the snapshot's own
    Parquet files, by absolute path (DuckDB resolves a view's relative path against the reader's working folder,
    not the database file's, and checks the files exist when the view is created, hence after the snapshot's
    folder has its name). The price of absolute paths: a moved or copied ``published/`` needs :func:`relink`."""
    target = snapshot / "serving.duckdb"
    tmp = temp_path(target)
    try:
        with duckdb.connect(str(tmp), config=duckdb_config()) as con:
            con.execute(f"CREATE SCHEMA {MARTS_SCHEMA}")
            for table in tables:
                source = parquet_source(snapshot / "marts", table, parts)
                con.execute(f"CREATE VIEW {MARTS_SCHEMA}.{table} AS SELECT * FROM {source}")
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
            written = json.loads(manifest.read_text())
            _write_serving(snapshot.absolute(), sorted(written["tables"]), written.get("parts", {}))
            done.append(snapshot.name)
    return done


def read_manifest(published_dir: Path) -> dict:
    """The current snapshot's manifest.json: months, tables and rows, licence, release, labels."""
    return manifest_of(snapshot_dir(published_dir))


def manifest_of(snapshot: Path) -> dict:
    """The manifest.json of one snapshot folder (already resolved: readers of several files resolve once)."""
    return json.loads((snapshot / "manifest.json").read_text())


def publish_marts(
    warehouse: duckdb.DuckDBPyConnection,
    published_dir: Path,
    release: Callable[[list[str]], dict] = lambda months: {},
    labels: dict | None = None,
    generated: dict | None = None,
    docs: dict[str, dict] | None = None,
    log: Callable[[str], None] = lambda message: None,
) -> PublishResult:
    """Export the marts through ``warehouse`` (an open connection) as a new snapshot and swap it in.

    ``release(months)`` describes where the published months came from; ``labels`` are the marts' own labels
    (the unknown label) that readers must match; ``generated`` says what generated sample data (None for real
    data); ``docs`` the dbt descriptions of the marts and their columns (the data dictionary). All go into the
    manifest. A month of a month-split table that did not change since the current snapshot is hard-linked from
    it, not written again: a snapshot still holds every file whole, whichever snapshot wrote it first."""
    started = time.monotonic()
    published_dir = Path(published_dir)
    snapshots = published_dir / SNAPSHOTS
    snapshots.mkdir(parents=True, exist_ok=True)
    sweep(snapshots)  # what a killed publish left
    sweep(published_dir)
    current = published_dir / CURRENT
    previous = current.resolve() if current.is_symlink() and current.resolve().is_dir() else None
    name = build_name()
    done = snapshots / name
    building = temp_path(done)
    try:
        rows, months, parts = _build(
            warehouse, building, name, release, labels or {}, generated, docs or {}, previous, log
        )
        os.rename(building, done)
        # Not yet linked from ``current``: a snapshot left without it here is removed by the next publish.
        _write_serving(done, sorted(rows), parts)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        shutil.rmtree(done, ignore_errors=True)
        raise
    # the swap (one rename); the snapshot being replaced is kept for readers that resolved it just before
    swap_to_build(current, snapshots, name)
    for entry in ENTRIES:
        link_in(published_dir / entry, Path(CURRENT) / entry)
    size = sum(p.stat().st_size for p in done.rglob("*") if p.is_file())
    return PublishResult(rows, size, months, published_dir / "serving.duckdb", time.monotonic() - started, done)
