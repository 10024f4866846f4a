"""Read single members out of a remote zip with HTTP Range requests.

A data.police.uk bulk archive is about 1.7 GB and holds 36 months; one month's members are about 50 MB and sit
next to each other in it (``YYYY-MM/...`` sorts together). So a month costs:

1. one suffix-range GET for the archive's tail (end-of-central-directory record, usually the whole directory);
2. one more ranged GET for the rest of the central directory if the tail did not hold it all;
3. one streaming ranged GET per contiguous run of the month's members (normally exactly one).

Python's ``zipfile`` does the parsing and the CRC-32 checks over :class:`HttpRangeFile`, a seekable read-only
file whose reads are served from the cached tail, from spans fetched ahead into memory, or from the open
streaming response. :meth:`RemoteArchive.extract_members` fetches the month's spans first and then inflates
members on two threads. Why not ``remotezip``:
it cannot stream a planned span in one request (it reads member by member) and has no hook to count bytes or
to share our retrying, rate-limited session.

When the server ignores ``Range`` (answers 200 with the whole body), the whole archive is streamed to a
temporary file instead, and the log says so.
"""

from __future__ import annotations

import io
import itertools
import logging
import os
import re
import shutil
import struct
import tempfile
import threading
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

import requests

log = logging.getLogger(__name__)

# zipfile looks for the end-of-central-directory record in the last 64 KiB + 22 bytes (comment + record).
TAIL_BYTES = 65536 + 22
# A gap this small between two wanted members is read and thrown away rather than opening a new request.
MAX_SKIP_BYTES = 1 << 20
STREAM_RETRIES = 3
# The slowest a response may arrive once it has had ``timeout`` seconds: a span of N bytes may take
# max(timeout, N / MIN_BYTES_PER_SECOND) seconds in all. A server that trickles (a few bytes within every
# read timeout) would otherwise hold a run for as long as it likes.
MIN_BYTES_PER_SECOND = 50_000
READ_CHUNK = 1 << 16

_CONTENT_RANGE_RE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


# What zipfile raises for a member whose header or deflate stream is damaged, or whose CRC-32 is wrong.
_CORRUPT = (zipfile.BadZipFile, zlib.error, EOFError)


class ArchiveError(RuntimeError):
    """The archive could not be read: truncated, corrupt, or not there."""


class ArchiveTooSlow(ArchiveError):
    """A response arrived too slowly (see MIN_BYTES_PER_SECOND): not retried, a stalled server stays stalled."""

    def __init__(self, what: str, got: int, total: int):
        super().__init__(
            f"{what} arrive too slowly ({got:,} of {total:,} bytes in the time allowed, under "
            f"{MIN_BYTES_PER_SECOND:,} bytes/s); giving up rather than waiting on a stalled server"
        )


@dataclass
class FetchStats:
    requests: int = 0
    bytes_fetched: int = 0
    full_download: bool = False
    notes: list[str] = field(default_factory=list)


class HttpRangeFile(io.RawIOBase):
    """A seekable, read-only view of a remote file, fetched with Range requests.

    Reads come from (in order): the cached tail, the currently open streaming response if it is at (or a little
    before) the wanted position, or a new ranged request. ``prefetch(extents)`` reads the byte spans a month needs
    into memory, each in one request for the whole span rather than the few bytes zipfile asks for at a time.
    """

    def __init__(self, session: requests.Session, url: str, timeout: float = 60.0, stats: FetchStats | None = None):
        super().__init__()
        self.session, self.url, self.timeout = session, url, timeout
        self.stats = stats or FetchStats()
        self._pos = 0
        self._stream: requests.Response | None = None
        self._stream_pos = 0
        self._stream_end = 0  # exclusive
        self._stream_start, self._stream_deadline = 0, 0.0
        self._extents: list[tuple[int, int]] = []
        self._buffers: list[tuple[int, bytearray]] = []  # prefetched spans: (start, bytes)
        self.size, self._tail_start, self._tail = self._fetch_tail()

    # -- io.RawIOBase -----------------------------------------------------------------------------------------
    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            self._pos = offset
        elif whence == io.SEEK_CUR:
            self._pos += offset
        elif whence == io.SEEK_END:
            self._pos = self.size + offset
        else:
            raise ValueError(f"bad whence {whence}")
        if self._pos < 0:
            raise ValueError("negative seek position")
        return self._pos

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = self.size - self._pos
        n = min(n, max(self.size - self._pos, 0))
        parts = []
        while n > 0:  # a read may start in the streamed part and run on into the cached tail
            buffered = self._buffered(self._pos, n)
            if buffered is not None:
                data = buffered
            elif self._pos >= self._tail_start:
                off = self._pos - self._tail_start
                data = self._tail[off : off + n]
            else:
                data = self._read_stream(min(n, self._tail_start - self._pos))
            self._pos += len(data)
            n -= len(data)
            parts.append(data)
        return b"".join(parts)

    def readinto(self, b) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._close_stream()
        self._buffers = []
        super().close()

    # -- planning ---------------------------------------------------------------------------------------------
    def prefetch(self, extents: list[tuple[int, int]]) -> None:
        """Fetch the spans ``[start, end)`` into memory now, each in one streaming request (resumed if it breaks).

        Later reads inside them cost no I/O, so zipfile can inflate several members at once on other threads.
        Costs the spans' size in memory: about 50 MB for a national month of data.police.uk.
        """
        self._extents = sorted(extents)  # a read inside a span asks for the rest of the span (_extent_end)
        self._buffers = []
        for start, end in self._extents:
            buf = bytearray()
            self.seek(start)
            while len(buf) < end - start:
                chunk = self.read(min(1 << 20, end - start - len(buf)))
                if not chunk:  # only past the end of the file, which a planned span never reaches
                    raise ArchiveError(f"{self.url}: no bytes at {start + len(buf)} of span {start}-{end}")
                buf += chunk
            self._buffers.append((start, buf))
        self._close_stream()

    def drop_prefetched(self) -> None:
        self._buffers = []

    def _buffered(self, pos: int, n: int) -> bytes | None:
        for start, buf in self._buffers:
            if start <= pos < start + len(buf):
                return bytes(memoryview(buf)[pos - start : pos - start + n])
        return None

    def _extent_end(self, pos: int, n: int) -> int:
        for start, end in self._extents:
            if start <= pos < end:
                return max(end, pos + n)
        # Unplanned read (the central directory): ask for what was asked, at least 64 KiB, never past the tail.
        return min(max(pos + n, pos + READ_CHUNK), self._tail_start)

    # -- HTTP -------------------------------------------------------------------------------------------------
    def _get(self, headers: dict) -> requests.Response:
        self.stats.requests += 1
        try:
            resp = self.session.get(self.url, headers=headers, stream=True, timeout=self.timeout)
        except requests.RequestException as exc:
            raise ArchiveError(f"GET {self.url} ({headers.get('Range')}) failed after retries: {exc}") from exc
        if resp.status_code == 404:
            resp.close()
            raise ArchiveError(f"archive not found: {self.url} (HTTP 404)")
        if resp.status_code not in (200, 206):
            resp.close()
            raise ArchiveError(f"GET {self.url} answered HTTP {resp.status_code} after retries")
        return resp

    def _fetch_tail(self) -> tuple[int, int, bytes]:
        for attempt in range(STREAM_RETRIES + 1):
            resp = self._get({"Range": f"bytes=-{TAIL_BYTES}", "Accept-Encoding": "identity"})
            if resp.status_code == 200:
                raise RangeNotSupported(resp)
            m = _CONTENT_RANGE_RE.match(resp.headers.get("Content-Range", ""))
            if not m or m.group(3) == "*":
                resp.close()
                raise ArchiveError(
                    f"{self.url}: 206 without a usable Content-Range: {resp.headers.get('Content-Range')}"
                )
            start, end, size = int(m.group(1)), int(m.group(2)), int(m.group(3))
            try:
                data = _read_body(resp, end - start + 1, self.url, self._deadline(end - start + 1), self._fetched)
            except ArchiveTooSlow:
                raise
            except ArchiveError as exc:
                if attempt == STREAM_RETRIES:
                    raise
                log.warning("%s; re-requesting", exc)
                continue
            return size, start, data
        raise AssertionError("unreachable")

    def _fetched(self, nbytes: int) -> None:
        self.stats.bytes_fetched += nbytes

    def _open_stream(self, pos: int, end: int) -> None:
        self._close_stream()
        resp = self._get({"Range": f"bytes={pos}-{end - 1}", "Accept-Encoding": "identity"})
        m = _CONTENT_RANGE_RE.match(resp.headers.get("Content-Range", ""))
        if resp.status_code != 206 or not m or int(m.group(1)) != pos:
            resp.close()
            raise ArchiveError(f"{self.url}: server did not honour Range bytes={pos}-{end - 1}")
        self._stream, self._stream_pos, self._stream_end = resp, pos, int(m.group(2)) + 1
        self._stream_start, self._stream_deadline = pos, self._deadline(self._stream_end - pos)

    def _deadline(self, nbytes: int) -> float:
        return time.monotonic() + max(self.timeout, nbytes / MIN_BYTES_PER_SECOND)

    def _close_stream(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    def _read_stream(self, n: int) -> bytes:
        for attempt in range(STREAM_RETRIES + 1):
            try:
                stream_usable = (
                    self._stream is not None
                    and self._stream_pos <= self._pos < self._stream_end
                    and self._pos - self._stream_pos <= MAX_SKIP_BYTES
                )
                if not stream_usable:
                    self._open_stream(self._pos, min(self._extent_end(self._pos, n), self.size))
                while self._stream_pos < self._pos:  # skip a small gap (e.g. a data descriptor)
                    self._raw_read(min(self._pos - self._stream_pos, READ_CHUNK))
                want = min(n, self._stream_end - self._pos)
                parts, got = [], 0
                try:
                    while got < want:
                        chunk = self._raw_read(want - got)
                        parts.append(chunk)
                        got += len(chunk)
                except _StreamBroken:
                    if not got:
                        raise
                    # keep what arrived: the caller reads on, and the next request starts where this one broke
                    self._close_stream()
                    log.warning("%s: response broke off at byte %d; resuming from there", self.url, self._pos + got)
                return b"".join(parts)
            except _StreamBroken as exc:
                self._close_stream()
                if attempt == STREAM_RETRIES:
                    raise ArchiveError(
                        f"{self.url}: the response broke off at byte {self._pos} "
                        f"{STREAM_RETRIES + 1} times ({exc}); giving up"
                    ) from exc
                log.warning("%s: response broke off at byte %d (%s); re-requesting", self.url, self._pos, exc)
        raise AssertionError("unreachable")

    def _raw_read(self, n: int) -> bytes:
        assert self._stream is not None
        try:
            # read1: what has arrived (one socket read), so a trickle is timed chunk by chunk, not per 64 KiB
            chunk = self._stream.raw.read1(min(n, READ_CHUNK), decode_content=False)
        except Exception as exc:  # urllib3 ProtocolError / IncompleteRead / timeouts mid-body
            raise _StreamBroken(str(exc)) from exc
        if not chunk:
            raise _StreamBroken("connection closed before the promised bytes arrived")
        self._stream_pos += len(chunk)
        self.stats.bytes_fetched += len(chunk)
        if time.monotonic() > self._stream_deadline:
            got = self._stream_pos - self._stream_start
            self._close_stream()
            raise ArchiveTooSlow(
                f"{self.url}: bytes {self._stream_start}-{self._stream_end - 1}",
                got,
                self._stream_end - self._stream_start,
            )
        return chunk


class RangeNotSupported(Exception):
    """The server answered a Range request with the whole file (HTTP 200)."""

    def __init__(self, response: requests.Response):
        super().__init__("server ignored the Range header")
        self.response = response


class _StreamBroken(Exception):
    pass


def _read_body(
    resp: requests.Response, expected: int, url: str, deadline: float, fetched: Callable[[int], None]
) -> bytes:
    """The whole (small) body by ``deadline`` (monotonic clock); what arrived is told to ``fetched`` either way,
    so a broken or slow response still counts."""
    parts: list[bytes] = []
    got = 0
    try:
        while got < expected:
            chunk = resp.raw.read1(min(READ_CHUNK, expected - got), decode_content=False)
            if not chunk:
                break
            parts.append(chunk)
            got += len(chunk)
            if time.monotonic() > deadline:
                resp.close()
                raise ArchiveTooSlow(f"{url}: the response's bytes", got, expected)
    except ArchiveTooSlow:
        raise
    except Exception as exc:  # urllib3 ProtocolError / IncompleteRead mid-body
        raise ArchiveError(f"{url}: response broke off after {got} of {expected} bytes: {exc}") from exc
    finally:
        fetched(got)
        resp.close()
    if got != expected:
        raise ArchiveError(f"{url}: response broke off after {got} of {expected} bytes (truncated response)")
    return b"".join(parts)


@dataclass
class MemberInfo:
    name: str
    size: int
    compressed_size: int
    crc32: int
    header_offset: int


class RemoteArchive:
    """A zip at ``url``, opened for reading a few members. Use as a context manager.

    >>> with RemoteArchive(session, url, spool_dir) as archive:
    ...     members = archive.members_matching(lambda name: name.startswith("2024-01/"))
    ...     for member, path in archive.extract_members(members, dest_dir):
    ...         ...
    """

    def __init__(self, session: requests.Session, url: str, spool_dir: str | os.PathLike, timeout: float = 60.0):
        self.url = url
        self.stats = FetchStats()
        self._spool: str | None = None
        if url.startswith("file://"):  # an archive on disk (source.local): the same zip reading, no HTTP
            path = unquote(urlparse(url).path)
            try:
                self._file: io.IOBase = open(path, "rb")
            except OSError as exc:
                raise ArchiveError(f"archive not found: {path} ({exc.strerror})") from exc
        else:
            try:
                self._file = HttpRangeFile(session, url, timeout, self.stats)
            except RangeNotSupported as exc:
                self._file = self._download_whole(exc.response, spool_dir)
        try:
            # No BufferedReader: it would read ahead past the planned spans and cost bytes.
            self._zip = zipfile.ZipFile(self._file)
        except (zipfile.BadZipFile, EOFError, OSError) as exc:
            self.close()
            raise ArchiveError(f"{url} is not a readable zip: {exc}") from exc
        # Each member runs from its local header to the next member's local header (or the central directory).
        offsets = sorted({i.header_offset for i in self._zip.infolist()})
        self._cd_start = self._zip.start_dir
        self._next_offset = dict(itertools.pairwise([*offsets, self._cd_start]))

    def __enter__(self) -> RemoteArchive:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if getattr(self, "_zip", None) is not None:
            self._zip.close()
        self._file.close()
        if self._spool and os.path.exists(self._spool):
            os.unlink(self._spool)

    def _download_whole(self, resp: requests.Response, spool_dir) -> io.IOBase:
        size = int(resp.headers.get("Content-Length") or 0)
        msg = (
            f"{self.url}: the server ignored the Range header; downloading the whole archive "
            f"({size / 1e6:.1f} MB) to read one month from it"
        )
        log.warning(msg)
        self.stats.full_download = True
        self.stats.notes.append(msg)
        os.makedirs(spool_dir, exist_ok=True)
        fd, self._spool = tempfile.mkstemp(prefix=".archive-", suffix=".zip", dir=spool_dir)
        got = 0
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in resp.iter_content(chunk_size=1 << 20):
                    out.write(chunk)
                    got += len(chunk)
        except requests.RequestException as exc:
            raise ArchiveError(f"{self.url}: full download broke off after {got} bytes: {exc}") from exc
        finally:
            resp.close()
            self.stats.bytes_fetched += got
        if size and got != size:
            raise ArchiveError(f"{self.url}: full download truncated: {got} of {size} bytes")
        return open(self._spool, "rb")

    def infolist(self) -> list[MemberInfo]:
        return [
            MemberInfo(i.filename, i.file_size, i.compress_size, i.CRC, i.header_offset)
            for i in self._zip.infolist()
            if not i.is_dir()
        ]

    def members_matching(self, predicate) -> list[MemberInfo]:
        return sorted((m for m in self.infolist() if predicate(m.name)), key=lambda m: m.header_offset)

    def byte_extents(self, members: list[MemberInfo]) -> list[tuple[int, int]]:
        """The archive byte spans ``[start, end)`` that hold ``members``, adjacent spans merged."""
        spans: list[tuple[int, int]] = []
        for m in sorted(members, key=lambda m: m.header_offset):
            start, end = m.header_offset, self._next_offset[m.header_offset]
            if spans and spans[-1][1] == start:
                spans[-1] = (spans[-1][0], end)
            else:
                spans.append((start, end))
        return spans

    def _open_member(self, m: MemberInfo) -> _CheckedMember:
        """Open one member; a corrupt local header, like a bad CRC-32 later, is an ArchiveError naming it."""
        try:
            fh = self._zip.open(m.name)
        except _CORRUPT as exc:
            raise ArchiveError(f"{self.url}: member {m.name} is corrupt: {exc}") from exc
        return _CheckedMember(fh, m.name, self.url)

    def _deflated_bytes(self, m: MemberInfo) -> bytes | None:
        """The member's own deflate stream, as stored in the archive; None when it is not deflated (stored)."""
        # zipfile's own lock over the shared file position (its readers take it too); private, not in the stubs
        with self._zip._lock:  # type: ignore[attr-defined]
            self._file.seek(m.header_offset)
            head = self._file.read(30)
            if len(head) != 30 or head[:4] != b"PK\x03\x04":
                raise ArchiveError(f"{self.url}: member {m.name} is corrupt: no local file header")
            (method,) = struct.unpack_from("<H", head, 8)
            name_len, extra_len = struct.unpack_from("<HH", head, 26)
            if method != zipfile.ZIP_DEFLATED:
                return None
            self._file.seek(m.header_offset + 30 + name_len + extra_len)
            data = self._file.read(m.compressed_size)
        if len(data) != m.compressed_size:
            raise ArchiveError(f"{self.url}: member {m.name} is truncated ({len(data)} of {m.compressed_size} bytes)")
        return data

    def _check_deflated(self, m: MemberInfo, deflated: bytes) -> None:
        """Inflate the member's own deflate bytes in bounded chunks and check the CRC-32 and size the archive's
        directory gives; :class:`ArchiveError` if they differ."""
        inflater, crc, size, pending = zlib.decompressobj(-zlib.MAX_WBITS), 0, 0, deflated
        try:
            while pending:
                chunk = inflater.decompress(pending, 1 << 20)
                crc, size, pending = zlib.crc32(chunk, crc), size + len(chunk), inflater.unconsumed_tail
                if size > m.size:
                    raise ArchiveError(f"{self.url}: member {m.name} inflates past its declared {m.size} bytes")
            tail = inflater.flush()
        except zlib.error as exc:
            raise ArchiveError(f"{self.url}: member {m.name} is corrupt: {exc}") from exc
        crc, size = zlib.crc32(tail, crc), size + len(tail)
        if not inflater.eof or size != m.size or crc != m.crc32:
            raise ArchiveError(
                f"{self.url}: member {m.name} is corrupt: inflates to {size} bytes, CRC-32 {crc:08x} "
                f"(the directory says {m.size} bytes, {m.crc32:08x})"
            )

    def extract_members(
        self,
        members: list[MemberInfo],
        dest_dir: str | os.PathLike,
        workers: int = 2,
        write_deflated: Callable[[MemberInfo, bytes, Path], Path] | None = None,
    ) -> Iterator[tuple[MemberInfo, Path]]:
        """Write each member to ``dest_dir/<base name>``; yield ``(member, path)`` in archive order as each is done.

        The members' spans are fetched into memory first (one streaming request each, resumed where one
        breaks off), then ``workers`` threads inflate and write members side by side: zlib, the
        CRC-32 and file writes release the GIL, so a month's raw step uses both cores (docs/benchmarks.md).
        Every member's CRC-32 is checked; a bad one raises :class:`ArchiveError` naming the member.

        ``write_deflated``: a deflated member is not inflated to disk but handed, its own deflate bytes checked by
        inflating them in memory, to ``write_deflated(member, deflated, dest_dir/<base name>)``, which writes it
        in a format of the caller's (the raw zone's gzip wrapper) and returns the path it wrote. A stored member
        is written as it is.
        """
        ordered = sorted(members, key=lambda m: m.header_offset)
        if isinstance(self._file, HttpRangeFile):
            self._file.prefetch(self.byte_extents(ordered))
        dest = Path(dest_dir)
        open_lock = threading.Lock()  # ZipFile.open counts open handles without a lock of its own

        def extract(m: MemberInfo) -> Path:
            path = dest / m.name.rsplit("/", 1)[-1]
            if write_deflated and (deflated := self._deflated_bytes(m)) is not None:
                self._check_deflated(m, deflated)
                return write_deflated(m, deflated, path)
            with open_lock:
                fh = self._open_member(m)
            with fh, open(path, "wb") as out:
                shutil.copyfileobj(fh, out, 1 << 20)
            return path

        try:
            with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="inflate") as pool:
                # map() hands the results back in archive order; an error is raised when its member comes up,
                # and leaving the block waits for the members already started (nothing left writing).
                yield from zip(ordered, pool.map(extract, ordered), strict=True)
        finally:
            if isinstance(self._file, HttpRangeFile):
                self._file.drop_prefetched()


class _CheckedMember(io.RawIOBase):
    """A member being read; a bad CRC-32 or broken deflate stream becomes an ArchiveError naming the member."""

    def __init__(self, fh, name: str, url: str):
        super().__init__()
        self._fh, self._name, self._url = fh, name, url

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        try:
            return self._fh.read(n)
        except _CORRUPT as exc:
            raise ArchiveError(f"{self._url}: member {self._name} is corrupt: {exc}") from exc

    def close(self) -> None:
        self._fh.close()
        super().close()

    def readinto(self, b) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)
