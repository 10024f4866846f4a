"""Stage 2, lake: one typed Parquet file per dataset per month, built from the raw zone (one factory, 3 specs)."""

import time
from pathlib import Path

import duckdb
from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    BackfillPolicy,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)

from police_assets.assets.metadata import column_schema, markdown_table, preview
from police_assets.datasets import DATASETS, STOP_AND_SEARCH, DatasetSpec, dataset_for_member
from police_assets.lake import HeaderMismatch, SourceFile, convert_month
from police_assets.partitions import monthly_partitions
from police_assets.raw_zone import RawMonth, RawMonthMissing, read_manifest
from police_assets.resources import PoliceStorage


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


def build_lake_asset(spec: DatasetSpec) -> AssetsDefinition:
    @asset(
        name=spec.name,
        key_prefix=["lake"],
        deps=[["raw", "archive_month"]],
        partitions_def=monthly_partitions,
        backfill_policy=BackfillPolicy.single_run(),
        group_name="lake",
        kinds={"duckdb", "parquet"},
        description=(
            f"{spec.description}\n\nLake copy: `lake/{spec.name}/month=YYYY-MM/data.parquet`, snake_case typed "
            "columns, `force_id` from the file name, `source_file`/`source_row` for lineage. Rows that do not "
            f"parse go to `lake/_quarantine/{spec.name}/month=YYYY-MM/quarantine.csv` with the reason, never dropped."
        ),
        metadata={"dagster/column_schema": column_schema(spec)},
    )
    def _lake(context: AssetExecutionContext, storage: PoliceStorage) -> MaterializeResult:
        months = context.partition_keys
        started = time.monotonic()
        results, per_month = [], []
        for i, month in enumerate(months, 1):
            try:
                raw = read_manifest(storage.raw_dir, month)
                result = convert_month(spec, month, source_files(raw, spec), storage.lake_dir)
            except (RawMonthMissing, HeaderMismatch) as exc:
                raise Failure(f"lake/{spec.name} {month}: {exc}") from exc
            absent = sorted(set(expected_forces(raw, spec)) - set(result.forces))
            results.append(result)
            per_month.append((month, result.rows, result.quarantined, result.files, len(absent), ", ".join(absent[:6])))
            context.log.info(
                f"[{i}/{len(months)}] lake/{spec.name} {month}: {result.rows} rows from {result.files} files, "
                f"{result.quarantined} quarantined, {len(absent)} forces absent, {result.seconds:.1f}s"
            )
        last = results[-1]
        all_absent = sorted({f for row in per_month for f in row[5].split(", ") if f})
        with duckdb.connect() as con:
            sample = preview(con, "SELECT * FROM read_parquet(?, hive_partitioning = false)", [str(last.parquet)])
        return MaterializeResult(
            metadata={
                "dagster/row_count": sum(r.rows for r in results),
                "quarantined_rows": sum(r.quarantined for r in results),
                "files": sum(r.files for r in results),
                "bytes": sum(r.bytes for r in results),
                "forces_present": len(set().union(*(r.forces for r in results))),
                "forces_absent": MetadataValue.text(", ".join(all_absent) or "none"),
                "duration_s": round(time.monotonic() - started, 2),
                "path": MetadataValue.path(str(last.parquet.parent.parent)),
                "by_month": markdown_table(
                    ["month", "rows", "quarantined", "files", "forces absent", "which"], per_month[-24:]
                ),
                "preview": sample,
            }
        )

    return _lake


lake_assets = [build_lake_asset(spec) for spec in DATASETS]
