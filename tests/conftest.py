"""Shared fixtures. Runs before any project import: the package needs dbt/target/manifest.json to import, and
police_assets.definitions reads its paths from the environment at import time."""

import atexit
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DBT_DIR = ROOT / "dbt"
MANIFEST = DBT_DIR / "target" / "manifest.json"
REAL_SAMPLE = ROOT.parent / "shared" / "police-real-sample"

# Nothing a test does may touch ./data or the real data.police.uk.
_SESSION_DATA = tempfile.mkdtemp(prefix="police-test-data-")
atexit.register(shutil.rmtree, _SESSION_DATA, ignore_errors=True)  # left behind by every run before
os.environ["POLICE_DATA_DIR"] = _SESSION_DATA
os.environ.pop("POLICE_WAREHOUSE", None)
os.environ["DATA_POLICE_UK_URL"] = "http://127.0.0.1:9"  # a closed port: a test that forgets the fake fails fast
os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"

# A suite started in the background of a script (`make test &`, a CI runner) inherits SIGINT ignored. After every
# run on the main thread, Dagster hands SIGTERM the handler SIGINT had, so from then on each process a later test
# starts ignores SIGTERM: a run on another thread then waits 30 s for each log tail of Dagster's that cannot be
# stopped, its step long done. The suite runs as it does from a terminal.
for _signum, _handler in ((signal.SIGINT, signal.default_int_handler), (signal.SIGTERM, signal.SIG_DFL)):
    if signal.getsignal(_signum) == signal.SIG_IGN:
        signal.signal(_signum, _handler)


def _manifest_is_stale() -> bool:
    if not MANIFEST.exists():
        return True
    built = MANIFEST.stat().st_mtime
    return any(
        p.stat().st_mtime > built
        for p in DBT_DIR.rglob("*")
        if p.is_file() and "target" not in p.parts and "logs" not in p.parts
    )


if _manifest_is_stale():
    # A stale manifest is worse than none (dbt builds a new model, then Dagster fails on its unknown key).
    subprocess.run(
        [str(Path(sys.executable).with_name("police-dbt")), "parse", "--quiet", "--profiles-dir", "."],
        cwd=DBT_DIR,
        check=True,
    )

from police_dev.fake.generate import Release, write_release  # noqa: E402
from police_dev.fake.server import FakePoliceServer  # noqa: E402

SMALL = dict(scale=900, seed=7)

# `make test` hands whole modules to its two workers in this order (--no-loadscope-reorder), two each to start
# with, then one to whichever is free: the longest first, so none is left running alone at the end, and a light
# one third, so the worker with the daemon test (minutes of real runs) does not also start with a heavy one.
SLOW_FIRST = (
    "tests/deploy/test_daemon.py",
    "tests/transform/test_marts.py",
    "tests/docs/test_docs.py",
    "tests/automation/test_sensor.py",
    "tests/realism/test_realism.py",
    "tests/site/test_site.py",
    "tests/pipeline/test_pipeline.py",
    "tests/deploy/test_restore.py",
    "tests/deploy/test_install.py",
)


def pytest_collection_modifyitems(items):
    items.sort(
        key=lambda item: next((i for i, m in enumerate(SLOW_FIRST) if item.nodeid.startswith(m)), len(SLOW_FIRST))
    )


@pytest.fixture(scope="session")
def fake_site(tmp_path_factory) -> Path:
    """A fake data.police.uk release: archive 2024-03.zip holding 2024-01..2024-03, 45 forces, ~900 rows/month."""
    root = tmp_path_factory.mktemp("site")
    write_release(root, Release(latest="2024-03", months=3, **SMALL))
    return root


@pytest.fixture
def fake_server(fake_site):
    with FakePoliceServer(fake_site) as server:
        yield server


@pytest.fixture
def storage(tmp_path, monkeypatch):
    from police_assets.core.storage import PoliceStorage

    s = PoliceStorage(data_dir=str(tmp_path / "data"))
    monkeypatch.setenv("POLICE_DATA_DIR", s.data_dir)
    monkeypatch.setenv("POLICE_WAREHOUSE", str(s.warehouse))
    return s


@pytest.fixture
def police(fake_server):
    from tests.helpers import fast_police

    return fast_police(fake_server)


@pytest.fixture(scope="module")
def postgres():
    """A throwaway PostgreSQL cluster (police_dev.postgres) for one test module. Skipped with the reason where
    PostgreSQL is not installed, except under CI (``CI`` set), where .ci/run installs it first."""
    from police_dev.postgres import ThrowawayPostgres, unavailable_reason
    from tests.helpers import skip_or_fail_in_ci

    reason = unavailable_reason()
    if reason:
        skip_or_fail_in_ci(reason)
    with ThrowawayPostgres() as pg:
        yield pg
