"""Stage 2, lake: one typed Parquet file per dataset per month, built from the raw zone (one step, 3 specs)."""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    BackfillPolicy,
    Failure,
    MetadataValue,
    multi_asset,
)

from police_assets.core.datasets import DATASETS, STOP_AND_SEARCH, DatasetSpec, dataset_for_member
from police_assets.core.metadata import column_schema, markdown_table, stage_results
from police_assets.core.partitions import monthly_partitions
from police_assets.core.storage import PoliceStorage
from police_assets.lake.convert import (
    HeaderMismatch,
    LakeResult,
    SourceFile,
    convert_month,
    duckdb_threads,
    lake_schema,
    share_cores,
)
from police_assets.raw.zone import RawMonth, RawMonthMissing, read_manifest


def source_files(raw: RawMonth, spec: DatasetSpec) -> list[SourceFile]:
    """The raw month's files that belong to ``spec``, with the force each one is for."""
    files = []
    for member in raw.members:
        hit = dataset_for_member(member["name"], raw.month)
        if hit and hit[0] is spec:
            files.append(SourceFile(Path(raw.path) / member["file"], hit[1], member["name"]))
    return files


def expected_forces(raw: RawMonth, spec: DatasetSpec) -> list[str]:
    """The forces that should have a file: the API's stop-and-search list for that dataset, else all forces."""
    if spec is STOP_AND_SEARCH and raw.stop_and_search_forces:
        return raw.stop_and_search_forces
    return sorted(raw.forces)


def lake_asset_spec(spec: DatasetSpec) -> AssetSpec:
    return AssetSpec(
        key=["lake", spec.name],
        deps=[["raw", "archive_month"]],
        group_name="lake",
        kinds={"duckdb", "parquet"},
        description=(
            f"{spec.description}\n\nLake copy: `lake/{spec.name}/month=YYYY-MM/data.parquet`, snake_case typed "
            "columns, `force_id` from the file name, `source_file`/`source_row` for lineage. Rows that do not "
            f"parse go to `lake/_quarantine/{spec.name}/month=YYYY-MM/quarantine.csv` with the reason, never dropped."
        ),
        metadata={"dagster/column_schema": column_schema(spec)},
    )


@multi_asset(
    name="lake",
    specs=[lake_asset_spec(spec) for spec in DATASETS],
    partitions_def=monthly_partitions,
    backfill_policy=BackfillPolicy.single_run(),
    can_subset=True,
)
def lake(context: AssetExecutionContext, storage: PoliceStorage):
    """One step for the selected datasets: each month's datasets are converted side by side, a share of the cores
    each (on 2 cores: two conversions of one DuckDB thread beat one after another on two threads, since
    DuckDB's parallel CSV scan does not keep two cores busy; docs/benchmarks.md).

    A dataset that fails (a header off the contract, say) stops there and the others go on; their
    materialisations are reported, then the step fails naming every failed dataset and month.
    """
    specs = [spec for spec in DATASETS if AssetKey(["lake", spec.name]) in context.selected_asset_keys]
    months = context.partition_keys
    # DuckDB's own count of usable cores, not os.cpu_count(): in a container that is the host's, not the quota.
    workers, threads = share_cores(len(specs), duckdb_threads())
    done: dict[str, list[tuple[LakeResult, list[str]]]] = {spec.name: [] for spec in specs}  # (result, forces absent)
    failed: dict[str, str] = {}
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lake") as pool:
        for i, month in enumerate(months, 1):
            active = [spec for spec in specs if spec.name not in failed]
            if not active:
                break
            try:
                raw = read_manifest(storage.raw_dir, month)
            except RawMonthMissing as exc:
                raise Failure(f"lake {month}: {exc}") from exc
            futures = {
                spec: pool.submit(convert_month, spec, month, source_files(raw, spec), storage.lake_dir, threads)
                for spec in active
            }
            for spec, future in futures.items():
                try:
                    result = future.result()
                except HeaderMismatch as exc:
                    failed[spec.name] = f"lake/{spec.name} {month}: {exc}"
                    context.log.error(failed[spec.name])
                    continue
                missing = sorted(set(expected_forces(raw, spec)) - set(result.forces))
                done[spec.name].append((result, missing))
                context.log.info(
                    f"[{i}/{len(months)}] lake/{spec.name} {month}: {result.rows} rows from {result.files} files, "
                    f"{result.quarantined} quarantined, {len(missing)} forces absent, {result.seconds:.1f}s"
                )
    metadata = {spec.name: _lake_metadata(spec, done[spec.name]) for spec in specs if spec.name not in failed}
    if failed and len(failed) < len(specs):
        # Dagster runs no step downstream of a failed one, so nothing of this run reaches the warehouse; say how
        # to load the datasets that did convert
        good = ",".join(f"lake/{name},warehouse/{name}" for name in metadata)
        failed["next"] = (
            f"the other datasets were converted; to load them without the failed one, materialise "
            f"--select '{good}' for the same months, then the marts"
        )
    yield from stage_results("lake", metadata, failed)


def _lake_metadata(spec: DatasetSpec, done: list[tuple[LakeResult, list[str]]]) -> dict:
    """What one dataset's conversions did over the run's months, for the asset's materialisation."""
    results = [r for r, _ in done]
    last = results[-1]
    per_month = [(r.month, r.rows, r.quarantined, r.files, len(a), ", ".join(a[:6])) for r, a in done]
    return {
        "dagster/row_count": sum(r.rows for r in results),
        "quarantined_rows": sum(r.quarantined for r in results),
        "files": sum(r.files for r in results),
        "bytes": sum(r.bytes for r in results),
        "forces_present": len(set().union(*(r.forces for r in results))),
        "forces_absent": MetadataValue.text(", ".join(sorted({f for _, a in done for f in a})) or "none"),
        # this dataset's own conversion time; the step's wall time is shorter when datasets ran side by side
        "duration_s": round(sum(r.seconds for r in results), 2),
        "path": MetadataValue.path(str(last.parquet.parent.parent)),
        "by_month": markdown_table(
            ["month", "rows", "quarantined", "files", "forces absent", "which"], per_month[-24:]
        ),
        "preview": markdown_table([name for name, _ in lake_schema(spec)], last.sample),
    }


lake_assets = [lake]
