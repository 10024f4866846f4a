import os

import duckdb
import pytest

from police_assets.core.datasets import STREET
from police_assets.core.storage import PoliceStorage, connect
from police_assets.lake.convert import SourceFile, convert_month
from police_assets.warehouse.load import LandingFileRefused, ensure_landing, landing_file, load_month


def _lake_month(tmp_path, month, n):
    header = ",".join(STREET.header)
    rows = [f",{month},F,F,-1.0,51.0,On or near X,E01,Town 001A,Burglary,," for _ in range(n)]
    tmp_path.mkdir(parents=True, exist_ok=True)
    f = tmp_path / f"{month}-f-street.csv"
    f.write_text("\n".join([header, *rows]) + "\n")
    return convert_month(STREET, month, [SourceFile(f, "f", f.name)], tmp_path / "lake").parquet


def _counts(db):
    with duckdb.connect(str(db), read_only=True) as con:
        return dict(
            con.execute("SELECT strftime(month, '%Y-%m'), count(*) FROM landing.street_crimes GROUP BY 1").fetchall()
        )


@pytest.fixture
def storage(tmp_path):
    return PoliceStorage(data_dir=str(tmp_path / "data"))


def test_reloading_a_month_n_times_leaves_one_copy(tmp_path, storage):
    jan, feb = _lake_month(tmp_path, "2024-01", 3), _lake_month(tmp_path, "2024-02", 2)
    with storage.connect_warehouse() as con:
        for _ in range(3):
            again = load_month(con, STREET, "2024-01", jan, storage.landing_dir)
        result = load_month(con, STREET, "2024-02", feb, storage.landing_dir)
    assert again.rows == 3 and again.deleted == 3
    assert result.rows == 2 and result.deleted == 0
    assert _counts(storage.warehouse) == {"2024-01": 3, "2024-02": 2}


def test_a_loaded_month_is_the_lake_file_on_disk_and_changes_only_when_loaded_again(tmp_path, storage):
    """No second copy: the landing file is the lake's file (one inode). Yet the lake writing the month again
    (a new file renamed over its name) leaves the warehouse's month as loaded until the next load."""
    jan = _lake_month(tmp_path, "2024-01", 3)
    with storage.connect_warehouse() as con:
        load_month(con, STREET, "2024-01", jan, storage.landing_dir)
    linked = landing_file(storage.landing_dir, STREET, "2024-01")
    assert os.stat(linked).st_ino == os.stat(jan).st_ino and os.stat(jan).st_nlink == 2
    assert _lake_month(tmp_path, "2024-01", 5) == jan  # the lake's month rewritten, same name
    assert _counts(storage.warehouse) == {"2024-01": 3}
    with storage.connect_warehouse() as con:
        load_month(con, STREET, "2024-01", jan, storage.landing_dir)
    assert _counts(storage.warehouse) == {"2024-01": 5}
    assert os.stat(linked).st_ino == os.stat(jan).st_ino


def test_the_file_put_in_place_is_the_file_checked_even_if_the_lake_renames_another_in_meanwhile(
    tmp_path, storage, monkeypatch
):
    """Another run's lake step may give the month's lake name to a new file between the check and the rename:
    the warehouse must take the file it checked, not whatever the name holds by then."""
    from police_assets.warehouse import load

    jan = _lake_month(tmp_path, "2024-01", 3)
    check = load._checked_rows

    def check_while_the_lake_rewrites(*args, **kwargs):
        rows = check(*args, **kwargs)
        _lake_month(tmp_path, "2024-01", 9)  # renamed over the lake's name after the check
        return rows

    monkeypatch.setattr(load, "_checked_rows", check_while_the_lake_rewrites)
    with storage.connect_warehouse() as con:
        assert load_month(con, STREET, "2024-01", jan, storage.landing_dir).rows == 3
    assert _counts(storage.warehouse) == {"2024-01": 3}


@pytest.mark.parametrize(
    ("columns", "says"),
    [
        ("DATE '2024-01-01' AS month, 'x' AS surprise", "missing force_id"),
        ("* REPLACE (CAST(source_row AS VARCHAR) AS source_row)", "source_row is VARCHAR, not BIGINT"),
        ("* REPLACE (DATE '2023-12-01' AS month)", "3 of its 3 rows outside 2024-01"),
    ],
)
def test_a_file_off_the_contract_is_refused_and_the_month_keeps_its_copy(tmp_path, storage, columns, says):
    jan = _lake_month(tmp_path, "2024-01", 3)
    with storage.connect_warehouse() as con:
        load_month(con, STREET, "2024-01", jan, storage.landing_dir)
    bad = tmp_path / "bad.parquet"
    with duckdb.connect() as c:  # a lake file with another schema (drift) or another month's rows
        c.execute(f"COPY (SELECT {columns} FROM read_parquet('{jan}', hive_partitioning = false)) TO '{bad}'")
    with storage.connect_warehouse() as con, pytest.raises(LandingFileRefused, match=says):
        load_month(con, STREET, "2024-01", bad, storage.landing_dir)
    assert _counts(storage.warehouse) == {"2024-01": 3}


def test_what_a_killed_load_left_is_never_read_and_the_next_load_sweeps_it(tmp_path, storage):
    jan = _lake_month(tmp_path, "2024-01", 3)
    with storage.connect_warehouse() as con:
        load_month(con, STREET, "2024-01", jan, storage.landing_dir)
    dead = os.fork()  # a process id that is certainly gone: a child that has exited and been reaped
    if dead == 0:
        os._exit(0)
    os.waitpid(dead, 0)
    target = landing_file(storage.landing_dir, STREET, "2024-01")
    stray = target.with_name(f".{target.name}.tmp-{dead}-0123abcd")
    os.link(_lake_month(tmp_path / "other", "2024-01", 7), stray)  # killed between its link and its rename
    assert _counts(storage.warehouse) == {"2024-01": 3}
    with storage.connect_warehouse() as con:
        ensure_landing(con, storage.landing_dir)
    assert not stray.exists() and _counts(storage.warehouse) == {"2024-01": 3}


def test_a_moved_data_folder_is_read_again_once_a_writer_step_points_the_views_at_it(tmp_path, storage):
    jan = _lake_month(tmp_path, "2024-01", 3)
    with storage.connect_warehouse() as con:
        load_month(con, STREET, "2024-01", jan, storage.landing_dir)
    moved = PoliceStorage(data_dir=str(tmp_path / "moved"))
    os.rename(storage.root, moved.root)
    with pytest.raises(duckdb.IOException, match="No files found"):
        _counts(moved.warehouse)
    with moved.connect_warehouse() as con:
        ensure_landing(con, moved.landing_dir)
    assert _counts(moved.warehouse) == {"2024-01": 3}


def test_a_warehouse_with_landing_tables_moves_them_to_month_files_row_for_row(tmp_path, storage):
    """A warehouse from before the landing views: its tables' rows, exactly, become the month files."""
    from police_assets.lake.convert import lake_schema

    storage.warehouse.parent.mkdir(parents=True)
    rows = "SELECT * FROM read_parquet(?, hive_partitioning = false)"
    with storage.connect_warehouse() as con:
        con.execute("CREATE SCHEMA landing")
        con.execute(f"CREATE TABLE landing.street_crimes ({', '.join(f'{n} {t}' for n, t in lake_schema(STREET))})")
        for month, n in (("2024-01", 3), ("2024-02", 2)):
            con.execute(f"INSERT INTO landing.street_crimes {rows}", [str(_lake_month(tmp_path / month, month, n))])
        before = con.execute("SELECT * FROM landing.street_crimes ORDER BY ALL").fetchall()
        assert ensure_landing(con, storage.landing_dir) == [
            f"landing.street_crimes was a table (a warehouse from before the landing views): its 2 months are now "
            f"files in {storage.landing_dir / 'street_crimes'}, and it is a view over them"
        ]
        kind = con.execute("SELECT table_type FROM information_schema.tables WHERE table_name = 'street_crimes'")
        assert kind.fetchall() == [("VIEW",)]
        assert con.execute("SELECT * FROM landing.street_crimes ORDER BY ALL").fetchall() == before
    assert sorted(p.name for p in (storage.landing_dir / "street_crimes").iterdir()) == [
        "2024-01.parquet",
        "2024-02.parquet",
    ]


def test_connection_is_closed_after_an_error(tmp_path):
    db = tmp_path / "w.duckdb"
    with pytest.raises(RuntimeError):
        with connect(db) as con:
            con.execute("CREATE TABLE t (x INT)")
            raise RuntimeError("boom")
    with duckdb.connect(str(db), read_only=True) as other:  # would fail if the writer were still open
        assert other.execute("SELECT count(*) FROM t").fetchone() == (0,)


def test_a_warehouse_held_open_elsewhere_fails_after_a_bounded_wait_naming_the_file_and_what_to_read(
    tmp_path, monkeypatch
):
    import subprocess
    import sys

    from police_assets.core import storage as storage_module
    from police_assets.core.storage import PoliceStorage, WarehouseLocked

    storage = PoliceStorage(data_dir=str(tmp_path / "data"))
    storage.warehouse.parent.mkdir(parents=True)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('open', flush=True); time.sleep(60)",
            str(storage.warehouse),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        monkeypatch.setattr(storage_module, "LOCK_RETRIES", 2)  # 0.1 + 0.2 s of waiting, not 25 s
        with pytest.raises(WarehouseLocked) as err:
            with storage.connect_warehouse():
                pass
    finally:
        holder.kill()
        holder.wait()
    message = str(err.value)
    assert str(storage.warehouse) in message and f"(PID {holder.pid})" in message
    assert str(storage.published_dir / "serving.duckdb") in message and "pool 'duckdb'" in message
    with storage.connect_warehouse() as con:  # the holder gone, the next run gets in
        assert con.execute("SELECT 1").fetchone() == (1,)
