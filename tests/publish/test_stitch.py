"""A Parquet file stitched from the column chunks of two is the file written whole: the same values, types,
statistics, bloom filters and metadata, for DuckDB, pyarrow and Polars (three Parquet readers written apart); and
files that cannot be stitched are refused, with nothing left behind."""

import duckdb
import polars as pl
import pyarrow.parquet as pq
import pytest

from police_assets.core.sql import PARQUET_COPY_OPTIONS, sql_literal
from police_assets.publish.stitch import CannotStitch, stitch

ROWS, GROUP = 35_000, 10_240  # four row groups, the last one short (DuckDB rounds a group to 2,048 rows)

# own columns of every type the marts publish, then the later ones (changed by the second version)
ROWS_SQL = f"""
SELECT
    'key-' || i AS key,
    DATE '2024-01-01' AS month,
    ['Burglary', 'Robbery', 'Theft', NULL][i % 4 + 1] AS crime_type,
    i % 7 = 0 AS is_missing,
    CASE WHEN i % 11 = 0 THEN NULL ELSE 51.5 + i / 1e6 END AS latitude,
    'place ' || (i * 7919 % 3000) AS location,
    {{later}}
FROM range({ROWS}) t(i)
"""
FIRST = "NULL::VARCHAR AS outcome, false AS has_outcome, NULL::DATE AS outcome_month, NULL::INTEGER AS months"
SECOND = (
    "CASE WHEN i % 3 = 0 THEN 'Charged' WHEN i % 3 = 1 THEN 'No suspect' END AS outcome, i % 3 < 2 AS has_outcome, "
    "CASE WHEN i % 3 < 2 THEN DATE '2024-03-01' END AS outcome_month, CASE WHEN i % 3 < 2 THEN i % 5 END AS months"
)
LATER = ["outcome", "has_outcome", "outcome_month", "months"]
OPTIONS = f"{PARQUET_COPY_OPTIONS}, ROW_GROUP_SIZE {GROUP}, KV_METADATA {{note: 'kept'}}"


def _write(con, select, target, options=OPTIONS):
    con.execute(f"COPY ({select}) TO {sql_literal(target)} ({options})")


@pytest.fixture
def files(tmp_path):
    con = duckdb.connect()
    con.execute("SET threads = 2")
    old, narrow, whole = tmp_path / "old.parquet", tmp_path / "narrow.parquet", tmp_path / "whole.parquet"
    _write(con, ROWS_SQL.format(later=FIRST), old)
    _write(con, f"SELECT {', '.join(LATER)} FROM ({ROWS_SQL.format(later=SECOND)})", narrow)
    _write(con, ROWS_SQL.format(later=SECOND), whole)
    return con, old, narrow, whole


def test_a_stitched_file_is_the_file_written_whole(files, tmp_path):
    con, old, narrow, whole = files
    stitched = tmp_path / "stitched.parquet"
    assert stitch(old, narrow, LATER, stitched) == ROWS

    # the same rows in the same order, for DuckDB
    def rows(file):
        query = f"SELECT * EXCLUDE (file_row_number) FROM read_parquet({sql_literal(file)}, file_row_number = true)"
        return con.execute(f"{query} ORDER BY file_row_number").fetchall()

    assert rows(stitched) == rows(whole)
    assert rows(stitched) != rows(old)
    # ... and for pyarrow, which reads every page: the same schema, values and file metadata
    assert pq.read_table(stitched).equals(pq.read_table(whole))
    assert pq.read_schema(stitched).equals(pq.read_schema(whole), check_metadata=True)
    # ... and for Polars, whose Rust reader shares no code with either, whole and through a filtered scan that
    # reads the footer's statistics to skip row groups
    assert pl.read_parquet(stitched).equals(pl.read_parquet(whole))
    scan = pl.scan_parquet(stitched).filter(pl.col("outcome") == "Charged").select(pl.len())
    assert scan.collect().item() == len(range(0, ROWS, 3))
    got, want = pq.ParquetFile(stitched).metadata, pq.ParquetFile(whole).metadata
    assert got.metadata == want.metadata == {b"note": b"kept"}
    assert [got.row_group(g).num_rows for g in range(got.num_row_groups)] == [GROUP] * 3 + [ROWS - 3 * GROUP]
    for g in range(want.num_row_groups):
        for c in range(want.num_columns):
            assert got.row_group(g).column(c).statistics == want.row_group(g).column(c).statistics
    # the bloom filters came along and still answer: a value that is there, one that is not
    blooms = "SELECT count(*) FROM parquet_metadata({}) WHERE bloom_filter_offset IS NOT NULL"
    assert con.execute(blooms.format(sql_literal(stitched))).fetchone()[0] > 0
    for value in ("place 7", "nowhere"):
        count = "SELECT count(*) FROM read_parquet({}) WHERE location = ?"
        found = con.execute(count.format(sql_literal(stitched)), [value]).fetchone()[0]
        assert found == con.execute(count.format(sql_literal(whole)), [value]).fetchone()[0]
        assert (found > 0) == (value == "place 7")
    assert con.execute(f"SELECT count(*) FROM {sql_literal(stitched)} WHERE outcome = 'Charged'").fetchone() == (
        len(range(0, ROWS, 3)),
    )


def test_files_that_do_not_pair_are_refused_and_leave_nothing(files, tmp_path):
    con, old, narrow, _ = files
    target = tmp_path / "stitched.parquet"
    # a row short (a crime with no match): the row groups differ
    short = tmp_path / "short.parquet"
    _write(con, f"SELECT * FROM read_parquet({sql_literal(narrow)}) LIMIT {ROWS - 1}", short)
    with pytest.raises(CannotStitch, match="row groups differ"):
        stitch(old, short, LATER, target)
    # the same rows in other row groups
    regrouped = tmp_path / "regrouped.parquet"
    _write(
        con,
        f"SELECT * FROM read_parquet({sql_literal(narrow)})",
        regrouped,
        f"{PARQUET_COPY_OPTIONS}, ROW_GROUP_SIZE 20000",
    )
    with pytest.raises(CannotStitch, match="row groups differ"):
        stitch(old, regrouped, LATER, target)
    # a column the narrow file lacks; a nested column; not Parquet at all
    with pytest.raises(CannotStitch, match="missing"):
        stitch(old, narrow, [*LATER, "elsewhere"], target)
    nested = tmp_path / "nested.parquet"
    _write(con, f"SELECT [outcome] AS outcome FROM read_parquet({sql_literal(narrow)})", nested)
    with pytest.raises(CannotStitch, match="nested"):
        stitch(old, nested, ["outcome"], target)
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(old.read_bytes()[:-100])  # cut short: no footer
    with pytest.raises(CannotStitch, match="no Parquet footer"):
        stitch(broken, narrow, LATER, target)
    data = old.read_bytes()  # a footer cut short inside, its length and magic intact
    length = int.from_bytes(data[-8:-4], "little")
    broken.write_bytes(
        data[: -8 - length] + data[-8 - length : -8 - length // 2] + (length // 2).to_bytes(4, "little") + b"PAR1"
    )
    with pytest.raises(CannotStitch, match="cannot be read"):
        stitch(broken, narrow, LATER, target)
    assert not target.exists()
