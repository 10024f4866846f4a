"""Stage 3, warehouse: the lake loaded into DuckDB tables ``landing.<dataset>`` of warehouse.duckdb, month by month (one step, 3 specs)."""

import duckdb
from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    BackfillPolicy,
    MaterializeResult,
    asset,
    multi_asset,
)

from police_assets.core.datasets import DATASETS, DatasetSpec, dataset_for_member
from police_assets.core.metadata import column_schema, markdown_table, preview, stage_results
from police_assets.core.partitions import monthly_partitions
from police_assets.core.storage import WAREHOUSE_POOL, PoliceStorage
from police_assets.lake.convert import lake_path
from police_assets.raw.zone import RawMonth, read_manifest
from police_assets.warehouse.load import (
    FORCE_FILES,
    LoadResult,
    load_force_files,
    load_month,
    table_name,
)


def warehouse_asset_spec(spec: DatasetSpec) -> AssetSpec:
    return AssetSpec(
        key=["warehouse", spec.name],
        deps=[["lake", spec.name]],
        group_name="warehouse",
        kinds={"duckdb"},
        description=(
            f"{spec.description}\n\nWarehouse table `{table_name(spec)}`: every loaded month, replaced month by "
            "month with delete-then-insert in one transaction, so a re-run never duplicates rows. The dbt "
            "staging models read it as a source."
        ),
        metadata={"dagster/column_schema": column_schema(spec), "dagster/table_name": table_name(spec)},
    )


@multi_asset(
    name="warehouse",
    specs=[warehouse_asset_spec(spec) for spec in DATASETS],
    partitions_def=monthly_partitions,
    backfill_policy=BackfillPolicy.single_run(),
    pool=WAREHOUSE_POOL,
    can_subset=True,
)
def warehouse(context: AssetExecutionContext, storage: PoliceStorage):
    """One step, one connection for the selected datasets: the warehouse file is opened (and its lock taken) once
    per run rather than once per dataset, and checkpointed once when it closes.

    A dataset whose load fails (its lake file missing, say) stops there and the others go on; their
    materialisations are reported, then the step fails naming every failed dataset and month. A failed load
    leaves that month as it was (one transaction per dataset-month).
    """
    specs = [spec for spec in DATASETS if AssetKey(["warehouse", spec.name]) in context.selected_asset_keys]
    months = context.partition_keys
    loads: dict[str, list[LoadResult]] = {spec.name: [] for spec in specs}
    failed: dict[str, str] = {}
    metadata = {}
    with storage.connect_warehouse() as con:
        for i, month in enumerate(months, 1):
            for spec in specs:
                if spec.name in failed:
                    continue
                try:
                    result = load_month(con, spec, month, lake_path(storage.lake_dir, spec, month))
                except (FileNotFoundError, duckdb.Error) as exc:
                    failed[spec.name] = f"{table_name(spec)} {month}: {exc}"
                    context.log.error(failed[spec.name])
                    continue
                loads[spec.name].append(result)
                context.log.info(
                    f"[{i}/{len(months)}] {table_name(spec)} {month}: {result.rows} rows "
                    f"(replaced {result.deleted}), {result.seconds:.2f}s"
                )
        for spec in specs:
            if spec.name not in failed:
                metadata[spec.name] = _warehouse_metadata(con, spec, loads[spec.name])
    yield from stage_results("warehouse", metadata, failed)


def _warehouse_metadata(con, spec: DatasetSpec, loads: list[LoadResult]) -> dict:
    """What one dataset's loads did over the run's months, for the asset's materialisation."""
    total = con.execute(f"SELECT count(*) FROM {table_name(spec)}").fetchone()[0]
    sample = preview(con, f"SELECT * FROM {table_name(spec)} WHERE month = CAST(? AS DATE)", [f"{loads[-1].month}-01"])
    return {
        "rows_loaded": sum(r.rows for r in loads),
        "rows_replaced": sum(r.deleted for r in loads),
        "dagster/row_count": total,
        "duration_s": round(sum(r.seconds for r in loads), 2),
        "by_month": markdown_table(["month", "rows", "replaced"], [(r.month, r.rows, r.deleted) for r in loads[-24:]]),
        "preview": sample,
    }


warehouse_assets = [warehouse]


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
