"""Benchmark: one national-size month from the remote zip to warehouse tables, against the bare engine.

    .venv/bin/python bench/ingest.py [--scale 500000] [--workdir /tmp/police-bench]

1. generates a fake release whose archive holds two national-size months (about 500k street rows each) and
   serves it from the local fake data.police.uk;
2. PIPELINE (in a fresh process): materialises raw -> lake -> warehouse for the OLDER month through Dagster
   (range read, unzip, header check, typed parse with quarantine, Parquet, warehouse delete+insert);
3. BARE ENGINE (in a fresh process): DuckDB `read_csv` of the same CSV files (already on disk) straight to
   Parquet, one COPY per dataset, no checks;
4. prints both times, the ratio (target <= 2x), each process's peak RSS, and the bytes fetched for the month
   against the compressed size of its members (target <= 1.1x).
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_MONTH, LATEST = "2024-01", "2024-02"

PIPELINE = r"""
import json, sys, time
from dagster import materialize
from police_assets.assets.lake import lake_assets
from police_assets.assets.raw import archive_month
from police_assets.assets.warehouse import warehouse_assets
from police_assets.resources import DataPoliceUk, PoliceStorage
url, data, month = sys.argv[1:4]
storage = PoliceStorage(data_dir=data)
t = time.perf_counter()
result = materialize([archive_month, *lake_assets, *warehouse_assets], partition_key=month,
                     resources={"storage": storage, "police": DataPoliceUk(base_url=url)})
seconds = time.perf_counter() - t
assert result.success
meta = {}
for node in ["raw__archive_month"] + [f"{s}__{d}" for s in ("lake", "warehouse") for d in ("street_crimes", "outcomes", "stop_and_search")]:
    m = result.asset_materializations_for_node(node)[0].metadata
    meta[node] = {k: v.value for k, v in m.items() if k in ("duration_s", "bytes_fetched", "rows_loaded", "quarantined_rows", "files")}
print(json.dumps({"seconds": seconds, "peak_rss_mb": PEAK_RSS_MB(), "meta": meta}))
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
    files = sorted(str(p) for p in raw.glob(f"*-{suffix}.csv"))
    con.execute(f"COPY (SELECT * FROM read_csv({files!r})) TO '{out}/{suffix}.parquet' (FORMAT parquet)")
    rows += con.execute(f"SELECT count(*) FROM '{out}/{suffix}.parquet'").fetchone()[0]
print(json.dumps({"seconds": time.perf_counter() - t, "rows": rows, "peak_rss_mb": PEAK_RSS_MB()}))
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
    from police_assets.fake.generate import Release, write_release
    from police_assets.fake.server import FakePoliceServer
    from police_assets.raw_zone import read_manifest

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=int, default=500_000, help="street rows per month, nationally")
    parser.add_argument("--workdir", default="/tmp/police-bench")
    args = parser.parse_args()
    work = Path(args.workdir)
    site, data = work / f"site-{args.scale}", work / "data"
    if data.exists():
        import shutil

        shutil.rmtree(data)

    archive = site / "data" / "archive" / f"{LATEST}.zip"
    if not archive.exists():
        t = time.perf_counter()
        write_release(site, Release(latest=LATEST, months=2, scale=args.scale))
        print(f"generated {archive} ({archive.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t:.0f}s")

    with FakePoliceServer(site) as server:
        pipeline = run_child(PIPELINE, server.url, str(data), BENCH_MONTH)
        sent = server.bytes_sent("/data/archive/")
    raw = read_manifest(data / "raw", BENCH_MONTH)
    bare = run_child(BARE, raw.path, str(work / "bare"))

    compressed = sum(m["compressed_size"] for m in raw.members)
    rows = sum(
        pipeline["meta"][f"warehouse__{d}"]["rows_loaded"] for d in ("street_crimes", "outcomes", "stop_and_search")
    )
    ratio = pipeline["seconds"] / bare["seconds"]
    fetch_ratio = sent / compressed
    print(
        f"\nmonth {BENCH_MONTH}: {len(raw.members)} files, {raw.bytes_on_disk / 1e6:.0f} MB of CSV, {rows:,} rows loaded "
        f"(bare engine: {bare['rows']:,} rows)"
    )
    print(f"{'':<38}{'seconds':>9}{'peak RSS MB':>13}")
    print(
        f"{'pipeline: zip -> raw -> lake -> warehouse':<38}{pipeline['seconds']:>9.1f}{pipeline['peak_rss_mb']:>13.0f}"
    )
    print(f"{'bare DuckDB: read_csv -> Parquet':<38}{bare['seconds']:>9.1f}{bare['peak_rss_mb']:>13.0f}")
    lake = sum(pipeline["meta"][f"lake__{d}"]["duration_s"] for d in ("street_crimes", "outcomes", "stop_and_search"))
    print(f"ratio pipeline / bare engine: {ratio:.2f}x (target <= 2x)")
    print(
        f"ratio lake stage (the same CSV -> Parquet job, plus header contract, typing, quarantine) / bare engine: "
        f"{lake / bare['seconds']:.2f}x"
    )
    for node, meta in pipeline["meta"].items():
        print(f"  {node:<28} {meta.get('duration_s', 0):>6.1f}s")
    print(
        f"bytes fetched for the month: {sent / 1e6:.1f} MB for {compressed / 1e6:.1f} MB of compressed members "
        f"= {fetch_ratio:.3f}x (target <= 1.1x); archive {archive.stat().st_size / 1e6:.0f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
