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

from police_assets.core.months import add_months, is_month


def fingerprint(members: dict[str, tuple[str, int]]) -> str:
    """A short digest of one month's members: ``{name: (crc32 hex, size)}`` -> 12 hex characters."""
    lines = "\n".join(f"{name}:{crc}:{size}" for name, (crc, size) in sorted(members.items()))
    return hashlib.sha1(lines.encode()).hexdigest()[:12]


def members_by_month(infolist) -> dict[str, dict[str, tuple[str, int]]]:
    """Group an archive's CSV members (objects with name, crc32, size) by the ``YYYY-MM`` folder they sit in;
    members outside such a folder are no month's."""
    out: dict[str, dict[str, tuple[str, int]]] = defaultdict(dict)
    for m in infolist:
        folder, _, rest = m.name.partition("/")
        if rest and m.name.endswith(".csv") and is_month(folder):
            out[folder][m.name] = (f"{m.crc32:08x}", m.size)
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


@dataclass
class Decision:
    """What a sensor tick does about a release: the runs to request (run key, months, reason), or why none."""

    runs: list[tuple[str, list[str], str]]
    skip_reason: str | None
    summary: str


def decide(
    cursor: Cursor,
    last_updated: str,
    archive_fingerprints: dict[str, str],
    loaded_fingerprints: dict[str, str],
    partitions: set[str],
    start: str | None = None,
) -> Decision:
    """The sensor's decision for release ``last_updated``, given the newest archive's fingerprints per month and
    those of the loaded months (the raw manifests), without any I/O. Updates ``cursor`` (pending runs,
    attempts, the retry list, the release seen).

    Wanted months are those the archive holds from ``start`` (by default its oldest) that are partitions. A
    loaded month the archive no longer holds (aged out of the source's 36 months) is not looked at: it stays
    loaded and is never requested. Each contiguous run of new, revised or retried months is one run.
    """
    start = start or min(archive_fingerprints)
    wanted = {m for m in archive_fingerprints if m >= start and m in partitions}
    loaded = {m: fp for m, fp in loaded_fingerprints.items() if m in wanted}
    in_flight = {m for months in cursor.pending.values() for m in months}
    plan = plan_release(archive_fingerprints, loaded, wanted, in_flight)
    # a failed month is requested again unless this release loads it anyway (new or revised) or it is no
    # longer wanted; either way it leaves the retry list now, with the cursor this tick saves
    retry = [m for m in cursor.retry if m in wanted and m not in plan.new and m not in plan.revised]
    cursor.retry = []
    runs = []
    for reason, months in (("new", plan.new), ("revised", plan.revised), ("retry", retry)):
        for run in contiguous_runs(months):
            attempt = 1 + max(cursor.attempts.get(m, 0) for m in run)
            key = run_key(last_updated, run, archive_fingerprints, attempt)
            runs.append((key, run, reason))
            cursor.pending[key] = run
            for m in run:
                cursor.attempts[m] = attempt
    cursor.last_updated = last_updated
    return Decision(
        runs=runs,
        skip_reason=None if runs else f"release {last_updated} changes nothing loaded from {start} on",
        summary=f"release {last_updated}: new {plan.new or '-'}, revised {plan.revised or '-'}, retry {retry or '-'}",
    )
