"""Generated data and real data never share a data folder: a run refuses a source of the other kind before it
fetches anything, naming both, and a fresh folder takes the kind of its first source."""

import shutil

import pytest

from police_assets.core.generated import SAMPLE_MARKER
from police_assets.core.storage import PoliceStorage
from police_assets.raw.assets import archive_month
from police_dev.fake.server import FakePoliceServer
from tests.helpers import fast_police, materialize_months


@pytest.fixture
def real_like_site(fake_site, tmp_path):
    """The fake release without its generated-data marker: a source that says nothing, as data.police.uk."""
    site = tmp_path / "real-site"
    shutil.copytree(fake_site, site)
    (site / SAMPLE_MARKER).unlink()
    return site


def _fetch(storage, server, month="2024-01"):
    return materialize_months(
        [archive_month], month, storage=storage, police=fast_police(server), dbt=False, raise_on_error=False
    )


def _failure(result) -> str:
    return next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE").event_specific_data.error.message


def test_a_fresh_folder_fed_by_a_generated_source_is_marked_generated(storage, fake_server):
    assert _fetch(storage, fake_server).success
    note = storage.sample_note()
    assert note["generated_by"].startswith("police_dev's fake data.police.uk") and note["source"] == fake_server.url


def test_a_generated_folder_refuses_a_real_source_before_fetching(storage, fake_server, real_like_site):
    assert _fetch(storage, fake_server).success
    with FakePoliceServer(real_like_site) as real:
        result = _fetch(storage, real, "2024-02")
        archive_requests = [r for r in real.requests if "/data/archive/" in r.path]
    assert not result.success and archive_requests == []
    message = _failure(result)
    assert f"data folder {storage.root.resolve()} holds generated sample data" in message
    assert f"source {real.url} serves real" in message and "POLICE_DATA_DIR" in message
    assert sorted(p.name for p in storage.raw_dir.glob("month=*")) == ["month=2024-01"]


def test_a_real_folder_refuses_a_generated_source_before_fetching(storage, fake_server, real_like_site):
    with FakePoliceServer(real_like_site) as real:
        assert _fetch(storage, real).success
    assert storage.sample_note() is None
    result = _fetch(storage, fake_server, "2024-02")
    assert not result.success
    assert not any("/data/archive/" in r.path for r in fake_server.requests)
    message = _failure(result)
    assert f"data folder {storage.root.resolve()} holds real data.police.uk data" in message
    assert f"source {fake_server.url} serves generated sample data" in message and "POLICE_DATA_DIR" in message
    assert storage.sample_note() is None and not (storage.root / SAMPLE_MARKER).exists()


def test_a_folder_of_generated_archives_says_so_too(tmp_path, fake_site):
    from police_assets.source.local import LocalArchives

    assert LocalArchives(fake_site).generated_by.startswith("police_dev's fake")
    assert LocalArchives(fake_site / "data" / "archive").generated_by.startswith("police_dev's fake")
    real = tmp_path / "archives"
    real.mkdir()
    shutil.copy(next((fake_site / "data" / "archive").glob("*.zip")), real)
    assert LocalArchives(real).generated_by is None
    assert PoliceStorage(data_dir=str(tmp_path / "d")).sample_note() is None
