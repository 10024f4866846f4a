"""Benchmark: what the dbt step's catalogue metadata (column types, table row counts, column lineage) costs after
dbt exits. Lineage is computed from the compiled SQL of the last dbt run in dbt/target.

.venv/bin/python bench/catalogue.py [warehouse.duckdb ...]   # default: the national warehouse of
                                                             # bench/dbt_incremental.py, and data/'s
"""

import logging
import sys
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from police_assets.transform.build import warehouse_catalogue  # noqa: E402
from police_assets.transform.lineage import column_lineage  # noqa: E402
from police_assets.transform.project import dbt_project, manifest  # noqa: E402
from police_assets.transform.translator import TRANSLATOR  # noqa: E402


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
        models = [k for k, v in manifest()["nodes"].items() if v["resource_type"] == "model"]
        started = time.perf_counter()
        lineage = column_lineage(models, catalogue, dbt_project.project_dir / "target", TRANSLATOR, logging)
        seconds = time.perf_counter() - started
        print(f"    column lineage: {len(lineage)} of {len(models)} models in {seconds:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
