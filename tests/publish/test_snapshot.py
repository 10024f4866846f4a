"""The published snapshot: swapped in whole, so a reader never sees tables from two publishes, and a publish
that fails or is killed leaves the previous one in place and nothing behind."""

import itertools
import json
import signal
import subprocess
import sys
import time

import duckdb
import pytest

from police_assets.core.tempfiles import sweep, temp_path
from police_assets.publish.snapshot import publish_marts, read_manifest, snapshot_dir
from police_assets.site.cubes import open_published


def _warehouse(path, crimes: int):
    """A warehouse whose two marts agree: the aggregate sums to the number of crimes."""
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA IF NOT EXISTS marts")
    con.execute(
        f"CREATE OR REPLACE TABLE marts.fct_street_crimes AS SELECT i AS street_crime_key, DATE '2024-01-01' "
        f"AS crime_month FROM range({crimes}) t(i)"
    )
    con.execute(
        f"CREATE OR REPLACE TABLE marts.agg_street_crimes_monthly AS SELECT DATE '2024-01-01' AS crime_month, "
        f"{crimes} AS crime_count"
    )
    return con


def _counts(folder):
    con = duckdb.connect()
    crimes = con.execute(f"SELECT count(*) FROM '{folder}/marts/fct_street_crimes.parquet'").fetchone()[0]
    total = con.execute(f"SELECT sum(crime_count) FROM '{folder}/marts/agg_street_crimes_monthly.parquet'").fetchone()[
        0
    ]
    return crimes, total


def test_each_publish_is_one_snapshot_swapped_in_and_a_pinned_reader_keeps_its_own(tmp_path):
    published = tmp_path / "published"
    with _warehouse(tmp_path / "w.duckdb", 5) as con:
        first = publish_marts(con, published)
    pinned = snapshot_dir(published)  # a reader resolves the snapshot once...
    assert pinned == first.snapshot and _counts(published) == (5, 5)
    with _warehouse(tmp_path / "w.duckdb", 7) as con:
        second = publish_marts(con, published)
    assert _counts(pinned) == (5, 5)  # ...and reads one publish, whatever happens meanwhile
    assert _counts(published) == (7, 7) and snapshot_dir(published) == second.snapshot
    with duckdb.connect(str(published / "serving.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM marts.fct_street_crimes").fetchone()[0] == 7
    manifest = json.loads((published / "manifest.json").read_text())
    assert manifest["tables"] == {"agg_street_crimes_monthly": 1, "fct_street_crimes": 7}
    assert manifest["snapshot"] == second.snapshot.name
    # the dashboards read one snapshot too
    with open_published(published) as con:
        assert con.execute("SELECT count(*) FROM fct_street_crimes").fetchone()[0] == 7
    # the current snapshot and the one before are kept, older ones go
    with _warehouse(tmp_path / "w.duckdb", 9) as con:
        third = publish_marts(con, published)
    assert sorted(p.name for p in (published / "snapshots").iterdir()) == sorted(
        [second.snapshot.name, third.snapshot.name]
    )


def test_serving_duckdb_is_views_over_its_own_snapshot_readable_from_any_folder(tmp_path):
    """serving.duckdb holds no second copy of the marts: views over its snapshot's Parquet files, by absolute
    path, so a reader in another working folder reads them, a reader of an older snapshot keeps its own, and one
    holding a snapshot the publish after next removed fails instead of reading it."""
    published = tmp_path / "published"
    with _warehouse(tmp_path / "w.duckdb", 5) as con:
        first = publish_marts(con, published)
    with _warehouse(tmp_path / "w.duckdb", 7) as con:
        publish_marts(con, published)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    read = (
        "import duckdb, sys\n"
        "con = duckdb.connect(sys.argv[1], read_only=True)\n"
        "print(con.execute('SELECT count(*) FROM marts.fct_street_crimes').fetchone()[0])\n"
        "print(con.execute(\"SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'marts'\").fetchone()[0])\n"
        "print(con.execute(\"SELECT count(*) FROM duckdb_views() WHERE schema_name = 'marts'\").fetchone()[0])\n"
    )
    for serving, crimes in [(published / "serving.duckdb", 7), (first.snapshot / "serving.duckdb", 5)]:
        out = subprocess.run(
            [sys.executable, "-c", read, str(serving)], cwd=elsewhere, capture_output=True, text=True, check=True
        )
        assert out.stdout.split() == [str(crimes), "0", "2"]  # the rows; no tables; the two marts as views

    # a reader holding the first snapshot's file across the publish that removes that snapshot fails loudly
    # instead of reading months that are no longer published (docs/guarantees.md: it must reconnect)
    with duckdb.connect(str(first.snapshot / "serving.duckdb"), read_only=True) as held:
        with _warehouse(tmp_path / "w.duckdb", 9) as con:
            publish_marts(con, published)
        assert not first.snapshot.exists()
        with pytest.raises(duckdb.IOException, match="fct_street_crimes.parquet"):
            held.execute("SELECT count(*) FROM marts.fct_street_crimes").fetchone()
    assert _counts(published) == (9, 9)


def _count_in(serving, cwd):
    read = (
        "import duckdb, sys\n"
        "con = duckdb.connect(sys.argv[1], read_only=True)\n"
        "print(con.execute('SELECT count(*) FROM marts.fct_street_crimes').fetchone()[0])\n"
    )
    out = subprocess.run([sys.executable, "-c", read, str(serving)], cwd=cwd, capture_output=True, text=True)
    return int(out.stdout) if out.returncode == 0 else out.stderr


def test_a_moved_or_copied_published_folder_reads_its_own_files_after_relink(tmp_path):
    import shutil

    from police_assets.publish.__main__ import main
    from police_assets.publish.snapshot import stale_serving

    with _warehouse(tmp_path / "w.duckdb", 5) as con:
        publish_marts(con, tmp_path / "published")
    with _warehouse(tmp_path / "w.duckdb", 7) as con:
        publish_marts(con, tmp_path / "published")
    assert stale_serving(snapshot_dir(tmp_path / "published")) == []

    # moved: its views point at the old place, which is gone
    (tmp_path / "published").rename(tmp_path / "moved")
    assert "No files found" in _count_in(tmp_path / "moved" / "serving.duckdb", tmp_path)
    assert stale_serving(snapshot_dir(tmp_path / "moved")) == ["agg_street_crimes_monthly", "fct_street_crimes"]
    assert main(["relink", str(tmp_path / "moved")]) == 0
    assert _count_in(tmp_path / "moved" / "serving.duckdb", tmp_path) == 7
    assert main(["relink", str(tmp_path / "moved")]) == 0  # again: nothing to do

    # copied (symlinks kept, as cp -a does): after relink the copy reads its own files, not the original's
    shutil.copytree(tmp_path / "moved", tmp_path / "copy", symlinks=True)
    assert main(["relink", str(tmp_path / "copy")]) == 0
    shutil.rmtree(tmp_path / "moved")
    assert _count_in(tmp_path / "copy" / "serving.duckdb", tmp_path) == 7
    # both snapshots (the one before is kept for readers) were relinked
    assert all(stale_serving(s) == [] for s in (tmp_path / "copy" / "snapshots").iterdir())
    assert main(["relink", str(tmp_path / "nothing-here")]) == 1


def test_a_publish_that_fails_midway_leaves_the_previous_snapshot_and_nothing_else(tmp_path, monkeypatch):
    published = tmp_path / "published"
    with _warehouse(tmp_path / "w.duckdb", 5) as con:
        publish_marts(con, published)
    before = sorted(p.name for p in (published / "snapshots").iterdir())
    with _warehouse(tmp_path / "w.duckdb", 7) as con:
        # published in name order, so this view fails after the new crimes were already exported
        con.execute("CREATE VIEW marts.zz_broken AS SELECT error('boom') AS x")
        with pytest.raises(duckdb.Error, match="boom"):
            publish_marts(con, published)
    assert _counts(published) == (5, 5)  # the old snapshot, whole: not the new crimes beside the old total
    assert sorted(p.name for p in (published / "snapshots").iterdir()) == before  # no half snapshot left


def test_what_a_killed_writer_left_is_swept_and_work_in_progress_is_not(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    folder = tmp_path / "snapshots"
    folder.mkdir()
    left = folder / f".20240101T000000Z-abc123.tmp-{dead_pid}-0123abcd"
    left.mkdir()
    (left / "serving.duckdb").write_bytes(b"half")
    stray = tmp_path / f".data.parquet.tmp-{dead_pid}-89abcdef"
    stray.write_bytes(b"half")
    log = tmp_path / f".serving.duckdb.tmp-{dead_pid}-4567cdef.wal"  # DuckDB's log beside a database being written
    log.write_bytes(b"half")
    mine = temp_path(folder / "20240102T000000Z-def456")  # this process is alive: in progress, kept
    mine.mkdir()
    my_tmp = temp_path(tmp_path / "serving.duckdb")
    my_log = my_tmp.with_name(my_tmp.name + ".wal")
    my_log.write_bytes(b"in progress")
    assert sweep(folder) == [left] and sorted(sweep(tmp_path)) == sorted([stray, log])
    assert mine.exists() and my_log.exists() and not left.exists() and not stray.exists() and not log.exists()


def _split_warehouse(path):
    """A warehouse with a fact the snapshot splits by month: a view over a table, and dbt's versions view."""
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE SCHEMA IF NOT EXISTS base; CREATE SCHEMA IF NOT EXISTS marts; CREATE SCHEMA IF NOT EXISTS publish"
    )
    con.execute(
        "CREATE OR REPLACE TABLE base.crimes AS SELECT i AS street_crime_key, "
        "DATE '2024-01-01' + INTERVAL (i % 2) MONTH AS crime_month FROM range(10) t(i)"
    )
    con.execute(
        "CREATE OR REPLACE VIEW marts.fct_street_crimes AS SELECT street_crime_key, crime_month FROM base.crimes"
    )
    con.execute(
        "CREATE OR REPLACE VIEW publish.publish_month_versions AS SELECT 'fct_street_crimes' AS table_name, "
        "'crime_month' AS month_column, crime_month::DATE AS data_month, count(*)::VARCHAR AS month_version "
        "FROM base.crimes GROUP BY ALL"
    )
    return con


def _month_inodes(published):
    marts = snapshot_dir(published) / "marts" / "fct_street_crimes"
    return {p.name: p.stat().st_ino for p in marts.glob("*.parquet")}


def test_unchanged_months_are_carried_over_and_a_change_of_logic_rewrites_them_all(tmp_path):
    published = tmp_path / "published"
    with _split_warehouse(tmp_path / "w.duckdb") as con:
        publish_marts(con, published)
        first = _month_inodes(published)
        assert sorted(first) == ["2024-01.parquet", "2024-02.parquet"]
        publish_marts(con, published)
        assert _month_inodes(published) == first  # nothing changed: the same files, linked

        # the view's logic changes (an upgrade), its data and versions do not: every month is written again
        con.execute(
            "CREATE OR REPLACE VIEW marts.fct_street_crimes AS "
            "SELECT street_crime_key + 100 AS street_crime_key, crime_month FROM base.crimes"
        )
        publish_marts(con, published)
        third = _month_inodes(published)
        assert not set(third.values()) & set(first.values())

        # how the files are written changes (the folder now holds generated data): every month is written again
        publish_marts(con, published, generated={"generated_by": "a test"})
        assert not set(_month_inodes(published).values()) & set(third.values())
    with duckdb.connect(str(published / "serving.duckdb"), read_only=True) as serving:
        assert serving.execute("SELECT min(street_crime_key) FROM marts.fct_street_crimes").fetchone()[0] == 100


class _Recorder:
    """A warehouse connection that keeps the statements a publish runs through it and its cursors, with the
    cursor each ran on."""

    def __init__(self, con, on=None, numbers=None):
        self.numbers = itertools.count() if numbers is None else numbers  # shared: cursors are made on threads
        self.con, self.number = con, next(self.numbers)  # 0: the connection itself
        self.on = [] if on is None else on  # (the number of the connection or cursor, statement)

    @property
    def statements(self):
        return [sql for _, sql in self.on]

    def execute(self, sql, *parameters):
        self.on.append((self.number, sql))
        return self.con.execute(sql, *parameters)

    def cursor(self):
        return _Recorder(self.con.cursor(), self.on, self.numbers)

    def close(self):
        self.con.close()


def _copies(recorder, month):
    return [s for s in recorder.statements if s.startswith("COPY") and f"DATE '{month}-01'" in s]


def test_text_columns_are_written_through_what_earlier_months_held_and_a_new_value_is_learned(tmp_path, monkeypatch):
    from police_assets.publish import snapshot
    from police_assets.publish.snapshot import DICTIONARY_LIMIT

    # one month at a time, so that which month learns from which is fixed (side by side, two months may both
    # start before either has taught the dictionaries: the same files, written as text)
    monkeypatch.setattr(snapshot, "MONTH_WRITERS", 1)
    published = tmp_path / "published"
    per_month = DICTIONARY_LIMIT + 500
    with _split_warehouse(tmp_path / "w.duckdb") as con:
        # a type of few values (and blanks), a place of more than DICTIONARY_LIMIT, a file name per month
        con.execute(
            "CREATE OR REPLACE TABLE base.crimes AS SELECT i AS street_crime_key, "
            "DATE '2024-01-01' + INTERVAL (i % 2) MONTH AS crime_month, "
            "CASE WHEN i // 2 % 7 = 0 THEN NULL ELSE ['Burglary', 'Robbery', 'Theft'][i // 2 % 3 + 1] END AS crime_type, "
            "'place ' || i AS location FROM range(?) t(i)",
            [2 * per_month],
        )
        con.execute(
            "CREATE OR REPLACE VIEW marts.fct_street_crimes AS SELECT *, "
            "strftime(crime_month, '%Y-%m') || '-street.csv' AS source_file FROM base.crimes"
        )
        con.execute(  # a month's version: its rows and its first place
            "CREATE OR REPLACE VIEW publish.publish_month_versions AS SELECT 'fct_street_crimes' AS table_name, "
            "'crime_month' AS month_column, crime_month::DATE AS data_month, "
            "count(*)::VARCHAR || min(location) AS month_version FROM base.crimes GROUP BY ALL"
        )
        first = _Recorder(con)
        lines = []
        publish_marts(first, published, log=lines.append)
        dictionaries = json.loads((published / "manifest.json").read_text())["parts"]["fct_street_crimes"][
            "dictionaries"
        ]
        assert dictionaries == {"crime_type": ["Burglary", "Robbery", "Theft"], "location": None, "source_file": None}
        # the first month taught the dictionaries; the second's new file name failed its cast and was written as text
        assert ["ENUM(" in s for s in _copies(first, "2024-01")] == [False]
        assert ["ENUM(" in s for s in _copies(first, "2024-02")] == [True, False]
        assert lines[-1].endswith("; 1 written again as text for values new to their columns")

        # a revised January, and March with a type never seen before
        con.execute(
            "UPDATE base.crimes SET location = 'revised' WHERE street_crime_key < 10 AND crime_month = '2024-01-01'"
        )
        con.execute(
            "INSERT INTO base.crimes SELECT 10000 + i, DATE '2024-03-01', ['Arson', 'Theft'][i % 2 + 1], 'place' "
            "FROM range(20) t(i)"
        )
        second = _Recorder(con)
        publish_marts(second, published)
        assert ["ENUM(" in s for s in _copies(second, "2024-01")] == [True]  # cast, and it held
        assert _copies(second, "2024-02") == []  # carried over
        assert ["ENUM(" in s for s in _copies(second, "2024-03")] == [True, False]
        parts = json.loads((published / "manifest.json").read_text())["parts"]["fct_street_crimes"]
        assert parts["dictionaries"]["crime_type"] == ["Arson", "Burglary", "Robbery", "Theft"]

        # every month's file holds exactly the warehouse's rows, as text
        reader = duckdb.connect()
        for month, part in parts["months"].items():
            file = snapshot_dir(published) / "marts" / part["file"]
            assert reader.execute(f"SELECT DISTINCT typeof(crime_type) FROM '{file}'").fetchall() == [("VARCHAR",)]
            published_rows = sorted(reader.execute(f"SELECT * FROM '{file}'").fetchall(), key=str)
            rows = con.execute(
                "SELECT * FROM marts.fct_street_crimes WHERE crime_month = ?", [f"{month}-01"]
            ).fetchall()
            assert published_rows == sorted(rows, key=str)


def test_months_are_written_side_by_side_and_a_failed_one_stops_the_rest_and_leaves_nothing(tmp_path):
    published = tmp_path / "published"
    with _split_warehouse(tmp_path / "w.duckdb") as con:
        con.execute(  # eight months of 50 crimes
            "CREATE OR REPLACE TABLE base.crimes AS SELECT i AS street_crime_key, "
            "DATE '2024-01-01' + INTERVAL (i % 8) MONTH AS crime_month FROM range(400) t(i)"
        )
        con.execute("SET threads = 2")  # the publish runs no more writers than DuckDB has threads: two, on any machine
        recorder = _Recorder(con)
        publish_marts(recorder, published)
        copies = [n for n, sql in recorder.on if sql.startswith("COPY") and "crime_month = DATE" in sql]
        assert len(copies) == 8 and len(set(copies)) == 2  # two cursors, neither the connection itself
        reader = duckdb.connect()
        for month, part in read_manifest(published)["parts"]["fct_street_crimes"]["months"].items():
            file = snapshot_dir(published) / "marts" / part["file"]
            rows = sorted(reader.execute(f"SELECT * FROM '{file}'").fetchall())
            assert rows == sorted(
                con.execute("SELECT * FROM marts.fct_street_crimes WHERE crime_month = ?", [f"{month}-01"]).fetchall()
            )
            assert part["rows"] == len(rows) == 50
        before = sorted(p.name for p in (published / "snapshots").iterdir())

        # every month changes, and May's rows fail while the others are being written
        con.execute("UPDATE base.crimes SET street_crime_key = street_crime_key + 1000")
        con.execute(
            "CREATE OR REPLACE VIEW marts.fct_street_crimes AS SELECT CASE WHEN crime_month = DATE '2024-05-01' "
            "THEN error('boom') ELSE street_crime_key END AS street_crime_key, crime_month FROM base.crimes"
        )
        with pytest.raises(duckdb.Error, match="boom"):
            publish_marts(con, published)
        left = sorted(p.name for p in (published / "snapshots").iterdir())
        time.sleep(0.5)  # a writer still running would leave its file after the publish raised
        assert left == sorted(p.name for p in (published / "snapshots").iterdir()) == before
        current = f"{published}/marts/fct_street_crimes/*.parquet"
        assert reader.execute(f"SELECT max(street_crime_key) FROM '{current}'").fetchone()[0] < 1000  # the first


def _journeys_warehouse(path):
    """A warehouse whose crimes have columns of their own and a journey that later months change, split as dbt's
    publish_month_versions splits fct_street_crimes: own_version, later_columns, key_column."""
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA base; CREATE SCHEMA marts; CREATE SCHEMA publish")
    con.execute(
        "CREATE TABLE base.crimes AS SELECT 'k' || i AS street_crime_key, DATE '2024-01-01' + INTERVAL (i % 3) MONTH "
        "AS crime_month, ['Burglary', 'Theft'][i % 2 + 1] AS crime_type, 'place ' || i AS location FROM range(3000) t(i)"
    )
    con.execute(
        "CREATE TABLE base.journeys AS SELECT street_crime_key, NULL::VARCHAR AS outcome, 0 AS stamp FROM base.crimes"
    )
    con.execute(
        "CREATE VIEW marts.fct_street_crimes AS SELECT c.street_crime_key, c.crime_month, c.crime_type, "
        "j.outcome, c.location FROM base.crimes AS c LEFT JOIN base.journeys AS j USING (street_crime_key)"
    )
    con.execute(
        "CREATE VIEW publish.publish_month_versions AS SELECT 'fct_street_crimes' AS table_name, "
        "'crime_month' AS month_column, c.crime_month::DATE AS data_month, "
        "count(*) || '|' || max(c.location) || '|' || max(j.stamp) AS month_version, "
        "count(*) || '|' || max(c.location) AS own_version, ['outcome'] AS later_columns, "
        "'street_crime_key' AS key_column "
        "FROM base.crimes AS c JOIN base.journeys AS j USING (street_crime_key) GROUP BY ALL"
    )
    return con


# A publish that dies the hard way (SIGKILL, no cleanup of its own) in its first stitch, once half the month's file
# is written into the snapshot it is building.
KILLED_IN_A_STITCH = """
import os, signal, sys
from pathlib import Path
import duckdb
import police_assets.publish.snapshot as snapshot

def stitch(base, other, take, target):
    target.write_bytes(base.read_bytes()[: base.stat().st_size // 2])
    os.kill(os.getpid(), signal.SIGKILL)

snapshot.stitch = stitch
with duckdb.connect(sys.argv[1]) as con:
    snapshot.publish_marts(con, Path(sys.argv[2]))
"""


def test_a_publish_killed_in_a_stitch_leaves_the_previous_snapshot_whole_and_the_next_completes_it(tmp_path):
    published, warehouse = tmp_path / "published", tmp_path / "w.duckdb"
    with _journeys_warehouse(warehouse) as con:
        publish_marts(con, published)
        con.execute("UPDATE base.journeys SET outcome = 'Charged', stamp = 1 WHERE hash(street_crime_key) % 3 = 0")
    before = snapshot_dir(published)
    files = {p: p.read_bytes() for p in before.rglob("*") if p.is_file()}

    killed = subprocess.run(
        [sys.executable, "-c", KILLED_IN_A_STITCH, str(warehouse), str(published)], capture_output=True, text=True
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    halves = list((published / "snapshots").glob(".*/marts/fct_street_crimes/*.parquet"))
    assert halves, "the publish did not die inside the snapshot it was building"
    assert snapshot_dir(published) == before
    assert {p: p.read_bytes() for p in before.rglob("*") if p.is_file()} == files

    with duckdb.connect(str(warehouse)) as con:
        lines: list[str] = []
        publish_marts(con, published, log=lines.append)
        assert "3 of them stitched" in lines[-1], lines
        for _, rows, want in _published_rows(con, published):
            assert sorted(rows, key=str) == sorted(want, key=str)
    assert snapshot_dir(published) != before
    assert not list(published.rglob(".*"))  # the killed publish's folder, half file and all, swept


def _published_rows(con, published):
    """Per month: the published file's rows in file order, and the warehouse's rows in no particular order."""
    reader = duckdb.connect()
    for month, part in read_manifest(published)["parts"]["fct_street_crimes"]["months"].items():
        file = snapshot_dir(published) / "marts" / part["file"]
        rows = reader.execute(f"SELECT * FROM '{file}'").fetchall()
        want = con.execute("SELECT * FROM marts.fct_street_crimes WHERE crime_month = ?", [f"{month}-01"]).fetchall()
        yield month, rows, want


def test_a_month_whose_journeys_changed_writes_only_them_and_copies_the_rest(tmp_path):
    published = tmp_path / "published"
    with _journeys_warehouse(tmp_path / "w.duckdb") as con:
        publish_marts(con, published)
        first = {month: rows for month, rows, _ in _published_rows(con, published)}

        # outcomes arrive for crimes of January and February: their journeys change, their own columns do not
        con.execute(
            "UPDATE base.journeys SET outcome = 'Charged', stamp = 1 WHERE street_crime_key IN "
            "(SELECT street_crime_key FROM base.crimes WHERE crime_month < '2024-03-01' AND hash(location) % 3 = 0)"
        )
        recorder, lines = _Recorder(con), []
        publish_marts(recorder, published, log=lines.append)
        assert "2 of 3 months written" in lines[-1] and "2 of them stitched" in lines[-1], lines
        copies = [s for s in recorder.statements if s.startswith("COPY")]
        assert len(copies) == 2 and all("file_row_number" in s and '"outcome"' in s for s in copies)
        assert not any('"location"' in s for s in copies)  # the own columns were copied, not written
        for month, rows, want in _published_rows(con, published):
            assert sorted(rows, key=str) == sorted(want, key=str)
            # the same rows in the same order as before, the journey changed where the outcomes came
            assert [r[:3] + r[4:] for r in rows] == [r[:3] + r[4:] for r in first[month]]
            assert any(r[3] == "Charged" for r in rows) == (month != "2024-03")

        # a crime replaced under a month whose own_version wrongly says nothing changed: its rows do not match
        # the previous file's, so the month is written whole, never stitched wrong
        con.execute("UPDATE base.crimes SET street_crime_key = 'new' WHERE street_crime_key = 'k0'")
        con.execute("UPDATE base.journeys SET street_crime_key = 'new', stamp = 2 WHERE street_crime_key = 'k0'")
        lines = []
        publish_marts(con, published, log=lines.append)
        assert "1 of 3 months written" in lines[-1] and "written whole instead" in lines[-1], lines
        for _, rows, want in _published_rows(con, published):
            assert sorted(rows, key=str) == sorted(want, key=str)
        assert not list(snapshot_dir(published).rglob(".*"))  # no narrow file left behind

        # the previous snapshot's file of a month to stitch was damaged on disk (cut short): written whole
        con.execute("UPDATE base.journeys SET outcome = 'Cautioned', stamp = 3 WHERE street_crime_key = 'k1'")
        damaged = snapshot_dir(published) / "marts" / "fct_street_crimes" / "2024-02.parquet"
        damaged.write_bytes(damaged.read_bytes()[:-50])
        lines = []
        publish_marts(con, published, log=lines.append)
        assert "1 of 3 months written" in lines[-1] and "written whole instead" in lines[-1], lines
        for _, rows, want in _published_rows(con, published):
            assert sorted(rows, key=str) == sorted(want, key=str)
