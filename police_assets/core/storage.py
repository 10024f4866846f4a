"""Where the data lives and how the warehouse file is opened.

``PoliceStorage`` is a Dagster resource, not a set of module constants: tests point one at a temporary folder
and every asset, the warehouse connection and dbt follow it. The DuckDB warehouse has one writer at a time:
every asset that writes it runs in the ``duckdb`` pool (docs/decisions/0002-one-warehouse-writer.md).
"""

from __future__ import annotations

import contextlib
import logging
import math
import re
import time
from pathlib import Path

import duckdb
from dagster import ConfigurableResource, InitResourceContext

from police_assets.core import config, internals, runs
from police_assets.core.generated import read_note

log = logging.getLogger(__name__)

# Every asset that writes the DuckDB warehouse runs in this pool; dagster.yaml gives every pool one slot, so
# there is one writer at a time across runs and processes (DuckDB allows one read-write process per file).
WAREHOUSE_POOL = "duckdb"

# While another process holds the file: retry LOCK_RETRIES times, the wait doubling from LOCK_FIRST_WAIT (seconds),
# so a run gives the holder LOCK_FIRST_WAIT * (2**LOCK_RETRIES - 1) seconds in all, at least the platform's lock
# wait (config.WAREHOUSE_LOCK_WAIT_SECONDS, which dbt's profile gets too), before it fails.
LOCK_FIRST_WAIT = 0.1
LOCK_RETRIES = math.ceil(math.log2(config.WAREHOUSE_LOCK_WAIT_SECONDS / LOCK_FIRST_WAIT + 1))


class WarehouseLocked(RuntimeError):
    """Another process kept the warehouse file open (locked) for longer than a run waits."""


@contextlib.contextmanager
def connect(path: str | Path, read_only: bool = False, readers_use: Path | None = None):
    """A DuckDB connection that is always closed, retried while another process holds the file lock.

    When the lock is still held after the last retry it fails with :class:`WarehouseLocked`, which says which
    file and which process, and what readers should open instead (``readers_use``). Why not
    ``DuckDBResource.get_connection``: it does not close its connection when the body raises, so a failed load
    keeps the file locked until garbage collection and the next writer (dbt) fails.
    """
    delay, waited = LOCK_FIRST_WAIT, 0.0
    for attempt in range(LOCK_RETRIES + 1):
        try:
            con = duckdb.connect(str(path), read_only=read_only, config=config.duckdb_config())
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            if attempt == LOCK_RETRIES:
                holder = re.search(r"\(PID (\d+)\)", str(exc))
                raise WarehouseLocked(
                    f"the warehouse {path} is locked by another process"
                    + (f" (PID {holder.group(1)})" if holder else "")
                    + f" and stayed locked for {waited:.0f} s. Runs take turns through the Dagster pool "
                    f"'{WAREHOUSE_POOL}'; what usually holds it is a reader (a notebook, the DuckDB CLI, a BI tool) "
                    "with the live file open"
                    + (
                        f": close it and read {readers_use} instead (the same marts, never locked)"
                        if readers_use
                        else ""
                    )
                    + ". Then re-run the failed months."
                ) from exc
            log.info("warehouse %s is locked by another process; retrying in %.1fs", path, delay)
            time.sleep(delay)
            waited += delay
            delay *= 2
    try:
        yield con
    finally:
        con.close()


def landing_dir_for(warehouse: Path) -> Path:
    """The warehouse's month files, beside its DuckDB file (``warehouse_landing/`` for ``warehouse.duckdb``):
    what its ``landing.<dataset>`` views read (police_assets.warehouse.load)."""
    return Path(warehouse).with_name(f"{Path(warehouse).stem}_landing")


class DagsterHomeNotSet(RuntimeError):
    """A run from the CLI without DAGSTER_HOME: it would be recorded nowhere and skip the warehouse pool."""


class PoliceStorage(ConfigurableResource):
    """The data folder (raw zone, lake, published files) and the DuckDB warehouse file.

    Every asset of a run uses it, and the in-process executor sets it up once, before any step asks for the
    ``duckdb`` pool's slot: so that is where a run registers itself and frees the slots of dead runs
    (police_assets.core.runs).
    """

    data_dir: str
    warehouse_path: str = ""  # empty: <data_dir>/warehouse.duckdb

    def setup_for_execution(self, context: InitResourceContext) -> None:
        run_id = context.run.run_id if context.run else None
        logger = context.log or log
        # a step blocked on the warehouse pool sleeps between checks instead of spinning (core.internals)
        internals.wait_for_slots_without_spinning()
        if context.instance is None or not run_id:
            return  # a sensor or schedule evaluation, or a direct call: no run to register
        unrecorded = (
            "so this run is recorded in a throwaway Dagster instance: it will not show in the UI, and the 'duckdb' "
            "pool that keeps warehouse writers apart does not apply. Set DAGSTER_HOME to the project's folder and "
            "run from the CLI or the UI: export DAGSTER_HOME=$PWD/dagster_home (an absolute path)"
        )
        if context.instance.is_ephemeral:
            # an in-memory instance (a script or a test calling materialize()): said, and let through
            logger.warning(f"The run was started with an in-memory instance, {unrecorded}")
        elif not config.dagster_home():
            # the CLI's stand-in instance in a temporary folder: refused before any step, so nothing is fetched
            # and the warehouse is never written outside the pool
            raise DagsterHomeNotSet(f"DAGSTER_HOME is not set, {unrecorded}. Nothing was run.")
        runs.register_run(context.instance, run_id)
        for dead in runs.reap_dead_runs(context.instance, run_id):
            logger.warning(f"run {dead}'s process is gone: marked it failed and freed its slots")
        if holders := [r for r in runs.slot_holders(context.instance, WAREHOUSE_POOL) if r != run_id]:
            logger.info(
                f"the warehouse writer slot (pool {WAREHOUSE_POOL!r}) is held by run {', '.join(holders)}: this "
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

    def sample_note(self) -> dict | None:
        """What generated the data in this folder (core.generated), or None for real data."""
        return read_note(self.root)

    @property
    def warehouse(self) -> Path:
        return Path(self.warehouse_path) if self.warehouse_path else self.root / "warehouse.duckdb"

    @property
    def landing_dir(self) -> Path:
        return landing_dir_for(self.warehouse)

    @contextlib.contextmanager
    def connect_warehouse(self, read_only: bool = False):
        """A read-write (or read-only) connection to the live warehouse; only the ``duckdb`` pool's assets use it."""
        self.warehouse.parent.mkdir(parents=True, exist_ok=True)
        with (
            config.explain_out_of_memory("DuckDB, working on the warehouse in this step,"),
            connect(self.warehouse, read_only=read_only, readers_use=self.published_dir / "serving.duckdb") as con,
        ):
            yield con

    def dbt_environment(self) -> dict[str, str]:
        """What dbt needs to work on this storage's warehouse (config.dbt_environment)."""
        return config.dbt_environment(self.warehouse)
