import duckdb
import pytest

from police_assets.core.datasets import STREET
from police_assets.core.storage import connect
from police_assets.lake.convert import SourceFile, convert_month
from police_assets.warehouse.load import load_month


def _lake_month(tmp_path, month, n):
    header = ",".join(STREET.header)
    rows = [f",{month},F,F,-1.0,51.0,On or near X,E01,Town 001A,Burglary,," for _ in range(n)]
    f = tmp_path / f"{month}-f-street.csv"
    f.write_text("\n".join([header, *rows]) + "\n")
    return convert_month(STREET, month, [SourceFile(f, "f", f.name)], tmp_path / "lake").parquet


def _counts(db):
    with duckdb.connect(str(db), read_only=True) as con:
        return dict(
            con.execute("SELECT strftime(month, '%Y-%m'), count(*) FROM landing.street_crimes GROUP BY 1").fetchall()
        )


def test_reloading_a_month_n_times_leaves_one_copy(tmp_path):
    db = tmp_path / "w.duckdb"
    jan, feb = _lake_month(tmp_path, "2024-01", 3), _lake_month(tmp_path, "2024-02", 2)
    with connect(db) as con:
        for _ in range(3):
            load_month(con, STREET, "2024-01", jan)
        result = load_month(con, STREET, "2024-02", feb)
    assert result.rows == 2 and result.deleted == 0
    assert _counts(db) == {"2024-01": 3, "2024-02": 2}


def test_a_failed_load_rolls_back_to_the_previous_copy(tmp_path):
    db = tmp_path / "w.duckdb"
    jan = _lake_month(tmp_path, "2024-01", 3)
    with connect(db) as con:
        load_month(con, STREET, "2024-01", jan)
    bad = tmp_path / "bad.parquet"
    with duckdb.connect() as c:  # a lake file with another schema (drift): the insert must fail, not empty the month
        c.execute(f"COPY (SELECT DATE '2024-01-01' AS month, 'x' AS surprise) TO '{bad}' (FORMAT parquet)")
    with connect(db) as con, pytest.raises(duckdb.Error):
        load_month(con, STREET, "2024-01", bad)
    assert _counts(db) == {"2024-01": 3}


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
