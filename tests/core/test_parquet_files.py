"""Every Parquet file the platform writes, the lake's and the published marts', is written one way
(core.sql.PARQUET_COPY_OPTIONS): zstd, which the disk footprint in docs/benchmarks.md counts on."""

import duckdb

from police_assets.core.datasets import STREET
from police_assets.lake.convert import SourceFile, convert_month
from police_assets.publish.snapshot import publish_marts


def _codecs(path) -> set[str]:
    with duckdb.connect() as con:
        return {
            r[0] for r in con.execute("SELECT DISTINCT compression FROM parquet_metadata(?)", [str(path)]).fetchall()
        }


def test_lake_and_published_parquet_files_are_zstd(tmp_path):
    csv = tmp_path / "2024-01-x-street.csv"
    row = ",2024-01,F,F,-2.5,51.4,On or near Park Road,E01014399,Bristol 001A,Burglary,,"
    csv.write_text("\n".join([",".join(STREET.header), *[row] * 50]) + "\n")
    lake = convert_month(STREET, "2024-01", [SourceFile(csv, "x", "m")], tmp_path / "lake")
    assert lake.rows == 50 and _codecs(lake.parquet) == {"ZSTD"}

    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        con.execute("CREATE SCHEMA marts")
        con.execute(
            "CREATE TABLE marts.fct_street_crimes AS SELECT i AS k, DATE '2024-01-01' AS crime_month FROM range(50) t(i)"
        )
        published = publish_marts(con, tmp_path / "published")
    assert _codecs(published.snapshot / "marts" / "fct_street_crimes.parquet") == {"ZSTD"}
