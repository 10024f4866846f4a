"""The lake: one typed Parquet file per dataset per month, converted from the raw zone by DuckDB.

Layout: ``<data>/lake/<dataset>/month=YYYY-MM/data.parquet`` (hive-style, so any engine can read the history
as one table) and ``<data>/lake/_quarantine/<dataset>/month=YYYY-MM/quarantine.csv`` for rows that could not be
parsed. Columns are the spec's snake_case names, typed, plus ``force_id`` from the file name and ``source_file``
and ``source_row`` for lineage.

A file whose header is not the dataset's contract (columns renamed, added, dropped or moved) is *set aside*: none
of its rows are read, the month's other files load, and ``set_aside.csv`` in the month's quarantine folder names
it with the reason, for the coverage mart to show the force-month as missing and why. Shifting columns into the
wrong names would be worse than a gap; stopping the whole month for one force's file would be a bigger gap.

Why DuckDB with a fixed schema: ``read_csv`` with declared VARCHAR columns and no sniffing is several times faster
than ``union_by_name`` sniffing (docs/benchmarks.md), and parses each file once. The header is checked in Python first against the
contract in :mod:`police_assets.core.datasets`, so a changed header fails loudly instead of shifting columns.
"""

from __future__ import annotations

import csv
import functools
import gzip
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from dagster import TableColumn, TableSchema

from police_assets.core.config import duckdb_config
from police_assets.core.datasets import LINEAGE_COLUMNS, STOP_AND_SEARCH, DatasetSpec, dataset_for_member
from police_assets.core.sql import LAKE_PARQUET_COPY_OPTIONS, sql_literal
from police_assets.core.tempfiles import sweep, temp_path
from police_assets.raw.zone import RawMonth

log = logging.getLogger(__name__)

QUARANTINE_COLUMNS = ("source_file", "source_row", "reason", "record")
SET_ASIDE_COLUMNS = ("source_file", "force_id", "reason")

_SQL_TYPES = {"text": "VARCHAR", "double": "DOUBLE", "month": "DATE", "timestamp": "TIMESTAMP", "boolean": "BOOLEAN"}


class HeaderMismatch(ValueError):
    """A file's header is not the dataset's known contract."""


@dataclass
class SourceFile:
    path: Path
    force_id: str
    member: str  # the archive member name, kept as source_file


@dataclass
class LakeResult:
    dataset: str
    month: str
    rows: int
    quarantined: int
    files: int
    forces: list[str]
    parquet: Path
    bytes: int
    quarantine: Path | None
    seconds: float
    sample: list[tuple] = field(default_factory=list)  # the first rows written, in lake_schema's columns
    set_aside: list[tuple[str, str, str]] = field(default_factory=list)  # (member, force, reason): not read


@functools.cache
def duckdb_threads() -> int:
    """The threads DuckDB runs a query on by default here: its count of the cores this process may use."""
    with duckdb.connect() as con:
        return int(con.execute("SELECT current_setting('threads')").fetchone()[0])


def share_cores(jobs: int, cores: int) -> tuple[int, int]:
    """``(workers, threads each)`` to run ``jobs`` DuckDB conversions side by side on ``cores`` cores.

    One worker per job up to the number of cores, and the cores shared out among the workers: 3 datasets on
    2 cores -> 2 workers of 1 thread; 1 dataset on 2 cores -> 1 worker of 2 threads; 3 on 8 -> 3 of 2.
    """
    workers = max(1, min(jobs, cores))
    return workers, max(1, cores // workers)


def lake_schema(spec: DatasetSpec) -> list[tuple[str, str]]:
    """``[(column, SQL type)]`` of the dataset's lake file and warehouse table, in order."""
    cols = [("month", "DATE"), ("force_id", "VARCHAR")]
    cols += [(c.name, _SQL_TYPES[c.kind]) for c in spec.columns if c.name != "month"]
    cols += [("source_file", "VARCHAR"), ("source_row", "BIGINT")]
    return cols


def column_schema(spec: DatasetSpec) -> TableSchema:
    """The lake/warehouse columns of a dataset with their types and descriptions, for the catalogue."""
    described = {c.name: c.description for c in (*spec.columns, *LINEAGE_COLUMNS)}
    described["month"] = "The month the data describes (first day of the month)."
    return TableSchema(
        columns=[
            TableColumn(name, sql_type, description=described.get(name, "")) for name, sql_type in lake_schema(spec)
        ]
    )


def lake_path(lake_root: Path, spec: DatasetSpec, month: str) -> Path:
    return Path(lake_root) / spec.name / f"month={month}" / "data.parquet"


def quarantine_path(lake_root: Path, spec: DatasetSpec, month: str) -> Path:
    return Path(lake_root) / "_quarantine" / spec.name / f"month={month}" / "quarantine.csv"


def set_aside_path(lake_root: Path, spec: DatasetSpec, month: str) -> Path:
    return quarantine_path(lake_root, spec, month).with_name("set_aside.csv")


def read_set_aside(lake_root: Path, spec: DatasetSpec, month: str) -> list[tuple[str, str, str]]:
    """The files of a dataset-month that the last conversion set aside: ``(member, force, reason)``."""
    path = set_aside_path(lake_root, spec, month)
    if not path.is_file():
        return []
    with open(path, newline="") as fh:
        return [tuple(row) for row in list(csv.reader(fh))[1:]]


MAX_HEADER_CHARS = 4096  # a real header is under 300 characters; a file without a line break is not a CSV


def read_header(path: Path) -> list[str]:
    """The header row of a CSV, tolerant of CRLF/LF and a UTF-8 BOM. Reads at most MAX_HEADER_CHARS: a file
    whose first line is longer (no line break at all, say) is a HeaderMismatch naming it, not a csv error."""
    opener = gzip.open if path.suffix == ".gz" else open  # the raw zone keeps members gzip-wrapped (raw.zone)
    with opener(path, "rt", newline="", encoding="utf-8-sig", errors="replace") as fh:
        line = fh.readline(MAX_HEADER_CHARS + 1)
    if not line:
        raise HeaderMismatch(f"{path.name}: the file is empty (no header row)")
    if len(line) > MAX_HEADER_CHARS:
        raise HeaderMismatch(f"{path.name}: no header row (the first line runs past {MAX_HEADER_CHARS} characters)")
    try:
        row = next(csv.reader([line]))
    except csv.Error as exc:
        raise HeaderMismatch(f"{path.name}: the header row is not CSV ({exc})") from exc
    return [h.strip() for h in row]


def check_header(path: Path, spec: DatasetSpec) -> None:
    """Raise :class:`HeaderMismatch` naming the file and the columns when the header is not the contract."""
    header = read_header(path)
    if header == spec.header:
        return
    missing = [c for c in spec.header if c not in header]
    unknown = [c for c in header if c not in spec.header]
    detail = []
    if missing:
        detail.append(f"missing {missing}")
    if unknown:
        detail.append(f"unknown {unknown}")
    if not detail:
        detail.append(f"columns out of order: {header}")
    raise HeaderMismatch(
        f"{path.name} does not have the {spec.title} header contract ({len(spec.header)} columns): " + "; ".join(detail)
    )


def _typed_select(spec: DatasetSpec, month: str) -> tuple[str, str]:
    """SQL expressions for the typed columns and for the quarantine reason, over the raw VARCHAR columns."""
    exprs, problems = [], []
    for i, c in enumerate(spec.columns):
        # TRIM(c), cheaper: DuckDB's TRIM copies every value, and almost none needs it. It strips Unicode space
        # separators (U+0020, U+00A0, ...), of which ASCII has only ' ': so an ASCII value needs it only with a
        # space at either end, and any other value (length in characters <> in bytes) goes through TRIM.
        # Same values as TRIM, less CPU (docs/benchmarks.md); tests/lake/test_convert.py checks it against TRIM itself.
        trimmed = (
            f"CASE WHEN c{i} LIKE ' %' OR c{i} LIKE '% ' OR strlen(c{i}) <> length(c{i}) THEN TRIM(c{i}) ELSE c{i} END"
        )
        raw = f"NULLIF({trimmed}, '')"
        if c.kind == "text":
            exprs.append(f"{raw} AS {c.name}")
        elif c.kind == "double":
            exprs.append(f"TRY_CAST({raw} AS DOUBLE) AS {c.name}")
            problems.append(
                f"CASE WHEN {raw} IS NOT NULL AND TRY_CAST({raw} AS DOUBLE) IS NULL "
                f"THEN {sql_literal(c.source + ' is not a number')} END"
            )
        elif c.kind == "month":
            # The Month column must be the month the file is for; anything else would land in the wrong partition.
            exprs.append(f"DATE {sql_literal(month + '-01')} AS {c.name}")
            problems.append(
                f"CASE WHEN {raw} IS DISTINCT FROM {sql_literal(month)} THEN {sql_literal(c.source + ' is not ' + month)} END"
            )
        elif c.kind == "timestamp":
            ts = f"timezone('UTC', TRY_CAST({raw} AS TIMESTAMPTZ))"
            exprs.append(f"{ts} AS {c.name}")
            problems.append(
                f"CASE WHEN {raw} IS NOT NULL AND TRY_CAST({raw} AS TIMESTAMPTZ) IS NULL "
                f"THEN {sql_literal(c.source + ' is not a timestamp')} END"
            )
        elif c.kind == "boolean":
            exprs.append(f"CASE lower({raw}) WHEN 'true' THEN true WHEN 'false' THEN false END AS {c.name}")
            problems.append(
                f"CASE WHEN {raw} IS NOT NULL AND lower({raw}) NOT IN ('true', 'false') "
                f"THEN {sql_literal(c.source + ' is not True/False')} END"
            )
    if not any(c.name == "month" for c in spec.columns):  # stop and search: the month is the file's
        exprs.insert(0, f"DATE {sql_literal(month + '-01')} AS month")
    reason = f"concat_ws('; ', {', '.join(problems)})" if problems else "''"
    return ", ".join(exprs), reason


def source_files(raw: RawMonth, spec: DatasetSpec) -> list[SourceFile]:
    """The raw month's files that belong to ``spec``, with the force each one is for."""
    files = []
    for member in raw.members:
        hit = dataset_for_member(member["name"], raw.month)
        if hit and hit[0] is spec:
            files.append(SourceFile(Path(raw.path) / member["file"], hit[1], member["name"]))
    return files


def expected_forces(raw: RawMonth, spec: DatasetSpec) -> list[str]:
    """The forces that should have a file: the API's stop-and-search list for that dataset, else all forces."""
    if spec is STOP_AND_SEARCH and raw.stop_and_search_forces:
        return raw.stop_and_search_forces
    return sorted(raw.forces)


def convert_month(
    spec: DatasetSpec, month: str, files: list[SourceFile], lake_root: Path, threads: int | None = None
) -> LakeResult:
    """Convert one dataset-month of raw CSVs into its lake Parquet file (+ quarantine); atomic per file.

    Every data row ends up in exactly one place: the Parquet file, or the quarantine file with the reason
    (a CSV row with the wrong number of fields, a coordinate that is not a number, a Month that is not the
    file's month, a Date that is not a timestamp, a True/False column with another value); a file whose header
    is not the contract is set aside whole (``set_aside.csv``, read by no one as data). The steps: check
    the headers, scan (parse, type and check every file in one pass), number (each row's file and line),
    write the accepted rows, quarantine the others.
    """
    started = time.monotonic()
    set_aside = []
    for f in files:
        try:
            check_header(f.path, spec)
        except HeaderMismatch as exc:
            set_aside.append((f.member, f.force_id, f"header not the published layout: {exc}"))
    if set_aside:
        aside = {member for member, _, _ in set_aside}
        files = [f for f in files if f.member not in aside]
    out = lake_path(lake_root, spec, month)
    qpath = quarantine_path(lake_root, spec, month)
    out.parent.mkdir(parents=True, exist_ok=True)
    sweep(out.parent)  # what a killed conversion of this month left
    tmp_out = temp_path(out)
    schema = lake_schema(spec)
    con = duckdb.connect(config=duckdb_config())
    try:
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        con.execute(f"CREATE TEMP TABLE lake ({', '.join(f'{n} {t}' for n, t in schema)})")
        quarantined: list[tuple] = []
        source = "lake"  # no files this month: an empty file with the full schema
        if files:
            ordered = sorted(files, key=lambda f: f.member)
            _scan(con, spec, month, ordered)
            has_rejects = _number(con, ordered)
            # Rows come out in file order as scanned: a scan, a filter and list lookups keep insertion order
            # (tests/lake/test_convert.py checks it on 12 files and 4 threads), so no ORDER BY on this path. The count
            # of earlier rejects is a correlated subquery, which DuckDB runs as a join that does not keep the
            # order: then sort.
            order = " ORDER BY source_file, source_row" if has_rejects else ""
            source = f"(SELECT {', '.join(n for n, _ in schema)} FROM placed WHERE reason = ''{order})"
            quarantined = _quarantined(con, ordered)
        rows, sample = _write(con, source, tmp_out)
    except BaseException:
        tmp_out.unlink(missing_ok=True)  # a failed conversion leaves nothing (a killed one: the next sweep)
        raise
    finally:
        con.close()
    os.replace(tmp_out, out)
    _write_quarantine(qpath, quarantined)
    _write_rows(set_aside_path(lake_root, spec, month), SET_ASIDE_COLUMNS, set_aside)
    if quarantined:
        log.warning("lake %s %s: %d rows quarantined in %s", spec.name, month, len(quarantined), qpath)
    return LakeResult(
        dataset=spec.name,
        month=month,
        rows=rows,
        quarantined=len(quarantined),
        files=len(files),
        forces=sorted({f.force_id for f in files}),
        parquet=out,
        bytes=out.stat().st_size,
        quarantine=qpath if quarantined else None,
        seconds=time.monotonic() - started,
        sample=sample,
        set_aside=set_aside,
    )


def _file_index(ordered: list[SourceFile], column: str) -> str:
    """Each row's file as its index in ``ordered``: a CASE over the month's paths (at most ~45), computed while
    scanning, so that a row's force, member and line are list lookups later, not a join."""
    cases = " ".join(f"WHEN {sql_literal(str(f.path))} THEN {i}" for i, f in enumerate(ordered))
    return f"CASE {column} {cases} END"


def _sql_list(values) -> str:
    return "[" + ", ".join(values) + "]"


def _scan(con: duckdb.DuckDBPyConnection, spec: DatasetSpec, month: str, ordered: list[SourceFile]) -> None:
    """Scan: one parallel read of all the month's files, parsed, typed and checked in the same pass, into the
    temp table ``typed`` (rather than a VARCHAR staging table and a window over it: docs/benchmarks.md). Rows DuckDB
    rejects (wrong field count, bad quoting) go to ``rejected``, one per line, with their record number."""
    raw_cols = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(spec.columns)))
    paths = _sql_list(sql_literal(str(f.path)) for f in ordered)
    typed, reason = _typed_select(spec, month)
    raw_names = ", ".join(f"c{i}" for i in range(len(spec.columns)))
    # The original values, joined again, only for rows that go to quarantine (cheap for the rest).
    record = " || ',' || ".join(f"coalesce(c{i}, '')" for i in range(len(spec.columns)))
    con.execute(f"""
        CREATE TEMP TABLE typed AS
        SELECT {_file_index(ordered, "filename")} AS file_index, * EXCLUDE ({raw_names}, filename),
               CASE WHEN reason <> '' THEN {record} END AS record
        FROM (
            SELECT *, {typed}, {reason} AS reason
            FROM read_csv({paths}, columns = {{{raw_cols}}}, header = true, auto_detect = false,
                delim = ',', quote = '"', escape = '"', filename = true, hive_partitioning = false,
                store_rejects = true,
                rejects_table = 'rejects', rejects_scan = 'rejects_scan')
        )
    """)
    con.execute(f"""
        CREATE TEMP TABLE rejected AS
        SELECT *, row_number() OVER (PARTITION BY file_index ORDER BY record) AS nth FROM (
            -- DuckDB writes one reject per problem (a short row: one per missing column): one per line here
            SELECT {_file_index(ordered, "s.file_path")} AS file_index, r.line - 1 AS record,
                   min(r.error_type::VARCHAR) AS error_type, min(r.error_message) AS error_message,
                   min(r.csv_line) AS csv_line
            FROM rejects r JOIN rejects_scan s USING (scan_id, file_id)
            GROUP BY 1, 2
        )
    """)


def _number(con: duckdb.DuckDBPyConnection, ordered: list[SourceFile]) -> bool:
    """Number: the view ``placed`` gives every scanned row its force, source file and line in that file.

    The temp table keeps insertion order (preserve_insertion_order), so its rowid numbers rows in file order,
    the same numbers as read_csv(...) WITH ORDINALITY, which is slower. Rejected lines are added back into the
    numbering. Returns whether there were any (then the rows need sorting)."""
    # Each file's first rowid (a file with no accepted rows has none; nothing looks it up).
    first = dict(con.execute("SELECT file_index, min(rowid) FROM typed GROUP BY 1").fetchall())
    firsts = _sql_list(str(first.get(i, 0)) for i in range(len(ordered)))
    forces = _sql_list(sql_literal(f.force_id) for f in ordered)
    members = _sql_list(sql_literal(f.member) for f in ordered)
    # k = the row's rank among its file's accepted rows. With no rejects its line is k + 1 (the header is line
    # 1); otherwise add the rejected records before it (reject i, at record j_i, has j_i - i accepted rows
    # before it).
    k = f"(t.rowid - {firsts}[t.file_index + 1] + 1)"
    has_rejects = con.execute("SELECT count(*) FROM rejected").fetchone()[0] > 0
    line = (
        f"{k} + (SELECT count(*) FROM rejected r WHERE r.file_index = t.file_index AND r.record - r.nth < {k}) + 1"
        if has_rejects
        else f"{k} + 1"
    )
    con.execute(f"""
        CREATE TEMP VIEW placed AS
        SELECT t.*, {forces}[t.file_index + 1] AS force_id, {members}[t.file_index + 1] AS source_file,
               {line} AS source_row
        FROM typed t
    """)
    return has_rejects


def _quarantined(con: duckdb.DuckDBPyConnection, ordered: list[SourceFile]) -> list[tuple]:
    """The rows that failed a check and the lines DuckDB rejected, with the reason and the original record."""
    members = _sql_list(sql_literal(f.member) for f in ordered)
    return con.execute(f"""
        SELECT source_file, source_row, reason, record FROM placed WHERE reason <> ''
        UNION ALL
        SELECT {members}[r.file_index + 1], r.record + 1, r.error_type || ': ' || r.error_message,
               trim(r.csv_line, E'\\r\\n')
        FROM rejected r
        ORDER BY 1, 2
    """).fetchall()


def _write(con: duckdb.DuckDBPyConnection, source: str, path: Path) -> tuple[int, list[tuple]]:
    """Write: the accepted rows to ``path`` as Parquet; returns the row count and a few rows for the catalogue
    (from the table in memory: reading them back from the file would open a new connection per dataset)."""
    rows = con.execute(f"COPY {source} TO {sql_literal(str(path))} ({LAKE_PARQUET_COPY_OPTIONS})").fetchone()[0]
    return rows, con.execute(f"SELECT * FROM {source} LIMIT 5").fetchall()


def _write_quarantine(qpath: Path, quarantined: list[tuple]) -> None:
    """Quarantine: the rejected rows as CSV beside the lake file."""
    _write_rows(qpath, QUARANTINE_COLUMNS, quarantined)


def _write_rows(path: Path, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """``rows`` as a CSV file at ``path``, atomically, or no file when there are none (a re-run that now reads
    everything must not leave an old record behind)."""
    if not rows:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    sweep(path.parent)
    tmp = temp_path(path)
    with open(tmp, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(columns)
        w.writerows(rows)
    os.replace(tmp, path)
