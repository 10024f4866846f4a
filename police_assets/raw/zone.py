"""The raw zone: one month's archive members exactly as data.police.uk published them, plus a manifest.

Layout: ``<data>/raw/month=YYYY-MM/`` holding the member files under their archive base names and
``_manifest.json`` (archive, member names, sizes, CRC-32s, fetched-at, bytes fetched). A deflated member is kept
compressed, as ``<base name>.gz``: its own deflate bytes from the archive in a gzip wrapper whose trailer holds
the member's CRC-32 and size, so ``gunzip`` restores and checks the published file byte for byte, on the disk the
archive itself gives it rather than the inflated CSV's (docs/benchmarks.md). A stored member is kept as it is. A month folder is built
beside its final place and renamed in, and the manifest is the last file written, so a crash never leaves a
half month that looks whole: a folder without a manifest is not a loaded month.
"""

from __future__ import annotations

import json
import logging
import shutil
import struct
import time
import zlib
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from police_assets.core.datasets import dataset_for_member
from police_assets.core.tempfiles import swap_in, sweep, temp_path
from police_assets.source.remote_zip import ArchiveError, MemberInfo, RemoteArchive

log = logging.getLogger(__name__)

MANIFEST = "_manifest.json"

# The raw zone's gzip wrapper around a member's own deflate bytes: a member header with deflate, no flags, no
# time stamp, no extra flags, unknown OS (RFC 1952), then the bytes, then the trailer (CRC-32 and size, 4 bytes
# each), so the file is always the same bytes for the same member, and its header can be checked byte for byte.
GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
GZIP_OVERHEAD = len(GZIP_HEADER) + 8


def write_gzip(member: MemberInfo, deflated: bytes, path: Path) -> Path:
    """``<path>.gz``: the member's own deflate bytes (no recompression; the archive checked them) in the raw zone's
    gzip wrapper, whose trailer carries the member's CRC-32 and size, so ``gunzip`` restores and checks it."""
    gz = path.with_name(path.name + ".gz")
    with open(gz, "wb") as out:
        out.write(GZIP_HEADER)
        out.write(deflated)
        out.write(struct.pack("<II", member.crc32, member.size & 0xFFFFFFFF))
    return gz


class RawMonthMissing(FileNotFoundError):
    """The raw zone has no complete copy of a month (materialise the raw asset for it first)."""


class RawFileDamaged(ValueError):
    """A raw file no longer holds what its month's manifest recorded (a damaged disk, an edit by hand)."""


def month_dir(raw_root: Path, month: str) -> Path:
    return Path(raw_root) / f"month={month}"


@dataclass
class RawMonth:
    """What a raw month folder holds, as recorded in its manifest."""

    month: str
    archive: str
    archive_url: str
    fetched_at: str
    bytes_fetched: int
    requests: int
    full_download: bool
    # {"name", "file", "size", "compressed_size", "crc32", "stored_size", "stored_crc32"}: "crc32" and "size" are the
    # published member's (the archive's), "stored_*" the file's as written (absent in manifests written before)
    members: list[dict]
    forces: dict[str, str]  # the force list of the API at fetch time: id -> name
    stop_and_search_forces: list[str]  # forces the API lists as publishing stop and search for the month
    # members kept (the raw zone is the archive's month, whole) whose names follow no dataset's
    # YYYY-MM-<force>-<dataset>.csv: no later stage reads them, so they are named here and in the run's log
    unrecognised: list[str] = field(default_factory=list)
    path: str = ""

    @property
    def bytes_on_disk(self) -> int:
        """What the month's files take on disk (each member's stored size: compressed, or as published)."""
        return sum(m["stored_size"] for m in self.members)

    @property
    def csv_bytes(self) -> int:
        """The published CSVs' size, inflated."""
        return sum(m["size"] for m in self.members)


def read_manifest(raw_root: Path, month: str) -> RawMonth:
    path = month_dir(raw_root, month) / MANIFEST
    if not path.is_file():
        raise RawMonthMissing(
            f"no raw copy of {month} at {path.parent} (materialise raw/archive_month for {month} first)"
        )
    body = json.loads(path.read_text())
    return RawMonth(**body, path=str(path.parent))


def refetch_advice(month: str) -> str:
    """How to replace a month's raw copy with a fresh one from the source (the raw step always fetches)."""
    return (
        f"fetch it again by materialising raw/archive_month for {month} and the stages after it, e.g. "
        f"dagster asset materialize -m police_assets.definitions --select '*' --partition {month}"
    )


_VERIFY_CHUNK = 1 << 20  # bytes read (and inflated) at a time: memory stays flat whatever the file's size


def file_crc32(path: Path) -> int:
    """The CRC-32 of a file's bytes as they are on disk."""
    crc = 0
    with open(path, "rb") as fh:
        while block := fh.read(_VERIFY_CHUNK):
            crc = zlib.crc32(block, crc)
    return crc


def verify_member(raw: RawMonth, member: dict) -> None:
    """Check one raw file against what ``raw``'s manifest recorded of it; raises :class:`RawFileDamaged` naming
    the file and how to fetch it again.

    The file's bytes are checked against the size and CRC-32 the raw step recorded when it wrote them
    (``stored_size``, ``stored_crc32``), once the member had passed the archive's CRC-32: a flipped byte anywhere,
    the gzip header included, is caught before a reader sees it (DuckDB reads gzip without checking its CRC, and a
    flip can decode to different, plausible text), without inflating the file again. A month whose manifest
    predates ``stored_crc32`` is checked as it was then: its ``.gz`` file inflated, the text against the member's
    CRC-32 and size.
    """
    path = Path(raw.path) / member["file"]
    try:
        stored = path.stat().st_size
        if "stored_crc32" in member:
            crc = file_crc32(path)
            if f"{crc:08x}" == member["stored_crc32"] and stored == member["stored_size"]:
                return
            problem = (
                f"its {stored:,} bytes have CRC-32 {crc:08x}, not {member['stored_crc32']} as when it was fetched "
                f"({member['stored_size']:,} bytes)"
            )
        else:
            crc, size = _inflated_crc32(path, member["size"])
            if f"{crc:08x}" == member["crc32"] and size == member["size"] and stored == member["stored_size"]:
                return
            problem = f"reads back as {size:,} bytes with CRC-32 {crc:08x} ({stored:,} bytes on disk)"
    except FileNotFoundError:
        problem = "the file is gone"
    except (OSError, zlib.error, RawFileDamaged) as exc:
        problem = f"cannot be read back ({exc})"
    raise RawFileDamaged(
        f"raw file {path} is damaged: {problem}; {member['name']} was published as {member['size']:,} bytes "
        f"with CRC-32 {member['crc32']} ({raw.archive}). Nothing of it was read; {refetch_advice(raw.month)}"
    )


def _inflated_crc32(path: Path, published_size: int) -> tuple[int, int]:
    """The CRC-32 and size of a raw file's text: a ``.gz`` file inflated in bounded chunks (its gzip header the
    one the raw zone writes, byte for byte: gzip ignores some of its bytes, but a file that differs anywhere is
    not the one fetched), a stored member read as it is."""
    crc, size = 0, 0
    with open(path, "rb") as fh:
        # wbits 31: a gzip stream (its trailer checked too)
        inflater = zlib.decompressobj(31) if path.suffix == ".gz" else None
        if inflater is not None and fh.read(len(GZIP_HEADER)) != GZIP_HEADER:
            raise RawFileDamaged("its gzip header is not the one written at fetch time")
        fh.seek(0)
        while block := fh.read(_VERIFY_CHUNK):
            while block:
                if inflater is None:
                    text, block = block, b""
                else:
                    text = inflater.decompress(block, _VERIFY_CHUNK)
                    block = inflater.unconsumed_tail
                crc, size = zlib.crc32(text, crc), size + len(text)
                if size > published_size:
                    raise RawFileDamaged(f"inflates past the published {published_size:,} bytes")
        if inflater is not None:
            tail = inflater.flush()
            crc, size = zlib.crc32(tail, crc), size + len(tail)
            if not inflater.eof or inflater.unused_data:
                raise RawFileDamaged("the gzip stream is cut short or has bytes after its end")
    return crc, size


def verify_files(raw: RawMonth, names: list[str]) -> None:
    """:func:`verify_member` for each member of ``raw`` named in ``names`` (archive member names)."""
    wanted = set(names)
    for member in raw.members:
        if member["name"] in wanted:
            verify_member(raw, member)


def provenance(raw_root: Path, months: list[str]) -> dict:
    """Which data.police.uk archives ``months`` were loaded from and the newest fetch date (for the published
    manifest, which the dashboards quote): ``{"archives": [...], "fetched": "YYYY-MM-DD" | None}``."""
    archives, fetched = set(), []
    for month in months:
        try:
            raw = read_manifest(raw_root, month)
        except RawMonthMissing:
            continue
        archives.add(raw.archive)
        fetched.append(raw.fetched_at[:10])
    return {"archives": sorted(archives), "fetched": max(fetched) if fetched else None}


# Limits on what one member may be, checked against the central directory before a byte of data is fetched.
# A national month's largest file (the Met's street crimes) is tens of MB and CSV deflates 4-6:1; these leave
# room for growth while refusing a member that would fill the disk or the lake's memory (a zip bomb).
MAX_MEMBER_BYTES = 1 << 30
MAX_DEFLATE_RATIO = 100


def check_members(
    members: list[MemberInfo], month: str, max_bytes: int = MAX_MEMBER_BYTES, max_ratio: float = MAX_DEFLATE_RATIO
) -> None:
    """Refuse a month whose members could not have come from data.police.uk, naming them (ArchiveError).

    Each member must be ``YYYY-MM/<file>.csv`` with exactly this month's folder and a plain file name (no
    sub-folder, ``..`` or absolute path: the base name becomes the raw file and the force id); no two may
    share a name; none may be larger than ``max_bytes`` or inflate more than ``max_ratio`` times. Refusing
    the whole month, rather than skipping members, keeps the raw zone a faithful copy of the archive: the
    release sensor compares the two, and a skipped member would read as a revision on every tick.
    """
    problems = []
    seen: dict[str, int] = {}
    for m in members:
        folder, _, base = m.name.partition("/")
        seen[base] = seen.get(base, 0) + 1
        if (
            folder != month
            or not base
            or "/" in base
            or "\\" in base
            or base in (".", "..")
            or not base.endswith(".csv")
        ):
            problems.append(f"{m.name!r}: not a {month}/<file>.csv name")
        elif m.size > max_bytes:
            problems.append(f"{m.name}: {m.size:,} bytes, over the limit of {max_bytes:,}")
        elif m.size > max_ratio * max(m.compressed_size, 1):
            problems.append(f"{m.name}: inflates {m.size / max(m.compressed_size, 1):,.0f} times, over {max_ratio:g}")
    problems += [f"{base}: {n} members share this name" for base, n in sorted(seen.items()) if n > 1]
    if problems:
        raise ArchiveError(
            f"{month}: the archive holds members that cannot be data.police.uk files, so nothing of the month "
            f"was loaded: {'; '.join(problems[:10])}"
            + (f" (and {len(problems) - 10} more)" if len(problems) > 10 else "")
        )


def fetch_month(
    archive: RemoteArchive,
    month: str,
    raw_root: Path,
    forces: dict[str, str],
    stop_and_search_forces: list[str],
) -> RawMonth:
    """Copy every member of ``month`` out of ``archive`` into the raw zone, atomically; returns the manifest.

    Raises :class:`ArchiveError` when the archive holds no files for the month or a member is corrupt (its
    CRC-32 or size does not match the central directory); the previous copy of the month, if any, stays.
    """
    raw_root = Path(raw_root)
    raw_root.mkdir(parents=True, exist_ok=True)
    members = archive.members_matching(lambda name: name.startswith(f"{month}/") and name.endswith(".csv"))
    if not members:
        raise ArchiveError(f"{archive.url} holds no files for {month}")
    check_members(members, month)
    stats_before = (archive.stats.bytes_fetched, archive.stats.requests)
    started = time.monotonic()
    tmp = temp_path(month_dir(raw_root, month))
    tmp.mkdir()
    try:
        records = []
        for member, path in archive.extract_members(members, tmp, write_deflated=write_gzip):
            size = path.stat().st_size
            expected = member.size if path.suffix == ".csv" else member.compressed_size + GZIP_OVERHEAD
            if size != expected:
                raise ArchiveError(f"{member.name}: wrote {size} bytes to {path.name}, expected {expected}")
            records.append(
                {
                    "name": member.name,
                    "file": path.name,
                    "size": member.size,
                    "compressed_size": member.compressed_size,
                    "crc32": f"{member.crc32:08x}",
                    "stored_size": size,
                    # what the lake checks before each read: the file's bytes, no need to inflate them again
                    "stored_crc32": f"{file_crc32(path):08x}",
                }
            )
        raw = RawMonth(
            month=month,
            archive=archive.url.rsplit("/", 1)[-1],
            archive_url=archive.url,
            fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
            bytes_fetched=archive.stats.bytes_fetched - stats_before[0],
            requests=archive.stats.requests - stats_before[1],
            full_download=archive.stats.full_download,
            members=records,
            forces=forces,
            stop_and_search_forces=sorted(stop_and_search_forces),
            unrecognised=sorted(r["name"] for r in records if dataset_for_member(r["name"], month) is None),
        )
        body = asdict(raw)
        body.pop("path")
        (tmp / MANIFEST).write_text(json.dumps(body, indent=1))
        swap_in(tmp, month_dir(raw_root, month))
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    raw.path = str(month_dir(raw_root, month))
    log.info(
        "raw %s: %d files, %.1f MB from %s in %.1fs (%d requests, %.1f MB fetched)",
        month,
        len(records),
        raw.bytes_on_disk / 1e6,
        raw.archive,
        time.monotonic() - started,
        raw.requests,
        raw.bytes_fetched / 1e6,
    )
    return raw


def clean_stale(raw_root: Path) -> int:
    """Remove leftovers of interrupted fetches whose process is gone (a fetch in progress in another run is
    left alone); returns how many."""
    return len(sweep(raw_root))
