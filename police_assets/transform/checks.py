"""The coverage check: which force-months have no file, an empty one or a partial one.

The rule is the coverage mart's (fct_force_month_coverage), the meaning of each status the seed
coverage_statuses' (dim_coverage_statuses): the check reports the expected force-months that are a gap or
partial.
It reads the live warehouse right after dbt built the mart, in the same run and the same ``duckdb`` pool.
"""

import duckdb
from dagster import AssetCheckExecutionContext, AssetCheckResult, AssetCheckSeverity, asset_check

from police_assets.core.metadata import markdown_table
from police_assets.core.storage import WAREHOUSE_POOL, PoliceStorage

COVERAGE_MART = "marts.fct_force_month_coverage"
STATUSES = "marts.dim_coverage_statuses"


def coverage_problems(con: duckdb.DuckDBPyConnection) -> tuple[str | None, list[tuple]]:
    """The newest loaded month, and every force-month the coverage mart marks missing, empty or partial:
    ``[(month, force, dataset, status, records, reference)]``. The rule itself lives in the mart."""
    newest = con.execute(f"SELECT strftime(max(file_month), '%Y-%m') FROM {COVERAGE_MART}").fetchone()[0]
    problems = con.execute(
        f"""
        SELECT strftime(c.file_month, '%Y-%m'), c.force_id, c.dataset_name, c.coverage_status, c.record_count,
               c.reference_record_count
        FROM {COVERAGE_MART} c JOIN {STATUSES} s USING (coverage_status)
        WHERE s.is_expected AND (s.is_gap OR s.is_partial)
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
