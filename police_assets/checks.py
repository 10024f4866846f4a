"""Asset checks that watch the data rather than the code: freshness against data.police.uk, and coverage gaps.

Both read the live warehouse right after the run's own writes (same run, same ``duckdb`` pool), so they never
race a writer.
"""

import statistics
from collections import defaultdict

from dagster import AssetCheckExecutionContext, AssetCheckResult, AssetCheckSeverity, asset_check

from police_assets.assets.metadata import markdown_table
from police_assets.assets.warehouse import WAREHOUSE_POOL
from police_assets.datasets import DATASETS
from police_assets.months import months_between
from police_assets.resources import DataPoliceUk, PoliceStorage
from police_assets.source.client import SourceError
from police_assets.warehouse import FORCE_FILES, table_name

LOW_SHARE = 0.5  # a force-month below half the force's own median of its previous 6 months is "sharply below"
HISTORY = 6


@asset_check(
    asset=["warehouse", "street_crimes"],
    name="newest_published_month_loaded",
    pool=WAREHOUSE_POOL,
    description=(
        "Red when the newest month in the warehouse lags the newest month data.police.uk has published "
        "(crimes-street-dates): a release has not been loaded yet."
    ),
)
def newest_published_month_loaded(
    context: AssetCheckExecutionContext, police: DataPoliceUk, storage: PoliceStorage
) -> AssetCheckResult:
    with storage.connect_warehouse(read_only=True) as con:
        newest = con.execute(f"SELECT strftime(max(month), '%Y-%m') FROM {table_name(DATASETS[0])}").fetchone()[0]
    try:
        published = police.api().latest_month()
    except SourceError as exc:
        return AssetCheckResult(
            passed=False,
            severity=AssetCheckSeverity.WARN,
            description=f"could not ask data.police.uk for its newest month: {exc}",
            metadata={"newest_loaded_month": newest or "none"},
        )
    lag = months_between(newest, published) if newest else None
    return AssetCheckResult(
        passed=lag == 0,
        severity=AssetCheckSeverity.ERROR,
        description=(
            f"newest loaded {newest}, newest published {published}" + (f": {lag} month(s) behind" if lag else "")
        ),
        metadata={"newest_loaded_month": newest or "none", "newest_published_month": published, "months_behind": lag},
    )


def coverage_problems(per_force: dict[tuple[str, str], dict[str, tuple[bool, int]]]) -> list[tuple]:
    """``{(dataset, force): {month: (has_file, rows)}}`` -> ``[(month, force, dataset, problem, rows, median)]``.

    A force-month is a problem when it has no file (or an empty one), or when its rows are below
    ``LOW_SHARE`` of the force's median over its previous ``HISTORY`` months with data (at least 3 of them).
    """
    problems = []
    for (dataset, force), months in per_force.items():
        history: list[int] = []
        for month in sorted(months):
            has_file, rows = months[month]
            recent = history[-HISTORY:]
            median = statistics.median(recent) if len(recent) >= 3 else None
            if not has_file:
                problems.append((month, force, dataset, "no file", rows, median))
            elif rows == 0:
                problems.append((month, force, dataset, "empty file", rows, median))
            elif median and rows < LOW_SHARE * median:
                problems.append((month, force, dataset, f"below {LOW_SHARE:.0%} of its median", rows, median))
            if has_file and rows > 0:
                history.append(rows)
    return sorted(problems)


@asset_check(
    asset=["warehouse", "force_files"],
    name="force_month_coverage",
    pool=WAREHOUSE_POOL,
    description=(
        "Lists the force-months, per dataset, that have no file or are sharply below the force's own recent "
        f"level (under {LOW_SHARE:.0%} of its median over the previous {HISTORY} months). Warns when the newest "
        "loaded month has any: data.police.uk has real holes, which must read as gaps, never as zero crime."
    ),
)
def force_month_coverage(context: AssetCheckExecutionContext, storage: PoliceStorage) -> AssetCheckResult:
    per_force: dict = defaultdict(dict)
    with storage.connect_warehouse(read_only=True) as con:
        for spec in DATASETS:
            rows = con.execute(
                f"""
                SELECT strftime(f.month, '%Y-%m'), f.force_id, f.has_file, count(t.force_id)
                FROM {FORCE_FILES} f
                LEFT JOIN {table_name(spec)} t ON t.month = f.month AND t.force_id = f.force_id
                WHERE f.dataset = ?
                GROUP BY ALL
            """,
                [spec.file_suffix],
            ).fetchall()
            for month, force, has_file, n in rows:
                per_force[(spec.file_suffix, force)][month] = (has_file, n)
    problems = coverage_problems(per_force)
    newest = max((m for months in per_force.values() for m in months), default=None)
    in_newest = [p for p in problems if p[0] == newest]
    return AssetCheckResult(
        passed=not in_newest,
        severity=AssetCheckSeverity.WARN,
        description=f"{len(problems)} force-month gaps or drops in all loaded months, {len(in_newest)} in {newest}",
        metadata={
            "problems": len(problems),
            "problems_in_newest_month": len(in_newest),
            "newest_month": newest or "none",
            "list": markdown_table(["month", "force", "dataset", "problem", "rows", "median"], problems[-60:]),
        },
    )
