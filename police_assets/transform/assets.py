"""Stages 4-5, dbt: staging views and marts over the warehouse tables, partitioned by month like the rest."""

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, AssetKey, BackfillPolicy, Config
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from police_assets.core.months import add_months
from police_assets.core.partitions import monthly_partitions
from police_assets.core.storage import WAREHOUSE_POOL, PoliceStorage
from police_assets.transform.project import dbt_project


def dbt_month_vars(first_month: str, last_month: str) -> dict[str, str]:
    """The dbt vars for a run over ``first_month..last_month``: ``[min_month, max_month)`` as first days."""
    return {"min_month": f"{first_month}-01", "max_month": f"{add_months(last_month, 1)}-01"}


def dbt_build_args(first_month: str, last_month: str, full_refresh: bool = False) -> list[str]:
    args = ["build", "--vars", json.dumps(dbt_month_vars(first_month, last_month))]
    if full_refresh:
        args.append("--full-refresh")
    return args


KEEP_RUN_TARGETS = 5


def prune_run_targets(target_dir: Path, keep: int = KEEP_RUN_TARGETS) -> int:
    """Delete all but the newest ``keep`` per-run dbt target folders; returns how many were deleted.

    dagster-dbt gives every run its own ``target/<op>-<run>-<hash>/`` (about 1.4 MB here, far more on real
    data); a deployment that runs monthly for years would otherwise keep them all.
    """
    runs = sorted(
        (p for p in Path(target_dir).glob("police_dbt_assets-*") if p.is_dir()),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in runs[keep:]:
        shutil.rmtree(old, ignore_errors=True)
    return max(len(runs) - keep, 0)


class PoliceDbtTranslator(DagsterDbtTranslator):
    """Two generic rules: a source is the warehouse asset that loads it; a model is keyed and grouped by folder.

    Keys do not depend on dbt's `+schema` config, so renaming a schema does not rename assets.
    """

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        return AssetKey([self._folder(dbt_resource_props), dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return self._folder(dbt_resource_props)

    @staticmethod
    def _folder(props: Mapping[str, Any]) -> str:
        fqn = props.get("fqn") or []
        # fqn: [project, folder, ..., name]; seeds sit at the top of their folder
        return fqn[1] if len(fqn) > 2 else "reference"


class DbtRunConfig(Config):
    full_refresh: bool = False  # rebuild incremental marts from scratch (all months), not just the window


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=PoliceDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)),
    partitions_def=monthly_partitions,
    backfill_policy=BackfillPolicy.single_run(),
    pool=WAREHOUSE_POOL,
)
def police_dbt_assets(
    context: AssetExecutionContext, dbt: DbtCliResource, storage: PoliceStorage, config: DbtRunConfig
):
    keys = context.partition_keys
    storage.export_env()
    args = dbt_build_args(keys[0], keys[-1], config.full_refresh)
    context.log.info(f"dbt {' '.join(args)}")
    yield from dbt.cli(args, context=context).stream()
    if pruned := prune_run_targets(Path(dbt_project.project_dir) / "target"):
        context.log.info(f"removed {pruned} old dbt run folder(s) from dbt/target")
