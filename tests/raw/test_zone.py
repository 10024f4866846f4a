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


def _fetched_month(tmp_path, forces=("kent", "city-of-london")):
    from police_dev.fake.generate import month_members, write_archive

    write_archive(tmp_path / "site", "2024-01", month_members(3, "2024-01", 3000, None, list(forces)))
    with FakePoliceServer(tmp_path / "site") as server:
        with RemoteArchive(
            make_session(requests_per_second=200, backoff_factor=0.01), archive_url(server.url, "2024-01"), tmp_path
        ) as archive:
            return fetch_month(archive, "2024-01", tmp_path / "raw", {}, [])


@pytest.mark.parametrize("manifest", ["now", "before stored_crc32"])
def test_a_raw_file_damaged_anywhere_is_caught_against_the_manifest_naming_the_file_and_the_refetch(tmp_path, manifest):
    from police_assets.raw.zone import RawFileDamaged, verify_member

    raw = _fetched_month(tmp_path)
    member = next(m for m in raw.members if m["name"].endswith("kent-street.csv"))
    if manifest != "now":  # a month fetched by an earlier version: checked by inflating the file
        del member["stored_crc32"]
    path = tmp_path / "raw" / "month=2024-01" / member["file"]
    good = path.read_bytes()
    verify_member(raw, member)  # as fetched: fine
    # one-byte flips across the whole file: the gzip header, the first text, the middle, the trailer's CRC
    # and size; a flip in the deflate stream may still decode (to other text), which the CRC-32 catches
    for at in [0, 3, 9, 10, 40, len(good) // 3, len(good) // 2, len(good) - 200, len(good) - 8, len(good) - 1]:
        damaged = bytearray(good)
        damaged[at] ^= 0x04
        path.write_bytes(bytes(damaged))
        with pytest.raises(RawFileDamaged) as err:
            verify_member(raw, member)
        message = str(err.value)
        assert str(path) in message and "2024-01-kent-street.csv" in message, at
        assert "materialising raw/archive_month for 2024-01" in message, at
    path.write_bytes(good[:-30])  # cut short
    with pytest.raises(RawFileDamaged, match="damaged"):
        verify_member(raw, member)
    path.unlink()
    with pytest.raises(RawFileDamaged, match="the file is gone"):
        verify_member(raw, member)
    path.write_bytes(good)
    verify_member(raw, member)


def test_the_lake_checks_a_raw_file_by_its_bytes_as_written_without_inflating_it(tmp_path, monkeypatch):
    import gzip
    import zlib

    from police_assets.raw import zone

    raw = _fetched_month(tmp_path)
    for member in raw.members:
        path = tmp_path / "raw" / "month=2024-01" / member["file"]
        body = path.read_bytes()
        assert member["stored_crc32"] == f"{zlib.crc32(body):08x}" and member["stored_size"] == len(body)
        # what was recorded is the member the archive published, byte for byte
        assert f"{zlib.crc32(gzip.decompress(body)):08x}" == member["crc32"]

    def no_inflating(*_):
        raise AssertionError("inflated")

    monkeypatch.setattr(zone.zlib, "decompressobj", no_inflating)
    zone.verify_files(raw, [m["name"] for m in raw.members])


def test_members_whose_names_follow_no_dataset_are_kept_and_listed_in_the_manifest(tmp_path):
    import json

    from police_dev.fake.generate import month_members, write_archive

    members = month_members(3, "2024-01", 1000, None, ["kent"])
    body = members["2024-01/2024-01-kent-street.csv"]
    odd = ["2024-01/2024-01-City-of-London-street.csv", "2024-01/.hidden-street.csv", "2024-01/..csv"]
    write_archive(tmp_path / "site", "2024-01", {**members, **{name: body for name in odd}})
    with FakePoliceServer(tmp_path / "site") as server:
        with RemoteArchive(
            make_session(requests_per_second=200, backoff_factor=0.01), archive_url(server.url, "2024-01"), tmp_path
        ) as archive:
            raw = fetch_month(archive, "2024-01", tmp_path / "raw", {}, [])
    assert raw.unrecognised == sorted(odd)
    manifest = json.loads((tmp_path / "raw" / "month=2024-01" / "_manifest.json").read_text())
    assert manifest["unrecognised"] == sorted(odd) and len(manifest["members"]) == len(members) + 3
