"""Small helpers that turn what a stage did into Dagster metadata (previews, schemas, sizes)."""

from __future__ import annotations

from collections.abc import Iterator

from dagster import AssetKey, Failure, MaterializeResult, MetadataValue, TableColumn, TableSchema

from police_assets.core.datasets import LINEAGE_COLUMNS, DatasetSpec
from police_assets.lake.convert import lake_schema


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


def column_schema(spec: DatasetSpec) -> TableSchema:
    """The lake/warehouse columns of a dataset with their types and descriptions, for the catalogue."""
    described = {c.name: c.description for c in (*spec.columns, *LINEAGE_COLUMNS)}
    described["month"] = "The month the data describes (first day of the month)."
    return TableSchema(
        columns=[
            TableColumn(name, sql_type, description=described.get(name, "")) for name, sql_type in lake_schema(spec)
        ]
    )


def preview(con, sql: str, params: list | None = None, limit: int = 5) -> MetadataValue:
    cur = con.execute(f"SELECT * FROM ({sql}) LIMIT {int(limit)}", params or [])
    return markdown_table([d[0] for d in cur.description], cur.fetchall())


def stage_results(stage: str, metadata: dict[str, dict], failed: dict[str, str]) -> Iterator[MaterializeResult]:
    """A stage step's outcome: a materialisation for each dataset that succeeded (``metadata`` by dataset name),
    then, if any dataset failed, the step's failure naming each one (``failed``: dataset name -> message)."""
    for name, meta in metadata.items():
        yield MaterializeResult(asset_key=AssetKey([stage, name]), metadata=meta)
    if failed:
        raise Failure("; ".join(failed.values()))
