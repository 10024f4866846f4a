"""Stages 4-5, dbt: staging views and marts over the warehouse tables, partitioned by month like the rest."""

from dagster import AssetExecutionContext, Config
from dagster_dbt import DbtCliResource, dbt_assets

from police_assets.core.partitions import monthly_partitions, single_run
from police_assets.core.storage import WAREHOUSE_POOL, PoliceStorage
from police_assets.transform.build import described_events, held_events, out_of_sync_models, start_build, tidy_target
from police_assets.transform.project import dbt_project
from police_assets.transform.translator import TRANSLATOR


class DbtRunConfig(Config):
    full_refresh: bool = False  # rebuild incremental marts from scratch (all months), not just the window


@single_run(
    dbt_assets,
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=TRANSLATOR,
    partitions_def=monthly_partitions,
    pool=WAREHOUSE_POOL,
)
def police_dbt_assets(
    context: AssetExecutionContext, dbt: DbtCliResource, storage: PoliceStorage, config: DbtRunConfig
):
    """dbt build over the run's months; its events, each given its table's columns, row count and column lineage
    once dbt has let go of the warehouse (transform.build).

    An incremental model whose stored columns are an older version's (an upgrade changed the model) cannot be
    extended: dbt refuses it. Every dbt model is then rebuilt from the warehouse's landing data, all months, in
    this step, once. Only the models are rebuilt: the landing data holds every month loaded, including those the
    source no longer serves, so nothing is fetched and nothing is lost."""
    invocation = start_build(context, dbt, storage, config.full_refresh)
    events, failure = held_events(invocation)
    if failure is not None and not config.full_refresh and (stale := out_of_sync_models(invocation)):
        context.log.warning(
            f"the stored columns of {', '.join(stale)} are not the columns the model now gives (this version "
            "changed it): rebuilding every dbt model from the warehouse's landing data, all months, once "
            "(docs/operations.md, Upgrade)"
        )
        invocation = start_build(context, dbt, storage, full_refresh=True)
        events, failure = held_events(invocation)
    yield from described_events(invocation, events, failure, storage, TRANSLATOR, context.log)
    tidy_target(invocation.target_path, context.log)
