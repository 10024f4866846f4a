"""DuckDB's memory limit: one setting (POLICE_DUCKDB_MEMORY_LIMIT, default core.config.DUCKDB_MEMORY_LIMIT)
for every connection the platform opens and for dbt's."""

import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from police_assets.core import config
from police_assets.core.storage import connect

ROOT = Path(__file__).resolve().parents[2]


def _limit(con) -> str:
    return con.execute("SELECT current_setting('memory_limit')").fetchone()[0]


def test_the_dbt_profiles_fallback_is_the_platforms_default():
    profile = (ROOT / "dbt" / "profiles.yml").read_text()
    fallback = re.search(r"env_var\('POLICE_DUCKDB_MEMORY_LIMIT', '([^']+)'\)", profile)
    assert fallback and fallback.group(1) == config.DUCKDB_MEMORY_LIMIT


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
        [str(Path(sys.executable).with_name("dbt")), "show", "--quiet", "--output", "json", "--profiles-dir", "."]
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
