"""Stage 6, publish: the marts exported for readers (Parquet + a read-only DuckDB copy), last in the run."""

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from police_assets.core.metadata import OWNERS, code_version, markdown_table, months_metadata
from police_assets.core.partitions import monthly_partitions, single_run
from police_assets.core.storage import WAREHOUSE_POOL, PoliceStorage
from police_assets.publish.postgres import load_published
from police_assets.publish.snapshot import MARTS_SCHEMA, PublishResult, publish_marts
from police_assets.raw.zone import provenance
from police_assets.transform.project import dbt_var, model_docs
from police_assets.transform.translator import model_keys

# One load into PostgreSQL at a time (two would both build the loading schema); a pool of its own, so it never
# waits for the warehouse.
POSTGRES_POOL = "postgres"


def publish(con, storage: PoliceStorage, log=lambda message: None) -> PublishResult:
    """A new snapshot of the marts through ``con`` (the warehouse), with everything its manifest says: where the
    months came from (the raw manifests), the marts' unknown label and column docs (dbt), and whether the data
    is generated sample data."""
    return publish_marts(
        con,
        storage.published_dir,
        release=lambda months: provenance(storage.raw_dir, months),
        labels={"unknown": dbt_var("unknown_label")},
        generated=storage.sample_note(),
        docs=model_docs(MARTS_SCHEMA),
        log=log,
    )


# the marts, and dbt's record of which of their months changed (publish_month_versions)
MART_KEYS = model_keys("marts", "publish")


@single_run(
    asset,
    key=AssetKey(["publish", "marts_snapshot"]),
    deps=MART_KEYS,
    partitions_def=monthly_partitions,
    pool=WAREHOUSE_POOL,
    group_name="publish",
    owners=OWNERS,
    code_version=code_version(__name__),
    kinds={"duckdb", "parquet"},
    description=(
        "What readers use, so nobody opens the live warehouse: every marts table as Parquet in "
        "`published/marts/` (the large facts one file per month, `marts/<table>/<YYYY-MM>.parquet`: a month "
        "unchanged since the last snapshot is carried over as a hard link, not written again), the same tables in `published/serving.duckdb` (views over those files; open it "
        "read-only any time, even during a run), and `published/manifest.json` (months, rows, licence, release, labels). Rebuilt after every run as a "
        "whole snapshot (`published/snapshots/<id>/`) and swapped in with one rename of `published/current`, so "
        "readers never see tables from two runs."
    ),
)
def marts_snapshot(context: AssetExecutionContext, storage: PoliceStorage) -> MaterializeResult:
    with storage.connect_warehouse(read_only=True) as con:
        result = publish(con, storage, log=context.log.info)
    context.log.info(
        f"published {len(result.tables)} tables, {result.bytes / 1e6:.1f} MB, months "
        f"{result.months[0] if result.months else '-'}..{result.months[-1] if result.months else '-'}"
    )
    return MaterializeResult(
        metadata={
            "tables": len(result.tables),
            "bytes": result.bytes,
            "data_months": months_metadata(result.months),
            "serving_file": MetadataValue.path(str(result.serving)),
            "snapshot": MetadataValue.path(str(result.snapshot)),
            "rows": markdown_table(["table", "rows"], sorted(result.tables.items())),
            "duration_s": round(result.seconds, 2),
        }
    )


@single_run(
    asset,
    key=AssetKey(["publish", "marts_postgres"]),
    deps=[marts_snapshot],
    partitions_def=monthly_partitions,
    pool=POSTGRES_POOL,
    group_name="publish",
    owners=OWNERS,
    code_version=code_version(__name__),
    kinds={"postgres"},
    description=(
        "The published marts in PostgreSQL for BI tools (Metabase, Superset, Power BI): present only when "
        "`POLICE_MARTS_POSTGRES_URL` is set. Every table of the snapshot, with the same rows (checked) and the dbt "
        "descriptions as comments, loaded into a new schema and swapped in with the old one in one transaction, "
        "so BI users never see a half-loaded table. `POLICE_MARTS_POSTGRES_READER` (default `police_reader`) "
        "may read, never write. See docs/operations.md."
    ),
)
def marts_postgres(context: AssetExecutionContext, storage: PoliceStorage) -> MaterializeResult:
    result = load_published(storage.published_dir, log=context.log.info, warn=context.log.warning)
    context.log.info(f"snapshot {result.snapshot} served from schema {result.schema} in {result.seconds:.1f}s")
    return MaterializeResult(
        metadata={
            "schema": result.schema,
            "snapshot": result.snapshot,
            "tables": len(result.tables),
            "rows": markdown_table(["table", "rows"], sorted(result.tables.items())),
            "duration_s": round(result.seconds, 2),
        }
    )
