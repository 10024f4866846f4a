"""A deployment installs the product alone (docs/operations.md, `make install`): a fresh copy of the repository,
a fresh virtualenv, the pinned dependencies; no development tools, test runners, browser drivers or linters; and
what the systemd units and the health check run is there."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.deployment  # minutes of real services: make test-deploy

ROOT = Path(__file__).resolve().parents[2]
DEV_ONLY = {"police-dev", "playwright", "axe-playwright-python", "pytest", "pytest-xdist", "ruff", "sqlfluff"}


def test_make_install_brings_the_product_alone_and_everything_the_units_run(tmp_path):
    repo = tmp_path / "app"  # as an operator's clone: no venv, no data, no dbt target
    shutil.copytree(
        ROOT,
        repo,
        ignore=shutil.ignore_patterns(
            ".venv", ".git", "data", "demo", "target", "logs", "__pycache__", "*.egg-info", "node_modules", "build"
        ),
    )
    venv = repo / ".venv"
    done = subprocess.run(["make", "install"], cwd=repo, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    listed = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "list", "--format=json"], capture_output=True, text=True, check=True
    )
    installed = {p["name"].lower() for p in json.loads(listed.stdout)}
    assert "police-assets" in installed and "dagster-postgres" in installed
    assert not installed & DEV_ONLY, installed & DEV_ONLY
    assert not (venv / "bin" / "police-fake-server").exists()

    # what the units start (ExecStart) and the health check calls are in the venv, and the package imports
    for unit in (ROOT / "deploy" / "systemd").glob("*.service"):
        program = re.search(r"^ExecStart=/srv/police-data/app/(\S+)", unit.read_text(), re.M).group(1)
        assert (repo / program).is_file(), program
    imported = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import police_assets.definitions, police_assets.automation.health"],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert imported.returncode == 0, imported.stderr[-2000:]
    assert (venv / "bin" / "police-dbt").is_file()
    # the Ask page's engine, built from npm, which every site build ships
    assert all((repo / "build" / "ask-engine" / f).is_file() for f in ("duckdb-browser.mjs", "duckdb-eh.wasm"))
