"""Benchmark: the Ask page over a rendered site, served locally with range requests, in headless Chromium.

    .venv/bin/python bench/ask.py --site /tmp/police-bench-site/site    # e.g. the national site bench/site.py left

In one run, for ``--loads`` fresh browser contexts (nothing cached between them):

1. ``ask.html`` is opened over HTTP (police_dev.serve, as ``make serve`` serves it) and timed from navigation
   start to the engine being ready (DuckDB-WASM loaded, every table's view made): the page's own
   ``window.askReadySeconds`` and the wall time seen from here;
2. the example "crimes by month and force" (``fct_street_crimes``, every month file) is run and timed, and the
   bytes the server sent for ``fct_street_crimes`` files are compared with those files' total size.

Also stated: the Ask page's own weight and its engine's (loaded only by that page). Targets
(docs/benchmarks.md): the query under 10 s, under 25 % of the table's bytes fetched.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from police_assets.site.ask import ENGINE_FILES, EXAMPLES  # noqa: E402
from police_dev.browser import find_chromium, launch  # noqa: E402
from police_dev.serve import SiteServer  # noqa: E402

MB = 1e6
QUERY = next(e for e in EXAMPLES if e.slug == "crimes-by-month-and-force")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--site", type=Path, required=True, help="a rendered site folder (publish/site's output)")
    parser.add_argument("--loads", type=int, default=3)
    args = parser.parse_args()
    site = args.site.resolve()
    engine = sum((site / "ask" / name).stat().st_size for name in ENGINE_FILES)
    files = sorted((site / "data" / "fct_street_crimes").glob("*.parquet"))
    table_bytes = sum(f.stat().st_size for f in files)
    print(
        f"ask.html {(site / 'ask.html').stat().st_size / 1e3:.0f} kB; engine {engine / MB:.1f} MB "
        f"({', '.join(ENGINE_FILES)}); fct_street_crimes: {len(files)} files, {table_bytes / MB:.0f} MB",
        flush=True,
    )
    from playwright.sync_api import sync_playwright

    ready, wall_ready, query, share = [], [], [], []
    with SiteServer(site) as server, sync_playwright() as p:
        browser = launch(p, find_chromium())
        for i in range(args.loads):
            context = browser.new_context()
            page = context.new_page()
            started = time.perf_counter()
            page.goto(server.url + "ask.html")
            page.wait_for_function("document.body.dataset.askState === 'ready'", timeout=300_000)
            wall_ready.append(time.perf_counter() - started)
            ready.append(page.evaluate("window.askReadySeconds"))
            before = sum(n for path, n in server.sent.items() if "/fct_street_crimes/" in path)
            started = time.perf_counter()
            page.evaluate("sql => { document.body.dataset.askState = 'asked'; window.askRun(sql); }", QUERY.sql)
            page.wait_for_function("document.body.dataset.askState === 'done'", timeout=600_000)
            query.append(time.perf_counter() - started)
            sent = sum(n for path, n in server.sent.items() if "/fct_street_crimes/" in path) - before
            share.append(sent / table_bytes)
            rows = page.evaluate("window.askResult.count")
            status = page.locator("#ask-status").text_content()
            print(
                f"load {i + 1}: ready {ready[-1]:.1f} s (wall {wall_ready[-1]:.1f} s); query {query[-1]:.1f} s, "
                f"{rows:,} rows, fct_street_crimes bytes sent {sent / MB:.1f} MB = {share[-1]:.1%}; page: {status}",
                flush=True,
            )
            context.close()
        browser.close()
    print(
        f"median: engine ready {statistics.median(ready):.1f} s; query {statistics.median(query):.1f} s "
        f"(target < 10 s); fetched {statistics.median(share):.1%} of fct_street_crimes (target < 25 %)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
