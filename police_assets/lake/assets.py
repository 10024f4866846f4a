"""Stage 2, lake: one typed Parquet file per dataset per month, built from the raw zone (one step, 3 specs)."""

import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    Failure,
    MetadataValue,
    multi_asset,
)

from police_assets.core.config import explain_out_of_memory
from police_assets.core.datasets import DATASETS, DatasetSpec
from police_assets.core.metadata import OWNERS, code_version, markdown_table, run_metadata, stage_results
from police_assets.core.partitions import monthly_partitions, single_run
from police_assets.core.storage import PoliceStorage
from police_assets.lake.convert import (
    LakeResult,
    column_schema,
    convert_month,
    duckdb_threads,
    expected_forces,
    lake_schema,
    share_cores,
    source_files,
)
from police_assets.raw.zone import RawFileDamaged, RawMonth, RawMonthMissing, read_manifest, verify_files


def lake_asset_spec(spec: DatasetSpec) -> AssetSpec:
    return AssetSpec(
        key=["lake", spec.name],
        deps=[["raw", "archive_month"]],
        group_name="lake",
        owners=OWNERS,
        # sql: LAKE_PARQUET_COPY_OPTIONS, how the lake files are written
        code_version=code_version(__name__),
        kinds={"duckdb", "parquet"},
        description=(
            f"{spec.description}\n\nLake copy: `lake/{spec.name}/month=YYYY-MM/data.parquet`, snake_case typed "
            "columns, `force_id` from the file name, `source_file`/`source_row` for lineage. Rows that do not "
            f"parse go to `lake/_quarantine/{spec.name}/month=YYYY-MM/quarantine.csv` with the reason, never dropped."
        ),
        metadata={"dagster/column_schema": column_schema(spec)},
    )


@single_run(
    multi_asset,
    name="lake",
    specs=[lake_asset_spec(spec) for spec in DATASETS],
    partitions_def=monthly_partitions,
    can_subset=True,
)
def lake(context: AssetExecutionContext, storage: PoliceStorage):
    """One step for the selected datasets: each month's datasets are converted side by side, a share of the cores
    each (on 2 cores: two conversions of one DuckDB thread beat one after another on two threads, since
    DuckDB's parallel CSV scan does not keep two cores busy; docs/benchmarks.md). A month's conversions are
    queued before the previous month's are collected, so a core that finishes that month's shorter datasets
    starts the next month's instead of waiting for its longest.

    A file whose header is off the contract is set aside alone (logged, in the metadata, and shown as a gap
    with its reason by the coverage mart); the rest of its month loads. A dataset that fails (a raw file
    damaged since it was fetched) stops there (no month of it is queued after) and the others go on; their
    materialisations are reported, then the step fails naming every failed dataset and month and how to fetch it
    again.
    """
    started = time.monotonic()
    specs = [spec for spec in DATASETS if AssetKey(["lake", spec.name]) in context.selected_asset_keys]
    months = context.partition_keys
    # DuckDB's own count of usable cores, not os.cpu_count(): in a container that is the host's, not the quota.
    workers, threads = share_cores(len(specs), duckdb_threads())
    done: dict[str, list[tuple[LakeResult, list[str]]]] = {spec.name: [] for spec in specs}  # (result, forces absent)
    failed: dict[str, str] = {}
    with (
        explain_out_of_memory("DuckDB, converting the raw files to the lake,"),
        ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lake") as pool,
    ):
        queued: deque[tuple[int, str, RawMonth, dict[DatasetSpec, Future[LakeResult]]]] = deque()

        def collect(i: int, month: str, raw: RawMonth, futures: dict[DatasetSpec, Future[LakeResult]]) -> None:
            for spec, future in futures.items():
                if spec.name in failed:  # queued before its dataset failed a month earlier (cancelled if not begun)
                    continue
                try:
                    result = future.result()
                except RawFileDamaged as exc:
                    failed[spec.name] = f"lake/{spec.name} {month}: {exc}"
                    context.log.error(failed[spec.name])
                    for *_, later in queued:
                        if spec in later:
                            later[spec].cancel()
                    continue
                missing = sorted(set(expected_forces(raw, spec)) - set(result.forces))
                done[spec.name].append((result, missing))
                for member, _, reason in result.set_aside:
                    context.log.warning(
                        f"lake/{spec.name} {month}: {member} set aside, none of its rows loaded ({reason}); the "
                        "coverage mart shows the force-month as missing with this reason. If data.police.uk has "
                        "changed the layout for good, the dataset's contract is in police_assets/core/datasets.py"
                    )
                context.log.info(
                    f"[{i}/{len(months)}] lake/{spec.name} {month}: {result.rows} rows from {result.files} files, "
                    f"{result.quarantined} quarantined, {len(missing)} forces absent, {result.seconds:.1f}s"
                )

        for i, month in enumerate(months, 1):
            if len(failed) == len(specs):
                break
            try:
                raw = read_manifest(storage.raw_dir, month)
            except RawMonthMissing as exc:
                while queued:  # the months before are logged as they were
                    collect(*queued.popleft())
                raise Failure(f"lake {month}: {exc}") from exc
            active = [spec for spec in specs if spec.name not in failed]
            queued.append(
                (i, month, raw, {spec: pool.submit(_convert, spec, raw, storage.lake_dir, threads) for spec in active})
            )
            if len(queued) > 1:
                collect(*queued.popleft())
        while queued:
            collect(*queued.popleft())
    seconds = time.monotonic() - started
    ok = [spec for spec in specs if spec.name not in failed]
    metadata = {spec.name: _lake_metadata(done[spec.name], months, seconds) for spec in ok}
    by_month = {spec.name: {r.month: _lake_month(spec, r, absent) for r, absent in done[spec.name]} for spec in ok}
    yield from stage_results("lake", metadata, failed, context, by_month)


def _convert(spec: DatasetSpec, raw: RawMonth, lake_dir, threads: int) -> LakeResult:
    """One dataset-month: its raw files checked against the manifest's CRC-32 and size, then converted. A damaged
    file stops the dataset-month before DuckDB reads a byte of it (DuckDB does not check gzip's CRC), so its
    lake file keeps the last good conversion."""
    files = source_files(raw, spec)
    verify_files(raw, [f.member for f in files])
    return convert_month(spec, raw.month, files, lake_dir, threads)


def _lake_month(spec: DatasetSpec, r: LakeResult, absent: list[str]) -> dict:
    """One month's lake file, for that partition's materialisation."""
    return {
        "dagster/row_count": r.rows,
        "quarantined_rows": r.quarantined,
        "files": r.files,
        "bytes": r.bytes,
        "forces_present": len(r.forces),
        "forces_absent": MetadataValue.text(", ".join(absent) or "none"),
        "files_set_aside": MetadataValue.text("; ".join(f"{m}: {why}" for m, _, why in r.set_aside) or "none"),
        "duration_s": round(r.seconds, 2),  # this dataset's own conversion time
        "path": MetadataValue.path(str(r.parquet)),
        "preview": markdown_table([name for name, _ in lake_schema(spec)], r.sample),
    }


def _lake_metadata(done: list[tuple[LakeResult, list[str]]], months: list[str], seconds: float) -> dict:
    """What every partition of the run shares: the run's months, the step's time, and a table of all months."""
    per_month = [(r.month, r.rows, r.quarantined, r.files, len(a), ", ".join(a[:6])) for r, a in done]
    return {
        **run_metadata(months, seconds),
        "run_by_month": markdown_table(
            ["month", "rows", "quarantined", "files", "forces absent", "which"], per_month[-24:]
        ),
    }


lake_assets = [lake]
