"""Benchmark: what DuckDB's memory limit costs the publish step, on the warehouse a national backfill left.

    .venv/bin/python bench/publish_memory.py 2GB 8GB       # after bench/backfill.py (its warehouse, read-only)

For each limit, in a fresh process: the export of the two large marts as the publish writes them
(``COPY marts.<table> TO ... (PARQUET_COPY_OPTIONS)``), then a DuckDB table filled from the street crimes'
Parquet file (what serving.duckdb cost when it held a copy of the marts). Prints seconds, file sizes and the
process's peak RSS. fct_street_crimes is a view joining every crime to its journey: the join's hash table is
what needs memory.
"""

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ONE_LIMIT = """
import duckdb, os, resource, sys, time
from police_assets.core.sql import PARQUET_COPY_OPTIONS
warehouse, limit, out = sys.argv[1:4]
con = duckdb.connect(warehouse, read_only=True, config={"memory_limit": limit})
con.execute("SET enable_progress_bar = false")
for table in ("fct_street_crimes", "fct_outcomes"):
    started = time.perf_counter()
    con.execute(f"COPY marts.{table} TO '{out}/{table}.parquet' ({PARQUET_COPY_OPTIONS})")
    size = os.path.getsize(f"{out}/{table}.parquet") / 1e6
    print(f"  {limit}: export {table} {time.perf_counter() - started:.1f}s, {size:,.0f} MB", flush=True)
started = time.perf_counter()
with duckdb.connect(f"{out}/copy.duckdb", config={"memory_limit": limit}) as copy:
    copy.execute("SET enable_progress_bar = false")
    copy.execute(f"CREATE TABLE t AS SELECT * FROM read_parquet('{out}/fct_street_crimes.parquet')")
    copy.execute("CHECKPOINT")
print(f"  {limit}: a table copy of fct_street_crimes {time.perf_counter() - started:.1f}s", flush=True)
print(f"  {limit}: peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB", flush=True)
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("limits", nargs="+", help="DuckDB memory limits, e.g. 2GB 8GB")
    parser.add_argument("--warehouse", type=Path, default=Path("/tmp/police-bench-backfill/data/warehouse.duckdb"))
    args = parser.parse_args()
    if not args.warehouse.is_file():
        raise SystemExit(f"no warehouse at {args.warehouse}: run bench/backfill.py first")
    for limit in args.limits:
        with tempfile.TemporaryDirectory() as out:
            subprocess.run([sys.executable, "-c", ONE_LIMIT, str(args.warehouse), limit, out], cwd=ROOT, check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
