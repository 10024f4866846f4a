"""The freshness check: is the newest month data.police.uk has published loaded?

It reads the live warehouse right after the run's own writes (same run, same ``duckdb`` pool), so it never races
a writer.
"""

from dagster import AssetCheckExecutionContext, AssetCheckResult, AssetCheckSeverity, asset_check

from police_assets.core.datasets import DATASETS
from police_assets.core.months import months_between
from police_assets.core.storage import WAREHOUSE_POOL, PoliceStorage
from police_assets.source.client import SourceError
from police_assets.source.resource import DataPoliceUk
from police_assets.warehouse.load import table_name


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
