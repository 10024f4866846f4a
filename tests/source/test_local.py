"""A folder of data.police.uk archives as the source (DATA_POLICE_UK_URL=file:///...): the same rows as the HTTP
source for the same archives, and a month no archive holds refused with what to do."""

import shutil

import duckdb
import pytest

from police_assets.core.storage import PoliceStorage
from police_assets.lake.assets import lake_assets
from police_assets.raw.assets import archive_month
from police_assets.source.client import SourceError
from police_assets.source.local import LocalArchives
from police_assets.source.resource import DataPoliceUk
from police_assets.warehouse.assets import warehouse_assets
from police_dev.fake.generate import Release, write_release
from police_dev.fake.server import FakePoliceServer
from tests.helpers import fast_police, materialize_months

INGEST = [archive_month, *lake_assets, *warehouse_assets]


def _landing(storage):
    with duckdb.connect(str(storage.warehouse), read_only=True) as con:
        return {
            t: con.execute(f"SELECT * EXCLUDE (source_file) FROM landing.{t} ORDER BY ALL").fetchall()
            for t in ("street_crimes", "outcomes", "stop_and_search")
        }


def test_a_folder_of_archives_loads_the_same_rows_as_the_http_source(tmp_path, monkeypatch):
    site = tmp_path / "site"
    write_release(site, Release(latest="2024-02", months=2, scale=300))
    write_release(site, Release(latest="2024-03", months=3, scale=300))
    folder = tmp_path / "kept"  # archives kept from earlier downloads, flat, as data.police.uk names them
    folder.mkdir()
    for archive in (site / "data" / "archive").glob("*.zip"):
        shutil.copy(archive, folder / archive.name)

    over_http = PoliceStorage(data_dir=str(tmp_path / "http"))
    monkeypatch.setenv("POLICE_WAREHOUSE", str(over_http.warehouse))
    with FakePoliceServer(site) as server:
        assert materialize_months(INGEST, "2024-01", "2024-03", storage=over_http, police=fast_police(server)).success
    from_folder = PoliceStorage(data_dir=str(tmp_path / "local"))
    monkeypatch.setenv("POLICE_WAREHOUSE", str(from_folder.warehouse))
    local = DataPoliceUk(base_url=folder.as_uri())
    result = materialize_months(INGEST, "2024-01", "2024-03", storage=from_folder, police=local)
    assert result.success

    assert _landing(from_folder) == _landing(over_http) and _landing(from_folder)["street_crimes"]
    raw = {e.partition: e.metadata for e in result.asset_materializations_for_node("raw__archive_month")}
    assert raw["2024-01"]["archive"].value == "2024-03.zip"  # the newest archive that holds the month
    source = LocalArchives(folder)
    assert source.latest_month() == "2024-03" and source.archive_for("2024-01") == "2024-03"
    assert [d.month for d in source.crimes_street_dates()] == ["2024-03", "2024-02", "2024-01"]


def test_a_month_no_archive_holds_is_refused_saying_what_to_do(tmp_path, monkeypatch):
    site = tmp_path / "site"
    write_release(site, Release(latest="2024-03", months=3, scale=300))
    storage = PoliceStorage(data_dir=str(tmp_path / "data"))
    monkeypatch.setenv("POLICE_WAREHOUSE", str(storage.warehouse))

    # over HTTP: 2020-06 is older than every archive the source still serves (here only 2024-03.zip)
    with FakePoliceServer(site) as server:
        result = materialize_months(
            [archive_month], "2020-06", storage=storage, police=fast_police(server), dbt=False, raise_on_error=False
        )
    message = result.get_step_failure_events()[0].event_specific_data.error.message
    assert "no archive holds 2020-06" in message and "2023-05.zip" in message and "file:///" in message

    # from a folder: the same month, and what the folder holds
    local = DataPoliceUk(base_url=(site / "data" / "archive").as_uri())
    result = materialize_months(
        [archive_month], "2020-06", storage=storage, police=local, dbt=False, raise_on_error=False
    )
    message = result.get_step_failure_events()[0].event_specific_data.error.message
    assert "no archive in" in message and "holds 2020-06" in message and "2024-03.zip" in message
    assert not storage.raw_dir.exists() or not any(p.name.startswith("month=") for p in storage.raw_dir.iterdir())

    with pytest.raises(SourceError, match="no data.police.uk archives"):
        LocalArchives(tmp_path).latest_month()  # a folder without archives says so
