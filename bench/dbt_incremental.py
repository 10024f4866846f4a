"""Benchmark: adding one month to 36 national-size months with dbt, against a full rebuild, in one run.

    .venv/bin/python bench/dbt_incremental.py [--months 36] [--street-rows 500000]

The landing views are filled by SQL with national-size, data.police.uk-shaped rows (bench/national.py),
because generating 36 months of CSVs through the fake would take half an hour and this measures dbt, not
ingest (bench/ingest.py does that). Then, in one run:

1. `dbt run --full-refresh` over the 36 months;
2. month 37 is loaded into the landing views; `dbt run` with the window vars for that month only (the
   incremental path Dagster takes for a new month);
3. `dbt run --full-refresh` over all 37 months: the rebuild the increment is compared with.

Times are dbt's own `elapsed_time` (run_results.json) and the process wall time (which adds ~3 s of dbt
start-up and parsing to every call). Target: the one-month update costs at most a tenth of the rebuild.
"""

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.national import create_landing, fill_month, run_dbt  # noqa: E402
from police_assets.core.months import add_months, month_range  # noqa: E402
from police_assets.core.storage import landing_dir_for  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--street-rows", type=int, default=500_000, help="street rows per month, nationally")
    parser.add_argument("--workdir", default="/tmp/police-bench-dbt")
    args = parser.parse_args()
    work = Path(args.workdir)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    warehouse = work / "warehouse.duckdb"
    env = dict(os.environ, POLICE_WAREHOUSE=str(warehouse), DBT_SEND_ANONYMOUS_USAGE_STATS="false")

    months = month_range("2021-01", add_months("2021-01", args.months - 1))
    new_month = add_months(months[-1], 1)
    started = time.perf_counter()
    with duckdb.connect(str(warehouse)) as con:
        create_landing(con, landing_dir_for(warehouse))
        for m in months:
            fill_month(con, m, args.street_rows, landing_dir_for(warehouse))
        rows = {
            t: con.execute(f"SELECT count(*) FROM landing.{t}").fetchone()[0]
            for t in ("street_crimes", "outcomes", "stop_and_search")
        }
    print(
        f"landing files for {args.months} months filled in {time.perf_counter() - started:.0f}s: "
        + ", ".join(f"{t} {n:,}" for t, n in rows.items())
    )

    run_dbt(["seed"], env)
    full36 = run_dbt(["run", "--full-refresh"], env)
    with duckdb.connect(str(warehouse)) as con:
        create_landing(con, landing_dir_for(warehouse))
        fill_month(con, new_month, args.street_rows, landing_dir_for(warehouse))
    window = json.dumps({"min_month": f"{new_month}-01", "max_month": f"{add_months(new_month, 1)}-01"})
    increment = run_dbt(["run", "--vars", window], env)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        after_increment = con.execute("SELECT count(*), sum(has_outcome::INT) FROM marts.fct_street_crimes").fetchone()
    full37 = run_dbt(["run", "--full-refresh"], env)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        after_rebuild = con.execute("SELECT count(*), sum(has_outcome::INT) FROM marts.fct_street_crimes").fetchone()

    print(f"\n{'':<44}{'dbt elapsed s':>14}{'wall s':>9}")
    print(f"{'full rebuild, ' + str(args.months) + ' months':<44}{full36[0]:>14.1f}{full36[1]:>9.1f}")
    print(f"{'add month ' + new_month + ' (incremental)':<44}{increment[0]:>14.1f}{increment[1]:>9.1f}")
    print(f"{'full rebuild, ' + str(args.months + 1) + ' months':<44}{full37[0]:>14.1f}{full37[1]:>9.1f}")
    print(
        f"increment / rebuild: {increment[0] / full37[0]:.3f} (dbt elapsed), {increment[1] / full37[1]:.3f} (wall); target <= 0.1"
    )
    print(
        f"fct_street_crimes after the increment {after_increment} == after a full rebuild {after_rebuild}: "
        f"{after_increment == after_rebuild}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
