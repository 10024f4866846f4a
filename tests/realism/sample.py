"""Helpers for the realism tests: serve ../shared/police-real-sample as data.police.uk would.

The real files are never copied into the repository; the tests build archives from them in a temp folder.
"""

import csv
import json
import zipfile
from collections import defaultdict
from pathlib import Path

from police_assets.core.datasets import dataset_for_member
from police_assets.core.months import archive_month_for

REAL_SAMPLE = Path(__file__).resolve().parents[3] / "shared" / "police-real-sample"
LATEST = "2022-01"


def sample_months() -> list[str]:
    return sorted(p.name for p in REAL_SAMPLE.iterdir() if p.is_dir() and p.name[:2] == "20")


def build_site(root: Path) -> Path:
    """One archive per month, named as :func:`archive_month_for` would pick it with 2022-01 as the latest."""
    by_archive = defaultdict(list)
    for month in sample_months():
        by_archive[archive_month_for(month, LATEST)].append(month)
    for archive, months in by_archive.items():
        path = root / "data" / "archive" / f"{archive}.zip"
        path.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for month in months:
                for f in sorted((REAL_SAMPLE / month).glob("*.csv")):
                    zf.write(f, f"{month}/{f.name}")
    api = root / "api"
    api.mkdir(parents=True, exist_ok=True)
    (api / "crimes-street-dates.json").write_text(json.dumps([{"date": LATEST, "stop-and-search": []}]))
    (api / "crime-last-updated.json").write_text(json.dumps({"date": "2022-03-01"}))
    forces = sorted(
        {
            hit[1]
            for m in sample_months()
            for f in (REAL_SAMPLE / m).glob("*.csv")
            if (hit := dataset_for_member(f.name, m))
        }
    )
    (api / "forces.json").write_text(json.dumps([{"id": f, "name": f} for f in forces]))
    return root


def independent_counts(suffix: str) -> dict[str, int]:
    """Data rows per month counted with the csv module, no project code: the number the lake must account for."""
    counts: dict[str, int] = defaultdict(int)
    for month in sample_months():
        for f in (REAL_SAMPLE / month).glob(f"*-{suffix}.csv"):
            with open(f, newline="") as fh:
                counts[month] += sum(1 for _ in csv.reader(fh)) - 1
    return dict(counts)


def independent_records(suffix: str) -> dict[str, int]:
    """Records per month under the dedup rules, counted with the csv module, no project code.

    street: one record per (month, Crime ID), plus every row without a Crime ID;
    outcomes: one record per (month, Crime ID, outcome), plus every row without a Crime ID;
    stop-and-search: every row.
    """
    counts: dict[str, int] = defaultdict(int)
    for month in sample_months():
        seen = set()
        for f in sorted((REAL_SAMPLE / month).glob(f"*-{suffix}.csv")):
            with open(f, newline="") as fh:
                for row in csv.DictReader(fh):
                    crime_id = (row.get("Crime ID") or "").strip()
                    if suffix == "stop-and-search" or not crime_id:
                        counts[month] += 1
                        continue
                    key = (crime_id, row["Outcome type"]) if suffix == "outcomes" else crime_id
                    if key not in seen:
                        seen.add(key)
                        counts[month] += 1
    return dict(counts)


def lsoa_names() -> set[str]:
    names = set()
    for month in sample_months():
        for f in (REAL_SAMPLE / month).glob("*.csv"):
            with open(f, newline="") as fh:
                names.update((row.get("LSOA name") or "").strip() for row in csv.DictReader(fh))
    return names - {""}
