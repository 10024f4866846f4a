"""data.police.uk from a folder of its bulk archives: ``DATA_POLICE_UK_URL=file:///path/to/folder``.

For history the source no longer serves (each archive holds only the 36 months ending at its own month), and for
rebuilding offline: a folder of archives kept from earlier downloads, named as data.police.uk names them
(``YYYY-MM.zip``, directly in the folder or under ``data/archive/``). The platform reads them with the same
zip code as the remote archives (member checks, CRC-32, atomic months), and answers the few API questions it asks
from the archives themselves:

* the published months are every month some archive holds, the newest archive's month the newest month;
* a month's stop-and-search forces are those with a stop-and-search file in the archive it is read from;
* the forces are every force with a file, named by their ids unless the folder holds data.police.uk's own
  answer (``api/forces.json``, e.g. saved alongside the archives);
* "last updated" is the newest archive's name and modification time, so adding an archive is a new release.

A month is read from the newest archive in the folder that holds it, so a newer archive's revisions win.
"""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from urllib.parse import unquote, urlparse

from police_assets.core.datasets import STOP_AND_SEARCH, dataset_for_member
from police_assets.core.generated import read_note
from police_assets.core.months import ARCHIVE_SPAN_MONTHS, add_months, is_month, months_between
from police_assets.source.client import SourceError, StreetDate


def is_local(base_url: str) -> bool:
    return base_url.startswith("file://")


def local_root(base_url: str) -> Path:
    """The folder of a ``file://`` URL."""
    return Path(unquote(urlparse(base_url).path))


class LocalArchives:
    """The API questions the platform asks, answered from a folder of archives (see the module docstring)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self._listing: dict[str, list[str]] = {}  # archive month -> member names (central directories, read once)
        if not self.root.is_dir():
            raise SourceError(f"{self.root} is not a folder of data.police.uk archives (DATA_POLICE_UK_URL)")

    @cached_property
    def generated_by(self) -> str | None:
        """What generated the archives of a folder of generated ones (its mark, core.generated, or that of the site
        whose ``data/archive/`` it is), or None."""
        site = self.root.parent.parent if self.root.parts[-2:] == ("data", "archive") else self.root
        note = read_note(self.root) or read_note(site)
        return note["generated_by"] if note else None

    @cached_property
    def archives(self) -> dict[str, Path]:
        """Archive month -> path, for every ``YYYY-MM.zip`` in the folder (or its ``data/archive/``)."""
        found = {}
        for path in [*self.root.glob("*.zip"), *self.root.glob("data/archive/*.zip")]:
            if is_month(path.stem):  # one not named by its month is not an archive of data.police.uk's
                found[path.stem] = path
        if not found:
            raise SourceError(
                f"no data.police.uk archives (YYYY-MM.zip) in {self.root}: put the downloaded archives there, "
                "or in its data/archive/"
            )
        return dict(sorted(found.items()))

    def archive_for(self, month: str, latest: str | None = None) -> str:
        """The newest archive in the folder that holds ``month`` (archive ``A`` holds the 36 months to ``A``)."""
        holding = [a for a in self.archives if 0 <= months_between(month, a) < ARCHIVE_SPAN_MONTHS]
        if not holding:
            raise SourceError(
                f"no archive in {self.root} holds {month}: an archive holds the 36 months ending at its own month, "
                f"so {month} is in {month}.zip to {add_months(month, ARCHIVE_SPAN_MONTHS - 1)}.zip; add one of "
                f"those (the folder has {', '.join(a + '.zip' for a in self.archives)})"
            )
        return holding[-1]

    def path(self, archive_month: str) -> Path:
        return self.archives[archive_month]

    def latest_month(self) -> str:
        return next(reversed(self.archives))

    def crime_last_updated(self) -> str:
        newest = self.latest_month()
        stamp = datetime.fromtimestamp(self.archives[newest].stat().st_mtime, UTC).isoformat(timespec="seconds")
        return f"{newest}.zip {stamp}"

    def _names(self, archive_month: str) -> list[str]:
        if archive_month not in self._listing:
            try:
                with zipfile.ZipFile(self.archives[archive_month]) as zf:
                    self._listing[archive_month] = zf.namelist()
            except (zipfile.BadZipFile, OSError) as exc:
                raise SourceError(f"{self.archives[archive_month]} is not a readable zip: {exc}") from exc
        return self._listing[archive_month]

    def crimes_street_dates(self) -> list[StreetDate]:
        months: set[str] = set()
        for a in self.archives:
            months.update(folder for name in self._names(a) if is_month(folder := name.split("/", 1)[0]))
        dates = []
        for month in sorted(months):
            names = self._names(self.archive_for(month))
            searched = sorted(
                hit[1]
                for name in names
                if name.startswith(f"{month}/")
                and (hit := dataset_for_member(name, month))
                and hit[0] is STOP_AND_SEARCH
            )
            dates.append(StreetDate(month, searched))
        return sorted(dates, key=lambda d: d.month, reverse=True)

    def forces(self) -> dict[str, str]:
        saved = self.root / "api" / "forces.json"
        if saved.is_file():
            return {str(f["id"]): str(f["name"]) for f in json.loads(saved.read_text())}
        forces = set()
        for name in self._names(self.latest_month()):
            month = name.split("/", 1)[0]
            if hit := dataset_for_member(name, month):
                forces.add(hit[1])
        return {f: f for f in sorted(forces)}
