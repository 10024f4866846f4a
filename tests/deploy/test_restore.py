"""Back up a team deployment and restore it on a new server, by the procedure in docs/operations.md ("Back up
and restore"): a fresh PostgreSQL cluster, roles and databases first (deploy/postgres-setup.sql), the instance
dump restored with the documented flags, the data folder and the step logs copied to another path. The restored
platform shows the run history, reads only its own folder, and gets its BI copy back with one command."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance

from police_dev.fake.generate import Release, write_release
from police_dev.fake.server import FakePoliceServer
from police_dev.postgres import ThrowawayPostgres, find_bin, table_counts
from tests.deploy.test_postgres_setup import run_setup

pytestmark = pytest.mark.deployment  # minutes of real services: make test-deploy

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _env(home: Path, data: Path, pg, source: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POLICE_", "DAGSTER_", "PYTEST"))}
    return env | {
        "DAGSTER_HOME": str(home),
        "DAGSTER_POSTGRES_URL": pg.url_for("dagster", "dagster").replace("postgresql://", "postgresql+psycopg2://"),
        "POLICE_DATA_DIR": str(data),
        "POLICE_MARTS_POSTGRES_URL": pg.url_for("police_writer", "police"),
        "DATA_POLICE_UK_URL": source,
    }


def _run(env: dict, *args: str) -> str:
    done = subprocess.run(list(args), env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{args}: {done.stdout[-2000:]}{done.stderr[-3000:]}"
    return done.stdout


def _serving_counts(published: Path) -> dict[str, int]:
    with duckdb.connect(str(published / "serving.duckdb"), read_only=True) as con:
        tables = [
            r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE schema_name = 'marts'").fetchall()
        ]
        return {t: con.execute(f"SELECT count(*) FROM marts.{t}").fetchone()[0] for t in tables}


def test_backup_and_restore_on_a_new_server_keeps_the_history_and_reads_only_its_own_folder(
    tmp_path, postgres, monkeypatch
):
    old_server, new_server, backup = tmp_path / "old", tmp_path / "new", tmp_path / "backup"
    for folder in (old_server / "dagster_home", new_server / "dagster_home", backup):
        folder.mkdir(parents=True)
    for server in (old_server, new_server):
        shutil.copy(ROOT / "deploy" / "dagster.yaml", server / "dagster_home" / "dagster.yaml")
    write_release(tmp_path / "site", Release(latest="2024-01", months=1, scale=900))

    # the old server: set up as section 2 says, one run through every stage, the BI copy included
    run_setup(postgres)
    with FakePoliceServer(tmp_path / "site") as source:
        old = _env(old_server / "dagster_home", old_server / "data", postgres, source.url)
        _run(old, str(BIN / "dagster"), "asset", "materialize", "-m", "police_assets.definitions",
             "--select", "*", "--partition", "2024-01")  # fmt: skip
    monkeypatch.setenv("DAGSTER_POSTGRES_URL", old["DAGSTER_POSTGRES_URL"])  # dagster.yaml reads it
    with DagsterInstance.from_config(old["DAGSTER_HOME"]) as instance:
        (run,) = instance.get_runs()
    expected = _serving_counts(old_server / "data" / "published")

    # the backup, as documented: the instance database by its dump, the data folder and the step logs by copy
    with open(backup / "dagster.dump", "wb") as dump:
        subprocess.run(
            [find_bin("pg_dump"), "--format=custom", "-h", "127.0.0.1", "-p", str(postgres.port), "-U", "postgres", "dagster"],
            stdout=dump, check=True,
        )  # fmt: skip
    shutil.copytree(old_server / "data", backup / "data", symlinks=True)  # cp -a
    shutil.copytree(old_server / "dagster_home" / "storage", backup / "storage", symlinks=True)

    with ThrowawayPostgres() as fresh:
        # the new server: roles and databases first, then the dump with the documented flags (an empty database:
        # --clean alone would fail on objects that are not there)
        run_setup(fresh)
        subprocess.run(
            [find_bin("pg_restore"), "--clean", "--if-exists", "--no-owner", "--role=dagster",
             "-h", "127.0.0.1", "-p", str(fresh.port), "-U", "postgres", "-d", "dagster", str(backup / "dagster.dump")],
            check=True, capture_output=True,
        )  # fmt: skip
        shutil.copytree(backup / "data", new_server / "data", symlinks=True)
        shutil.copytree(backup / "storage", new_server / "dagster_home" / "storage", symlinks=True)
        shutil.rmtree(old_server)  # the old server is gone: nothing may still read from it

        new = _env(new_server / "dagster_home", new_server / "data", fresh, "http://127.0.0.1:9")
        _run(new, str(BIN / "dagster"), "instance", "migrate")
        _run(new, str(BIN / "python"), "-m", "police_assets.publish", "relink")
        loaded = _run(new, str(BIN / "python"), "-m", "police_assets.publish", "load-postgres")
        assert "served from schema police" in loaded

        monkeypatch.setenv("DAGSTER_POSTGRES_URL", new["DAGSTER_POSTGRES_URL"])
        with DagsterInstance.from_config(new["DAGSTER_HOME"]) as instance:
            restored = instance.get_run_by_id(run.run_id)  # what the UI's Runs page lists
            assert restored is not None and restored.status == run.status
            logs = instance.all_logs(run.run_id)
            assert any(e.dagster_event and e.dagster_event.is_step_success for e in logs)
        assert list((new_server / "dagster_home" / "storage" / run.run_id).rglob("*")), "the step logs were lost"
        assert _serving_counts(new_server / "data" / "published") == expected
        served = {t: n for t, n in table_counts(new["POLICE_MARTS_POSTGRES_URL"], "police").items() if t != "_snapshot"}
        assert served == expected
