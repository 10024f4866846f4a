"""Asset checks that watch the data rather than the code: freshness against data.police.uk, and coverage gaps.

Both read the live warehouse right after the run's own writes (same run, same ``duckdb`` pool), so they never
race a writer. The coverage rule (missing, empty, partial) is the coverage mart's; the check only reports it.
"""

import duckdb
from dagster import AssetCheckExecutionContext, AssetCheckResult, AssetCheckSeverity, asset_check

from police_assets.assets.metadata import markdown_table
from police_assets.assets.warehouse import WAREHOUSE_POOL
from police_assets.datasets import DATASETS
from police_assets.months import months_between
from police_assets.resources import DataPoliceUk, PoliceStorage
from police_assets.source.client import SourceError
from police_assets.warehouse import table_name


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
    schema, table = table_name(DATASETS[0]).split(".")
    with storage.connect_warehouse(read_only=True) as con:
        # a warehouse that has loaded nothing yet (a first run that stopped early) has no table: say so plainly
        exists = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?", [schema, table]
        ).fetchone()[0]
        newest = (
            con.execute(f"SELECT strftime(max(month), '%Y-%m') FROM {table_name(DATASETS[0])}").fetchone()[0]
            if exists
            else None
        )
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
            f"newest loaded {newest or 'none: nothing loaded yet'}, newest published {published}"
            + (f": {lag} month(s) behind" if lag else "")
        ),
        metadata={"newest_loaded_month": newest or "none", "newest_published_month": published, "months_behind": lag},
    )


COVERAGE_MART = "marts.fct_force_month_coverage"
PROBLEM_STATUSES = ("missing", "empty", "partial")  # 'never' is not expected, 'complete' is fine


def coverage_problems(con: duckdb.DuckDBPyConnection) -> tuple[str | None, list[tuple]]:
    """The newest loaded month, and every force-month the coverage mart marks missing, empty or partial:
    ``[(month, force, dataset, status, records, reference)]``. The rule itself lives in the mart."""
    newest = con.execute(f"SELECT strftime(max(file_month), '%Y-%m') FROM {COVERAGE_MART}").fetchone()[0]
    problems = con.execute(
        f"""
        SELECT strftime(file_month, '%Y-%m'), force_id, dataset_name, coverage_status, record_count,
               reference_record_count
        FROM {COVERAGE_MART} WHERE coverage_status IN {PROBLEM_STATUSES}
        ORDER BY ALL
        """
    ).fetchall()
    return newest, problems


@asset_check(
    asset=["marts", "fct_force_month_coverage"],
    name="force_month_coverage",
    pool=WAREHOUSE_POOL,
    description=(
        "Lists the force-months, per dataset, that the coverage mart marks missing (no file), empty or partial "
        "(well below the force's own level; the rule is in fct_force_month_coverage). Warns when the newest "
        "loaded month has any: data.police.uk has real holes, which must read as gaps, never as zero crime."
    ),
)
def force_month_coverage(context: AssetCheckExecutionContext, storage: PoliceStorage) -> AssetCheckResult:
    with storage.connect_warehouse(read_only=True) as con:
        newest, problems = coverage_problems(con)
    in_newest = [p for p in problems if p[0] == newest]
    return AssetCheckResult(
        passed=not in_newest,
        severity=AssetCheckSeverity.WARN,
        description=f"{len(problems)} force-months missing, empty or partial in all loaded months, {len(in_newest)} in {newest}",
        metadata={
            "problems": len(problems),
            "problems_in_newest_month": len(in_newest),
            "newest_month": newest or "none",
            "list": markdown_table(["month", "force", "dataset", "status", "records", "reference"], problems[-60:]),
        },
    )
