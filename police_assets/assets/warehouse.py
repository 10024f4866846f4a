"""Stage 3, warehouse: the lake loaded into DuckDB tables ``landing.<dataset>`` of warehouse.duckdb, month by month (3 specs)."""

import time

from dagster import AssetExecutionContext, AssetsDefinition, BackfillPolicy, MaterializeResult, asset

from police_assets.assets.metadata import column_schema, markdown_table, preview
from police_assets.datasets import DATASETS, DatasetSpec, dataset_for_member
from police_assets.lake import lake_path
from police_assets.partitions import monthly_partitions
from police_assets.raw_zone import RawMonth, read_manifest
from police_assets.resources import PoliceStorage
from police_assets.warehouse import FORCE_FILES, load_force_files, load_month, table_name

# Every asset that writes the DuckDB warehouse runs in this pool; dagster.yaml gives every pool one slot, so
# there is one writer at a time across runs and processes (DuckDB allows one read-write process per file).
WAREHOUSE_POOL = "duckdb"


def build_warehouse_asset(spec: DatasetSpec) -> AssetsDefinition:
    @asset(
        name=spec.name,
        key_prefix=["warehouse"],
        deps=[["lake", spec.name]],
        partitions_def=monthly_partitions,
        backfill_policy=BackfillPolicy.single_run(),
        pool=WAREHOUSE_POOL,
        group_name="warehouse",
        kinds={"duckdb"},
        description=(
            f"{spec.description}\n\nWarehouse table `{table_name(spec)}`: every loaded month, replaced month by "
            "month with delete-then-insert in one transaction, so a re-run never duplicates rows. The dbt "
            "staging models read it as a source."
        ),
        metadata={"dagster/column_schema": column_schema(spec), "dagster/table_name": table_name(spec)},
    )
    def _warehouse(context: AssetExecutionContext, storage: PoliceStorage) -> MaterializeResult:
        months = context.partition_keys
        started = time.monotonic()
        loads = []
        with storage.connect_warehouse() as con:
            for i, month in enumerate(months, 1):
                result = load_month(con, spec, month, lake_path(storage.lake_dir, spec, month))
                loads.append(result)
                context.log.info(
                    f"[{i}/{len(months)}] {table_name(spec)} {month}: {result.rows} rows "
                    f"(replaced {result.deleted}), {result.seconds:.2f}s"
                )
            total = con.execute(f"SELECT count(*) FROM {table_name(spec)}").fetchone()[0]
            sample = preview(
                con, f"SELECT * FROM {table_name(spec)} WHERE month = CAST(? AS DATE)", [f"{months[-1]}-01"]
            )
        return MaterializeResult(
            metadata={
                "rows_loaded": sum(r.rows for r in loads),
                "rows_replaced": sum(r.deleted for r in loads),
                "dagster/row_count": total,
                "duration_s": round(time.monotonic() - started, 2),
                "by_month": markdown_table(
                    ["month", "rows", "replaced"], [(r.month, r.rows, r.deleted) for r in loads[-24:]]
                ),
                "preview": sample,
            }
        )

    return _warehouse


warehouse_assets = [build_warehouse_asset(spec) for spec in DATASETS]


def force_file_rows(raw: RawMonth) -> list[tuple]:
    """One row per force x dataset for the month: did the force publish a file, and how big was it.

    Forces come from the API's list at fetch time plus any force that has a file (a force missing from the API
    list still counts); the dataset is the spec's file suffix (street, outcomes, stop-and-search).
    """
    files = {}
    for member in raw.members:
        hit = dataset_for_member(member["name"], raw.month)
        if hit:
            files[(hit[1], hit[0].file_suffix)] = member["size"]
    forces = dict(raw.forces)
    for force, _ in files:
        forces.setdefault(force, force)
    return [
        (force, name, spec.file_suffix, (force, spec.file_suffix) in files, files.get((force, spec.file_suffix), 0))
        for force, name in sorted(forces.items())
        for spec in DATASETS
    ]


@asset(
    key=["warehouse", "force_files"],
    deps=[["raw", "archive_month"]],
    partitions_def=monthly_partitions,
    backfill_policy=BackfillPolicy.single_run(),
    pool=WAREHOUSE_POOL,
    group_name="warehouse",
    kinds={"duckdb"},
    description=(
        "Which force published which dataset for each month: one row per force (the API's force list at fetch "
        f"time) x dataset x month, with whether a file was in the archive and its size. Table `{FORCE_FILES}`; "
        "the dbt coverage model reads it so a force that published nothing shows as a gap, never as zero crime."
    ),
    metadata={"dagster/table_name": FORCE_FILES},
)
def force_files(context: AssetExecutionContext, storage: PoliceStorage) -> MaterializeResult:
    loads, missing = [], []
    with storage.connect_warehouse() as con:
        for month in context.partition_keys:
            raw = read_manifest(storage.raw_dir, month)
            rows = force_file_rows(raw)
            loads.append(load_force_files(con, month, rows, raw.archive))
            missing += [(month, r[0], r[2]) for r in rows if not r[3]]
    context.log.info(
        f"{FORCE_FILES}: {sum(r.rows for r in loads)} force-month-dataset rows, {len(missing)} without a file"
    )
    return MaterializeResult(
        metadata={
            "dagster/row_count": sum(r.rows for r in loads),
            "force_months_without_file": len(missing),
            "without_file": markdown_table(["month", "force", "dataset"], missing[:30]),
        }
    )
