"""Compaction of the warehouse file: smaller, the same data, and the live file untouched when anything fails."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from police_assets.core.storage import WAREHOUSE_POOL, PoliceStorage
from police_assets.warehouse import compact as compact_module
from police_assets.warehouse.compact import CompactionError, compact_warehouse
from police_assets.warehouse.maintenance import compact_warehouse_file, compact_warehouse_job

ROWS = 400_000


def _build(path: Path, rows: int = ROWS) -> None:
    """A warehouse-like file with free space in it: two schemas, tables, a view, and a table dropped and rows
    deleted after a checkpoint (what replaced months and a full refresh leave)."""
    landing = path.parent / "landing.parquet"
    with duckdb.connect(str(path)) as con:
        con.execute(f"COPY (SELECT range AS n FROM range(1000)) TO '{landing}' (FORMAT parquet)")
        con.execute("CREATE SCHEMA intermediate; CREATE SCHEMA marts; CREATE SCHEMA landing")
        con.execute(f"CREATE VIEW landing.numbers AS SELECT * FROM read_parquet('{landing}')")
        con.execute(
            "CREATE TABLE intermediate.crimes AS SELECT range AS id, md5(range::VARCHAR) AS key, "
            f"date '2024-01-01' + (range % 36) * INTERVAL 1 MONTH AS crime_month FROM range({rows})"
        )
        con.execute(f"CREATE TABLE intermediate.old_copy AS SELECT md5((range * 7)::VARCHAR) AS key FROM range({rows})")
        con.execute(
            "CREATE TABLE marts.by_month AS SELECT crime_month, count(*) AS n FROM intermediate.crimes GROUP BY 1"
        )
        con.execute("CREATE VIEW marts.latest AS SELECT * FROM marts.by_month ORDER BY crime_month DESC LIMIT 1")
        con.execute("CHECKPOINT")
        con.execute("DROP TABLE intermediate.old_copy")
        con.execute("DELETE FROM intermediate.crimes WHERE id % 3 = 0")
        con.execute("CHECKPOINT")


def _contents(path: Path) -> dict:
    """Every table's rows (count and an order-independent checksum) and every view's result."""
    with duckdb.connect(str(path), read_only=True) as con:
        out = {}
        for schema, table in con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() ORDER BY 1, 2"
        ).fetchall():
            out[(schema, table)] = con.execute(
                f'SELECT count(*), sum(hash(columns(*))) FROM "{schema}"."{table}"'
            ).fetchall()
        for schema, view in con.execute(
            "SELECT schema_name, view_name FROM duckdb_views() WHERE NOT internal ORDER BY 1, 2"
        ).fetchall():
            out[(schema, view)] = con.execute(f'SELECT * FROM "{schema}"."{view}"').fetchall()
        return out


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.fixture
def warehouse(tmp_path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    _build(path)
    return path


def test_compaction_gives_the_free_space_back_and_keeps_every_row_and_view(warehouse):
    before = _contents(warehouse)
    size = warehouse.stat().st_size
    with duckdb.connect(str(warehouse)) as con:
        done = compact_warehouse(con, warehouse)
    assert done.free_bytes > 0 and done.before_bytes == size
    assert warehouse.stat().st_size == done.after_bytes < size
    assert _contents(warehouse) == before
    assert (done.tables, done.views) == (2, 2)
    assert _leftovers(warehouse.parent) == []
    assert not warehouse.with_name(warehouse.name + ".wal").exists()  # closing the old file wrote no log for the new
    with duckdb.connect(str(warehouse)) as con:  # writable as ever
        con.execute("INSERT INTO marts.by_month VALUES (date '2030-01-01', 1)")


def test_a_copy_that_differs_is_refused_and_the_live_file_is_left_as_it_was(warehouse, monkeypatch):
    digest = _sha(warehouse)
    real = compact_module._catalogue

    def short_copy(con, database):
        tables, views = real(con, database)
        return (tables[:-1], views) if database == "compacted" else (tables, views)

    monkeypatch.setattr(compact_module, "_catalogue", short_copy)
    with duckdb.connect(str(warehouse)) as con, pytest.raises(CompactionError, match="does not hold the same"):
        compact_warehouse(con, warehouse)
    assert _sha(warehouse) == digest
    assert _leftovers(warehouse.parent) == []


def test_too_little_disk_for_the_copy_is_refused_before_anything_is_written(warehouse, monkeypatch):
    digest = _sha(warehouse)
    monkeypatch.setattr(compact_module.shutil, "disk_usage", lambda _: type("U", (), {"free": 1000})())
    with duckdb.connect(str(warehouse)) as con, pytest.raises(CompactionError, match="needs about .* MB free"):
        compact_warehouse(con, warehouse)
    assert _sha(warehouse) == digest
    assert _leftovers(warehouse.parent) == []


KILLED = """
import sys, duckdb
from pathlib import Path
from police_assets.warehouse.compact import compact_warehouse
path = Path(sys.argv[1])
with duckdb.connect(str(path)) as con:
    compact_warehouse(con, path)
"""


def test_a_compaction_killed_mid_copy_leaves_the_live_file_whole_and_the_next_one_cleans_up(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    _build(path, rows=3_000_000)  # a copy long enough to be caught in the middle
    before, digest = _contents(path), _sha(path)
    child = subprocess.Popen([sys.executable, "-c", KILLED, str(path)], cwd=Path(__file__).parents[2])
    deadline = time.monotonic() + 60
    while not any(".tmp-" in name for name in _leftovers(tmp_path)):
        assert child.poll() is None, "the compaction ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    time.sleep(0.2)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert any(".tmp-" in name for name in _leftovers(tmp_path)), "killed after the copy was swapped in"
    assert _sha(path) == digest and _contents(path) == before
    with duckdb.connect(str(path)) as con:
        done = compact_warehouse(con, path)
    assert done.after_bytes < done.before_bytes
    assert _contents(path) == before
    assert _leftovers(tmp_path) == []


def test_the_job_compacts_the_platforms_warehouse_inside_the_writer_pool(tmp_path):
    storage = PoliceStorage(data_dir=str(tmp_path / "data"))
    storage.warehouse.parent.mkdir(parents=True)
    _build(storage.warehouse)
    before, size = _contents(storage.warehouse), storage.warehouse.stat().st_size
    assert compact_warehouse_file.pool == WAREHOUSE_POOL
    result = compact_warehouse_job.execute_in_process(resources={"storage": storage})
    assert result.success
    assert storage.warehouse.stat().st_size < size
    assert _contents(storage.warehouse) == before


def test_the_job_names_the_missing_warehouse(tmp_path):
    storage = PoliceStorage(data_dir=str(tmp_path / "data"))
    result = compact_warehouse_job.execute_in_process(resources={"storage": storage}, raise_on_error=False)
    assert not result.success
    failure = result.failure_data_for_node("compact_warehouse_file")
    assert "there is no warehouse at" in failure.error.message
