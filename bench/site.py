"""Benchmark: the dashboards over 36 national-size months: page weight and time to first complete render.

    .venv/bin/python bench/site.py [--months 36] [--street-rows 500000] [--loads 5] [--screenshots DIR]
    .venv/bin/python bench/site.py --reuse          # skip the build, measure the site in --workdir again
    .venv/bin/python bench/site.py --site data/published/site --screenshots docs/img   # any rendered site

In one run:

1. the landing views of a scratch warehouse are filled with national-size months by SQL
   (bench/national.py: 45 forces, ~350 towns, ~40k occupied map cells, full stop-and-search vocabularies);
2. ``dbt seed`` and ``dbt run --full-refresh`` build the marts (the same project Dagster runs);
3. ``publish_marts`` exports them and ``render_site`` renders the pages, exactly as the publish assets do;
4. each page is opened ``--loads`` times in Debian's headless Chromium (a fresh browser context each time,
   from ``file://``) and timed from navigation start to ``body[data-ready=true]``: every cube decoded, every
   chart drawn, every table and KPI filled (the page's own ``performance.now()``, stored by dashboard.js);
   then one filter is changed and the update timed the same way.

Targets (docs/benchmarks.md): under 5 MB per page and under 2 s to first complete render.
"""

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.national import create_landing, fill_month, run_dbt  # noqa: E402
from police_assets.core.months import add_months, month_range  # noqa: E402
from police_assets.core.storage import PoliceStorage, landing_dir_for  # noqa: E402
from police_assets.publish.assets import publish  # noqa: E402
from police_assets.site.render import render_site  # noqa: E402
from police_dev.browser import find_chromium, launch  # noqa: E402

MB = 1e6
TARGET_BYTES, TARGET_MS = 5 * MB, 2000
# One filter change per page, as a reader would: (select id, option label chosen by index among the real ones)
FILTER_CHANGE = {"crime": "force", "outcomes": "force", "stop-and-search": "force", "coverage": "dataset"}


def build(work: Path, months: list[str], street_rows: int) -> None:
    warehouse = work / "warehouse.duckdb"
    env = dict(os.environ, POLICE_WAREHOUSE=str(warehouse), DBT_SEND_ANONYMOUS_USAGE_STATS="false")
    started = time.perf_counter()
    with duckdb.connect(str(warehouse)) as con:
        create_landing(con, landing_dir_for(warehouse))
        for m in months:
            fill_month(con, m, street_rows, landing_dir_for(warehouse))
        (rows,) = con.execute("SELECT count(*) FROM landing.street_crimes").fetchall()[0]
    print(f"landing: {len(months)} months, {rows:,} street rows in {time.perf_counter() - started:.0f}s", flush=True)
    run_dbt(["seed"], env)
    _, wall = run_dbt(["run", "--full-refresh"], env)
    print(f"dbt run --full-refresh: {wall:.0f}s", flush=True)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        result = publish(con, PoliceStorage(data_dir=str(work)))
    print(f"published {len(result.tables)} tables, {result.bytes / MB:.0f} MB in {result.seconds:.1f}s", flush=True)


def _collect_errors(page, problems: list[str]) -> None:
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))


def measure(site: Path, loads: int, screenshots: Path | None) -> list[dict]:
    from playwright.sync_api import sync_playwright

    results = []
    with sync_playwright() as p:
        browser = launch(p)
        for html in sorted(site.glob("*.html"), key=lambda f: (f.stem != "index", f.stem)):
            name, ready, updates, problems = html.stem, [], [], []
            for i in range(loads):
                context = browser.new_context(viewport={"width": 1200, "height": 900})
                page = context.new_page()
                _collect_errors(page, problems)
                page.goto(html.as_uri(), wait_until="load")
                if name in ("index", "data", "ask"):  # no dashboard script (Ask: bench/ask.py): the load event
                    ready.append(page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd"))
                else:
                    page.wait_for_function("document.body.dataset.ready === 'true'", timeout=120_000)
                    ready.append(float(page.evaluate("document.body.dataset.readyMs")))
                    select = f"#filter-{FILTER_CHANGE[name]}"
                    # the option a reader would pick first: the first real value after "All"
                    value = page.eval_on_selector(select, "s => [...s.options].find(o => o.value).value")
                    before = int(page.evaluate("document.body.dataset.updates"))
                    page.select_option(select, value=value)
                    page.wait_for_function(f"Number(document.body.dataset.updates) > {before}", timeout=60_000)
                    updates.append(float(page.evaluate("document.body.dataset.updateMs")))
                if screenshots and i == 0:
                    page.reload()
                    if name not in ("index", "data", "ask"):
                        page.wait_for_function("document.body.dataset.ready === 'true'", timeout=120_000)
                    page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)
                context.close()
            results.append(
                {
                    "page": html.name,
                    "bytes": html.stat().st_size,
                    "ready_ms": statistics.median(ready),
                    "ready_max_ms": max(ready),
                    "update_ms": statistics.median(updates) if updates else None,
                    "errors": problems,
                }
            )
        browser.close()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--street-rows", type=int, default=500_000, help="street rows per month, nationally")
    parser.add_argument("--loads", type=int, default=5, help="page loads per page (the median is reported)")
    parser.add_argument("--workdir", default="/tmp/police-bench-site")
    parser.add_argument("--reuse", action="store_true", help="keep the built warehouse and published marts")
    parser.add_argument("--screenshots", type=Path, help="save a full-page PNG of every page here")
    parser.add_argument("--site", type=Path, help="only measure this already rendered site (no build, no render)")
    args = parser.parse_args()
    if not find_chromium():
        raise SystemExit("no chromium: run `make browser` first")
    work = Path(args.workdir)
    if args.site:
        site_dir = args.site.resolve()
    else:
        if not args.reuse:
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
            build(work, month_range("2021-01", add_months("2021-01", args.months - 1)), args.street_rows)
        site = render_site(work / "published", work / "site")
        print(
            f"render_site: {len(site.pages)} pages in {site.seconds:.1f}s; cube rows: "
            + ", ".join(f"{k} {v:,}" for k, v in site.cube_rows.items()),
            flush=True,
        )
        site_dir = site.out_dir
    if args.screenshots:
        args.screenshots.mkdir(parents=True, exist_ok=True)
    results = measure(site_dir, args.loads, args.screenshots)

    print(f"\n{'page':<22}{'MB':>7}{'ready ms (median)':>19}{'max':>7}{'filter change ms':>18}")
    ok = True
    for r in results:
        update = f"{r['update_ms']:.0f}" if r["update_ms"] is not None else "-"
        print(f"{r['page']:<22}{r['bytes'] / MB:>7.2f}{r['ready_ms']:>19.0f}{r['ready_max_ms']:>7.0f}{update:>18}")
        ok &= r["bytes"] < TARGET_BYTES and r["ready_ms"] < TARGET_MS and not r["errors"]
        for e in r["errors"]:
            print(f"  console error: {e}")
    print(f"\ntargets: < {TARGET_BYTES / MB:.0f} MB and < {TARGET_MS} ms per page: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
