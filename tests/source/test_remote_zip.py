import gzip
import logging
import shutil
import time
import zipfile

import pytest

from police_assets.raw.zone import fetch_month, read_manifest, write_gzip
from police_assets.source.client import archive_url, make_session
from police_assets.source.remote_zip import ArchiveError, RemoteArchive
from police_dev.fake.server import FakePoliceServer

ARCHIVE = "/data/archive/2024-03.zip"


def _session():
    return make_session(requests_per_second=200, backoff_factor=0.01)


def _month_members(fake_site, month):
    with zipfile.ZipFile(fake_site / "data/archive/2024-03.zip") as zf:
        return {i.filename: zf.read(i.filename) for i in zf.infolist() if i.filename.startswith(f"{month}/")}


def _extract(archive, members, dest):
    """The members' bytes, through the product's path: extract_members (prefetched spans, two threads)."""
    dest.mkdir(exist_ok=True)
    return {m.name: path.read_bytes() for m, path in archive.extract_members(members, dest)}


def _read_month(server, tmp_path, month="2024-02"):
    with RemoteArchive(_session(), archive_url(server.url, "2024-03"), tmp_path) as archive:
        members = archive.members_matching(lambda n: n.startswith(f"{month}/"))
        return archive, members, _extract(archive, members, tmp_path / "members")


def test_range_read_fetches_only_the_months_members(fake_server, fake_site, tmp_path):
    archive, members, data = _read_month(fake_server, tmp_path)
    assert data == _month_members(fake_site, "2024-02")  # byte-identical, CRC-checked by zipfile

    size = (fake_site / "data/archive/2024-03.zip").stat().st_size
    sent = fake_server.bytes_sent(ARCHIVE)
    span = sum(end - start for start, end in archive.byte_extents(members))
    assert archive.stats.bytes_fetched == sent  # we count what the server really sent
    # the tail (end-of-central-directory + directory, at most 64 KiB + 22 here) plus exactly the month's span
    assert sent <= span + 65536 + 22
    assert sent < size * 0.55  # the archive holds 3 months; one month's span is about a third
    ranged = [r for r in fake_server.requests if r.path == ARCHIVE]
    assert len(ranged) == 2 and all(r.status == 206 for r in ranged)  # the tail, then one streamed span


def test_server_without_range_support_falls_back_to_full_download(fake_server, fake_site, tmp_path, caplog):
    fake_server.state.ignore_range = True
    with caplog.at_level(logging.WARNING):
        archive, _, data = _read_month(fake_server, tmp_path)
    assert data == _month_members(fake_site, "2024-02")
    assert archive.stats.full_download
    assert archive.stats.bytes_fetched == (fake_site / "data/archive/2024-03.zip").stat().st_size
    assert "ignored the Range header" in caplog.text
    assert not list(tmp_path.glob(".archive-*"))  # the spooled copy is removed on close


def test_a_tail_that_breaks_off_once_is_re_requested(fake_server, fake_site, tmp_path):
    fake_server.add_fault("truncate", count=1, path_contains=ARCHIVE)  # the first request: the tail
    _, _, data = _read_month(fake_server, tmp_path)
    assert data == _month_members(fake_site, "2024-02")
    first, second = [r for r in fake_server.requests if r.path == ARCHIVE][:2]
    assert first.range == second.range == "bytes=-65558" and first.body_bytes < second.body_bytes


def test_a_tail_that_always_breaks_off_fails_cleanly(fake_server, tmp_path):
    fake_server.add_fault("truncate", count=100, path_contains=ARCHIVE)
    with pytest.raises(ArchiveError, match="broke off"):
        _read_month(fake_server, tmp_path)


def test_a_span_that_breaks_off_is_resumed_from_where_it_stopped(fake_server, fake_site, tmp_path):
    # let the tail through, then cut the month's span once: the reader re-requests from the byte it reached
    with RemoteArchive(_session(), archive_url(fake_server.url, "2024-03"), tmp_path) as archive:
        fake_server.add_fault("truncate", count=1, path_contains=ARCHIVE)
        members = archive.members_matching(lambda n: n.startswith("2024-02/"))
        data = _extract(archive, members, tmp_path / "members")
    assert data == _month_members(fake_site, "2024-02")
    spans = [r for r in fake_server.requests if r.path == ARCHIVE][1:]
    assert len(spans) == 2
    (a, b0), (c, b1) = (tuple(int(x) for x in r.range[6:].split("-")) for r in spans)
    assert b0 == b1  # same end: the rest of the planned span
    assert c == a + spans[0].body_bytes  # resumed exactly where it broke off: nothing fetched twice


def test_a_span_that_always_breaks_off_fails_cleanly_and_leaves_no_half_month(fake_server, tmp_path):
    with RemoteArchive(_session(), archive_url(fake_server.url, "2024-03"), tmp_path) as archive:
        fake_server.add_fault("truncate", count=100, path_contains=ARCHIVE)
        with pytest.raises(ArchiveError, match="broke off"):
            fetch_month(archive, "2024-02", tmp_path / "raw", {}, [])
    assert list((tmp_path / "raw").iterdir()) == []  # no month folder, no temp folder
    with pytest.raises(FileNotFoundError):
        read_manifest(tmp_path / "raw", "2024-02")


def _site_with(tmp_path, fake_site, mutate):
    site = tmp_path / "site"
    shutil.copytree(fake_site, site)
    path = site / "data/archive/2024-03.zip"
    path.write_bytes(mutate(path.read_bytes()))
    return site


def test_a_corrupt_member_fails_with_its_name(fake_site, tmp_path):
    with zipfile.ZipFile(fake_site / "data/archive/2024-03.zip") as zf:
        info = next(i for i in zf.infolist() if i.filename.startswith("2024-02/"))

    def flip(b: bytes) -> bytes:  # flip a byte inside the first member's compressed data
        pos = info.header_offset + 30 + len(info.filename) + 10
        return b[:pos] + bytes([b[pos] ^ 0xFF]) + b[pos + 1 :]

    with FakePoliceServer(_site_with(tmp_path, fake_site, flip)) as server:
        with pytest.raises(ArchiveError, match=info.filename):
            _read_month(server, tmp_path)


def test_a_file_that_is_not_a_zip_fails_cleanly(fake_site, tmp_path):
    with FakePoliceServer(_site_with(tmp_path, fake_site, lambda b: b"<html>maintenance</html>" * 100)) as server:
        with pytest.raises(ArchiveError, match="not a readable zip"):
            _read_month(server, tmp_path)


def test_a_cut_off_archive_fails_cleanly(fake_site, tmp_path):
    with FakePoliceServer(_site_with(tmp_path, fake_site, lambda b: b[: len(b) // 2])) as server:
        with pytest.raises(ArchiveError):
            _read_month(server, tmp_path)


def test_missing_archive_is_a_clear_404(fake_server, tmp_path):
    with pytest.raises(ArchiveError, match="not found.*2031-01.zip"):
        RemoteArchive(_session(), archive_url(fake_server.url, "2031-01"), tmp_path)


@pytest.mark.parametrize("keep_compressed", [False, True], ids=["inflated", "gzip"])
@pytest.mark.parametrize("ignore_range", [False, True], ids=["ranged", "full-download"])
def test_extract_members_writes_every_member_byte_for_byte_on_two_threads(
    fake_server, fake_site, tmp_path, ignore_range, keep_compressed
):
    fake_server.state.ignore_range = ignore_range
    out = tmp_path / "out"
    out.mkdir()
    with RemoteArchive(_session(), archive_url(fake_server.url, "2024-03"), tmp_path) as archive:
        members = archive.members_matching(lambda n: n.startswith("2024-02/"))
        done = list(
            archive.extract_members(members, out, workers=2, write_deflated=write_gzip if keep_compressed else None)
        )
    expected = _month_members(fake_site, "2024-02")
    assert [m.name for m, _ in done] == [m.name for m in members]  # archive order (members_matching's)
    # gzip-wrapped: the archive's own deflate bytes (no recompression), restored byte for byte by gunzip
    read = gzip.decompress if keep_compressed else bytes
    assert {m.name: read(path.read_bytes()) for m, path in done} == expected
    suffix = ".gz" if keep_compressed else ""
    assert sorted(p.name for p in out.iterdir()) == sorted(n.rsplit("/", 1)[-1] + suffix for n in expected)
    if keep_compressed:
        assert all(path.stat().st_size == m.compressed_size + 18 for m, path in done)
    if not ignore_range:  # prefetching the span costs no extra bytes: the tail, then the month's span once
        span = sum(end - start for start, end in archive.byte_extents(members))
        assert fake_server.bytes_sent(ARCHIVE) <= span + 65536 + 22
        assert len([r for r in fake_server.requests if r.path == ARCHIVE]) == 2


def test_a_corrupt_member_fails_the_parallel_extract_with_its_name_and_leaves_no_month(fake_site, tmp_path):
    with zipfile.ZipFile(fake_site / "data/archive/2024-03.zip") as zf:
        infos = [i for i in zf.infolist() if i.filename.startswith("2024-02/")]
    info = infos[len(infos) // 2]  # a member in the middle: others are being inflated beside it

    def flip(b: bytes) -> bytes:
        pos = info.header_offset + 30 + len(info.filename) + 10
        return b[:pos] + bytes([b[pos] ^ 0xFF]) + b[pos + 1 :]

    with FakePoliceServer(_site_with(tmp_path, fake_site, flip)) as server:
        with RemoteArchive(_session(), archive_url(server.url, "2024-03"), tmp_path) as archive:
            with pytest.raises(ArchiveError, match=info.filename):
                fetch_month(archive, "2024-02", tmp_path / "raw", {}, [])
    assert list((tmp_path / "raw").iterdir()) == []


# --- hostile archives: refused before a byte of data is fetched, naming the members ------------------------


def test_a_trickling_server_is_given_up_on_in_bounded_time(fake_server, tmp_path):
    """Regression: a span trickled at 200 B/s held the run for 239 s. A response may take at most
    max(timeout, bytes / MIN_BYTES_PER_SECOND); then a clear error, not retried."""
    from police_assets.source.remote_zip import ArchiveTooSlow

    fake_server.add_fault("trickle", count=100, path_contains=ARCHIVE, seconds=0.05)  # ~5 KB/s
    started = time.monotonic()
    with pytest.raises(ArchiveTooSlow, match="too slowly"):
        RemoteArchive(_session(), archive_url(fake_server.url, "2024-03"), tmp_path, timeout=1)
    assert time.monotonic() - started < 10
    assert len([r for r in fake_server.requests if r.path == ARCHIVE]) == 1  # a stalled server is not retried
