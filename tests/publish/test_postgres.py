"""The marts in PostgreSQL for BI tools (publish/postgres.py), against a real PostgreSQL: the same tables, rows,
values and documentation as the snapshot; swapped in whole; a failed or killed load changes nothing; the reader
role reads and cannot write."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import psycopg2
import pytest

from police_assets.publish.postgres import load_marts, pg_type
from police_assets.publish.snapshot import publish_marts, snapshot_dir
from police_dev.postgres import query, table_counts

DOCS = {
    "fct_things": {
        "description": "One row per thing.",
        "columns": {"thing_key": "The key.", "label": "Its label; empty is not null."},
    }
}


def _publish(tmp_path, things: int) -> Path:
    """A published snapshot whose marts have the types the real marts use, nulls and empty strings."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.execute("CREATE SCHEMA IF NOT EXISTS marts")
    con.execute(
        "CREATE OR REPLACE TABLE marts.fct_things AS SELECT i::BIGINT AS thing_key, "
        "CASE i % 3 WHEN 0 THEN NULL WHEN 1 THEN '' ELSE 'x,\"y\"' END AS label, DATE '2024-01-01' + i::INT AS day, "
        f"i / 7.0 AS share, i % 2 = 0 AS even, (i * 1.5)::DECIMAL(12, 2) AS amount FROM range({things}) t(i)"
    )
    con.execute(
        f"CREATE OR REPLACE TABLE marts.agg_street_crimes_monthly AS SELECT DATE '2024-01-01' AS crime_month, "
        f"{things}::BIGINT AS crime_count"
    )
    publish_marts(con, tmp_path / "published", docs=DOCS)
    con.close()
    return snapshot_dir(tmp_path / "published")


def test_postgres_serves_the_same_tables_rows_values_and_docs_as_the_snapshot(tmp_path, postgres):
    snapshot = _publish(tmp_path, 1000)
    result = load_marts(snapshot, postgres.url, schema="same")

    manifest = json.loads((snapshot / "manifest.json").read_text())
    assert result.tables == manifest["tables"] == {"agg_street_crimes_monthly": 1, "fct_things": 1000}
    assert table_counts(postgres.url, "same") == {**manifest["tables"], "_snapshot": 1}
    with duckdb.connect(str(snapshot / "serving.duckdb"), read_only=True) as duck:
        expected = duck.execute("SELECT * FROM marts.fct_things ORDER BY thing_key").fetchall()
    served = query(postgres.url, "SELECT * FROM same.fct_things ORDER BY thing_key")
    assert [tuple(r) for r in served] == [tuple(r) for r in expected]  # nulls stay null, '' stays '', types hold
    assert served[0][1] is None and served[1][1] == "" and served[2][1] == 'x,"y"'
    assert query(postgres.url, "SELECT obj_description('same.fct_things'::regclass)")[0][0] == "One row per thing."
    assert query(postgres.url, "SELECT col_description('same.fct_things'::regclass, 2)")[0][0] == (
        "Its label; empty is not null."
    )
    assert query(postgres.url, "SELECT snapshot FROM same._snapshot")[0][0] == manifest["snapshot"]


def test_a_type_postgres_is_not_told_about_fails_by_name():
    with pytest.raises(ValueError, match="INTERVAL"):
        pg_type("INTERVAL")
    assert pg_type("DECIMAL(12,2)") == "numeric(12,2)"


def assert_refused(url: str, *statements: str) -> None:
    """Each statement, run at ``url``, is refused for want of privilege."""
    for statement in statements:
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            query(url, statement)


def test_the_reader_role_reads_and_cannot_write(tmp_path, postgres):
    load_marts(_publish(tmp_path, 10), postgres.url, schema="readable", reader_role="police_reader")
    query(postgres.url, "CREATE ROLE metabase LOGIN IN ROLE police_reader")
    bi = postgres.url_for("metabase")
    assert query(bi, "SELECT count(*) FROM readable.fct_things")[0][0] == 10
    assert_refused(
        bi,
        "INSERT INTO readable.fct_things (thing_key) VALUES (-1)",
        "UPDATE readable.fct_things SET label = 'changed'",
        "DELETE FROM readable.fct_things",
        "CREATE TABLE readable.mine (x int)",
        "DROP TABLE readable.fct_things",
    )
    assert query(postgres.url, "SELECT count(*) FROM readable.fct_things")[0][0] == 10


def test_a_load_that_fails_midway_leaves_the_served_schema_as_it_was(tmp_path, postgres, monkeypatch):
    load_marts(_publish(tmp_path / "one", 10), postgres.url, schema="failing")
    import police_assets.publish.postgres as module

    copies = []
    real_copy = module._copy_table

    def copy_then_fail(duck, cur, source, target, progress):
        copies.append(source)
        real_copy(duck, cur, source, target, progress)
        if len(copies) == 2:
            raise OSError("disk full, say")

    monkeypatch.setattr(module, "_copy_table", copy_then_fail)
    with pytest.raises(OSError, match="disk full"):
        load_marts(_publish(tmp_path / "two", 500), postgres.url, schema="failing")
    assert table_counts(postgres.url, "failing") == {"agg_street_crimes_monthly": 1, "fct_things": 10, "_snapshot": 1}
    schemas = {r[0] for r in query(postgres.url, "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'failing%'")}
    assert schemas == {"failing"}  # no loading or old schema left behind

    monkeypatch.setattr(module, "_copy_table", real_copy)
    load_marts(snapshot_dir(tmp_path / "two" / "published"), postgres.url, schema="failing")
    assert table_counts(postgres.url, "failing")["fct_things"] == 500


def test_a_killed_load_leaves_the_served_schema_as_it_was_and_the_next_load_succeeds(tmp_path, postgres):
    load_marts(_publish(tmp_path / "one", 10), postgres.url, schema="killed")
    big = _publish(tmp_path / "two", 3_000_000)
    code = f"from police_assets.publish.postgres import load_marts, pg_type; load_marts({str(big)!r}, {postgres.url!r}, schema='killed')"
    proc = subprocess.Popen([sys.executable, "-c", code], env=os.environ.copy())
    deadline = time.monotonic() + 60
    while not query(postgres.url, "SELECT 1 FROM pg_stat_activity WHERE query LIKE 'COPY %%killed__loading%%'"):
        assert proc.poll() is None, "the load ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    # PostgreSQL notices the dropped connection and rolls its transaction back
    deadline = time.monotonic() + 30
    while query(postgres.url, "SELECT 1 FROM pg_namespace WHERE nspname = 'killed__loading'"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert table_counts(postgres.url, "killed") == {"agg_street_crimes_monthly": 1, "fct_things": 10, "_snapshot": 1}
    progress = []
    load_marts(big, postgres.url, schema="killed", log=progress.append)
    assert table_counts(postgres.url, "killed")["fct_things"] == 3_000_000
    assert any(line.startswith("fct_things: 2,") and line.endswith("rows so far") for line in progress), progress
    assert "fct_things: 3,000,000 rows" in progress


def test_a_bi_session_holding_a_transaction_neither_blocks_the_load_nor_queues_other_readers(tmp_path, postgres):
    """A BI tool's session that read the served schema and left its transaction open: the load still swaps in
    (renames lock no table), other readers' new queries answer at once throughout, the retired copy that session
    still reads is left and named with its pid, and the next load, once the session has ended, drops it."""
    import threading

    load_marts(_publish(tmp_path / "one", 10), postgres.url, schema="busy")
    holder = psycopg2.connect(postgres.url)
    holder_cur = holder.cursor()
    holder_cur.execute("SELECT count(*) FROM busy.fct_things")  # its transaction stays open, holding the tables
    holder_pid = holder.get_backend_pid()

    warnings, slowest, done = [], [0.0], threading.Event()

    def other_reader():
        while not done.is_set():
            asked = time.monotonic()
            query(postgres.url, "SELECT count(*) FROM busy.fct_things")
            slowest[0] = max(slowest[0], time.monotonic() - asked)
            time.sleep(0.05)

    reader = threading.Thread(target=other_reader)
    reader.start()
    try:
        started = time.monotonic()
        load_marts(_publish(tmp_path / "two", 500), postgres.url, schema="busy", warn=warnings.append, lock_timeout=1)
        took = time.monotonic() - started
    finally:
        done.set()
        reader.join()
    assert table_counts(postgres.url, "busy")["fct_things"] == 500  # the new copy is served
    assert took < 15 and slowest[0] < 2.0, (took, slowest)
    holder_cur.execute("SELECT count(*) FROM busy.fct_things")  # its next statement reads the new copy
    assert holder_cur.fetchone()[0] == 500
    [warning] = warnings
    assert f"pid {holder_pid}" in warning and "the next load drops it" in warning
    retired = query(postgres.url, "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'busy\\_\\_retired%'")
    assert len(retired) == 1

    holder.rollback()
    holder.close()
    load_marts(_publish(tmp_path / "three", 7), postgres.url, schema="busy", warn=warnings.append)
    assert query(postgres.url, "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'busy%'") == [("busy",)]
    assert len(warnings) == 1


def test_a_lost_connection_mid_load_names_itself_as_the_cause(tmp_path, postgres):
    load_marts(_publish(tmp_path / "one", 10), postgres.url, schema="lost")
    big = _publish(tmp_path / "two", 3_000_000)
    failure = {}

    def load():
        try:
            load_marts(big, postgres.url, schema="lost")
        except Exception as exc:  # noqa: BLE001 - the test reads the message
            failure["error"] = exc

    import threading

    loading = threading.Thread(target=load)
    loading.start()
    deadline = time.monotonic() + 60
    while not (
        pids := query(postgres.url, "SELECT pid FROM pg_stat_activity WHERE query LIKE 'COPY %%lost__loading%%'")
    ):
        assert time.monotonic() < deadline and loading.is_alive()
        time.sleep(0.05)
    query(postgres.url, f"SELECT pg_terminate_backend({pids[0][0]})")  # as a server restart would
    loading.join(60)
    message = str(failure["error"])
    assert isinstance(failure["error"], RuntimeError)
    assert "lost the connection to PostgreSQL during the load into schema lost" in message
    assert "the served schema is as it was" in message and "already closed" not in message
    assert table_counts(postgres.url, "lost")["fct_things"] == 10
