"""Every Parquet file the platform writes is zstd (core.sql), which the disk footprint in docs/benchmarks.md
counts on. The lake's files, read only by DuckDB, use Parquet 2's encodings; the published files keep the first
version's, which every BI tool's Parquet reader takes (Power BI's refuses the delta encodings)."""

import duckdb

from police_assets.core.datasets import STREET
from police_assets.lake.convert import SourceFile, convert_month
from police_assets.publish.snapshot import publish_marts

# Encodings a Parquet 1 reader may not know: written only with PARQUET_VERSION V2.
NEWER_ENCODINGS = {"DELTA_BINARY_PACKED", "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY", "BYTE_STREAM_SPLIT"}


def _chunks(path) -> tuple[set[str], set[str]]:
    """The codecs and the encodings of every column chunk of the file."""
    with duckdb.connect() as con:
        rows = con.execute("SELECT compression, encodings FROM parquet_metadata(?)", [str(path)]).fetchall()
    return {codec for codec, _ in rows}, {e.strip() for _, encodings in rows for e in encodings.split(",")}


def test_lake_files_are_zstd_with_parquet_2_encodings_and_published_files_zstd_with_parquet_1_encodings(tmp_path):
    csv = tmp_path / "2024-01-x-street.csv"
    rows = [
        f"{i:064x},2024-01,F,F,-2.{500000 + i},51.{400000 + i},On or near Park Road,E01014399,Bristol 001A,Burglary,,"
        for i in range(50)
    ]
    csv.write_text("\n".join([",".join(STREET.header), *rows]) + "\n")
    lake = convert_month(STREET, "2024-01", [SourceFile(csv, "x", "m")], tmp_path / "lake")
    codecs, encodings = _chunks(lake.parquet)
    assert lake.rows == 50 and codecs == {"ZSTD"}
    assert {"DELTA_LENGTH_BYTE_ARRAY", "BYTE_STREAM_SPLIT"} <= encodings  # the IDs, the coordinates

    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        con.execute("CREATE SCHEMA marts")
        con.execute(
            "CREATE TABLE marts.fct_street_crimes AS SELECT i AS k, md5(i::VARCHAR) AS crime_id, i / 7 AS longitude, "
            "DATE '2024-01-01' AS crime_month FROM range(50) t(i)"
        )
        published = publish_marts(con, tmp_path / "published")
    codecs, encodings = _chunks(published.snapshot / "marts" / "fct_street_crimes.parquet")
    assert codecs == {"ZSTD"}
    assert encodings and not encodings & NEWER_ENCODINGS, encodings
