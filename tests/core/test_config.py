"""DuckDB's memory limit: one setting (POLICE_DUCKDB_MEMORY_LIMIT, default core.config.DUCKDB_MEMORY_LIMIT)
for every connection the platform opens and for dbt's."""

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from police_assets.core import config
from police_assets.core import storage as storage_module
from police_assets.core.storage import connect

ROOT = Path(__file__).resolve().parents[2]


def _limit(con) -> str:
    return con.execute("SELECT current_setting('memory_limit')").fetchone()[0]


def environment_users(package: Path) -> list[str]:
    """Where a module of ``package`` touches the environment (os.environ, os.getenv, os.putenv), but config."""
    found = []
    for file in sorted(package.rglob("*.py")):
        if file == package / "core" / "config.py":
            continue
        for node in ast.walk(ast.parse(file.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv", "putenv", "unsetenv"}:
                found.append(f"{file.relative_to(package.parent)}:{node.lineno}")
            elif isinstance(node, ast.ImportFrom) and node.module == "os":
                if any(a.name in {"environ", "getenv", "putenv"} for a in node.names):
                    found.append(f"{file.relative_to(package.parent)}:{node.lineno}")
    return found


def test_core_config_is_the_one_reader_of_the_environment(tmp_path):
    assert environment_users(ROOT / "police_assets") == []
    # the check sees a reader elsewhere
    copy = tmp_path / "police_assets"
    (copy / "core").mkdir(parents=True)
    (copy / "core" / "config.py").write_text("import os\nos.environ.get('X')\n")
    (copy / "stage.py").write_text("from os import getenv\nimport os\nos.environ['Y'] = '1'\n")
    assert environment_users(copy) == [f"{copy.name}/stage.py:{line}" for line in (1, 3)]


def test_dbt_s_profile_has_no_default_of_its_own():
    """Every setting dbt reads comes from core.config through police-dbt; a fallback in profiles.yml would be a
    second default that drifts."""
    profile = (ROOT / "dbt" / "profiles.yml").read_text()
    calls = re.findall(r"env_var\(([^)]*)\)", profile)
    assert {c.split(",")[0].strip("'\" ") for c in calls} == set(config.dbt_environment())
    assert all("," not in c for c in calls), calls


def test_dbt_waits_for_a_locked_warehouse_at_least_as_long_as_the_other_steps():
    attempts = int(config.dbt_environment()["POLICE_DBT_CONNECT_ATTEMPTS"])
    waited = 2**attempts - 1  # dbt-duckdb sleeps 1, 2, 4, ... s after each failed attempt
    assert config.WAREHOUSE_LOCK_WAIT_SECONDS <= waited < 2 * config.WAREHOUSE_LOCK_WAIT_SECONDS + 1
    assert storage_module.LOCK_FIRST_WAIT * (2**storage_module.LOCK_RETRIES - 1) >= config.WAREHOUSE_LOCK_WAIT_SECONDS


def test_police_dbt_refuses_a_bad_setting_before_starting_dbt(tmp_path):
    env = dict(os.environ, POLICE_DUCKDB_MEMORY_LIMIT="banana", POLICE_DBT_COMMAND="/bin/false-is-never-run")
    done = subprocess.run(
        [str(Path(sys.executable).with_name("police-dbt")), "parse"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "POLICE_DUCKDB_MEMORY_LIMIT='banana'" in done.stderr


def test_the_warehouse_connection_and_dbt_run_under_the_configured_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("POLICE_DUCKDB_MEMORY_LIMIT", "300MB")
    with connect(tmp_path / "w.duckdb") as con:
        configured = _limit(con)
    with duckdb.connect(config={"memory_limit": "300MB"}) as con:
        assert configured == _limit(con)  # DuckDB's own rendering of 300MB
    with duckdb.connect() as con:
        assert _limit(con) != configured  # not DuckDB's default by chance

    # dbt, started by the dbt step with this process's environment, runs under the same limit
    monkeypatch.setenv("POLICE_WAREHOUSE", str(tmp_path / "w.duckdb"))
    shown = subprocess.run(
        [
            str(Path(sys.executable).with_name("police-dbt")),
            "show",
            "--quiet",
            "--output",
            "json",
            "--profiles-dir",
            ".",
        ]
        + ["--inline", "select current_setting('memory_limit') as m", "--target-path", str(tmp_path / "target")]
        + ["--log-path", str(tmp_path / "logs")],
        cwd=ROOT / "dbt",
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert f'"m": "{configured}"' in shown.stdout, shown.stdout


BAD_SETTINGS = [
    ("POLICE_DATA_DIR", "pyproject.toml", "a folder"),  # a file (tests run from the repository root)
    ("POLICE_WAREHOUSE", "dbt", "a file path"),  # a folder
    ("DATA_POLICE_UK_URL", "data.police.uk", "an http(s):// address or a file:///folder"),
    ("POLICE_REQUESTS_PER_SECOND", "fast", "a number above 0"),
    ("POLICE_REQUESTS_BURST", "2.5", "a whole number above 0"),
    ("POLICE_SENSOR_INTERVAL_SECONDS", "-60", "a whole number above 0"),
    ("POLICE_START_MONTH", "2021-13", "a month as YYYY-MM"),
    ("POLICE_DUCKDB_MEMORY_LIMIT", "banana", "a memory size DuckDB understands"),
    ("POLICE_MARTS_POSTGRES_URL", "mysql://u:secret@h/db", "a PostgreSQL URL"),
    ("POLICE_MARTS_POSTGRES_SCHEMA", "Police Marts", "a lower-case PostgreSQL name"),
    ("POLICE_MARTS_POSTGRES_READER", "reader;drop", "a lower-case PostgreSQL name"),
]


def test_every_setting_is_checked_by_check_settings():
    checked = {name for name, _, _ in BAD_SETTINGS}
    documented = set(re.findall(r"``((?:POLICE|DATA_POLICE)_[A-Z_]+)``", config.__doc__))
    assert documented == checked  # a setting added to the table gets a case here


@pytest.mark.parametrize("name,value,expected", BAD_SETTINGS, ids=[b[0] for b in BAD_SETTINGS])
def test_a_bad_setting_is_refused_naming_the_variable_its_value_and_the_form(monkeypatch, name, value, expected):
    monkeypatch.chdir(ROOT)
    config.check_settings()  # the defaults pass
    monkeypatch.setenv(name, value)
    with pytest.raises(config.SettingError) as err:
        config.check_settings()
    message = str(err.value)
    assert f"{name}=" in message and expected in message
    assert "secret" not in message  # a password in a URL is never repeated
    if name != "POLICE_MARTS_POSTGRES_URL":
        assert repr(value) in message


def test_a_bad_setting_stops_the_definitions_loading_before_any_fetch(tmp_path):
    env = dict(os.environ, POLICE_REQUESTS_PER_SECOND="fast", POLICE_DUCKDB_MEMORY_LIMIT="banana")
    done = subprocess.run(
        [sys.executable, "-c", "import police_assets.definitions"], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("police_assets.core.config.SettingError: bad settings, nothing was done")
    assert "POLICE_REQUESTS_PER_SECOND='fast'" in last and "POLICE_DUCKDB_MEMORY_LIMIT='banana'" in last
