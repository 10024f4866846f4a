"""The stages' import contracts (pyproject.toml, run by `make lint`) hold, and they catch a bad import."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from police_assets.core import config

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(package_root: Path) -> subprocess.CompletedProcess:
    """lint-imports with the project's contracts over the package found first on PYTHONPATH."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(config.PROJECT_ROOT / "pyproject.toml")],
        cwd=package_root,
        env={**os.environ, "PYTHONPATH": str(package_root)},
        capture_output=True,
        text=True,
    )


def test_the_stages_keep_their_import_contracts():
    result = _lint(config.PROJECT_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "bad_import", "contract"),
    [
        ("core/months.py", "import police_assets.lake.convert", "core is a leaf"),
        ("raw/zone.py", "import police_assets.publish.snapshot", "each stage imports only the stages upstream"),
        ("site/cubes.py", "import police_dev.fake.server", "the product never imports the development tools"),
    ],
)
def test_a_deliberate_bad_import_breaks_a_contract(tmp_path, module, bad_import, contract):
    copy = tmp_path / "police_assets"
    shutil.copytree(config.PROJECT_ROOT / "police_assets", copy, ignore=shutil.ignore_patterns("__pycache__"))
    with open(copy / module, "a") as f:
        f.write(f"\n{bad_import}  # noqa\n")
    result = _lint(tmp_path)
    assert result.returncode != 0
    broken = [line for line in result.stdout.splitlines() if line.endswith(" BROKEN")]
    assert any(line.startswith(contract) for line in broken), result.stdout
