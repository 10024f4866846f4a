"""The published zone: what readers (dashboards, analysts) use, so nobody ever opens the live warehouse.

``<data>/published/marts/<table>.parquet``: every table and view of the dbt ``marts`` schema, as Parquet (a view,
such as ``fct_street_crimes``, is computed once here so readers never pay for its join);
``<data>/published/serving.duckdb``: the same tables in a DuckDB file for SQL users, built from those Parquet
files (plain tables, no views that could point back into the live warehouse);
``<data>/published/manifest.json``: when, which months, how many rows.

DuckDB allows one read-write process per file and a reader blocks writers, so a dashboard holding the live
warehouse open would make every run fail. Each file is written beside its final name and renamed in: a reader
holding the old ``serving.duckdb`` keeps its copy until it reconnects.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from police_assets.sqltext import sql_literal

MARTS_SCHEMA = "marts"


@dataclass
class PublishResult:
    tables: dict[str, int]  # table -> rows
    bytes: int
    months: list[str]
    serving: Path
    seconds: float


def publish_marts(warehouse: duckdb.DuckDBPyConnection, published_dir: Path) -> PublishResult:
    """Export the marts through ``warehouse`` (an open connection) and rebuild ``serving.duckdb`` from them."""
    started = time.monotonic()
    published_dir = Path(published_dir)
    parquet_dir = published_dir / "marts"
    parquet_dir.mkdir(parents=True, exist_ok=True)
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
    rows = {}
    for table in tables:
        final = parquet_dir / f"{table}.parquet"
        tmp = final.with_name(f".{final.name}.tmp-{os.getpid()}")
        rows[table] = warehouse.execute(
            f"COPY {MARTS_SCHEMA}.{table} TO {sql_literal(tmp)} (FORMAT parquet)"
        ).fetchone()[0]
        os.replace(tmp, final)
    for stale in parquet_dir.glob("*.parquet"):  # a mart that was dropped from dbt is dropped here too
        if stale.stem not in rows:
            stale.unlink()
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

    serving = published_dir / "serving.duckdb"
    tmp_serving = published_dir / f".serving.duckdb.tmp-{os.getpid()}"
    tmp_serving.unlink(missing_ok=True)
    with duckdb.connect(str(tmp_serving)) as con:
        con.execute(f"CREATE SCHEMA {MARTS_SCHEMA}")
        for table in tables:
            con.execute(
                f"CREATE TABLE {MARTS_SCHEMA}.{table} AS SELECT * FROM read_parquet({sql_literal(parquet_dir / f'{table}.parquet')})"
            )
        con.execute("CHECKPOINT")
    os.replace(tmp_serving, serving)

    manifest = {
        "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "months": months,
        "tables": rows,
        "licence": "Contains public sector information licensed under the Open Government Licence v3.0.",
    }
    tmp_manifest = published_dir / ".manifest.json.tmp"
    tmp_manifest.write_text(json.dumps(manifest, indent=1))
    os.replace(tmp_manifest, published_dir / "manifest.json")
    size = serving.stat().st_size + sum(p.stat().st_size for p in parquet_dir.glob("*.parquet"))
    return PublishResult(rows, size, months, serving, time.monotonic() - started)
