"""Benchmark: what a new user does first, backfill everything data.police.uk serves, in one run, as the docs say;
then what the next release costs.

    .venv/bin/python bench/backfill.py                                # 36 national-size months
    .venv/bin/python bench/backfill.py --months 72 --scale 50000      # the growth check, at a tenth of the size
    .venv/bin/python bench/backfill.py --months 36 --scale 50000 --source folder   # its 36-month reference

1. The fake data.police.uk publishes the archive of LATEST holding ``--months`` months of ``--scale`` street
   rows each (45 forces, outcomes and stop and search alike). Each month's members are generated once and
   cached in ``--cache`` (generation is the slow part: docs/benchmarks.md), in
   ``--workers`` processes.
   Over 36 months the source is the archives as a folder (``DATA_POLICE_UK_URL=file://...``, what docs/running.md
   tells users for history): a month older than the newest archive's 36 is read from an older archive.
2. In a fresh process, with a fresh DAGSTER_HOME and data folder: ``dagster asset materialize -m
   police_assets.definitions --select '*' --partition-range FIRST...LATEST``, the line in docs/running.md.
3. The next release: the archive of LATEST + 1 (the month after, and the older months again, one of them, six
   months back, revised for the largest force), and the sensor's two runs: the new month, then the revised one.
   The new month's outcomes files also carry a long tail of court outcomes for crimes of every month held, fewer
   the older (``late_outcome_rows``), as real ones do: a release writes again every crime month they reach.
4. Same answers (unless ``--no-check``): a copy of the warehouse rebuilt from scratch by dbt (``--full-refresh``,
   every month) and published into a folder of its own; every published table must equal the incremental one
   (rows and an order-independent checksum of every row).

For each run: wall time, the time of each stage (Dagster's own step durations), the peak RSS of the largest
process (the CLI or dbt), and the bytes fetched; after the backfill, the disk used by each stage against the
compressed size of the archive members loaded. Targets (docs/benchmarks.md): backfill under 4 minutes, peak RSS under
3 GB, one more month under 25 s. DuckDB's memory limit is POLICE_DUCKDB_MEMORY_LIMIT's, as for users.
"""

import argparse
import csv
import io
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dagster import DagsterInstance  # noqa: E402

from police_assets.core.config import duckdb_memory_limit  # noqa: E402
from police_assets.core.datasets import OUTCOMES, STREET  # noqa: E402
from police_assets.core.months import ARCHIVE_SPAN_MONTHS, add_months, month_range  # noqa: E402
from police_dev.fake.generate import Release, late_outcome_rows, month_members, write_release_from  # noqa: E402
from police_dev.fake.server import FakePoliceServer  # noqa: E402

LATEST = "2024-12"
TARGET_BACKFILL_S, TARGET_RSS_MB, TARGET_NEXT_S, TARGET_REVISED_S = 240, 3000, 25, 40
REVISED_FORCE, REVISED_BACK = "metropolitan", 6  # the force-month the next release revises: the largest force
STAGES = [  # step name prefix -> stage
    ("raw__", "raw"),
    ("lake", "lake"),
    ("warehouse", "warehouse"),
    ("police_dbt_assets", "dbt"),
    ("publish__marts_snapshot", "publish"),
    ("publish__site", "site"),
]
# Runs the CLI and reports the peak RSS of its largest descendant (the wrapper's own children only).
WRAPPER = (
    "import json, resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[2:]).returncode\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
    "open(sys.argv[1], 'w').write(json.dumps({'code': code, 'peak_rss_mb': peak}))\n"
)


def _generate(job: tuple[Path, list[str], int, int]) -> float:
    """Cache the members of consecutive ``months`` (consecutive: outcomes reuse the crimes of earlier months)."""
    cache, months, scale, seed = job
    started = time.perf_counter()
    for month in months:
        target = cache / f"{month}.zip"
        tmp = target.with_suffix(".tmp")
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            for name, data in month_members(seed, month, scale).items():
                zf.writestr(name, data)
        os.replace(tmp, target)
    return time.perf_counter() - started


def cache_months(cache: Path, months: list[str], scale: int, seed: int, workers: int) -> None:
    missing = [m for m in months if not (cache / f"{m}.zip").exists()]
    if not missing:
        return
    cache.mkdir(parents=True, exist_ok=True)
    size = -(-len(missing) // workers)
    jobs = [(cache, missing[i : i + size], scale, seed) for i in range(0, len(missing), size)]
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(_generate, jobs))
    print(f"generated {len(missing)} months into {cache} in {time.perf_counter() - started:.0f}s", flush=True)


def cached_members(cache: Path, month: str, variants: dict[str, str] | None = None) -> dict[str, bytes]:
    """The cached members of ``month``, or of the variant ``variants`` names for it (``2024-06-revised``)."""
    name = f"{(variants or {}).get(month, month)}.zip"
    with zipfile.ZipFile(cache / name) as zf:
        return {name: zf.read(name) for name in sorted(zf.namelist())}


def cache_revised(cache: Path, month: str, scale: int, seed: int) -> None:
    target = cache / f"{month}-revised.zip"
    if target.exists():
        return
    tmp = target.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, data in month_members(seed, month, scale, revisions={(month, REVISED_FORCE): 1}).items():
            zf.writestr(name, data)
    os.replace(tmp, target)


def cache_late(cache: Path, month: str, first: str, seed: int) -> str:
    """The variant of ``month`` whose outcomes files also hold a long tail of court outcomes for crimes of every
    month from ``first`` (``late_outcome_rows``, thinning with age): what real outcomes files look like, and
    what makes a release write again every month its outcomes reach. Returns the variant's name."""
    variant = f"{month}-late-from-{first}"
    target = cache / f"{variant}.zip"
    if target.exists():
        return variant
    started = time.perf_counter()
    earlier = month_range(first, add_months(month, -1))
    members = cached_members(cache, month)
    streets: dict[str, dict[str, bytes]] = {}  # force -> earlier month -> its street file
    for crime_month in earlier:
        for name, data in cached_members(cache, crime_month).items():
            force = STREET.force_from_file_name(name, crime_month)
            if force is not None:
                streets.setdefault(force, {})[crime_month] = data
    added = 0
    for force, files in streets.items():
        name = OUTCOMES.member_name(month, force)
        if name in members:  # a force that publishes no outcomes this month has no file to add to
            rows = late_outcome_rows(seed, month, files)
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="\r\n").writerows(rows)
            members[name] += buffer.getvalue().encode("ascii")
            added += len(rows)
    tmp = target.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    os.replace(tmp, target)
    print(f"added {added:,} late outcome rows to {month} in {time.perf_counter() - started:.0f}s", flush=True)
    return variant


def publish(
    site: Path, cache: Path, latest: str, months: int, scale: int, seed: int, variants: dict[str, str] | None = None
) -> Path:
    started = time.perf_counter()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    release = Release(latest=latest, months=months, scale=scale, seed=seed, last_updated=stamp)
    archive = write_release_from(site, release, lambda month: cached_members(cache, month, variants))
    print(
        f"published {archive.name} ({archive.stat().st_size / 1e6:,.0f} MB, {months} months) "
        f"in {time.perf_counter() - started:.0f}s",
        flush=True,
    )
    return archive


def materialise(env: dict, first: str, last: str, log: Path) -> dict:
    """The documented CLI line in a fresh process; wall time, stage times, peak RSS."""
    dagster = str(Path(sys.executable).with_name("dagster"))
    cmd = [dagster, "asset", "materialize", "-m", "police_assets.definitions", "--select", "*"]
    cmd += ["--partition-range", f"{first}...{last}"]
    result_file = log.with_suffix(".rss.json")
    started = time.perf_counter()
    with open(log, "w") as out:
        subprocess.run(
            [sys.executable, "-c", WRAPPER, str(result_file), *cmd], env=env, cwd=ROOT, stdout=out, stderr=out
        )
    wall = time.perf_counter() - started
    outcome = json.loads(result_file.read_text())
    if outcome["code"] != 0:
        sys.stdout.write(log.read_text()[-6000:])
        raise SystemExit(f"the run failed ({outcome['code']}); its output is in {log}")
    stages: dict[str, float] = {}
    with DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:  # the run's own step records
        run = instance.get_runs(limit=1)[0]
        for stat in instance.get_run_step_stats(run.run_id):
            stage = next((name for prefix, name in STAGES if stat.step_key.startswith(prefix)), "checks")
            stages[stage] = stages.get(stage, 0.0) + (stat.end_time or 0) - (stat.start_time or 0)
        recorded = instance.get_run_stats(run.run_id)
        in_run = (recorded.end_time or 0) - (recorded.start_time or 0)
        published = publish_account(instance, run.run_id)
    # what the steps do not hold: the CLI's start (imports, the definitions) and exit, and Dagster's own work
    # between the steps (planning, the run's events)
    outside = {"outside the run": wall - in_run, "between the steps": in_run - sum(stages.values())}
    return {
        "wall_s": wall,
        "stages": stages,
        "outside": outside,
        "dbt": dbt_account(run.run_id),
        "publish": published,
        "peak_rss_mb": outcome["peak_rss_mb"],
    }


def publish_account(instance: DagsterInstance, run_id: str) -> list[str]:
    """The publish step's own account of the month files it wrote (per split table: how many months, how many
    stitched, written twice or whole instead, and why), from the run's log."""
    return [
        event.user_message
        for event in instance.all_logs(run_id)
        if event.step_key == "publish__marts_snapshot" and "months written" in (event.user_message or "")
    ]


def dbt_account(run_id: str) -> str | None:
    """dbt's own account of the run's dbt command, from the run_results.json in the target folder dagster-dbt
    gave that command (named after the step and the run): its elapsed time, its nodes' time by kind, the slowest
    models. The rest of the dbt step is dbt's process starting and closing, and Dagster's records. None when the
    folder is not there."""
    found = sorted((ROOT / "dbt" / "target").glob(f"*-{run_id[:7]}-*/run_results.json"))
    if not found:
        return None
    results = json.loads(found[-1].read_text())
    by_kind: dict[str, float] = {}
    models = []
    for node in results["results"]:
        kind = node["unique_id"].split(".")[0]
        by_kind[kind] = by_kind.get(kind, 0.0) + node["execution_time"]
        if kind == "model":
            models.append((node["execution_time"], node["unique_id"].split(".")[-1]))
    kinds = ", ".join(f"{kind}s {seconds:.1f}s" for kind, seconds in sorted(by_kind.items()))
    slowest = ", ".join(f"{name} {seconds:.1f}s" for seconds, name in sorted(models, reverse=True)[:3])
    return f"{results['elapsed_time']:.1f}s ({kinds}); slowest models: {slowest}"


def run_against(source: str, site: Path, env: dict, first: str, last: str, log: Path) -> tuple[dict, int]:
    """One run over ``first..last`` against the fake site over HTTP (and the bytes it fetched) or as a folder."""
    if source == "folder":
        return materialise({**env, "DATA_POLICE_UK_URL": site.resolve().as_uri()}, first, last, log), 0
    with FakePoliceServer(site) as server:
        run = materialise({**env, "DATA_POLICE_UK_URL": server.url}, first, last, log)
        return run, server.bytes_sent("/data/archive/")


def disk_bytes(path: Path, seen: set) -> int:
    """Bytes of the files under ``path`` not counted before: a hard link (the site's Parquet downloads are
    links to the snapshot's files) costs its disk once."""
    total = 0
    for p in [path] if path.is_file() else path.rglob("*"):
        if p.is_file() and not p.is_symlink():
            st = p.stat()
            if (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                total += st.st_size
    return total


def disk_report(after: str, data: Path, compressed: int) -> int:
    """Print the disk each stage holds, against the compressed members loaded, the snapshot kept for readers
    apart (its own files only: the months it shares with the current one are hard links, counted once); return
    the total but that snapshot."""
    print(
        f"\ndisk after {after} (x the {compressed / 1e6:,.0f} MB of compressed members loaded; a previous "
        "snapshot, kept for readers, counted apart):"
    )
    seen: set = set()
    published = data / "published"
    sizes = {
        name: disk_bytes(path, seen)
        for name, path in [
            ("raw zone", data / "raw"),
            ("lake", data / "lake"),
            ("warehouse.duckdb", data / "warehouse.duckdb"),
            ("warehouse landing", data / "warehouse_landing"),  # the lake's files linked: counted once, above
            ("current snapshot", (published / "current").resolve()),
            ("site", published / "site"),
            ("site cache", published / "site-cache"),
        ]
    }
    sizes["previous snapshot"] = disk_bytes(published / "snapshots", seen)
    for name, size in sizes.items():
        print(f"  {name:<20}{size / 1e6:>10,.0f} MB{size / compressed:>8.2f}x")
    total = sum(v for k, v in sizes.items() if k != "previous snapshot")
    print(f"  {'all but previous':<20}{total / 1e6:>10,.0f} MB{total / compressed:>8.2f}x (target <= 4x)")
    return total


def report(title: str, run: dict, fetched: int, target_s: float) -> bool:
    stages = ", ".join(f"{name} {run['stages'].get(name, 0):.1f}s" for _, name in [*STAGES, ("", "checks")])
    ok = run["wall_s"] < target_s and run["peak_rss_mb"] < TARGET_RSS_MB
    print(
        f"\n{title}: {run['wall_s']:.1f}s wall (target < {target_s}s), peak RSS {run['peak_rss_mb']:,.0f} MB "
        f"(target < {TARGET_RSS_MB:,} MB), {fetched / 1e6:,.1f} MB fetched over HTTP: {'met' if ok else 'NOT met'}\n"
        f"  steps: {stages}\n"
        f"  not in a step: "
        + ", ".join(f"{name} {seconds:.1f}s" for name, seconds in run["outside"].items())
        + (f"\n  dbt's command: {run['dbt']}" if run["dbt"] else "")
        + "".join(f"\n  publish: {line}" for line in run["publish"]),
        flush=True,
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--scale", type=int, default=500_000, help="street rows per month, nationally")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2, help="processes generating months (once, cached)")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/police-bench-backfill"))
    parser.add_argument("--cache", type=Path, help="default: <workdir>/months-<scale>-<seed>")
    parser.add_argument(
        "--source",
        choices=["http", "folder"],
        help="the fake data.police.uk over HTTP, or its archives as a folder (DATA_POLICE_UK_URL=file://...); "
        "default: http up to 36 months, folder beyond (a month older than the newest archive's 36 is read from an "
        "older archive, which only a folder of kept archives holds here)",
    )
    parser.add_argument("--no-check", dest="check", action="store_false", help="skip the same-answers check")
    parser.add_argument(
        "--late-outcomes",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="the next release's outcomes also reach crimes of every month held, fewer the older, as real outcomes "
        "files do; --no-late-outcomes: only the generator's own, up to six months back (the runs before "
        "2026-12-07)",
    )
    args = parser.parse_args()
    source = args.source or ("http" if args.months <= ARCHIVE_SPAN_MONTHS else "folder")
    work = args.workdir
    cache = args.cache or work / f"months-{args.scale}-{args.seed}"
    months = month_range(add_months(LATEST, -(args.months - 1)), LATEST)
    following = add_months(LATEST, 1)
    cache_months(cache, [*months, following], args.scale, args.seed, args.workers)

    site, data, home = work / "site", work / "data", work / "dagster_home"
    for folder in (site, data, home):
        shutil.rmtree(folder, ignore_errors=True)
    home.mkdir(parents=True)
    shutil.copy(ROOT / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    # archives of 36 months each, the newest last (it writes the API answers): months beyond the newest archive's
    # 36 come from the older ones, as they would from a folder of archives kept over the years
    compressed, ends = 0, []
    remaining, end = args.months, LATEST
    while remaining > 0:
        span = min(remaining, ARCHIVE_SPAN_MONTHS)
        ends.append((end, span))
        remaining, end = remaining - span, add_months(end, -span)
    for end, span in reversed(ends):
        archive = publish(site, cache, end, span, args.scale, args.seed)
        with zipfile.ZipFile(archive) as zf:
            compressed += sum(i.compress_size for i in zf.infolist())

    env = dict(
        os.environ,
        DAGSTER_HOME=str(home),
        POLICE_DATA_DIR=str(data),
        PYTHONWARNINGS="ignore:Function `asset_materialize_command` is superseded",
    )
    env.pop("POLICE_WAREHOUSE", None)
    title = (
        f"backfill of {args.months} months ({months[0]}..{months[-1]}, {source}, DuckDB memory limit "
        f"{duckdb_memory_limit()})"
    )
    backfill, fetched = run_against(source, site, env, months[0], months[-1], work / "backfill.log")
    ok = report(title, backfill, fetched, TARGET_BACKFILL_S)

    disk_report("the backfill", data, compressed)

    revised = add_months(LATEST, -REVISED_BACK)
    cache_revised(cache, revised, args.scale, args.seed)
    variants = {revised: f"{revised}-revised"}
    if args.late_outcomes:
        variants[following] = cache_late(cache, following, months[0], args.seed)
    span = min(args.months, ARCHIVE_SPAN_MONTHS)
    archive = publish(site, cache, following, span, args.scale, args.seed, variants)
    with zipfile.ZipFile(archive) as zf:  # the new month's members join what the platform holds
        compressed += sum(i.compress_size for i in zf.infolist() if i.filename.startswith(f"{following}/"))
    nxt, fetched = run_against(source, site, env, following, following, work / "next.log")
    ok &= report(f"the next release: {following} alone", nxt, fetched, TARGET_NEXT_S)
    again, fetched = run_against(source, site, env, revised, revised, work / "revised.log")
    ok &= report(f"the revised month: {revised} ({REVISED_FORCE}) alone", again, fetched, TARGET_REVISED_S)
    total = disk_report("the release", data, compressed)
    ok &= total <= 4 * compressed
    if args.check:
        ok &= same_answers(env, data, work / "scratch")
    return 0 if ok else 1


# rows and an order-independent checksum of every row of the relation named r
CHECKSUM = "SELECT count(*), sum(hash(r)::HUGEINT) FROM {} AS r"


def answers(serving: Path) -> dict[str, tuple]:
    """Per published table: rows and an order-independent checksum of every row (through serving.duckdb)."""
    import duckdb

    with duckdb.connect(str(serving), read_only=True) as con:
        tables = [r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()]
        return {t: con.execute(CHECKSUM.format(f"marts.{t}")).fetchone() for t in tables}


def same_answers(env: dict, data: Path, scratch: Path) -> bool:
    """The warehouse rebuilt from scratch by dbt and published apart must publish what the incremental runs did."""
    import duckdb

    from police_assets.publish.snapshot import publish_marts

    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    shutil.copy(data / "warehouse.duckdb", scratch / "warehouse.duckdb")
    dbt = str(Path(sys.executable).with_name("police-dbt"))
    started = time.perf_counter()
    subprocess.run(
        [dbt, "build", "--full-refresh", "--profiles-dir", ".", "--target-path", str(scratch / "target"), "-q"],
        cwd=ROOT / "dbt",
        env={**env, "POLICE_WAREHOUSE": str(scratch / "warehouse.duckdb")},
        check=True,
    )
    rebuilt = time.perf_counter() - started
    with duckdb.connect(str(scratch / "warehouse.duckdb"), read_only=True) as con:
        publish_marts(con, scratch / "published")
    kept, fresh = answers(data / "published" / "serving.duckdb"), answers(scratch / "published" / "serving.duckdb")
    differ = sorted(t for t in set(kept) | set(fresh) if kept.get(t) != fresh.get(t))
    print(
        f"\nsame answers as a from-scratch rebuild ({rebuilt:.0f}s of dbt --full-refresh): "
        + (
            "every table equal, " + ", ".join(f"{t} {n:,}" for t, (n, _) in sorted(kept.items()))
            if not differ
            else f"DIFFERENT: {differ}"
        ),
        flush=True,
    )
    if differ:
        # kept for a look: the rebuilt warehouse and its snapshot, and which months of each table differ
        for table in differ:
            months = sorted(
                set(month_answers(data / "published", table).items())
                ^ set(month_answers(scratch / "published", table).items())
            )
            print(f"  {table}: months whose rows or checksum differ: {sorted({m for m, _ in months})}", flush=True)
        print(f"  the rebuild is kept in {scratch}", flush=True)
    else:
        shutil.rmtree(scratch, ignore_errors=True)
    return not differ


def month_answers(published: Path, table: str) -> dict[str, tuple]:
    """Per month file of a month-split ``table`` in the current snapshot of ``published``: rows and checksum."""
    import duckdb

    from police_assets.core.sql import sql_literal
    from police_assets.publish.snapshot import manifest_of, snapshot_dir

    snapshot = snapshot_dir(published)
    part = manifest_of(snapshot).get("parts", {}).get(table, {})
    with duckdb.connect() as con:
        return {
            month: con.execute(
                CHECKSUM.format(f"read_parquet({sql_literal(snapshot / 'marts' / m['file'])})")
            ).fetchone()
            for month, m in part.get("months", {}).items()
        }


if __name__ == "__main__":
    sys.exit(main())
