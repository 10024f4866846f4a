"""DuckDB's memory limit: one setting (POLICE_DUCKDB_MEMORY_LIMIT, default core.config.DUCKDB_MEMORY_LIMIT)
for every connection the platform opens and for dbt's."""

import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb

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
