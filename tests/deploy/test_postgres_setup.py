"""The PostgreSQL roles and databases of a deployment, made by the very file the docs tell an operator to run
(deploy/postgres-setup.sql): the BI login reads the served marts and nothing else."""

import subprocess
from pathlib import Path

import psycopg2
import pytest

from police_assets.publish.postgres import load_marts
from police_dev.postgres import find_bin, query
from tests.publish.test_postgres import _publish, assert_refused

ROOT = Path(__file__).resolve().parents[2]


def run_setup(pg) -> None:
    """``psql -f deploy/postgres-setup.sql`` as docs/operations.md gives it (over TCP as the superuser here)."""
    done = subprocess.run(
        [find_bin("psql"), "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres", "-v", "ON_ERROR_STOP=1",
         "-v", "dagster_password=d", "-v", "writer_password=w", "-v", "metabase_password=m",
         "-f", str(ROOT / "deploy" / "postgres-setup.sql")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_the_bi_login_selects_the_served_marts_and_nothing_else(tmp_path, postgres):
    run_setup(postgres)
    load_marts(_publish(tmp_path, 10), postgres.url_for("police_writer", "police"), schema="police")
    bi = postgres.url_for("metabase", "police")
    assert query(bi, "SELECT count(*) FROM police.fct_things")[0][0] == 10
    assert_refused(
        bi,
        "CREATE TEMP TABLE mine (x int)",
        "CREATE TABLE public.mine (x int)",
        "CREATE SCHEMA mine",
        "INSERT INTO police.fct_things (thing_key) VALUES (-1)",
    )
    with pytest.raises(psycopg2.OperationalError, match="permission denied for database"):
        query(postgres.url_for("metabase", "dagster"), "SELECT 1")  # the run history is not the BI tool's
    assert query(postgres.url_for("dagster", "dagster"), "SELECT current_user")[0][0] == "dagster"
