"""Deciding what a data.police.uk release changes, as plain functions the sensor calls.

data.police.uk publishes about monthly, 5-8 weeks after a month ends, on no fixed day, and revises earlier
months (a force re-publishes a year back; a force's file appears late). A release is seen in two steps:

1. ``crime-last-updated`` (one cheap call) changes;
2. then the newest archive's central directory (a range read of the directory only, no member data) lists
   every member with its CRC-32 and size. Per month, those make a *fingerprint*; the raw zone's manifest of a
   loaded month makes another. No manifest: the month is new. Different fingerprints: it was revised
   (a member's CRC or size changed, or a force file appeared or vanished).
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field

from police_assets.months import add_months


def fingerprint(members: dict[str, tuple[str, int]]) -> str:
    """A short digest of one month's members: ``{name: (crc32 hex, size)}`` -> 12 hex characters."""
    lines = "\n".join(f"{name}:{crc}:{size}" for name, (crc, size) in sorted(members.items()))
    return hashlib.sha1(lines.encode()).hexdigest()[:12]


def members_by_month(infolist) -> dict[str, dict[str, tuple[str, int]]]:
    """Group an archive's members (objects with name, crc32, size) by the month folder they sit in."""
    out: dict[str, dict[str, tuple[str, int]]] = defaultdict(dict)
    for m in infolist:
        if "/" in m.name and m.name.endswith(".csv"):
            out[m.name.split("/", 1)[0]][m.name] = (f"{m.crc32:08x}", m.size)
    return dict(out)


def contiguous_runs(months: list[str]) -> list[list[str]]:
    """``["2024-01", "2024-02", "2024-05"]`` -> ``[["2024-01", "2024-02"], ["2024-05"]]``."""
    runs: list[list[str]] = []
    for m in sorted(set(months)):
        if runs and add_months(runs[-1][-1], 1) == m:
            runs[-1].append(m)
        else:
            runs.append([m])
    return runs


@dataclass
class ReleasePlan:
    new: list[str] = field(default_factory=list)  # published, never loaded
    revised: list[str] = field(default_factory=list)  # loaded, but the archive's members differ now


def plan_release(
    archive_fingerprints: dict[str, str],
    loaded_fingerprints: dict[str, str],
    wanted_months: set[str],
    in_flight: set[str] = frozenset(),
) -> ReleasePlan:
    """Which wanted months to (re)load: new ones and revised ones, leaving out months already being loaded.

    Only months the archive lists are considered, so a month the source does not have yet is never asked for.
    """
    plan = ReleasePlan()
    for month in sorted(archive_fingerprints):
        if month not in wanted_months or month in in_flight:
            continue
        if month not in loaded_fingerprints:
            plan.new.append(month)
        elif loaded_fingerprints[month] != archive_fingerprints[month]:
            plan.revised.append(month)
    return plan


@dataclass
class Cursor:
    """What the sensor remembers between ticks (stored as JSON in Dagster's sensor cursor).

    ``last_updated``: the crime-last-updated date whose release has been fully planned;
    ``pending``: run key -> months, for runs requested and not yet seen to succeed;
    ``attempts``: month -> how many times it has been requested for the current release (for retry run keys);
    ``retry``: months of runs that failed, kept until a tick requests them again (a tick that cannot reach
    data.police.uk must not forget them).
    """

    last_updated: str | None = None
    pending: dict[str, list[str]] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)
    retry: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, raw: str | None) -> Cursor:
        if not raw:
            return cls()
        body = json.loads(raw)
        return cls(body.get("last_updated"), body.get("pending", {}), body.get("attempts", {}), body.get("retry", []))

    def dump(self) -> str:
        return json.dumps(
            {
                "last_updated": self.last_updated,
                "pending": self.pending,
                "attempts": self.attempts,
                "retry": self.retry,
            },
            sort_keys=True,
        )


def run_key(last_updated: str, months: list[str], fingerprints: dict[str, str], attempt: int) -> str:
    """A run key naming the release, the months and their content: the same release never runs twice."""
    digest = hashlib.sha1("|".join(fingerprints.get(m, "") for m in months).encode()).hexdigest()[:10]
    key = f"release {last_updated} {months[0]}...{months[-1]} {digest}"
    return key if attempt <= 1 else f"{key} retry {attempt - 1}"
