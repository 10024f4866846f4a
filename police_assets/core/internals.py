"""Every use of a private Dagster or dbt name, in one place, and the versions it was written against.

Three arguments with the frameworks are won by reaching into their internals; each is small, each says why, and
each breaks silently if an upgrade moves what it touches. So they live here, and importing this module checks
that the installed versions are the pinned ones (pyproject.toml): an upgrade stops at load with a message
naming what to re-check, instead of a shim that quietly no longer applies.

* A step blocked on the warehouse pool spins a core (Dagster's in-process executor waits 0 s between checks):
  :func:`wait_for_slots_without_spinning` patches the method it asks.
* dagster-dbt runs ``dbt --version`` before every dbt command to learn a version this environment pins:
  :class:`DbtCliResourceWithKnownVersion` answers it (``DbtCliResource._cli_version``).
* Column lineage is dagster-dbt's own computation, run after dbt exits (DuckDB's one writer):
  :func:`column_lineage_metadata` (``dagster_dbt.core.dbt_cli_event._build_column_lineage_metadata``).
* Dagster's SQLite event log makes a new database engine, and so a new connection, for every event it writes:
  :class:`SqliteEventLogKeepingConnections` (``SqliteEventLogStorage._connect``) keeps them open, and commits
  without waiting for the disk at each event (:func:`_sync_at_checkpoints`), named in
  ``dagster_home/dagster.yaml``.
"""

from __future__ import annotations

import importlib.metadata
import os
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any

from packaging import version

# The versions these uses were written and tested against; pyproject.toml pins the same.
WRITTEN_FOR = {"dagster": "1.13.27", "dagster-dbt": "0.29.27", "dbt-core": "1.11.16"}


class FrameworkVersionError(RuntimeError):
    """An installed Dagster or dbt is not the version this module's uses of their internals were written for."""


def check_versions(installed: dict[str, str] | None = None) -> None:
    installed = installed or {name: importlib.metadata.version(name) for name in WRITTEN_FOR}
    wrong = {name: v for name, v in installed.items() if v != WRITTEN_FOR[name]}
    if wrong:
        raise FrameworkVersionError(
            "police_assets reaches into private parts of "
            + ", ".join(f"{name} {WRITTEN_FOR[name]} (installed: {v})" for name, v in sorted(wrong.items()))
            + ". Re-check each use in police_assets/core/internals.py against the new version (its tests: "
            "tests/core/test_internals.py), then update WRITTEN_FOR there and the pins in pyproject.toml; or "
            "reinstall the pinned versions: make setup."
        )


check_versions()

from dagster._core.execution.plan.instance_concurrency_context import InstanceConcurrencyContext  # noqa: E402
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage  # noqa: E402
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS  # noqa: E402
from sqlalchemy import create_engine, event  # noqa: E402

DAGSTER_INTERVAL = InstanceConcurrencyContext.interval_to_next_pending_claim_check  # Dagster's own, for the test


def wait_for_slots_without_spinning() -> None:
    """Dagster's in-process executor sleeps, between checks of a step blocked on a pool, for
    ``InstanceConcurrencyContext.interval_to_next_pending_claim_check()``, which returns ``min([0, ...])``:
    never above zero, so a blocked step re-polls in a tight loop and burns a core for as long as it waits.
    Answer the time to the step's next planned claim check instead (Dagster spaces those from 1 s up to 15 s).
    Idempotent; applied when a run's storage resource starts (core.storage), never on import.
    tests/core/test_internals.py fails when Dagster's own method stops returning 0 (then drop this)."""
    cls = InstanceConcurrencyContext
    if getattr(cls.interval_to_next_pending_claim_check, "_police", False):
        return

    def interval_to_next_pending_claim_check(self) -> float:
        if not self._pending_claims or not self._pending_timeouts:
            return 0.0
        return max(0.0, min(self._pending_timeouts.values()) - time.time())

    interval_to_next_pending_claim_check._police = True  # type: ignore[attr-defined]
    cls.interval_to_next_pending_claim_check = interval_to_next_pending_claim_check  # type: ignore[method-assign]


def _dbt_cli_resource_with_known_version() -> type:
    from dagster_dbt import DbtCliResource

    class DbtCliResourceWithKnownVersion(DbtCliResource):
        """``DbtCliResource`` that knows dbt's version without running ``dbt --version`` (a slow subprocess
        before every dbt command: docs/benchmarks.md; the dbt it runs always comes from this same environment,
        so the installed dbt-core's version is the same answer) and makes no dbt adapter of its own."""

        @cached_property
        def _cli_version(self) -> version.Version:
            from dbt.version import __version__ as dbt_version

            return version.parse(dbt_version)

        def _initialize_dbt_core_adapter(self, args):  # type: ignore[no-untyped-def]
            """No dbt adapter in Dagster's process. dagster-dbt makes one before every dbt command (seconds in a
            fresh process: docs/benchmarks.md) only for its ``fetch_row_counts`` and ``fetch_column_metadata``,
            which open a second warehouse connection that DuckDB's lock refuses while dbt holds the file. This
            platform reads the catalogue after dbt exits instead (transform.build), and dagster-dbt takes no
            adapter as "nothing to fetch"."""
            return None

    DbtCliResourceWithKnownVersion.__module__ = __name__
    DbtCliResourceWithKnownVersion.__qualname__ = "DbtCliResourceWithKnownVersion"
    return DbtCliResourceWithKnownVersion


def __getattr__(name: str) -> Any:
    """``DbtCliResourceWithKnownVersion`` is made on first use: dagster-dbt (and dbt) take over a second to
    import, and the stages that only need the pool shim (every run's storage resource) should not pay it."""
    if name == "DbtCliResourceWithKnownVersion":
        cls = globals()[name] = _dbt_cli_resource_with_known_version()
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def column_lineage_metadata(
    columns: dict, parents: dict, props: dict, manifest: dict, translator: Any, target_path: Path, project: Any
) -> dict:
    """dagster-dbt's column lineage of one model, from its columns' types and its parents' (by relation name)."""
    from dagster_dbt.core.dbt_cli_event import EventHistoryMetadata, _build_column_lineage_metadata

    return _build_column_lineage_metadata(
        event_history_metadata=EventHistoryMetadata(columns=columns, parents=parents),
        dbt_resource_props=props,
        manifest=manifest,
        dagster_dbt_translator=translator,
        target_path=Path(target_path),
        project=project,
    )


def _sync_at_checkpoints(dbapi_connection: Any, record: Any) -> None:
    """Commit an event database's writes without waiting for the disk each time: in WAL mode (Dagster puts its
    event databases in it when it creates them; set here first, so no connection of this storage writes in
    another) SQLite's ``synchronous=NORMAL`` syncs at checkpoints only. A killed process loses nothing, and a
    power cut may lose the last events written but never the database. SQLite's default, ``FULL``, waits for the
    disk at every commit, and Dagster commits every event, an asset's twice (its run's database and the index)."""
    dbapi_connection.execute("PRAGMA journal_mode=WAL")
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")


class SqliteEventLogKeepingConnections(SqliteEventLogStorage):
    """Dagster's SQLite event log (one database a run, and an index), keeping each database's connection open
    between writes. Dagster's own makes a new engine, and so opens the file anew, for every event it writes and
    every read, and a 36-month backfill writes thousands of events (an event a month and asset planned, another
    materialised; docs/benchmarks.md, run H). The files, their tables and what each
    write commits are Dagster's own, in Dagster's default folder (``history/runs`` under the instance's), so a
    plain instance reads them, and the instance's other processes (the daemon, the UI) take their turns through
    SQLite's locks as before. Named in ``dagster_home/dagster.yaml``, with no settings.

    What must stay true: one connection at a time per database in this process (Dagster's ``_db_lock`` is held
    for as long as a connection is in use, so a kept connection is never shared), committed at the end of each
    use as Dagster's are. The ``KEEP`` most recently used databases stay open, so a long-lived process that
    reads many runs (the UI) holds a bounded number of files. The folder is known only once the instance
    registers the storage (a configured class is given no folder), so Dagster's own set-up runs then."""

    KEEP = 8

    def __init__(self, inst_data: Any = None):
        self._configured = inst_data
        self._kept: OrderedDict[str, Any] = OrderedDict()  # shard -> engine, least recently used first

    def register_instance(self, instance: Any) -> None:
        SqliteEventLogStorage.__init__(
            self, os.path.join(instance.root_directory, "history", "runs", ""), self._configured
        )
        super().register_instance(instance)

    @classmethod
    def config_type(cls) -> dict:
        return {}

    @classmethod
    def from_config_value(cls, inst_data: Any, config_value: Any) -> SqliteEventLogKeepingConnections:
        return cls(inst_data=inst_data)

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Any]:
        with self._db_lock:
            engine = self._kept.pop(shard, None)
            if engine is None:
                engine = create_engine(
                    self.conn_string_for_shard(shard),
                    # used from whichever thread holds _db_lock, one at a time
                    connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
                )
                event.listen(engine, "connect", _sync_at_checkpoints)
                if shard not in self._initialized_dbs:
                    self._initdb(engine)
                    self._initialized_dbs.add(shard)
            self._kept[shard] = engine
            while len(self._kept) > self.KEEP:
                self._kept.popitem(last=False)[1].dispose()
            with engine.connect() as conn, conn.begin():
                yield conn

    def _close_kept(self) -> None:
        with self._db_lock:
            while self._kept:
                self._kept.popitem()[1].dispose()

    def wipe(self) -> None:
        self._close_kept()  # before Dagster deletes the run databases they hold open
        super().wipe()

    def dispose(self) -> None:
        super().dispose()
        self._close_kept()
