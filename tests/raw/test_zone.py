"""The raw zone: what an archive member may be before a byte of it is fetched, and a month that loads whole or
not at all."""

import pytest

from police_assets.raw.zone import check_members, fetch_month
from police_assets.source.client import archive_url, make_session
from police_assets.source.remote_zip import ArchiveError, MemberInfo, RemoteArchive
from police_dev.fake.server import FakePoliceServer


def _info(name, size=1000, compressed=250):

    return MemberInfo(name, size, compressed, 0, 0)


@pytest.mark.parametrize(
    "name,reason",
    [
        ("2024-01/../2024-01-evil-street.csv", "not a 2024-01/<file>.csv name"),
        ("2024-01//abs/2024-01-abs2-street.csv", "not a 2024-01/<file>.csv name"),
        ("2024-01/sub/2024-01-kent-street.csv", "not a 2024-01/<file>.csv name"),
        ("2024-01/..", "not a 2024-01/<file>.csv name"),
        ("2024-01/2024-01-kent-street.csv\\..\\x.csv", "not a 2024-01/<file>.csv name"),
    ],
)
def test_member_names_that_are_not_plain_files_of_the_month_are_refused(name, reason):

    good = _info("2024-01/2024-01-kent-street.csv")
    with pytest.raises(ArchiveError, match="nothing of the month was loaded") as err:
        check_members([good, _info(name)], "2024-01")
    assert reason in str(err.value) and repr(name) in str(err.value)
    check_members([good], "2024-01")  # the month alone is fine


def test_duplicate_names_huge_members_and_zip_bombs_are_refused():

    dup = [_info("2024-01/2024-01-kent-street.csv"), _info("2024-01/2024-01-kent-street.csv")]
    with pytest.raises(ArchiveError, match="2024-01-kent-street.csv: 2 members share this name"):
        check_members(dup, "2024-01")
    with pytest.raises(ArchiveError, match="over the limit"):
        check_members([_info("2024-01/2024-01-kent-street.csv", size=2 << 30, compressed=1 << 30)], "2024-01")
    with pytest.raises(ArchiveError, match="inflates 1,000 times"):
        check_members([_info("2024-01/2024-01-kent-street.csv", size=1_000_000, compressed=1000)], "2024-01")


def test_a_hostile_archive_loads_nothing_of_the_month_and_names_the_member(tmp_path):
    from police_assets.core.datasets import STREET
    from police_dev.fake.generate import csv_bytes, write_archive

    body = csv_bytes(
        STREET.header, [["a" * 64, "2024-01", "K", "K", "", "", "No Location", "", "", "Burglary", "", ""]]
    )
    members = {
        "2024-01/2024-01-kent-street.csv": body,
        "2024-01/../2024-01-evil-street.csv": body,
        "2024-01/2024-01-bomb-street.csv": b"0" * (4 << 20),  # 4 MiB of one byte: deflates ~1000:1
    }
    write_archive(tmp_path / "site", "2024-01", members)
    with FakePoliceServer(tmp_path / "site") as server:
        with RemoteArchive(
            make_session(requests_per_second=200, backoff_factor=0.01), archive_url(server.url, "2024-01"), tmp_path
        ) as archive:
            with pytest.raises(ArchiveError) as err:
                fetch_month(archive, "2024-01", tmp_path / "raw", {}, [])
        fetched = server.bytes_sent("/data/archive/2024-01.zip")
    assert "'2024-01/../2024-01-evil-street.csv'" in str(err.value) and "2024-01-bomb-street.csv: inflates" in str(
        err.value
    )
    assert not (tmp_path / "raw" / "month=2024-01").exists()
    assert fetched < 64 * 1024  # the tail with the directory only: no member data was fetched
