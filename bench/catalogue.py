"""Benchmark: what the dbt step's catalogue metadata (column types, table row counts) costs after dbt exits.

.venv/bin/python bench/catalogue.py [warehouse.duckdb ...]   # default: the national warehouse of
                                                             # bench/dbt_incremental.py, and data/'s
"""

import sys
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from police_assets.transform.assets import warehouse_catalogue  # noqa: E402


def main() -> int:
    paths = sys.argv[1:] or ["/tmp/police-bench-dbt/warehouse.duckdb", "data/warehouse.duckdb"]
    for path in paths:
        if not Path(path).is_file():
            print(f"{path}: not there (run bench/dbt_incremental.py or make demo first)")
            continue
        with duckdb.connect(path, read_only=True) as con:
            started = time.perf_counter()
            catalogue = warehouse_catalogue(con)
            seconds = time.perf_counter() - started
        rows = sum(meta.get("table_row_count", 0) for meta in catalogue.values())
        print(f"{path}: {len(catalogue)} relations, {rows:,} table rows counted, {seconds:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
