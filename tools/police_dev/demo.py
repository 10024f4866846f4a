"""``make demo`` and ``make demo-release``: the whole pipeline, offline, on generated data from a local fake
data.police.uk.

``python -m police_dev.demo`` (``make demo``):

1. writes a fake release (3 months x 45 forces, small volumes) under ``<data>/demo-site`` and marks the data
   folder as generated sample data (every dashboard page and the published manifest then say so);
2. serves it on 127.0.0.1 and points ``DATA_POLICE_UK_URL`` at it;
3. materialises every asset for those months in ONE run with the plain Dagster CLI (the line the docs show),
   recorded in ``dagster_home`` so the UI shows it afterwards, printing each step as it finishes;
4. prints row counts per dataset and month, where to look, and what to try next.

``python -m police_dev.demo next`` (``make demo-release``): publishes the demo source's next release: one month
more, and a revision of an earlier month (one force's file re-published). With ``make dev`` running and the
release sensor on, the UI shows the sensor request both runs and the dashboards gain the new month.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from police_assets.core import config
from police_assets.core.generated import write_note
from police_assets.core.months import add_months, month_range
from police_assets.core.storage import PoliceStorage
from police_dev.fake.generate import Release, write_release
from police_dev.fake.server import FakePoliceServer

LATEST, MONTHS, SCALE = "2024-03", 3, 20000
REVISED_FORCE = "kent"  # the force whose earlier month each demo release re-publishes
# `dagster asset materialize` nudges towards the separate `dg` CLI before any project code runs, and its parser
# of `--select` passes a beta parameter of its own; the docs show the command this project installs, so both
# are noise in the demo's output (silenced for that command only: the platform sets no warning filter).
CLI_QUIET = "ignore:Function `asset_materialize_command` is superseded,ignore:Parameter `include_sources`"
_STEP = re.compile(r'(Started execution of step|Finished execution of step) "([^"]+)"(?: in ([0-9.]+\s*\w+))?')


# The demo's own data folder and Dagster instance, apart from the real-data defaults (data/, dagster_home/): a
# real-data command run later in the same shell never lands in the demo's folder, nor the demo in a real one.
DEMO_DIR = config.PROJECT_ROOT / "demo"


def demo_storage() -> PoliceStorage:
    return PoliceStorage(data_dir=str(DEMO_DIR))


def demo_instance() -> Path:
    """The demo's Dagster instance folder, with the project's dagster.yaml (its one-slot ``duckdb`` pool)."""
    return ensure_instance(DEMO_DIR / "dagster_home")


def ensure_instance(home: Path) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").is_file():
        shutil.copy(config.PROJECT_ROOT / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    return home


def demo_site(storage: PoliceStorage) -> Path:
    return storage.root / "demo-site"


def mark_generated(storage: PoliceStorage, site: Path) -> None:
    """Mark the data folder as holding generated data (police_assets.core.generated), naming the site served."""
    write_note(storage.root, "make demo (police_dev, a fake data.police.uk)", site=str(site.resolve()))


def materialise(months: list[str], env: dict) -> int:
    """The documented CLI line for ``months``, its steps printed as they finish; the whole output kept in a log."""
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
    log_path = Path(env["POLICE_DATA_DIR"]) / "demo-run.log"
    print(f"3/4 dagster {' '.join(cmd[1:])}   (full output: {log_path})", flush=True)
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            cmd, env=env, cwd=config.PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            if m := _STEP.search(line):
                verb, step, took = m.groups()
                if verb.startswith("Started"):
                    print(f"    {step} ...", flush=True)
                else:
                    print(f"    {step} done in {took}", flush=True)
        code = proc.wait()
    if code != 0:
        sys.stdout.write(log_path.read_text()[-8000:])
        print(
            f"\nThe demo run failed; the end of the Dagster output is above, all of it in {log_path}.", file=sys.stderr
        )
    return code


def run_demo() -> int:
    storage = demo_storage()
    data, site = storage.root, demo_site(storage)
    started = time.monotonic()
    print(f"1/4 generating a fake data.police.uk release in {site} ...", flush=True)
    release = Release(latest=LATEST, months=MONTHS, scale=SCALE)
    archive = write_release(site, release)
    mark_generated(storage, site)
    months = release.month_list
    print(f"    {archive.name}: {archive.stat().st_size / 1e6:.1f} MB, months {months[0]}..{months[-1]}, 45 forces")

    with FakePoliceServer(site) as server:
        print(f"2/4 fake data.police.uk serving at {server.url}", flush=True)
        env = dict(
            os.environ,
            DATA_POLICE_UK_URL=server.url,
            POLICE_DATA_DIR=str(data),
            DAGSTER_HOME=str(demo_instance()),
            PYTHONWARNINGS=CLI_QUIET,
        )
        env.pop("POLICE_WAREHOUSE", None)  # the demo's warehouse is in its own folder
        if materialise(months, env) != 0:
            return 1
        archive_bytes = server.bytes_sent("/data/archive/")

    print("4/4 rows loaded (the warehouse's landing views, per month):")
    with duckdb.connect(str(storage.warehouse), read_only=True) as con:
        print(f"    {'dataset':<18}" + "".join(f"{m:>10}" for m in months))
        for table in ("street_crimes", "outcomes", "stop_and_search"):
            counts = dict(
                con.execute(f"SELECT strftime(month, '%Y-%m'), count(*) FROM landing.{table} GROUP BY 1").fetchall()
            )
            print(f"    {table:<18}" + "".join(f"{counts.get(m, 0):>10,}" for m in month_range(months[0], months[-1])))
    print(
        f"\nFetched {archive_bytes / 1e6:.1f} MB of the {archive.stat().st_size / 1e6:.1f} MB archive "
        f"(range reads of each month's members). Done in {time.monotonic() - started:.0f}s."
    )
    published = data / "published"
    print(f"""
All of it is GENERATED sample data: every dashboard page and every download says so. It lives in {data}
with its own Dagster instance, apart from real data (data/ and dagster_home/, the defaults).

Where to look:
  dashboards   {published / "site" / "index.html"}   (works from file://), or: make serve DEMO=1 -> http://127.0.0.1:8000
  Ask          make serve DEMO=1 -> http://127.0.0.1:8000/ask.html   (SQL in your browser over the published tables)
  SQL          {published / "serving.duckdb"}   (read-only, any time; never the live warehouse.duckdb)
  lake         {data / "lake"}   (Parquet, one file per dataset and month)

Next steps:
  make dev DEMO=1     the Dagster UI at http://127.0.0.1:3000, still on the demo's fake data.police.uk (offline):
                      lineage, runs, each asset's metadata. Turn on the release sensor under Automation.
  make demo-release   (in another terminal) publish the fake source's next release: a new month and a revised
                      one. Within a minute the sensor requests both runs; then reload the dashboards.
  make dev            (without DEMO=1) the real data.police.uk, into data/: nothing of the demo mixes in
  make clean          remove the demo's folder
""")
    return 0


def next_release(storage: PoliceStorage | None = None, scale: int = SCALE) -> int:
    """Publish the demo source's next release: the newest month + 1, and a revision of the month before the
    newest (REVISED_FORCE's file re-published). Earlier archives stay, as on data.police.uk."""
    storage = storage or demo_storage()
    site = demo_site(storage)
    dates = site / "api" / "crimes-street-dates.json"
    if not storage.sample_note() or not dates.is_file():
        print("no demo here: run `make demo` first (this publishes the demo source's next release)", file=sys.stderr)
        return 1
    newest = max(d["date"] for d in json.loads(dates.read_text()))
    latest = add_months(newest, 1)
    revised = add_months(newest, -1)
    months = month_range(Release(latest=LATEST, months=MONTHS).month_list[0], latest)  # the demo's every month
    # every revision so far, so that later releases keep them (a revised file stays revised)
    kept = site / "demo-revisions.json"
    revisions = {tuple(k.split("/")): v for k, v in json.loads(kept.read_text()).items()} if kept.is_file() else {}
    revisions[(revised, REVISED_FORCE)] = revisions.get((revised, REVISED_FORCE), 0) + 1
    release = Release(
        latest=latest,
        months=len(months),
        scale=scale,
        revisions=revisions,
        last_updated=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
    )
    archive = write_release(site, release)
    kept.write_text(json.dumps({"/".join(k): v for k, v in revisions.items()}))
    print(
        f"published {archive.name} on the demo's fake data.police.uk: new month {latest}, and {revised} revised "
        f"({REVISED_FORCE} re-published its crimes; its later outcome files change with them).\nWith `make dev` running and the release sensor on "
        "(Automation -> data_police_uk_release_sensor), the sensor requests a run for each within a minute."
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m police_dev.demo", description=__doc__.split("\n")[0])
    parser.add_argument("command", nargs="?", default="run", choices=["run", "next"])
    args = parser.parse_args(argv)
    return run_demo() if args.command == "run" else next_release()


if __name__ == "__main__":
    sys.exit(main())
