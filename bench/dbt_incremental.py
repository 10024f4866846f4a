"""Benchmark: adding one month to 36 national-size months with dbt, against a full rebuild, in one run.

    .venv/bin/python bench/dbt_incremental.py [--months 36] [--street-rows 500000]

The landing tables are filled by SQL with national-size, data.police.uk-shaped rows (45 forces, 15 crime
types, anti-social behaviour without Crime IDs, repeated rows, outcomes arriving 0-7 months after their crime,
stop and search), because generating 36 months of CSVs through the fake would take half an hour and this
measures dbt, not ingest (bench/ingest.py does that). Then, in one run:

1. `dbt run --full-refresh` over the 36 months;
2. month 37 is loaded into the landing tables; `dbt run` with the window vars for that month only (the
   incremental path Dagster takes for a new month);
3. `dbt run --full-refresh` over all 37 months: the rebuild the increment is compared with.

Times are dbt's own `elapsed_time` (run_results.json) and the process wall time (which adds ~3 s of dbt
start-up and parsing to every call). Target: the one-month update costs at most a tenth of the rebuild.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from police_assets.datasets import OUTCOMES, STOP_AND_SEARCH, STREET  # noqa: E402
from police_assets.fake.generate import CRIME_TYPES, FORCES  # noqa: E402
from police_assets.lake import lake_schema  # noqa: E402
from police_assets.months import add_months, month_range  # noqa: E402

DBT = str(Path(sys.executable).with_name("dbt"))


def sql_list(values) -> str:
    return "[" + ", ".join("'" + str(v).replace("'", "''") + "'" for v in values) + "]"


def fill_month(con, month: str, street_rows: int) -> None:
    """Insert one national-size month into the landing tables (street, outcomes, stop and search, force files)."""
    forces = sql_list(f[0] for f in FORCES)
    names = sql_list(f[1] for f in FORCES)
    # weighted pick: repeat each force/type by its weight so a uniform index gives the right shares
    force_idx = [i + 1 for i, f in enumerate(FORCES) for _ in range(max(1, round(f[2] * 4)))]
    type_idx = [i + 1 for i, t in enumerate(CRIME_TYPES) for _ in range(max(1, round(t[2])))]
    types = sql_list(t[1] for t in CRIME_TYPES)
    town_list = [la for f in FORCES for la in f[4] if la]
    towns, n_towns = sql_list(town_list), len(town_list)
    con.execute(f"""
        INSERT INTO landing.street_crimes BY NAME
        WITH base AS (
            SELECT i, hash('{month}', i) AS h,
                   {force_idx}[(1 + hash('{month}', i, 'f') % {len(force_idx)})::BIGINT] AS fi,
                   {type_idx}[(1 + hash('{month}', i, 't') % {len(type_idx)})::BIGINT] AS ti
            FROM range({street_rows}) r(i)
        ), rows AS (
            SELECT *, {types}[ti] AS crime_type FROM base
        )
        SELECT DATE '{month}-01' AS month, {forces}[fi] AS force_id,
               CASE WHEN crime_type = 'Anti-social behaviour' THEN NULL ELSE md5('{month}' || (i // 1.02)::BIGINT) END AS crime_id,
               {names}[fi] AS reported_by, {names}[fi] AS falls_within,
               CASE WHEN h % 50 = 0 THEN NULL ELSE -2 + (h % 1000) / 500.0 END AS longitude,
               CASE WHEN h % 50 = 0 THEN NULL ELSE 51 + (h % 997) / 500.0 END AS latitude,
               CASE WHEN h % 50 = 0 THEN 'No Location' ELSE 'On or near High Street' END AS location,
               CASE WHEN h % 50 = 0 THEN NULL ELSE 'E01' || lpad((h % 30000)::VARCHAR, 6, '0') END AS lsoa_code,
               CASE WHEN h % 50 = 0 THEN NULL
                    ELSE {towns}[(1 + h % {n_towns})::BIGINT] || ' ' || lpad((h % 40)::VARCHAR, 3, '0') || 'A' END AS lsoa_name,
               crime_type, NULL AS last_outcome_category, NULL AS context,
               '{month}/{month}-' || {forces}[fi] || '-street.csv' AS source_file, i + 2 AS source_row
        FROM rows
    """)
    # outcomes recorded this month, for crimes of this month and the 7 before it (lag from the crime's hash)
    con.execute(f"""
        INSERT INTO landing.outcomes BY NAME
        SELECT DATE '{month}-01' AS month, force_id, crime_id, reported_by, falls_within, longitude, latitude,
               location, lsoa_code, lsoa_name,
               ['Investigation complete; no suspect identified', 'Unable to prosecute suspect', 'Local resolution',
                'Suspect charged', 'Action to be taken by another organisation'][(1 + hash(crime_id, 'o') % 5)::BIGINT] AS outcome_type,
               '{month}/{month}-' || force_id || '-outcomes.csv' AS source_file, source_row
        FROM landing.street_crimes, range(1 + (hash(crime_id, 'r') % 25 = 0)::INT) rep(k)
        WHERE crime_id IS NOT NULL
          AND month >= DATE '{add_months(month, -7)}-01' AND month <= DATE '{month}-01'
          AND hash(crime_id, 'lag') % 8 = date_diff('month', month, DATE '{month}-01')
    """)
    con.execute(f"""
        INSERT INTO landing.stop_and_search BY NAME
        SELECT DATE '{month}-01' AS month, {forces}[(1 + hash('{month}', i) % 44)::BIGINT] AS force_id,
               'Person search' AS search_type, TIMESTAMP '{month}-01 12:00:00' AS searched_at,
               false AS is_part_of_policing_operation, NULL AS policing_operation, 51.5 AS latitude, -0.1 AS longitude,
               ['Male', 'Female'][(1 + hash(i, 'g') % 2)::BIGINT] AS gender, ['18-24', '25-34', 'over 34', '10-17'][(1 + hash(i, 'a') % 4)::BIGINT] AS age_range,
               ['White - English/Welsh/Scottish/Northern Irish/British', 'Black/African/Caribbean/Black British - African',
                'Asian/Asian British - Pakistani'][(1 + hash(i, 'e') % 3)::BIGINT] AS self_defined_ethnicity,
               ['White', 'Black', 'Asian'][(1 + hash(i, 'o') % 3)::BIGINT] AS officer_defined_ethnicity,
               'Misuse of Drugs Act 1971 (section 23)' AS legislation, 'Controlled drugs' AS object_of_search,
               ['A no further action disposal', 'Arrest', 'Community resolution'][(1 + hash(i, 'u') % 3)::BIGINT] AS outcome,
               hash(i, 'l') % 2 = 0 AS is_outcome_linked_to_object, NULL::BOOLEAN AS is_removal_of_more_than_outer_clothing,
               'sas.csv' AS source_file, i + 2 AS source_row
        FROM range({street_rows // 12}) r(i)
    """)
    con.execute(f"""
        INSERT INTO landing.force_files
        SELECT DATE '{month}-01', f.id, f.name, d.dataset, true, 1000
        FROM (SELECT unnest({forces}) AS id, unnest({names}) AS name) f,
             (SELECT unnest(['street', 'outcomes', 'stop-and-search']) AS dataset) d
    """)


def dbt(args: list[str], env: dict) -> tuple[float, float]:
    """Run dbt; return (dbt's own elapsed seconds, wall seconds)."""
    started = time.perf_counter()
    proc = subprocess.run(
        [DBT, *args, "--profiles-dir", "."], cwd=ROOT / "dbt", env=env, capture_output=True, text=True
    )
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-6000:])
        raise SystemExit(f"dbt {' '.join(args)} failed")
    elapsed = json.loads((ROOT / "dbt" / "target" / "run_results.json").read_text())["elapsed_time"]
    return elapsed, wall


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
        con.execute("CREATE SCHEMA landing")
        for spec in (STREET, OUTCOMES, STOP_AND_SEARCH):
            con.execute(f"CREATE TABLE landing.{spec.name} ({', '.join(f'{n} {t}' for n, t in lake_schema(spec))})")
        con.execute(
            "CREATE TABLE landing.force_files (month DATE, force_id VARCHAR, force_name VARCHAR, dataset VARCHAR, has_file BOOLEAN, file_bytes BIGINT)"
        )
        for m in months:
            fill_month(con, m, args.street_rows)
        rows = {
            t: con.execute(f"SELECT count(*) FROM landing.{t}").fetchone()[0]
            for t in ("street_crimes", "outcomes", "stop_and_search")
        }
    print(
        f"landing tables for {args.months} months filled in {time.perf_counter() - started:.0f}s: "
        + ", ".join(f"{t} {n:,}" for t, n in rows.items())
    )

    dbt(["seed"], env)
    full36 = dbt(["run", "--full-refresh"], env)
    with duckdb.connect(str(warehouse)) as con:
        fill_month(con, new_month, args.street_rows)
    window = json.dumps({"min_month": f"{new_month}-01", "max_month": f"{add_months(new_month, 1)}-01"})
    increment = dbt(["run", "--vars", window], env)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        after_increment = con.execute("SELECT count(*), sum(has_outcome::INT) FROM marts.fct_street_crimes").fetchone()
    full37 = dbt(["run", "--full-refresh"], env)
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
