"""``make demo``: the whole pipeline, offline, on generated sample data served by a local fake data.police.uk.

1. writes a fake release (3 months x 45 forces, small volumes) under ``<data>/demo-site``;
2. serves it on 127.0.0.1 and points ``DATA_POLICE_UK_URL`` at it;
3. materialises every asset for those months in ONE run with the plain Dagster CLI (the same line the README
   shows), recorded in ``dagster_home`` so the UI shows it afterwards;
4. prints row counts per dataset and month, and where to look (the dashboards, the UI).
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from police_assets.core import config
from police_assets.core.months import month_range
from police_dev.fake.generate import Release, write_release
from police_dev.fake.server import FakePoliceServer

LATEST, MONTHS, SCALE = "2024-03", 3, 20000


def main() -> int:
    data = config.data_dir()
    site = data / "demo-site"
    started = time.monotonic()
    print(f"1/4 generating a fake data.police.uk release in {site} ...", flush=True)
    release = Release(latest=LATEST, months=MONTHS, scale=SCALE)
    archive = write_release(site, release)
    months = release.month_list
    print(f"    {archive.name}: {archive.stat().st_size / 1e6:.1f} MB, months {months[0]}..{months[-1]}, 45 forces")

    with FakePoliceServer(site) as server:
        print(f"2/4 fake data.police.uk serving at {server.url}", flush=True)
        env = dict(os.environ, DATA_POLICE_UK_URL=server.url, POLICE_DATA_DIR=str(data))
        env.setdefault("DAGSTER_HOME", str(config.PROJECT_ROOT / "dagster_home"))
        cmd = [
            str(Path(sys.executable).with_name("dagster")),
            "asset",
            "materialize",
            "-m",
            "police_assets.definitions",
            "--select",
            "*",
            "--partition-range",
            f"{months[0]}...{months[-1]}",
        ]
        print(f"3/4 {' '.join(cmd[1:])}", flush=True)
        proc = subprocess.run(cmd, env=env, cwd=config.PROJECT_ROOT, capture_output=True, text=True)
        if proc.returncode != 0:
            sys.stdout.write(proc.stdout[-5000:])
            sys.stderr.write(proc.stderr[-8000:])
            print("\nThe demo run failed; the Dagster output is above.", file=sys.stderr)
            return 1
        archive_bytes = server.bytes_sent("/data/archive/")

    print("4/4 rows loaded (warehouse tables, per month):")
    with duckdb.connect(str(config.warehouse_path()), read_only=True) as con:
        header = f"    {'dataset':<18}" + "".join(f"{m:>10}" for m in months)
        print(header)
        for table in ("street_crimes", "outcomes", "stop_and_search"):
            counts = dict(
                con.execute(f"SELECT strftime(month, '%Y-%m'), count(*) FROM landing.{table} GROUP BY 1").fetchall()
            )
            print(f"    {table:<18}" + "".join(f"{counts.get(m, 0):>10,}" for m in month_range(months[0], months[-1])))
        views = con.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables "
            "WHERE table_schema IN ('staging', 'intermediate', 'marts') ORDER BY 1"
        ).fetchall()
    print(f"    dbt models built: {', '.join(v[0] for v in views)}")
    print(
        f"\nFetched {archive_bytes / 1e6:.1f} MB of the {archive.stat().st_size / 1e6:.1f} MB archive "
        f"(range reads of each month's members). Done in {time.monotonic() - started:.0f}s."
    )
    print(f"""
Where to look:
  raw zone     {data / "raw"}
  lake         {data / "lake"}   (Parquet, one file per dataset per month)
  warehouse    {config.warehouse_path()}   (live: written by runs)
  published    {data / "published"}   (marts as Parquet + serving.duckdb: what readers open)
      e.g. .venv/bin/python -c "import duckdb; print(duckdb.connect('{data / "published" / "serving.duckdb"}', read_only=True).sql('FROM marts.agg_street_crimes_monthly LIMIT 5'))"
  dashboards   {data / "published" / "site" / "index.html"}
      open it in a browser (works from file://), or serve it on this machine:
      make serve      then open http://127.0.0.1:8000
  lineage, runs and metadata in the Dagster UI:
      make dev        then open http://127.0.0.1:3000  (Assets -> View lineage)
""")
    return 0


if __name__ == "__main__":
    sys.exit(main())
