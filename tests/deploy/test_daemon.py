"""The team deployment end to end (deploy/, docs/operations.md): PostgreSQL instance storage, the real
``dagster-daemon`` with the queued run coordinator, the release sensor turned on with the CLI an operator uses,
a fake data.police.uk publishing releases, and the marts served from PostgreSQL. Nothing is called directly:
the daemon ticks the sensor, queues and launches the runs, as in production."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

from police_assets.automation.sensors import SENSOR_NAME
from police_assets.core.months import month_range
from police_assets.core.storage import PoliceStorage
from police_assets.publish.snapshot import read_manifest
from police_assets.raw.zone import read_manifest as read_raw_manifest
from police_dev.fake.generate import Release, write_release
from police_dev.fake.server import FakePoliceServer
from police_dev.postgres import query, table_counts

pytestmark = pytest.mark.deployment  # minutes of real services: make test-deploy

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SCALE = 900
RUN_TIMEOUT = 240  # seconds for the daemon to tick, queue, launch and finish the runs of one release
FINISHED = {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}


class Service:
    """The deployment under test: its environment, its daemon process, and a view of its instance."""

    def __init__(self, root: Path, env: dict, site: Path):
        self.root, self.env, self.site = root, env, site
        self.daemon: subprocess.Popen | None = None
        self.storage = PoliceStorage(data_dir=env["POLICE_DATA_DIR"])

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [str(BIN / args[0]), *args[1:]], env=self.env, cwd=ROOT, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def start_daemon(self) -> None:
        self._log = open(self.root / "daemon.log", "a")  # noqa: SIM115 (closed in stop_daemon)
        self.daemon = subprocess.Popen(
            [str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"],
            env=self.env,
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop_daemon(self, sig=signal.SIGTERM) -> None:
        """Stop the daemon and everything it started (its code server, the runs it launched), as ``systemctl
        stop`` does with the unit's control group."""
        if self.daemon and self.daemon.poll() is None:
            os.killpg(self.daemon.pid, sig)
            try:
                self.daemon.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.daemon.pid, signal.SIGKILL)
                self.daemon.wait()
        if self.daemon:
            self._log.close()
        self.daemon = None

    def instance(self) -> DagsterInstance:
        return DagsterInstance.from_config(self.env["DAGSTER_HOME"])

    def runs(self):
        with self.instance() as instance:
            return instance.get_runs(filters=RunsFilter(tags={"dagster/sensor_name": SENSOR_NAME}))

    def wait_for_runs(self, count: int, *, finished: bool = True, started: bool = False):
        """The sensor's runs, once there are ``count`` of them and, with ``finished``, all have ended, or with
        ``started``, one is executing."""
        deadline = time.monotonic() + RUN_TIMEOUT
        while True:
            runs = self.runs()
            if started:
                if any(r.status == DagsterRunStatus.STARTED for r in runs):
                    return runs
            elif len(runs) >= count and (not finished or all(r.status in FINISHED for r in runs)):
                return runs
            if time.monotonic() > deadline:
                log = (self.root / "daemon.log").read_text()[-6000:]
                pytest.fail(f"{len(runs)} runs ({[r.status for r in runs]}) after {RUN_TIMEOUT}s; daemon log:\n{log}")
            assert self.daemon is None or self.daemon.poll() is None, "the daemon died"
            time.sleep(1)

    def publish(self, latest: str, months: int, revisions: dict | None = None) -> None:
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        write_release(
            self.site, Release(latest=latest, months=months, scale=SCALE, revisions=revisions, last_updated=stamp)
        )


def _create_database(url: str, name: str) -> None:
    query(url, f"CREATE DATABASE {name}")


@pytest.fixture(scope="module")
def service(postgres, tmp_path_factory):
    root = tmp_path_factory.mktemp("deployment")
    home = root / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")  # the operator's file, unchanged
    _create_database(postgres.url, "dagster")
    _create_database(postgres.url, "police")
    site = root / "site"
    write_release(site, Release(latest="2024-02", months=2, scale=SCALE))
    with FakePoliceServer(site) as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("POLICE_", "DAGSTER_", "PYTEST"))}
        env.update(
            DAGSTER_HOME=str(home),
            DAGSTER_POSTGRES_URL=postgres.url_for("postgres", "dagster").replace(
                "postgresql://", "postgresql+psycopg2://"
            ),
            POLICE_DATA_DIR=str(root / "data"),
            POLICE_MARTS_POSTGRES_URL=postgres.url_for("postgres", "police"),
            DATA_POLICE_UK_URL=server.url,
            POLICE_SENSOR_INTERVAL_SECONDS="2",  # the one override: production ticks hourly
        )
        # DagsterInstance.from_config in this process reads the storage URL from the environment too
        saved = os.environ.get("DAGSTER_POSTGRES_URL")
        os.environ["DAGSTER_POSTGRES_URL"] = env["DAGSTER_POSTGRES_URL"]
        svc = Service(root, env, site)
        try:
            yield svc
        finally:
            svc.stop_daemon()
            if saved is None:
                os.environ.pop("DAGSTER_POSTGRES_URL", None)
            else:
                os.environ["DAGSTER_POSTGRES_URL"] = saved


def _range(run) -> tuple[str, str]:
    return run.tags["dagster/asset_partition_range_start"], run.tags["dagster/asset_partition_range_end"]


def _postgres_counts(url: str) -> dict[str, int]:
    """The served marts' rows, without the one-row table saying which snapshot they are."""
    return {t: n for t, n in table_counts(url, "police").items() if t != "_snapshot"}


def _fetched_at(storage: PoliceStorage, month: str) -> str:
    return read_raw_manifest(storage.raw_dir, month).fetched_at


def test_the_daemon_runs_the_sensor_loads_releases_and_revisions_and_survives_a_restart(service):
    # the operator's steps (docs/operations.md): sensor on with the CLI, then the daemon as a service
    service.cli("dagster", "sensor", "start", SENSOR_NAME, "-w", "workspace.yaml")
    service.start_daemon()

    # 1. the first tick loads every published month in one run: raw -> marts -> snapshot -> site -> PostgreSQL
    (first,) = service.wait_for_runs(1)
    assert first.status == DagsterRunStatus.SUCCESS
    assert _range(first) == ("2024-01", "2024-02")
    manifest = read_manifest(service.storage.published_dir)
    assert manifest["months"] == ["2024-01", "2024-02"]
    assert _postgres_counts(service.env["POLICE_MARTS_POSTGRES_URL"]) == manifest["tables"]
    assert "2024-02" in (service.storage.published_dir / "site" / "index.html").read_text()
    january = _fetched_at(service.storage, "2024-01")

    # 2. a release with a new month and a revision of 2024-02; the service is restarted (a deploy, a reboot:
    #    SIGTERM to the daemon and the runs it launched) while one of its runs is executing
    service.publish("2024-03", 3, revisions={("2024-02", "kent"): 1})
    service.wait_for_runs(2, started=True)
    service.stop_daemon()
    service.start_daemon()
    deadline = time.monotonic() + RUN_TIMEOUT
    while True:  # until the restarted daemon has requested and finished what the release needs
        runs = service.wait_for_runs(len(service.runs()))
        reloaded = [_range(r) for r in runs if r.status == DagsterRunStatus.SUCCESS and r.run_id != first.run_id]
        months = sorted(m for start, end in reloaded for m in month_range(start, end))
        if set(months) >= {"2024-02", "2024-03"}:
            break
        assert time.monotonic() < deadline, f"months reloaded after the restart: {months}"
        time.sleep(1)
    time.sleep(12)  # a few more ticks: anything requested twice would be requested by now
    assert len(service.runs()) == len(runs)

    keys = [r.tags["dagster/run_key"] for r in runs]
    assert len(set(keys)) == len(keys), f"a run key requested twice: {keys}"
    assert any(r.status != DagsterRunStatus.SUCCESS for r in runs), "the restart interrupted no run"
    assert months == ["2024-02", "2024-03"], reloaded  # each month the release touched loaded once

    # exactly the revised month was reloaded: 2024-01 was not fetched again
    assert _fetched_at(service.storage, "2024-01") == january
    manifest = read_manifest(service.storage.published_dir)
    assert manifest["months"] == ["2024-01", "2024-02", "2024-03"]
    assert _postgres_counts(service.env["POLICE_MARTS_POSTGRES_URL"]) == manifest["tables"]
    assert "2024-03" in (service.storage.published_dir / "site" / "index.html").read_text()
    with duckdb.connect(str(service.storage.published_dir / "serving.duckdb"), read_only=True) as con:
        revised = con.execute(
            "SELECT count(*) FROM marts.fct_street_crimes WHERE force_id = 'kent' AND crime_month = DATE '2024-02-01'"
        ).fetchone()[0]
    assert revised > 0

    # the deployment's health check sees both services
    env = dict(service.env, POLICE_VENV=str(BIN.parent), DAGSTER_WEBSERVER_PORT="9")  # no webserver here
    done = subprocess.run([str(ROOT / "deploy" / "healthcheck.sh")], env=env, capture_output=True, text=True)
    assert "daemon: heartbeats are recent" in done.stdout and "webserver: NOT answering" in done.stdout
    assert done.returncode == 1


def test_a_run_killed_outright_under_the_daemon_is_failed_and_reloaded_and_a_dead_daemon_fails_the_health_check(
    service,
):
    """SIGKILL of the whole service while a run executes (the end of the unit's stop timeout, an out-of-memory
    kill): when it is back, without a person, the run is marked failed and its slot freed (the dead_run_reaper
    sensor), the release sensor requests its months again, and they load. Then the daemon dies: the health check
    fails within its tolerance."""
    from police_assets.core import runs as run_tags

    if service.daemon is None:
        service.cli("dagster", "sensor", "start", SENSOR_NAME, "-w", "workspace.yaml")
        service.start_daemon()
    before = {r.run_id for r in service.runs()}
    service.publish("2024-04", 4)
    deadline = time.monotonic() + RUN_TIMEOUT
    while not (new := [r for r in service.runs() if r.run_id not in before and r.tags.get(run_tags.PID_TAG)]):
        assert time.monotonic() < deadline, "no run started for the new release"
        time.sleep(0.2)
    (killed,) = new
    # systemd's stop after TimeoutStopSec, or the OOM killer taking the whole unit: SIGKILL to the daemon, its
    # code server and the run alike, so nothing is left to record the run's end; then the service comes back
    service.stop_daemon(signal.SIGKILL)
    with service.instance() as instance:
        assert instance.get_run_by_id(killed.run_id).status == DagsterRunStatus.STARTED  # as the audit found it
    service.start_daemon()

    deadline = time.monotonic() + RUN_TIMEOUT
    while True:
        runs = {r.run_id: r for r in service.runs()}
        retried = [r for r in runs.values() if r.run_id not in before | {killed.run_id}]
        if runs[killed.run_id].status == DagsterRunStatus.FAILURE and any(
            r.status == DagsterRunStatus.SUCCESS and _range(r) == ("2024-04", "2024-04") for r in retried
        ):
            break
        assert time.monotonic() < deadline, (
            f"{runs[killed.run_id].status}, then {[(r.status, _range(r)) for r in retried]}"
        )
        time.sleep(1)
    with service.instance() as instance:
        said = [f"{e.message} {e.dagster_event.message}" for e in instance.all_logs(killed.run_id) if e.dagster_event]
        assert any("is gone" in m and "dead_run_reaper" in m for m in said), said[-5:]
        assert not instance.event_log_storage.get_concurrency_info("duckdb").active_run_ids
    assert read_manifest(service.storage.published_dir)["months"][-1] == "2024-04"

    # the daemon dies (SIGKILL: no goodbye): the health check says so once 30 s (the heartbeat interval) plus its
    # tolerance have passed since the last beat (60 s by default; 35 s here to keep the suite short), and passed
    # while the daemon was up
    tolerance = 35
    silent = 30 + tolerance
    env = dict(
        service.env,
        POLICE_VENV=str(BIN.parent),
        DAGSTER_WEBSERVER_PORT="9",
        POLICE_HEARTBEAT_TOLERANCE_SECONDS=str(tolerance),
    )

    def health():
        return subprocess.run([str(ROOT / "deploy" / "healthcheck.sh")], env=env, capture_output=True, text=True)

    deadline = time.monotonic() + 2 * silent  # every daemon of a freshly started service has beaten by then
    while "daemon: heartbeats are recent" not in (out := health()).stdout:
        assert time.monotonic() < deadline, out.stdout
        time.sleep(2)
    service.stop_daemon(signal.SIGKILL)
    died = time.monotonic()
    while f"daemon: NO heartbeat in {silent}s" not in (out := health()).stdout:
        assert time.monotonic() - died < silent + 15, out.stdout  # the last beat came before the kill
        time.sleep(2)
    assert out.returncode == 1 and "runs: none has lost its process" in out.stdout
    assert "TOLERANCE=${POLICE_HEARTBEAT_TOLERANCE_SECONDS:-60}" in (ROOT / "deploy" / "healthcheck.sh").read_text()
