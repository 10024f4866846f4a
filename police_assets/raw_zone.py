"""The raw zone: one month's archive members exactly as data.police.uk published them, plus a manifest.

Layout: ``<data>/raw/month=YYYY-MM/`` holding the member files under their archive base names and
``_manifest.json`` (archive, member names, sizes, CRC-32, fetched-at, bytes fetched). A month folder is built
beside its final place and renamed in, and the manifest is the last file written, so a crash never leaves a
half month that looks whole: a folder without a manifest is not a loaded month.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from police_assets.source.remote_zip import ArchiveError, RemoteArchive

log = logging.getLogger(__name__)

MANIFEST = "_manifest.json"


class RawMonthMissing(FileNotFoundError):
    """The raw zone has no complete copy of a month (materialise the raw asset for it first)."""


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
    members: list[dict]  # {"name", "file", "size", "compressed_size", "crc32"}
    forces: dict[str, str]  # the force list of the API at fetch time: id -> name
    stop_and_search_forces: list[str]  # forces the API lists as publishing stop and search for the month
    path: str = ""

    @property
    def bytes_on_disk(self) -> int:
        return sum(m["size"] for m in self.members)


def read_manifest(raw_root: Path, month: str) -> RawMonth:
    path = month_dir(raw_root, month) / MANIFEST
    if not path.is_file():
        raise RawMonthMissing(
            f"no raw copy of {month} at {path.parent} (materialise raw/archive_month for {month} first)"
        )
    body = json.loads(path.read_text())
    return RawMonth(**body, path=str(path.parent))


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
    stats_before = (archive.stats.bytes_fetched, archive.stats.requests)
    started = time.monotonic()
    tmp = raw_root / f".month={month}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        records = []
        for member, path in archive.extract_members(members, tmp):
            size = path.stat().st_size
            if size != member.size:
                raise ArchiveError(f"{member.name}: wrote {size} bytes, the archive says {member.size}")
            records.append(
                {
                    "name": member.name,
                    "file": path.name,
                    "size": member.size,
                    "compressed_size": member.compressed_size,
                    "crc32": f"{member.crc32:08x}",
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
        )
        body = asdict(raw)
        body.pop("path")
        (tmp / MANIFEST).write_text(json.dumps(body, indent=1))
        _swap_in(tmp, month_dir(raw_root, month))
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


def _swap_in(tmp: Path, final: Path) -> None:
    """Put the finished folder ``tmp`` at ``final``, replacing an older copy (two renames, then delete)."""
    if final.exists():
        old = final.with_name(f".{final.name}.old-{uuid.uuid4().hex[:8]}")
        os.rename(final, old)
        os.rename(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(tmp, final)


def clean_stale(raw_root: Path) -> int:
    """Remove leftovers of interrupted fetches (``.month=*.tmp-*`` / ``.old-*``); returns how many."""
    n = 0
    for p in Path(raw_root).glob(".month=*"):
        shutil.rmtree(p, ignore_errors=True)
        n += 1
    return n
