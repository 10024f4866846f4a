"""Benchmark: the published marts of 36 national-size months loaded into PostgreSQL for BI tools
(publish/marts_postgres), as every publish does when ``POLICE_MARTS_POSTGRES_URL`` is set.

    .venv/bin/python bench/postgres_marts.py                 # builds the marts as bench/site.py does
    .venv/bin/python bench/postgres_marts.py --reuse         # the marts bench/site.py left in --workdir

A throwaway PostgreSQL cluster (Debian's package, ``make postgres``) that syncs to disk as a real server does.
The snapshot is loaded twice: into an empty database, then again over itself (what every later publish costs:
the old schema is served until the swap, so both copies exist for the length of the load). Reports wall time,
rows per second, the database's size, the loading process's peak RSS, and one BI-style query timed on
PostgreSQL and on serving.duckdb.
"""

import argparse
import resource
import shutil
import sys
import time
from pathlib import Path

import duckdb
import psycopg2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.site import build  # noqa: E402
from police_assets.core.months import add_months, month_range  # noqa: E402
from police_assets.publish.postgres import load_marts  # noqa: E402
from police_assets.publish.snapshot import snapshot_dir  # noqa: E402
from police_dev.postgres import ThrowawayPostgres  # noqa: E402

QUERY = (
    "SELECT force_id, crime_month, count(*) FROM {schema}.fct_street_crimes "
    "WHERE NOT is_anti_social_behaviour GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 10"
)


def timed(fn):
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--street-rows", type=int, default=500_000)
    parser.add_argument("--workdir", default="/tmp/police-bench-site")
    parser.add_argument("--reuse", action="store_true", help="use the published marts already in --workdir")
    args = parser.parse_args()
    work = Path(args.workdir)
    if not args.reuse:
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        build(work, month_range("2021-01", add_months("2021-01", args.months - 1)), args.street_rows)
    snapshot = snapshot_dir(work / "published")
    with ThrowawayPostgres(durable=True) as pg:
        first, first_s = timed(lambda: load_marts(snapshot, pg.url))
        rows = sum(first.tables.values())
        print(f"first load: {len(first.tables)} tables, {rows:,} rows in {first_s:.1f}s ({rows / first_s:,.0f} rows/s)")
        _, again_s = timed(lambda: load_marts(snapshot, pg.url))
        print(f"reload over the served schema: {again_s:.1f}s")
        conn = psycopg2.connect(pg.url)
        with conn.cursor() as cur:
            cur.execute("SELECT pg_database_size(current_database())")
            size = cur.fetchone()[0]
            cur.execute("ANALYZE")
            _, pg_query_s = timed(lambda: cur.execute(QUERY.format(schema="police")) or cur.fetchall())
        conn.close()
    with duckdb.connect(str(snapshot / "serving.duckdb"), read_only=True) as con:
        _, duck_query_s = timed(lambda: con.execute(QUERY.format(schema="marts")).fetchall())
    parquet = sum(p.stat().st_size for p in (snapshot / "marts").glob("*.parquet"))
    print(f"PostgreSQL database: {size / 1e6:,.0f} MB (the snapshot's Parquet: {parquet / 1e6:,.0f} MB)")
    print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")
    print(f"BI query (crimes by force and month, top 10): PostgreSQL {pg_query_s:.2f}s, DuckDB {duck_query_s:.2f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
