"""The uses of Dagster's and dbt's private parts (core.internals): each still does what it is for, an upgrade
stops at load with a clear message, and importing the definitions changes nothing global."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from police_assets.core import internals

ROOT = Path(__file__).resolve().parents[2]


def test_a_blocked_step_sleeps_between_checks_instead_of_spinning():
    from dagster._core.execution.plan.instance_concurrency_context import InstanceConcurrencyContext

    class Waiting:
        _pending_claims = {"warehouse"}
        _pending_timeouts = {"warehouse": time.time() + 5}

    internals.wait_for_slots_without_spinning()
    assert 4 < InstanceConcurrencyContext.interval_to_next_pending_claim_check(Waiting()) <= 5
    # Dagster's own method still answers 0 (a busy loop): when this fails, Dagster fixed it; drop the shim
    assert internals.DAGSTER_INTERVAL(Waiting()) == 0


def test_an_upgraded_framework_stops_at_load_naming_what_to_recheck():
    installed = {**internals.WRITTEN_FOR, "dagster-dbt": "0.30.0"}
    with pytest.raises(internals.FrameworkVersionError) as error:
        internals.check_versions(installed)
    message = str(error.value)
    assert "dagster-dbt 0.29.27 (installed: 0.30.0)" in message and "police_assets/core/internals.py" in message
    assert "dagster " not in message.replace("dagster-dbt", "")  # the matching ones are not named
    internals.check_versions()  # this environment: the pinned versions


def test_the_resource_knows_dbt_s_version_without_a_subprocess():
    from dbt.version import __version__

    from police_assets.definitions import defs

    assert str(defs.resources["dbt"]._cli_version) == __version__


def test_the_resource_makes_no_dbt_adapter_in_dagster_s_process():
    from dagster_dbt import DbtCliResource

    from police_assets.definitions import defs

    # the method it replaces is still dagster-dbt's (were it renamed, the replacement would do nothing)
    assert callable(DbtCliResource._initialize_dbt_core_adapter)
    assert defs.resources["dbt"]._initialize_dbt_core_adapter(["build"]) is None


def test_importing_the_definitions_changes_no_global_state():
    """No environment variable, warning filter or framework patch is set by loading the code location."""
    probe = """
import os, warnings
import altair, dagster, dagster_dbt, duckdb, numpy, pandas  # the libraries' own import-time filters are theirs
from dagster._core.execution.plan.instance_concurrency_context import InstanceConcurrencyContext as C
env, filters, method = dict(os.environ), list(warnings.filters), C.interval_to_next_pending_claim_check
import police_assets.definitions
assert dict(os.environ) == env, set(os.environ.items()) ^ set(env.items())
assert list(warnings.filters) == filters, [f for f in warnings.filters if f not in filters]
assert C.interval_to_next_pending_claim_check is method
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICE_")}
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr[-2000:]


def _record(instance, run_id: str, n: int) -> None:
    """``n`` asset materialisations of run ``run_id``, as a step reports them."""
    from dagster import AssetKey, AssetMaterialization
    from dagster._core.events import DagsterEvent, DagsterEventType, StepMaterializationData
    from dagster._core.events.log import EventLogEntry

    for i in range(n):
        event = DagsterEvent(
            event_type_value=DagsterEventType.ASSET_MATERIALIZATION.value,
            job_name="job",
            event_specific_data=StepMaterializationData(
                AssetMaterialization(asset_key=AssetKey(["lake", "street_crimes"]), partition=f"2024-{i % 12 + 1:02d}")
            ),
        )
        instance.store_event(
            EventLogEntry(
                error_info=None,
                level="DEBUG",
                user_message="",
                run_id=run_id,
                timestamp=time.time(),
                dagster_event=event,
                job_name="job",
            )
        )


@pytest.fixture
def connections():
    """Every SQLite connection any SQLAlchemy engine opens while the test runs."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    opened = []

    def count(dbapi_connection, record):
        opened.append(dbapi_connection)

    event.listen(Engine, "connect", count)
    yield opened
    event.remove(Engine, "connect", count)


def _instance(tmp_path, monkeypatch):
    """An instance of the project's dagster.yaml in a folder of its own, opened by path (no DAGSTER_HOME)."""
    from dagster import DagsterInstance

    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text((ROOT / "dagster_home" / "dagster.yaml").read_text())
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    return home, DagsterInstance.from_config(str(home))


def test_the_event_log_keeps_a_connection_per_database_and_plain_dagster_reads_what_it_wrote(
    tmp_path, monkeypatch, connections
):
    from dagster import AssetKey, DagsterEventType, EventRecordsFilter
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

    home, instance = _instance(tmp_path, monkeypatch)
    with instance:
        assert isinstance(instance.event_log_storage, internals.SqliteEventLogKeepingConnections)
        connections.clear()
        _record(instance, "a" * 32, 40)
        _record(instance, "b" * 32, 40)
        # each new run database opened twice while Dagster creates its tables, then kept; the index was open
        assert len(connections) <= 4, len(connections)

    # Dagster's own storage, in Dagster's own folder under the instance's, reads every event and the index
    plain = SqliteEventLogStorage(str(home / "history" / "runs"))
    assert len(plain.get_logs_for_run("a" * 32)) == 40 and len(plain.get_logs_for_run("b" * 32)) == 40
    records = plain.fetch_materializations(AssetKey(["lake", "street_crimes"]), limit=1000).records
    assert len(records) == 80
    assert plain.get_event_records(EventRecordsFilter(DagsterEventType.ASSET_MATERIALIZATION), limit=1000)


def test_the_event_log_syncs_to_disk_at_checkpoints_not_at_every_commit(tmp_path, monkeypatch):
    _, instance = _instance(tmp_path, monkeypatch)
    storage = instance.event_log_storage
    with instance:
        _record(instance, "a" * 32, 3)  # a new run database, created in this process
        assert set(storage._kept) == {"index", "a" * 32}
        for engine in storage._kept.values():
            with engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL; SQLite's default is FULL
        _record(instance, "a" * 32, 2)
        assert len(instance.all_logs("a" * 32)) == 5


def test_dagster_s_own_event_log_still_opens_a_connection_for_every_write(tmp_path, connections):
    """What the kept connections are for: when this fails, Dagster keeps its own; drop the class."""
    from dagster import DagsterInstance
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    with DagsterInstance.from_config(str(tmp_path)) as instance:
        assert type(instance.event_log_storage) is SqliteEventLogStorage
        connections.clear()
        _record(instance, "a" * 32, 10)
        assert len(connections) >= 20  # the run's database and the index, for each event


def test_a_long_lived_process_holds_a_bounded_number_of_event_databases_open(tmp_path, monkeypatch):
    _, instance = _instance(tmp_path, monkeypatch)
    storage = instance.event_log_storage
    with instance:
        runs = [f"{i:032x}" for i in range(storage.KEEP + 4)]
        for run_id in runs:
            _record(instance, run_id, 2)
        assert len(storage._kept) == storage.KEEP
        assert all(len(instance.all_logs(run_id)) == 2 for run_id in runs)  # the closed ones open again
        instance.wipe()  # deletes the run databases: the kept connections are closed first
        assert set(storage._kept) <= {"index"} and not instance.all_logs(runs[-1])
        _record(instance, runs[-1], 1)
        assert len(instance.all_logs(runs[-1])) == 1
