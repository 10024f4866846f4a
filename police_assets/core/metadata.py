"""Small helpers that turn what a stage did into Dagster metadata (previews, schemas, sizes)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

from dagster import AssetKey, Failure, MaterializeResult, MetadataValue

# Who answers for the assets (Dagster shows owners on every asset page); one team for the whole platform.
OWNERS = ["team:police-data-platform"]


def code_version(stage_file: str | Path, *shared: str | Path) -> str:
    """A digest of what an asset's behaviour comes from: every file of its stage's package (the folder of
    ``stage_file``: code, templates, scripts) and the ``shared`` modules it reads (the dataset specs, say). When
    any changes, Dagster shows the asset's materialisations as from an older code version, so a re-run after an
    upgrade is visible."""
    files = [f for f in Path(stage_file).resolve().parent.rglob("*") if f.is_file() and "__pycache__" not in f.parts]
    digest = hashlib.sha1()
    for f in sorted({*files, *(Path(x).resolve() for x in shared)}):
        digest.update(f.read_bytes())
    return digest.hexdigest()[:12]


def markdown_table(columns: list[str], rows: list[tuple], max_width: int = 40) -> MetadataValue:
    """A markdown table (no tabulate dependency) with long cells cut to ``max_width``."""

    def cell(v) -> str:
        s = "" if v is None else str(v)
        s = s.replace("|", "\\|").replace("\n", " ")
        return s if len(s) <= max_width else s[: max_width - 1] + "…"

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return MetadataValue.md("\n".join(lines))


def months_metadata(months: list[str]) -> MetadataValue:
    """The data months a published output covers, as "first..last (count)"."""
    return MetadataValue.text(f"{months[0]}..{months[-1]} ({len(months)})" if months else "none")


def preview(con, sql: str, params: list | None = None, limit: int = 5) -> MetadataValue:
    cur = con.execute(f"SELECT * FROM ({sql}) LIMIT {int(limit)}", params or [])
    return markdown_table([d[0] for d in cur.description], cur.fetchall())


def per_partition(context, by_month: dict[str, dict], asset_key: AssetKey | None = None) -> None:
    """Give each month of a range run its own metadata (``by_month``: month -> entries), so partition 2024-03 of
    a three-month run shows 2024-03's rows, not the run's. The entries override the run-wide metadata of the
    materialisation with the same names; the run-wide entries are named ``run_*`` so they read as such."""
    for month, meta in by_month.items():
        context.add_asset_metadata(meta, asset_key=asset_key, partition_key=month)


def run_metadata(months: list[str], seconds: float) -> dict:
    """What every partition of a run shares: which months the run covered and how long the step took."""
    return {"run_months": months_metadata(months), "run_duration_s": round(seconds, 2)}


def stage_results(
    stage: str,
    metadata: dict[str, dict],
    failed: dict[str, str],
    context=None,
    by_month: dict[str, dict[str, dict]] | None = None,
) -> Iterator[MaterializeResult]:
    """A stage step's outcome: a materialisation for each dataset that succeeded (``metadata`` by dataset name,
    ``by_month[name]`` its per-month entries), then, if any dataset failed, the step's failure naming each one
    (``failed``: dataset name -> message)."""
    for name, meta in metadata.items():
        key = AssetKey([stage, name])
        if context is not None and by_month:
            per_partition(context, by_month.get(name, {}), key)
        yield MaterializeResult(asset_key=key, metadata=meta)
    if failed:
        raise Failure("; ".join(failed.values()))
