"""The bad day, as an operator meets it: the README's own command killed with SIGKILL at each stage, then run
again; two runs at once; a reader during the runs. Each test breaks a promise on purpose (docs/guarantees.md).

These drive the real CLI (``dagster asset materialize``) in subprocesses against the fake data.police.uk on
127.0.0.1, with a throwaway DAGSTER_HOME holding the project's dagster.yaml: about 15 s a run on 2 cores, so
they live in ``make test-reliability`` (which .ci/run runs too).
"""

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterEventType, DagsterInstance

from police_assets.publish.snapshot import snapshot_dir
from police_dev.fake.generate import Release, write_release
from police_dev.fake.server import FakePoliceServer

pytestmark = pytest.mark.reliability

ROOT = Path(__file__).resolve().parents[2]
DAGSTER = str(Path(sys.executable).with_name("dagster"))
MONTHS = ("2024-01", "2024-02")
# the step each stage runs in, as Dagster names it
STAGES = {
    "raw": "raw__archive_month",
    "lake": "lake",
    "warehouse": "warehouse",
    "dbt": "police_dbt_assets",
    "publish": "publish__marts_snapshot",
}
RUN_SECONDS = 240
TEMP = re.compile(r"\.(tmp|old)-")


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    root = tmp_path_factory.mktemp("release")
    write_release(root, Release(latest="2024-02", months=2, scale=900, seed=7))
    with FakePoliceServer(root) as server:
        yield server


def _home(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "dagster_home" / "dagster.yaml", path / "dagster.yaml")
    return path


def _env(home: Path, data: Path, source) -> dict:
    env = dict(os.environ, DAGSTER_HOME=str(home), POLICE_DATA_DIR=str(data), DATA_POLICE_UK_URL=source.url)
    env.pop("POLICE_WAREHOUSE", None)
    return env


def _command(months=MONTHS) -> list[str]:
    return [DAGSTER, "asset", "materialize", "-m", "police_assets.definitions", "--select", "*"] + (
        ["--partition-range", f"{months[0]}...{months[-1]}"] if len(months) > 1 else ["--partition", months[0]]
    )


def _run(home, data, source, months=MONTHS) -> subprocess.CompletedProcess:
    return subprocess.run(
        _command(months), env=_env(home, data, source), cwd=ROOT, capture_output=True, text=True, timeout=RUN_SECONDS
    )


def _published(data: Path) -> dict:
    """What readers see: every published mart, less the columns that say when a row was computed."""
    with duckdb.connect(str(data / "published" / "serving.duckdb"), read_only=True) as con:
        tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall()]
        return {
            t: con.execute(f"SELECT COLUMNS(lambda c: c <> 'refreshed_at') FROM marts.{t} ORDER BY ALL").fetchall()
            for t in tables
        }


def _strays(data: Path) -> list[Path]:
    return [p for p in data.rglob(".*") if TEMP.search(p.name)]


def _processes_using(data: Path) -> list[int]:
    """Processes whose environment points at this data folder (the run, its dbt), other than this one."""
    needle = f"POLICE_DATA_DIR={data}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            zombie = (proc / "stat").read_text().split(") ", 1)[1][0] == "Z"  # exited, not yet reaped: gone
            if not zombie and needle in (proc / "environ").read_bytes().split(b"\0"):
                found.append(int(proc.name))
        except (OSError, IndexError):
            continue
    return found


@pytest.fixture(scope="module")
def clean(source, tmp_path_factory):
    """The reference: one uninterrupted run of both months."""
    home, data = _home(tmp_path_factory.mktemp("home")), tmp_path_factory.mktemp("data")
    done = _run(home, data, source)
    assert done.returncode == 0, done.stderr[-3000:]
    return _published(data)


def _wait_for_step(home: Path, step_key: str, proc: subprocess.Popen, timeout: float = RUN_SECONDS) -> None:
    with DagsterInstance.from_config(str(home)) as instance:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert proc.poll() is None, f"the run ended before {step_key} started"
            for run in instance.get_runs(limit=1):  # the run just started in this empty instance
                if any(
                    e.step_key == step_key for e in instance.all_logs(run.run_id, of_type=DagsterEventType.STEP_START)
                ):
                    return
            time.sleep(0.05)
    raise AssertionError(f"{step_key} did not start within {timeout} s")


@pytest.mark.parametrize("stage", list(STAGES))
def test_a_run_killed_at_each_stage_then_run_again_equals_a_clean_run(stage, source, clean, tmp_path):
    home, data = _home(tmp_path / "home"), tmp_path / "data"
    proc = subprocess.Popen(
        _command(), env=_env(home, data, source), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_for_step(home, STAGES[stage], proc)
        time.sleep(0.5 if stage == "dbt" else 0.1)  # dbt: well into its build
    finally:
        proc.send_signal(signal.SIGKILL)  # the run dies the hard way: no cleanup of its own
        proc.wait()
    # nothing of the killed run goes on writing (its dbt included)
    deadline = time.monotonic() + 20
    while _processes_using(data) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _processes_using(data) == []

    again = _run(home, data, source)  # the same command; the killed run's writer slot must not block it
    assert again.returncode == 0, again.stderr[-3000:]
    assert _published(data) == clean
    assert _strays(data) == []
    with DagsterInstance.from_config(str(home)) as instance:
        statuses = sorted(r.status.value for r in instance.get_runs())
    assert statuses == ["FAILURE", "SUCCESS"]  # the dead run is marked failed, not left STARTED


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*.parquet")}


def test_a_publish_killed_while_it_carries_months_over_leaves_the_previous_snapshot_whole(source, clean, tmp_path):
    """A publish over an earlier snapshot hard-links that snapshot's unchanged month files into its own folder.
    Killed once it has begun (a month file in the folder it builds), the previous snapshot is still current and
    every one of its files is as it was; the same command then completes the publish, as a clean run would."""
    home, data = _home(tmp_path / "home"), tmp_path / "data"
    assert _run(home, data, source, months=MONTHS[:1]).returncode == 0
    published = data / "published"
    before = snapshot_dir(published)
    files = _digests(before)
    assert any("/" in name for name in files)  # month files, to carry over
    proc = subprocess.Popen(
        _command(), env=_env(home, data, source), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    caught = []
    try:
        deadline = time.monotonic() + RUN_SECONDS
        while not caught and proc.poll() is None and time.monotonic() < deadline:
            for building in (published / "snapshots").glob(".*"):
                caught = list(building.glob("marts/*/*.parquet"))
                if caught:
                    break
            time.sleep(0.002)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert caught, "the publish was not caught between its first month file and its swap"
    deadline = time.monotonic() + 20
    while _processes_using(data) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert snapshot_dir(published) == before
    assert _digests(before) == files

    again = _run(home, data, source)
    assert again.returncode == 0, again.stderr[-3000:]
    assert snapshot_dir(published) != before
    assert _published(data) == clean
    assert _strays(data) == []


def test_two_runs_at_once_and_a_reader_throughout(source, clean, tmp_path):
    """Two runs of different months start together on one data folder; a reader keeps reading the published
    snapshot meanwhile. Both runs succeed (one warehouse writer at a time), the result is the clean run's, and
    every read saw one consistent snapshot (the aggregate agrees with the crimes it was built from)."""
    home, data = _home(tmp_path / "home"), tmp_path / "data"
    assert _run(home, data, source, months=MONTHS[:1]).returncode == 0  # something published to read
    reads, problems, stop = [], [], threading.Event()

    def reader():
        """Reads as the README says readers do: serving.duckdb, and the Parquet files of one resolved snapshot,
        each file opened separately (a publish may swap a new snapshot in between the two)."""
        while not stop.is_set():
            try:
                with duckdb.connect(str(data / "published" / "serving.duckdb"), read_only=True) as con:
                    crimes, total = con.execute(
                        "SELECT (SELECT count(*) FROM marts.fct_street_crimes), "
                        "(SELECT sum(crime_count) FROM marts.agg_street_crimes_monthly)"
                    ).fetchone()
                snapshot = snapshot_dir(data / "published")
                with duckdb.connect() as con:
                    (p_crimes,) = con.execute(
                        f"SELECT count(*) FROM '{snapshot}/marts/fct_street_crimes/*.parquet'"
                    ).fetchone()
                    time.sleep(0.02)
                    (p_total,) = con.execute(
                        f"SELECT sum(crime_count) FROM '{snapshot}/marts/agg_street_crimes_monthly.parquet'"
                    ).fetchone()
                reads.append(crimes)
                if crimes != total or p_crimes != p_total:
                    problems.append((crimes, total, p_crimes, p_total))
            except (duckdb.Error, OSError) as exc:  # never expected: published files are never written in place
                problems.append(str(exc))
            time.sleep(0.05)

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    procs = [
        subprocess.Popen(
            _command(months=(m,)),
            env=_env(home, data, source),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for m in MONTHS
    ]
    outputs = [p.communicate(timeout=RUN_SECONDS) for p in procs]
    stop.set()
    thread.join()
    assert [p.returncode for p in procs] == [0, 0], [o[1][-2000:] for o in outputs]
    assert problems == [] and len(reads) > 10
    assert _published(data) == clean
    assert _strays(data) == []
