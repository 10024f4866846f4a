"""Files and folders written beside their final names, and the sweep that removes what a killed writer left.

Every stage writes ``.<final name>.tmp-<pid>-<random>`` and renames it into place, so a reader never sees a
half-written file. A temp name carries its writer's process id: :func:`sweep` removes only leftovers whose
writer is gone, so two runs at once (Dagster allows two) never delete each other's work in progress, and a run
killed mid-write leaves nothing behind once the next run in that folder starts.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path

# A temp name, or the write-ahead log DuckDB keeps beside a database being written under one (serving.duckdb,
# a compacted warehouse): a killed writer can leave either.
_TEMP = re.compile(r"^\..+\.(?:tmp|old)-(\d+)-[0-9a-f]{8}(?:\.wal)?$")


def temp_path(final: str | os.PathLike, kind: str = "tmp") -> Path:
    """A sibling of ``final`` for this process to write and rename in (``kind`` "old" for a replaced copy)."""
    final = Path(final)
    return final.with_name(f".{final.name}.{kind}-{os.getpid()}-{uuid.uuid4().hex[:8]}")


def writer_alive(pid: int) -> bool:
    """Whether a process with this id exists and has not ended (a recycled id counts as alive: the leftover waits
    a sweep). A zombie has ended: a run killed under the daemon stays one until the daemon reaps its children,
    which the default run launcher does not do for a run it has lost track of."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as fh:  # "pid (comm) S ...": S is the state, Z for a zombie
            return fh.read().rsplit(") ", 1)[1][:1] != "Z"
    except (OSError, IndexError):  # not Linux, or it ended just now
        return True


def sweep(folder: str | os.PathLike) -> list[Path]:
    """Remove the temp files and folders in ``folder`` whose writer is gone; returns what was removed."""
    folder = Path(folder)
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    for path in folder.glob(".*"):
        match = _TEMP.match(path.name)
        if not match or writer_alive(int(match.group(1))):
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def swap_in(new: str | os.PathLike, final: str | os.PathLike) -> None:
    """Put ``new`` (a finished folder, file or symlink) at ``final``. A file or link there is replaced in one
    rename; a folder is moved aside first and deleted after (two renames: for a moment there is no ``final``,
    never a half-written one)."""
    new, final = Path(new), Path(final)
    if final.is_dir() and not final.is_symlink():
        old = temp_path(final, "old")
        os.rename(final, old)
        os.rename(new, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(new, final)


def link_in(path: str | os.PathLike, target: str | os.PathLike) -> None:
    """Make ``path`` a symlink to ``target`` (relative to ``path``'s folder), replacing a file or link in one
    rename (a folder from an older layout is moved aside first, once: see :func:`swap_in`)."""
    path, target = Path(path), Path(target)
    if path.is_symlink() and Path(os.readlink(path)) == target:
        return
    tmp = temp_path(path)
    os.symlink(target, tmp)
    swap_in(tmp, path)


def build_name() -> str:
    """A new build's folder name: its UTC time, then a random part (two builds can fall in the same second)."""
    return f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-{uuid.uuid4().hex[:6]}"


def swap_to_build(link: str | os.PathLike, builds: str | os.PathLike, name: str) -> None:
    """Point ``link`` at the finished folder ``builds/name`` (a relative symlink; ``builds`` sits beside
    ``link``) in one rename, then remove the other builds but the one ``link`` pointed at just before: a reader
    that resolved it before the swap keeps it. Which one that was is taken from the link, not from names or
    clocks; folders whose names start with a dot (a build in progress) are left alone."""
    link, builds = Path(link), Path(builds)
    previous = Path(os.readlink(link)).name if link.is_symlink() else None
    link_in(link, Path(builds.name) / name)  # the swap: one rename
    for old in builds.iterdir():
        if old.is_dir() and not old.name.startswith(".") and old.name not in (name, previous):
            shutil.rmtree(old, ignore_errors=True)


def linked_temp(source: str | os.PathLike, target: str | os.PathLike) -> Path:
    """A temp name beside ``target`` for a hard link to ``source`` (a copy only across file systems), for the
    caller to check and rename in: what it checks is then the file it puts in place, even if ``source``'s name
    is given to another file meanwhile. The platform never writes a file in place (every writer renames a new
    one in), so two names for one file are safe."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(target)
    try:
        os.link(source, tmp)
    except OSError:  # another file system
        shutil.copyfile(source, tmp)
    return tmp


def link_or_copy(source: str | os.PathLike, target: str | os.PathLike) -> None:
    """``target`` as a hard link to ``source``, put in place with one rename: the same file on disk, never a
    second copy (a copy only across file systems)."""
    os.replace(linked_temp(source, target), target)
