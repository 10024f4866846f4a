"""The Ask page: any SQL over the published tables, run in the reader's browser by DuckDB-WASM reading the site's
own Parquet downloads with HTTP range requests, so a question fetches the pieces of the files it needs and the
site still costs nothing to host.

The engine is built by ``make setup`` from npm (``package-lock.json`` pins it; core.config.ASK_ENGINE_DIR) and
copied into every site build's ``ask/`` folder; only this page loads it. The example questions below are the
page's saved queries: add one by adding an :class:`Example` (tests/site/test_ask.py runs each in the browser and
compares it with the same SQL on ``serving.duckdb``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from police_assets.core.config import ASK_ENGINE_DIR
from police_assets.core.tempfiles import link_or_copy

# The engine's files, as the Makefile leaves them: the browser module (with Apache Arrow bundled in), its worker,
# and the WebAssembly build with exceptions (every current browser; the older "mvp" build is not shipped).
ENGINE_FILES = ("duckdb-browser.mjs", "duckdb-browser-eh.worker.js", "duckdb-eh.wasm")
STATIC = Path(__file__).parent / "static"
MAX_ROWS = 1000  # rows shown; the page states the full count


@dataclass(frozen=True)
class Example:
    slug: str
    title: str
    sentence: str  # what it answers, and what to read into it
    sql: str

    @property
    def href(self) -> str:
        return ask_href(self.sql)


def ask_href(sql: str) -> str:
    """A link that opens the Ask page with ``sql`` in the editor, run as soon as the engine is ready."""
    return "ask.html?q=" + quote(sql, safe="")


EXAMPLES = [
    Example(
        "find-rate",
        "Find rate by force and year",
        "Searches whose outcome was linked to what was searched for, over the searches where that link was "
        "recorded (a force that leaves the field blank has no rate, not a rate of zero).",
        """SELECT f.force_name, year(s.search_month) AS year,
       sum(s.search_count) AS searches,
       sum(s.outcome_link_known_count) AS link_recorded,
       round(sum(s.object_found_count) / nullif(sum(s.outcome_link_known_count), 0), 4) AS find_rate
FROM agg_stop_and_search_monthly AS s
JOIN dim_forces AS f USING (force_id)
GROUP BY ALL
ORDER BY f.force_name, year""",
    ),
    Example(
        "crime-by-town",
        "Recorded crime by town, anti-social behaviour apart",
        "The 20 towns with the most recorded crime over the loaded months; anti-social behaviour is not crime and "
        "is counted in its own column.",
        """SELECT town_name,
       sum(crime_count) FILTER (WHERE NOT is_anti_social_behaviour) AS crimes,
       sum(crime_count) FILTER (WHERE is_anti_social_behaviour) AS asb_incidents
FROM agg_street_crimes_monthly
GROUP BY town_name
ORDER BY crimes DESC, town_name
LIMIT 20""",
    ),
    Example(
        "outcome-statuses",
        "Where crimes have got to",
        "Crimes by outcome status and their share: recorded outcomes, crimes still awaiting one, and crimes of "
        "forces that publish no outcome files (unknown, not 'no outcome').",
        """SELECT outcome_status,
       sum(crime_count) AS crimes,
       round(sum(crime_count) / sum(sum(crime_count)) OVER (), 4) AS share
FROM agg_outcomes_by_crime_type
GROUP BY outcome_status
ORDER BY crimes DESC, outcome_status""",
    ),
    Example(
        "coverage-gaps",
        "Coverage gaps by force",
        "Force-months with no file (a gap, never zero crime) or a partial one, by force and dataset.",
        """SELECT c.force_name, c.dataset_name,
       count(*) FILTER (WHERE s.is_expected AND s.is_gap) AS months_missing,
       count(*) FILTER (WHERE s.is_partial) AS months_partial
FROM fct_force_month_coverage AS c
JOIN dim_coverage_statuses AS s USING (coverage_status)
GROUP BY ALL
HAVING months_missing > 0 OR months_partial > 0
ORDER BY months_missing DESC, months_partial DESC, c.force_name, c.dataset_name""",
    ),
    Example(
        "crimes-by-month-and-force",
        "Crimes by month and force",
        "Every recorded crime (not anti-social behaviour), counted from the one-row-per-crime table: the "
        "monthly files are read a column at a time, not downloaded whole.",
        """SELECT strftime(crime_month, '%Y-%m') AS month, force_name, count(*) AS crimes
FROM fct_street_crimes
WHERE NOT is_anti_social_behaviour
GROUP BY ALL
ORDER BY month, force_name""",
    ),
    Example(
        "under-18-searches",
        "Searches of under-18s that found something",
        "Searches of children by force and year, how many had the link to the object recorded, and how many "
        "of those found what was searched for.",
        """SELECT force_name, year(search_month) AS year,
       count(*) AS searches,
       count(is_object_found) AS link_recorded,
       count(*) FILTER (WHERE is_object_found) AS found
FROM fct_stop_and_search
WHERE age_range IN ('under 10', '10-17')
GROUP BY ALL
ORDER BY force_name, year""",
    ),
    Example(
        "missing-locations",
        "Records without a map point, by force",
        "How many street records of each force had no location, over the records of its published files.",
        """SELECT force_name,
       sum(record_count) AS records,
       sum(location_missing_count) AS without_location,
       round(sum(location_missing_count) / nullif(sum(record_count), 0), 4) AS share
FROM fct_force_month_coverage
WHERE dataset_name = 'street'
GROUP BY force_name
ORDER BY share DESC NULLS LAST, force_name""",
    ),
]


def engine_version() -> str:
    """The DuckDB-WASM version the Makefile built the engine from (its package.json, kept beside it)."""
    try:
        return json.loads((ASK_ENGINE_DIR / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return "(not installed)"


def engine_ready() -> bool:
    return all((ASK_ENGINE_DIR / name).is_file() for name in ENGINE_FILES)


def write_engine(out_dir: Path) -> dict | None:
    """The engine's files and the page's byte-counting worker into ``out_dir/ask/`` (hard links where the disk
    allows); returns their addresses relative to the site, or None when ``make setup`` has not built the engine
    (the page then says so, and the rest of the site works)."""
    if not engine_ready():
        return None
    folder = out_dir / "ask"
    folder.mkdir(parents=True, exist_ok=True)
    for name in ENGINE_FILES:
        link_or_copy(ASK_ENGINE_DIR / name, folder / name)
    link_or_copy(STATIC / "ask-worker.js", folder / "ask-worker.js")
    return {
        "module": "ask/duckdb-browser.mjs",
        "worker": "ask/ask-worker.js",
        "wasm": "ask/duckdb-eh.wasm",
        "bytes": sum((folder / name).stat().st_size for name in ENGINE_FILES),
    }


def table_files(tables: list[dict]) -> dict[str, list[str]]:
    """Each published table's Parquet downloads (site-relative), as the Data page lists them: what the page's
    views read."""
    files = {}
    for table in tables:
        if table["by_month"]:
            files[table["name"]] = [m["href"] for _, months in table["by_month"] for m in months]
        else:
            files[table["name"]] = [table["parquet"]]
    return files
