"""National-size months written straight into the warehouse's landing files, by SQL, for the benchmarks.

Generating 36 national months as CSVs through the fake data.police.uk takes about half an hour; the dbt and
site benchmarks measure what comes AFTER the landing views, so they fill them here in seconds instead
(``bench/ingest.py`` measures the CSV path). The shapes follow the fake generator (45 forces weighted by
share of national crime, its crime types and stop-and-search vocabularies, anti-social behaviour without
Crime IDs, repeated rows, crimes without a location, outcomes arriving 0-7 months after their crime), with
places sized like England and Wales, because the dashboards' cubes grow with them:

* about 350 towns (local authorities) in all, each force holding its own in proportion to its share;
* each force's crimes spread over a 0.7 x 0.5 degree box round its centre, its towns in strips across it,
  so the map grid has about as many occupied 0.02-degree cells as the real country (~40k).

Both are on the pessimistic side for the cubes: every cell and town of a force sees every crime type.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from police_assets.core.datasets import OUTCOMES, STOP_AND_SEARCH, STREET
from police_assets.core.months import add_months
from police_assets.core.sql import PARQUET_COPY_OPTIONS, sql_literal
from police_assets.lake.convert import lake_schema
from police_assets.warehouse.load import ensure_landing, load_force_files, load_month
from police_dev.fake.generate import (
    AGES,
    CRIME_TYPES,
    ETHNICITY_OFFICER,
    ETHNICITY_SELF,
    FORCES,
    GENDERS,
    LEGISLATION,
    OBJECTS,
    SEARCH_OUTCOMES,
)

ROOT = Path(__file__).resolve().parent.parent
DBT = str(Path(sys.executable).with_name("police-dbt"))
TOWNS_NATIONALLY = 350
BOX_LON, BOX_LAT = 0.7, 0.5  # degrees: a force's area round its centre


def sql_list(values) -> str:
    """A DuckDB list literal of strings (NULL for empty strings, which data.police.uk writes for unknowns)."""
    return "[" + ", ".join("NULL" if v == "" else "'" + str(v).replace("'", "''") + "'" for v in values) + "]"


def force_towns(total: int = TOWNS_NATIONALLY) -> list[list[str]]:
    """Each force's towns: its own local authorities from the fake, topped up in proportion to its share."""
    weight = sum(f[2] for f in FORCES)
    out = []
    for _, _, share, _, las in FORCES:
        las = [la for la in las if la] or ["Unnamed"]
        want = max(len(las), round(total * share / weight))
        out.append(las + [f"{las[0]} district {k}" for k in range(1, want - len(las) + 1)])
    return out


def create_landing(con: duckdb.DuckDBPyConnection, landing_dir: Path) -> None:
    """The landing views as the warehouse loader makes them, a table of forces for the fill, and one typed
    table per dataset that :func:`fill_month` fills with a month before it is loaded as that month's file."""
    ensure_landing(con, landing_dir)
    for spec in (STREET, OUTCOMES, STOP_AND_SEARCH):
        columns = ", ".join(f"{n} {t}" for n, t in lake_schema(spec))
        con.execute(f"CREATE OR REPLACE TEMP TABLE bench_{spec.name} ({columns})")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE bench_forces (fi INT, force_id VARCHAR, force_name VARCHAR, "
        "lon0 DOUBLE, lat0 DOUBLE, towns VARCHAR[])"
    )
    con.executemany(
        "INSERT INTO bench_forces VALUES (?, ?, ?, ?, ?, ?)",
        [
            (i + 1, f[0], f[1], f[3][0], f[3][1], towns)
            for i, (f, towns) in enumerate(zip(FORCES, force_towns(), strict=True))
        ],
    )


def _load(con: duckdb.DuckDBPyConnection, spec, month: str, landing_dir: Path) -> None:
    """The month in ``bench_<dataset>`` written as a Parquet file and loaded as the warehouse loads the lake's
    (linked in: one file on disk once its first name is gone)."""
    source = Path(landing_dir) / f".bench-{spec.name}-{month}.parquet"
    con.execute(f"COPY bench_{spec.name} TO {sql_literal(source)} ({PARQUET_COPY_OPTIONS})")
    load_month(con, spec, month, source, landing_dir)
    source.unlink()
    con.execute(f"DELETE FROM bench_{spec.name}")


def fill_month(con: duckdb.DuckDBPyConnection, month: str, street_rows: int, landing_dir: Path) -> None:
    """Load one national-size month into the landing views (street, outcomes, stop and search) and the force
    files table.

    Needs ``create_landing(con, landing_dir)`` on the same connection first.
    """
    # weighted pick: repeat each force/type by its weight so a uniform index gives the right shares
    force_idx = [i + 1 for i, f in enumerate(FORCES) for _ in range(max(1, round(f[2] * 4)))]
    type_idx = [i + 1 for i, t in enumerate(CRIME_TYPES) for _ in range(max(1, round(t[2])))]
    types = sql_list(t[1] for t in CRIME_TYPES)
    con.execute(f"""
        INSERT INTO bench_street_crimes BY NAME
        WITH base AS (
            SELECT i, hash('{month}', i) AS h,
                   (hash('{month}', i, 'x') % 100000) / 100000.0 AS u,
                   (hash('{month}', i, 'y') % 100000) / 100000.0 AS v,
                   {force_idx}[(1 + hash('{month}', i, 'f') % {len(force_idx)})::BIGINT] AS fi,
                   {type_idx}[(1 + hash('{month}', i, 't') % {len(type_idx)})::BIGINT] AS ti
            FROM range({street_rows}) r(i)
        ), rows AS (
            SELECT base.*, {types}[ti] AS crime_type, f.*, h % 50 = 0 AS no_location,
                   f.towns[(1 + floor(u * len(f.towns)))::BIGINT] AS town
            FROM base JOIN bench_forces f USING (fi)
        )
        SELECT DATE '{month}-01' AS month, force_id,
               CASE WHEN crime_type = 'Anti-social behaviour' THEN NULL ELSE md5('{month}' || (i // 1.02)::BIGINT) END AS crime_id,
               force_name AS reported_by, force_name AS falls_within,
               CASE WHEN no_location THEN NULL ELSE lon0 + (u - 0.5) * {BOX_LON} END AS longitude,
               CASE WHEN no_location THEN NULL ELSE lat0 + (v - 0.5) * {BOX_LAT} END AS latitude,
               CASE WHEN no_location THEN 'No Location' ELSE 'On or near High Street' END AS location,
               CASE WHEN no_location THEN NULL ELSE 'E01' || lpad((h % 30000)::VARCHAR, 6, '0') END AS lsoa_code,
               CASE WHEN no_location THEN NULL ELSE town || ' ' || lpad((h % 40)::VARCHAR, 3, '0') || 'A' END AS lsoa_name,
               crime_type, NULL AS last_outcome_category, NULL AS context,
               '{month}/{month}-' || force_id || '-street.csv' AS source_file, i + 2 AS source_row
        FROM rows
    """)
    _load(con, STREET, month, landing_dir)
    # outcomes recorded this month, for crimes of this month and the 7 before it (lag from the crime's hash)
    con.execute(f"""
        INSERT INTO bench_outcomes BY NAME
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
    _load(con, OUTCOMES, month, landing_dir)

    def pick(table, salt: str) -> str:  # every value of a vocabulary, uniformly: the most cube rows
        values = [v for v, _ in table]
        return f"{sql_list(values)}[(1 + hash(i, '{salt}') % {len(values)})::BIGINT]"

    con.execute(f"""
        INSERT INTO bench_stop_and_search BY NAME
        SELECT DATE '{month}-01' AS month, f.force_id,
               'Person search' AS search_type, TIMESTAMP '{month}-01 12:00:00' AS searched_at,
               false AS is_part_of_policing_operation, NULL AS policing_operation,
               f.lat0 AS latitude, f.lon0 AS longitude,
               {pick(GENDERS, "g")} AS gender, {pick(AGES, "a")} AS age_range,
               {pick(ETHNICITY_SELF, "e")} AS self_defined_ethnicity,
               {pick(ETHNICITY_OFFICER, "o")} AS officer_defined_ethnicity,
               {pick(LEGISLATION, "l")} AS legislation, {pick(OBJECTS, "b")} AS object_of_search,
               {pick(SEARCH_OUTCOMES, "u")} AS outcome,
               hash(i, 'k') % 2 = 0 AS is_outcome_linked_to_object, NULL::BOOLEAN AS is_removal_of_more_than_outer_clothing,
               'sas.csv' AS source_file, i + 2 AS source_row
        FROM range({street_rows // 12}) r(i)
        JOIN bench_forces f ON f.fi = 1 + hash('{month}', i) % 44
    """)
    _load(con, STOP_AND_SEARCH, month, landing_dir)
    rows = [(f[0], f[1], d, True, 1000, None) for f in FORCES for d in ("street", "outcomes", "stop-and-search")]
    load_force_files(con, month, rows, "bench")


def run_dbt(args: list[str], env: dict) -> tuple[float, float]:
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
