"""The one wiring point: every asset, resource, job, sensor and schedule of the platform.

Load it with ``dagster dev -w workspace.yaml`` or ``dagster asset materialize -m police_assets.definitions``.
Paths and the data.police.uk address come from the environment (see :mod:`police_assets.core.config`).
"""

import sys
from pathlib import Path

from dagster import AssetSelection, Definitions, define_asset_job, in_process_executor

from police_assets.automation.sensors import build_dead_run_reaper, build_monthly_schedule, build_release_sensor
from police_assets.core import config
from police_assets.core.storage import PoliceStorage
from police_assets.lake.assets import lake_assets
from police_assets.publish.assets import marts_postgres, marts_snapshot
from police_assets.raw.assets import archive_month
from police_assets.site.assets import site
from police_assets.source.resource import DataPoliceUk
from police_assets.transform.assets import police_dbt_assets
from police_assets.transform.checks import force_month_coverage
from police_assets.transform.project import dbt_project
from police_assets.transform.resource import PoliceDbtCliResource
from police_assets.warehouse.assets import force_files, warehouse_assets
from police_assets.warehouse.checks import newest_published_month_loaded
from police_assets.warehouse.maintenance import compact_warehouse_job

# Every setting checked before anything else: a bad value stops the load here, naming it, before any fetch.
config.check_settings()

# dbt from the same environment as this Python (works in an un-activated venv, under cron and the daemon),
# through police-dbt, which stops dbt if the run's process dies (police_assets.transform.dbt_guard).
DBT_EXECUTABLE = str(Path(sys.executable).with_name("police-dbt"))

storage = PoliceStorage.from_env()

all_assets = [archive_month, *lake_assets, *warehouse_assets, force_files, police_dbt_assets, marts_snapshot, site]
if config.marts_postgres_url():  # the marts for BI tools, only where a PostgreSQL is configured (docs/operations.md)
    all_assets.append(marts_postgres)

police_pipeline = define_asset_job(
    "police_pipeline",
    selection=AssetSelection.all(),
    description="raw -> lake -> warehouse -> dbt marts -> published snapshot -> dashboards for the chosen months (one run for a range).",
)

defs = Definitions(
    assets=all_assets,
    asset_checks=[newest_published_month_loaded, force_month_coverage],
    jobs=[police_pipeline, compact_warehouse_job],
    sensors=[build_release_sensor(police_pipeline), build_dead_run_reaper()],
    schedules=[build_monthly_schedule(police_pipeline)],
    resources={
        "storage": storage,
        "police": DataPoliceUk.from_env(),
        "dbt": PoliceDbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE),
    },
    # In-process: steps run one after another in the run's process (no per-step re-import of the code), which
    # also keeps them from being parallel DuckDB writers within a run.
    executor=in_process_executor,
)
