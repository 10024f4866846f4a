"""Dagster resources: where the zones live, the data.police.uk source, and the dbt CLI.

Paths are not module constants: tests point one ``PoliceStorage`` at a temporary folder and every asset, the
warehouse connection and dbt follow it.
"""

from __future__ import annotations

import contextlib
import os
from functools import cached_property
from pathlib import Path

from dagster import ConfigurableResource, InitResourceContext
from dagster_dbt import DbtCliResource
from packaging import version

from police_assets import config, runs, warehouse
from police_assets.source.client import PoliceApi, archive_url, make_session
from police_assets.source.remote_zip import RemoteArchive


class PoliceStorage(ConfigurableResource):
    """The data folder (raw zone, lake, published files) and the DuckDB warehouse file.

    Every asset of a run uses it, and the in-process executor sets it up once, before any step asks for the
    ``duckdb`` pool's slot: so that is where a run registers itself and frees the slots of dead runs
    (police_assets.runs).
    """

    data_dir: str
    warehouse_path: str = ""  # empty: <data_dir>/warehouse.duckdb

    def setup_for_execution(self, context: InitResourceContext) -> None:
        run_id = context.run.run_id if context.run else None
        if context.instance is None or not run_id:
            return  # a sensor or schedule evaluation, or a direct call: no run to register
        runs.register_run(context.instance, run_id)
        for dead in runs.reap_dead_runs(context.instance, run_id):
            context.log.warning(f"run {dead}'s process is gone: marked it failed and freed its slots")
        if holders := [r for r in runs.slot_holders(context.instance, warehouse.WAREHOUSE_POOL) if r != run_id]:
            context.log.info(
                f"the warehouse writer slot (pool {warehouse.WAREHOUSE_POOL!r}) is held by run {', '.join(holders)}: this "
                "run's warehouse steps wait for it (Step blocked by limit...) and go on when it is released"
            )

    @classmethod
    def from_env(cls) -> PoliceStorage:
        return cls(data_dir=str(config.data_dir()), warehouse_path=str(config.warehouse_path()))

    @property
    def root(self) -> Path:
        return Path(self.data_dir)

    @property
    def raw_dir(self) -> Path:
        return self.root / "raw"

    @property
    def lake_dir(self) -> Path:
        return self.root / "lake"

    @property
    def published_dir(self) -> Path:
        return self.root / "published"

    @property
    def warehouse(self) -> Path:
        return Path(self.warehouse_path) if self.warehouse_path else self.root / "warehouse.duckdb"

    @contextlib.contextmanager
    def connect_warehouse(self, read_only: bool = False):
        """A read-write (or read-only) connection to the live warehouse; only the ``duckdb`` pool's assets use it."""
        self.warehouse.parent.mkdir(parents=True, exist_ok=True)
        with warehouse.connect(self.warehouse, read_only=read_only) as con:
            yield con

    def export_env(self) -> None:
        """Tell subprocesses (dbt) which warehouse file to use: profiles.yml reads POLICE_WAREHOUSE.

        dagster-dbt copies ``os.environ`` when it starts dbt and has no per-call env, hence the process env.
        """
        os.environ["POLICE_WAREHOUSE"] = str(self.warehouse.resolve())
        os.environ["POLICE_DATA_DIR"] = str(self.root.resolve())


class DataPoliceUk(ConfigurableResource):
    """data.police.uk (or a local fake of it): the JSON API and range reads of the bulk archives."""

    base_url: str = "https://data.police.uk"
    requests_per_second: float = 10.0
    requests_burst: int = 10
    timeout_seconds: float = 60.0
    retries: int = 5
    backoff_factor: float = 0.5

    @classmethod
    def from_env(cls) -> DataPoliceUk:
        return cls(
            base_url=config.base_url(),
            requests_per_second=config.requests_per_second(),
            requests_burst=config.requests_burst(),
        )

    def session(self):
        return make_session(self.requests_per_second, self.retries, self.backoff_factor, self.requests_burst)

    def api(self, session=None) -> PoliceApi:
        return PoliceApi(self.base_url, session or self.session(), timeout=self.timeout_seconds)

    def open_archive(self, archive_month: str, spool_dir: Path, session=None) -> RemoteArchive:
        return RemoteArchive(
            session or self.session(), archive_url(self.base_url, archive_month), spool_dir, self.timeout_seconds
        )


class PoliceDbtCliResource(DbtCliResource):
    """``DbtCliResource`` that knows dbt's version without running ``dbt --version``.

    dagster-dbt starts ``dbt --version`` (a slow subprocess: docs/benchmarks.md) before every dbt command to
    learn the version. Our dbt executable always comes from this same virtualenv (see definitions.DBT_EXECUTABLE),
    so the installed dbt-core package's version is the same answer. ``_cli_version`` is private to dagster-dbt: pinned at 0.29.27,
    and covered by every test that runs dbt.
    """

    @cached_property
    def _cli_version(self) -> version.Version:
        from dbt.version import __version__ as dbt_version

        return version.parse(dbt_version)
