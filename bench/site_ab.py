"""Benchmark: two rendered sites against each other, page by page, in the same headless Chromium.

    .venv/bin/python bench/site_ab.py OLD_SITE NEW_SITE [--rounds 30]

Page loads alternate between the two sites (A then B, then B then A, ...), a fresh browser context each, so
the machine's drift hits both alike: on this 2-core VM one page's time to first complete render varies by
±10-20 % between runs of bench/site.py, too much to judge a 10 % change from two separate runs. Prints the
median and the minimum of each page's ``body[data-ready]`` time (see bench/site.py), and B's over A's.
Render OLD_SITE from an older commit over the same published marts (git worktree, then its render_site).
"""

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from police_dev.browser import launch  # noqa: E402

PAGES = ["crime", "outcomes", "stop-and-search", "coverage"]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    times = {(s, p): [] for s in "AB" for p in PAGES}
    with sync_playwright() as pw:
        browser = launch(pw)
        for r in range(args.rounds):
            for page_name in PAGES:
                order = (("A", args.a), ("B", args.b)) if r % 2 == 0 else (("B", args.b), ("A", args.a))
                for side, site in order:
                    context = browser.new_context(viewport={"width": 1200, "height": 900})
                    page = context.new_page()
                    page.goto((site / f"{page_name}.html").resolve().as_uri(), wait_until="load")
                    page.wait_for_function("document.body.dataset.ready === 'true'", timeout=120_000)
                    times[(side, page_name)].append(float(page.evaluate("document.body.dataset.readyMs")))
                    context.close()
        browser.close()
    print(f"{'page':<18}{'A median':>9}{'A min':>7}{'B median':>10}{'B min':>7}{'B/A median':>12}{'B/A min':>9}")
    for p in PAGES:
        a, b = times[("A", p)], times[("B", p)]
        print(
            f"{p:<18}{statistics.median(a):>9.0f}{min(a):>7.0f}{statistics.median(b):>10.0f}{min(b):>7.0f}"
            f"{statistics.median(b) / statistics.median(a):>12.3f}{min(b) / min(a):>9.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
