"""A run that dies must not block the runs after it: its pool slot is freed, its dbt stops, a blocked step
sleeps instead of spinning. Each test breaks the promise on purpose."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest
from dagster import DagsterInstance, DagsterRunStatus, asset, materialize
from dagster._core.storage.dagster_run import DagsterRun

from police_assets.core import runs
from police_assets.core.storage import PoliceStorage


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


@pytest.fixture
def instance(tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry: {enabled: false}\nconcurrency:\n  pools:\n    default_limit: 1\n")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with DagsterInstance.get() as inst:
        yield inst


def _dead_run_holding_the_slot(instance, tags) -> str:
    """A run left STARTED, holding the duckdb slot, as a SIGKILL mid-step leaves one."""
    run_id = str(uuid.uuid4())
    instance.add_run(
        DagsterRun(job_name="__ephemeral_asset_job__", run_id=run_id, status=DagsterRunStatus.STARTED, tags=tags)
    )
    instance.event_log_storage.initialize_concurrency_limit_to_default("duckdb")
    assert instance.event_log_storage.claim_concurrency_slot("duckdb", run_id, "warehouse").is_claimed
    return run_id


@asset(pool="duckdb")
def writer(storage: PoliceStorage) -> None:
    """Stands in for any warehouse writer: it needs the pool's one slot."""


def _materialize_within(instance, storage, seconds):
    result = {}
    thread = threading.Thread(
        target=lambda: result.update(r=materialize([writer], resources={"storage": storage}, instance=instance)),
        daemon=True,
    )
    thread.start()
    thread.join(seconds)
    return result.get("r")


def test_a_dead_run_of_this_host_is_failed_and_its_slot_freed(instance, tmp_path):
    import socket

    dead = _dead_run_holding_the_slot(instance, {runs.HOST_TAG: socket.gethostname(), runs.PID_TAG: str(_dead_pid())})
    result = _materialize_within(instance, PoliceStorage(data_dir=str(tmp_path / "data")), 60)
    assert result is not None and result.success  # without the reaper it waits for the slot forever
    assert instance.get_run_by_id(dead).status == DagsterRunStatus.FAILURE
    assert runs.slot_holders(instance, "duckdb") == []
    # the new run registered itself, so a run after it can judge it the same way
    tags = instance.get_run_by_id(result.run_id).tags
    assert tags[runs.PID_TAG] == str(os.getpid()) and tags[runs.HOST_TAG] == socket.gethostname()


def test_the_reaper_sensor_fails_a_killed_run_left_a_zombie_and_the_health_check_names_it_until_then(instance):
    """Under the daemon, a SIGKILLed run stays a zombie child of the daemon (nobody waits for it) and STARTED, and
    no new run starts to notice it: the reaper sensor must see it as dead on its own, and the health check must
    report it while it is not yet failed."""
    import socket

    from dagster import build_sensor_context

    from police_assets.automation.sensors import build_dead_run_reaper

    zombie = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    zombie.send_signal(signal.SIGKILL)
    time.sleep(0.5)  # killed, and not waited for: a zombie, as a run the daemon launched and lost
    tags = {runs.HOST_TAG: socket.gethostname(), runs.PID_TAG: str(zombie.pid)}
    run_id = _dead_run_holding_the_slot(instance, tags)
    health = [sys.executable, "-m", "police_assets.automation.health"]
    try:
        sick = subprocess.run(health, capture_output=True, text=True)
        assert sick.returncode == 1 and f"{run_id} (pid {zombie.pid})" in sick.stdout

        result = build_dead_run_reaper()(build_sensor_context(instance=instance))
        assert run_id in result.skip_message
        assert instance.get_run_by_id(run_id).status == DagsterRunStatus.FAILURE
        assert runs.slot_holders(instance, "duckdb") == []
        well = subprocess.run(health, capture_output=True, text=True)
        assert well.returncode == 0, well.stdout
    finally:
        zombie.wait()


@pytest.mark.parametrize("which", ["alive", "other host", "untagged"])
def test_a_run_that_may_be_alive_is_never_touched(instance, which):
    import socket

    tags = {
        "alive": {runs.HOST_TAG: socket.gethostname(), runs.PID_TAG: str(os.getpid())},
        "other host": {runs.HOST_TAG: "another-machine", runs.PID_TAG: str(_dead_pid())},
        "untagged": {},
    }[which]
    run_id = _dead_run_holding_the_slot(instance, tags)
    assert runs.reap_dead_runs(instance, "current") == []
    assert instance.get_run_by_id(run_id).status == DagsterRunStatus.STARTED
    assert runs.slot_holders(instance, "duckdb") == [run_id]


@pytest.mark.parametrize("inherited", ["default", "ignored"])
def test_dbt_stops_when_the_run_that_started_it_is_killed(tmp_path, inherited):
    """Regression: dbt outlived a killed run and kept writing the warehouse as an orphan. Started exactly as
    dagster-dbt starts it (stdout a pipe the run reads, stderr into it), so when the run dies the launcher's own
    output has nowhere to go either. "ignored": the run's process ignores SIGINT and SIGTERM, as one started in
    the background of a script does once Dagster maps SIGTERM to SIGINT's handler; dbt must still stop at once."""
    nodes = tmp_path / "nodes.log"
    # a stand-in dbt: a "node" every 50 ms, each logged with its start time, its output ignored if unread
    dbt = textwrap.dedent(f"""
        import os, sys, time
        for i in range(400):
            with open({str(nodes)!r}, "a") as log:
                log.write(f"{{time.time()}} {{os.getpid()}}\\n")
            try:
                print("node", i, "of 400 OK", flush=True)
            except BrokenPipeError:
                pass
            time.sleep(0.05)
    """)
    run_process = textwrap.dedent(f"""
        import signal, subprocess, sys, time
        if {inherited == "ignored"}:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        dbt = subprocess.Popen([{str(_police_dbt())!r}, "-c", {dbt!r}], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
        for line in dbt.stdout:  # as dagster-dbt streams dbt's events
            pass
    """)
    env = dict(os.environ, POLICE_DBT_COMMAND=sys.executable)
    run = subprocess.Popen([sys.executable, "-c", run_process], env=env)
    deadline = time.monotonic() + 20
    while (not nodes.exists() or len(nodes.read_text().splitlines()) < 5) and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(run.pid, signal.SIGKILL)  # the run's process dies the hard way
    killed_at = time.time()
    run.wait()
    dbt_pid = int(nodes.read_text().split()[1])
    deadline = time.monotonic() + 15
    while _alive(dbt_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(dbt_pid), "dbt outlived the run"
    started = [float(line.split()[0]) for line in nodes.read_text().splitlines()]
    late = [t - killed_at for t in started if t > killed_at + 0.3]  # a signal's way, not a poll's second
    assert not late, f"dbt started {len(late)} node(s) after the run was killed, up to {max(late):.2f}s after"


def _police_dbt():
    from pathlib import Path

    return Path(sys.executable).with_name("police-dbt")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not yet reaped by its parent) is gone for our purposes, as is one reaped between the
    # two looks (its /proc entry gone as it is read)
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def test_a_run_without_dagster_home_is_told_it_is_on_a_throwaway_instance(tmp_path):
    from dagster import DagsterInstance, asset, materialize

    from police_assets.core.storage import PoliceStorage

    @asset
    def touches_storage(storage: PoliceStorage) -> None:
        return None

    instance = DagsterInstance.ephemeral()  # what the CLI uses when DAGSTER_HOME is unset
    result = materialize(
        [touches_storage], resources={"storage": PoliceStorage(data_dir=str(tmp_path))}, instance=instance
    )
    messages = [e.user_message for e in instance.all_logs(result.run_id)]
    assert any("throwaway Dagster instance" in m and "export DAGSTER_HOME=$PWD/dagster_home" in m for m in messages)


def test_a_cli_run_without_dagster_home_is_refused_before_anything_is_fetched(tmp_path):
    from police_dev.fake.generate import Release, write_release
    from police_dev.fake.server import FakePoliceServer

    write_release(tmp_path / "site", Release(latest="2024-01", months=1, scale=300))
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env["POLICE_DATA_DIR"] = str(tmp_path / "data")
    with FakePoliceServer(tmp_path / "site") as server:
        env["DATA_POLICE_UK_URL"] = server.url
        done = subprocess.run(
            [str(Path(sys.executable).with_name("dagster")), "asset", "materialize", "-m", "police_assets.definitions",
             "--select", "raw/archive_month", "--partition", "2024-01"],
            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        requests = len(server.requests)
    said = done.stdout + done.stderr
    assert done.returncode != 0
    assert "DAGSTER_HOME is not set" in said and "export DAGSTER_HOME=$PWD/dagster_home" in said
    assert requests == 0 and not (tmp_path / "data" / "raw").exists()
