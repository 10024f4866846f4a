"""Stage 3, warehouse: the lake's months loaded as the views ``landing.<dataset>`` of warehouse.duckdb, month by
month (one step, 3 specs)."""

import time

import duckdb
from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    MaterializeResult,
    asset,
    multi_asset,
)

from police_assets.core.datasets import DATASETS, DatasetSpec
from police_assets.core.metadata import (
    OWNERS,
    code_version,
    markdown_table,
    per_partition,
    preview,
    run_metadata,
    stage_results,
)
from police_assets.core.partitions import monthly_partitions, single_run
from police_assets.core.storage import WAREHOUSE_POOL, PoliceStorage
from police_assets.lake.convert import column_schema, lake_path, read_set_aside
from police_assets.raw.zone import read_manifest
from police_assets.warehouse.load import (
    FORCE_FILES,
    LandingFileRefused,
    LoadResult,
    ensure_landing,
    force_file_rows,
    load_force_files,
    load_month,
    table_name,
)


def warehouse_asset_spec(spec: DatasetSpec) -> AssetSpec:
    return AssetSpec(
        key=["warehouse", spec.name],
        deps=[["lake", spec.name]],
        group_name="warehouse",
        owners=OWNERS,
        code_version=code_version(__name__),
        kinds={"duckdb"},
        description=(
            f"{spec.description}\n\nWarehouse view `{table_name(spec)}`: every loaded month, one Parquet file "
            "each, the lake's file linked in under the warehouse's own name with one rename (no second copy on "
            "disk), so a re-run never duplicates rows and the month changes only when this step runs. The dbt "
            "staging models read it as a source."
        ),
        metadata={"dagster/column_schema": column_schema(spec), "dagster/table_name": table_name(spec)},
    )


@single_run(
    multi_asset,
    name="warehouse",
    specs=[warehouse_asset_spec(spec) for spec in DATASETS],
    partitions_def=monthly_partitions,
    pool=WAREHOUSE_POOL,
    can_subset=True,
)
def warehouse(context: AssetExecutionContext, storage: PoliceStorage):
    """One step, one connection for the selected datasets: the warehouse file is opened (and its lock taken) once
    per run rather than once per dataset, and checkpointed once when it closes.

    A dataset whose load fails (its lake file missing, say) stops there and the others go on; their
    materialisations are reported, then the step fails naming every failed dataset and month. A failed load
    leaves that month as it was (a month's file is checked, then renamed in).
    """
    started = time.monotonic()
    specs = [spec for spec in DATASETS if AssetKey(["warehouse", spec.name]) in context.selected_asset_keys]
    months = context.partition_keys
    loads: dict[str, list[LoadResult]] = {spec.name: [] for spec in specs}
    failed: dict[str, str] = {}
    metadata = {}
    with storage.connect_warehouse() as con:
        for moved in ensure_landing(con, storage.landing_dir, specs):
            context.log.info(moved)
        for i, month in enumerate(months, 1):
            for spec in specs:
                if spec.name in failed:
                    continue
                try:
                    result = load_month(con, spec, month, lake_path(storage.lake_dir, spec, month), storage.landing_dir)
                except (FileNotFoundError, LandingFileRefused, duckdb.Error) as exc:
                    failed[spec.name] = f"{table_name(spec)} {month}: {exc}"
                    context.log.error(failed[spec.name])
                    continue
                loads[spec.name].append(result)
                context.log.info(
                    f"[{i}/{len(months)}] {table_name(spec)} {month}: {result.rows} rows "
                    f"(replaced {result.deleted}), {result.seconds:.2f}s"
                )
        by_month = {}
        for spec in specs:
            if spec.name not in failed:
                metadata[spec.name] = _warehouse_metadata(con, spec, loads[spec.name], months, started)
                by_month[spec.name] = {r.month: _warehouse_month(con, spec, r) for r in loads[spec.name]}
    yield from stage_results("warehouse", metadata, failed, context, by_month)


def _warehouse_month(con, spec: DatasetSpec, r: LoadResult) -> dict:
    """One month's load, for that partition's materialisation: the month's rows now in the table."""
    return {
        "dagster/row_count": r.rows,
        "rows_replaced": r.deleted,
        "duration_s": round(r.seconds, 2),
        "preview": preview(con, f"SELECT * FROM {table_name(spec)} WHERE month = CAST(? AS DATE)", [f"{r.month}-01"]),
    }


def _warehouse_metadata(con, spec: DatasetSpec, loads: list[LoadResult], months: list[str], started: float) -> dict:
    """What every partition of the run shares: the run's months and time, and the whole table's size after it."""
    return {
        **run_metadata(months, time.monotonic() - started),
        "table_row_count": con.execute(f"SELECT count(*) FROM {table_name(spec)}").fetchone()[0],
        "run_by_month": markdown_table(
            ["month", "rows", "replaced"], [(r.month, r.rows, r.deleted) for r in loads[-24:]]
        ),
    }


warehouse_assets = [warehouse]


@single_run(
    asset,
    key=["warehouse", "force_files"],
    # the lake: which files its conversion set aside (a header off the contract), and why
    deps=[["raw", "archive_month"], *(["lake", spec.name] for spec in DATASETS)],
    partitions_def=monthly_partitions,
    pool=WAREHOUSE_POOL,
    group_name="warehouse",
    owners=OWNERS,
    code_version=code_version(__name__),
    kinds={"duckdb"},
    description=(
        "Which force published which dataset for each month: one row per force (the API's force list at fetch "
        f"time) x dataset x month, with whether a file was in the archive, its size, and why the lake set it aside "
        f"if it did (a header off the published layout). Table `{FORCE_FILES}`; "
        "the dbt coverage model reads it so a force that published nothing shows as a gap, never as zero crime."
    ),
    metadata={"dagster/table_name": FORCE_FILES},
)
def force_files(context: AssetExecutionContext, storage: PoliceStorage) -> MaterializeResult:
    started = time.monotonic()
    months = context.partition_keys
    missing: dict[str, list[tuple]] = {}
    by_month: dict[str, dict] = {}
    with storage.connect_warehouse() as con:
        for month in months:
            raw = read_manifest(storage.raw_dir, month)
            set_aside = {
                (force, spec.file_suffix): reason
                for spec in DATASETS
                for _, force, reason in read_set_aside(storage.lake_dir, spec, month)
            }
            rows = force_file_rows(raw, set_aside)
            load = load_force_files(con, month, rows, raw.archive)
            missing[month] = [(month, r[0], r[2]) for r in rows if not r[3]]
            by_month[month] = {
                "dagster/row_count": load.rows,
                "force_months_without_file": len(missing[month]),
                "without_file": markdown_table(["month", "force", "dataset"], missing[month][:30]),
            }
    per_partition(context, by_month)
    context.log.info(
        f"{FORCE_FILES}: {len(months)} month(s), {sum(len(m) for m in missing.values())} force-month-datasets "
        "without a file"
    )
    return MaterializeResult(metadata=run_metadata(months, time.monotonic() - started))
