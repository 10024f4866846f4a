"""Benchmark: one national-size month from the remote zip to warehouse tables, against the bare engine.

    .venv/bin/python bench/ingest.py [--scale 500000] [--rounds 3] [--workdir /tmp/police-bench]

1. generates a fake release whose archive holds two national-size months (about 500k street rows each) and
   serves it from the local fake data.police.uk;
2. PIPELINE (in a fresh process): materialises raw -> lake -> warehouse for the OLDER month through Dagster
   (range read, unzip, header check, typed parse with quarantine, Parquet, warehouse delete+insert); the clock
   starts once the process has its Dagster instance (printed apart), as the bare engine's starts after
   `import duckdb`;
3. BARE ENGINE (in a fresh process): DuckDB `read_csv` of the same files (already on disk: the raw zone's,
   gzip-wrapped since 2026-12-02) straight to Parquet, one COPY per dataset, no checks;
4. BARE STAGES (in a fresh process): the same three stages as the pipeline, done by a bare script:
   Python's zipfile extracts the month's members from the archive file on local disk (no HTTP), DuckDB
   `read_csv` writes the Parquet files as in 3, and `CREATE TABLE AS` loads each into a fresh DuckDB file;
5. repeats 2-4 ``--rounds`` times and prints each job's median time, the ratio (target <= 2x), each process's
   peak RSS, and the bytes fetched for the month against the compressed size of its members (target <= 1.1x).
   The bare stages over the bare engine is what the two stages the bare engine skips cost a plain script;
   the pipeline over the bare stages is what Dagster, the range reads and the checks add on top.
"""

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_MONTH, LATEST = "2024-01", "2024-02"

PIPELINE = r"""
import json, sys, time
from dagster import DagsterInstance, materialize
from police_assets.lake.assets import lake_assets
from police_assets.raw.assets import archive_month
from police_assets.warehouse.assets import warehouse_assets
from police_assets.core.storage import PoliceStorage
from police_assets.source.resource import DataPoliceUk
url, data, month = sys.argv[1:4]
storage = PoliceStorage(data_dir=data)
# The instance is made before the clock starts, as the bare engine imports duckdb before its clock: making the
# first one in a process imports Dagster's storage layer (SQLAlchemy), which any Dagster process that launches
# runs has done long before. Its cost is measured and printed apart.
t = time.perf_counter()
instance = DagsterInstance.ephemeral()
instance_seconds = time.perf_counter() - t
t = time.perf_counter()
result = materialize([archive_month, *lake_assets, *warehouse_assets], partition_key=month, instance=instance,
                     resources={"storage": storage, "police": DataPoliceUk(base_url=url)})
seconds = time.perf_counter() - t
assert result.success
meta = {}
for event in result.get_asset_materialization_events():
    m = event.step_materialization_data.materialization.metadata
    meta[event.asset_key.to_user_string()] = {k: v.value for k, v in m.items() if k in ("duration_s", "dagster/row_count")}
# Each step's own wall time: a stage step converts or loads its datasets side by side.
steps = {e.step_key: e.event_specific_data.duration_ms / 1000 for e in result.get_step_success_events()}
print(json.dumps({"seconds": seconds, "instance_seconds": instance_seconds, "peak_rss_mb": PEAK_RSS_MB(),
                  "meta": meta, "steps": steps}))
"""

BARE = r"""
import json, sys, time, duckdb
from pathlib import Path
raw, out = Path(sys.argv[1]), Path(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)
t = time.perf_counter()
con = duckdb.connect()
rows = 0
for suffix in ("street", "outcomes", "stop-and-search"):
    files = sorted(str(p) for p in raw.glob(f"*-{suffix}.csv*"))  # the raw zone's files, gzip-wrapped or not
    con.execute(f"COPY (SELECT * FROM read_csv({files!r})) TO '{out}/{suffix}.parquet' (FORMAT parquet)")
    rows += con.execute(f"SELECT count(*) FROM '{out}/{suffix}.parquet'").fetchone()[0]
print(json.dumps({"seconds": time.perf_counter() - t, "rows": rows, "peak_rss_mb": PEAK_RSS_MB()}))
"""

BARE_STAGES = r"""
import json, sys, time, zipfile, duckdb
from pathlib import Path
archive, month, work = sys.argv[1], sys.argv[2], Path(sys.argv[3])
raw, lake = work / "raw", work / "lake"
raw.mkdir(parents=True, exist_ok=True)
lake.mkdir(parents=True, exist_ok=True)
t = time.perf_counter()
with zipfile.ZipFile(archive) as zf:
    for name in zf.namelist():
        if name.startswith(month + "/") and name.endswith(".csv"):
            (raw / name.rsplit("/", 1)[-1]).write_bytes(zf.read(name))
unzipped = time.perf_counter()
con = duckdb.connect()
for suffix in ("street", "outcomes", "stop-and-search"):
    files = sorted(str(p) for p in raw.glob(f"*-{suffix}.csv"))
    con.execute(f"COPY (SELECT * FROM read_csv({files!r})) TO '{lake}/{suffix}.parquet' (FORMAT parquet)")
con.close()
converted = time.perf_counter()
rows = 0
with duckdb.connect(str(work / "warehouse.duckdb")) as wh:
    for suffix in ("street", "outcomes", "stop-and-search"):
        table = suffix.replace("-", "_")
        wh.execute(f"CREATE TABLE {table} AS SELECT * FROM '{lake}/{suffix}.parquet'")
        rows += wh.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
done = time.perf_counter()
print(json.dumps({"seconds": done - t, "unzip": unzipped - t, "lake": converted - unzipped, "load": done - converted,
                  "rows": rows, "peak_rss_mb": PEAK_RSS_MB()}))
"""


# Peak RSS of the child itself: VmHWM resets at exec, unlike ru_maxrss, which Linux carries over from the parent.
PEAK = """
def PEAK_RSS_MB():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
"""


def run_child(code: str, *args: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", PEAK + code, *args], cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-6000:])
        raise SystemExit(f"benchmark child failed ({proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    from police_assets.raw.zone import read_manifest
    from police_dev.fake.generate import Release, write_release
    from police_dev.fake.server import FakePoliceServer

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=int, default=500_000, help="street rows per month, nationally")
    parser.add_argument("--workdir", default="/tmp/police-bench")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each job; the figures are medians")
    args = parser.parse_args()
    work = Path(args.workdir)
    site, data = work / f"site-{args.scale}", work / "data"

    archive = site / "data" / "archive" / f"{LATEST}.zip"
    if not archive.exists():
        t = time.perf_counter()
        write_release(site, Release(latest=LATEST, months=2, scale=args.scale))
        print(f"generated {archive} ({archive.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t:.0f}s")

    # Rounds interleave the three jobs so that the machine's drift (about +-15 % here) hits all of them alike;
    # the figures are each job's median over the rounds.
    rounds = []
    for r in range(args.rounds):
        if data.exists():
            shutil.rmtree(data)
        with FakePoliceServer(site) as server:
            pipeline = run_child(PIPELINE, server.url, str(data), BENCH_MONTH)
            sent = server.bytes_sent("/data/archive/")
        raw = read_manifest(data / "raw", BENCH_MONTH)
        bare = run_child(BARE, raw.path, str(work / "bare"))
        if (work / "bare-stages").exists():
            shutil.rmtree(work / "bare-stages")
        stages = run_child(BARE_STAGES, str(archive), BENCH_MONTH, str(work / "bare-stages"))
        rounds.append((pipeline, bare, stages))
        print(
            f"round {r + 1}/{args.rounds}: pipeline {pipeline['seconds']:.2f}s, bare engine {bare['seconds']:.2f}s, "
            f"bare stages {stages['seconds']:.2f}s: ratio {pipeline['seconds'] / bare['seconds']:.2f}x"
        )

    def med(values) -> float:
        return statistics.median(values)

    pipe_s = med(p["seconds"] for p, _, _ in rounds)
    bare_s = med(b["seconds"] for _, b, _ in rounds)
    stages_s = med(st["seconds"] for _, _, st in rounds)
    pipeline, bare, stages = rounds[-1]
    compressed = sum(m["compressed_size"] for m in raw.members)
    datasets = ("street_crimes", "outcomes", "stop_and_search")
    rows = sum(pipeline["meta"][f"warehouse/{d}"]["dagster/row_count"] for d in datasets)
    lake = med(p["steps"]["lake"] for p, _, _ in rounds)
    print(
        f"\nmonth {BENCH_MONTH}: {len(raw.members)} files, {raw.csv_bytes / 1e6:.0f} MB of CSV, {rows:,} rows loaded "
        f"(bare engine: {bare['rows']:,} rows); medians of {len(rounds)} rounds"
    )
    print(
        f"raw zone on disk: {raw.bytes_on_disk / 1e6:.1f} MB, {raw.bytes_on_disk / compressed:.2f}x the "
        f"{compressed / 1e6:.1f} MB of compressed members"
    )
    print(f"{'':<42}{'seconds':>9}{'peak RSS MB':>13}")
    print(f"{'pipeline: zip -> raw -> lake -> warehouse':<42}{pipe_s:>9.2f}{pipeline['peak_rss_mb']:>13.0f}")
    print(f"{'bare engine: read_csv -> Parquet':<42}{bare_s:>9.2f}{bare['peak_rss_mb']:>13.0f}")
    print(
        f"{'bare stages: unzip -> read_csv -> table':<42}{stages_s:>9.2f}{stages['peak_rss_mb']:>13.0f}"
        f"   (unzip {med(st['unzip'] for *_, st in rounds):.2f} + Parquet {med(st['lake'] for *_, st in rounds):.2f}"
        f" + table {med(st['load'] for *_, st in rounds):.2f}; {stages['rows']:,} rows)"
    )
    print(f"ratio pipeline / bare engine: {pipe_s / bare_s:.2f}x (target <= 2x)")
    print(
        f"ratio bare stages / bare engine: {stages_s / bare_s:.2f}x (a plain script doing the pipeline's three "
        f"stages, without checks or Dagster); pipeline / bare stages: {pipe_s / stages_s:.2f}x"
    )
    print(
        f"ratio lake stage (the same CSV -> Parquet job, plus header contract, typing, quarantine) / bare engine: "
        f"{lake / bare_s:.2f}x"
    )
    for step in pipeline["steps"]:
        print(f"  step {step:<26} {med(p['steps'][step] for p, _, _ in rounds):>6.2f}s")
        for key in (k for k in pipeline["meta"] if k.split("/")[0] == step and "duration_s" in pipeline["meta"][k]):
            print(f"    {key:<28} {med(p['meta'][key]['duration_s'] for p, _, _ in rounds):>6.2f}s (its own work)")
    print(
        f"  {'Dagster run overhead (outside steps)':<31}"
        f"{med(p['seconds'] - sum(p['steps'].values()) for p, _, _ in rounds):>6.2f}s"
    )
    print(
        f"  (not timed: the process's first Dagster instance, made before the clock starts, "
        f"{med(p['instance_seconds'] for p, _, _ in rounds):.2f}s)"
    )
    print(
        f"bytes fetched for the month: {sent / 1e6:.1f} MB for {compressed / 1e6:.1f} MB of compressed members "
        f"= {sent / compressed:.3f}x (target <= 1.1x); archive {archive.stat().st_size / 1e6:.0f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
