"""Column lineage of the dbt models, for Dagster's catalogue: which upstream columns each column is built from.

dagster-dbt computes it with sqlglot from each model's compiled SQL and the column types of the model and its
parents, which its ``fetch_column_metadata()`` reads through a second warehouse connection while dbt is still
running. DuckDB allows one writer per file and dbt holds it, so that connection would fail (docs/decisions/0002).
Here the same computation runs once dbt has exited, from the column types the dbt step has just read through
its single read-only connection (:func:`police_assets.transform.build.warehouse_catalogue`).

The computation is dagster-dbt's own (private: reached through core.internals, which checks the pinned
version): the lineage is theirs, not a second implementation. Lineage is catalogue decoration: if it cannot be
built for a model (SQL that sqlglot cannot parse), that model has none and the run goes on, with a warning
naming it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from police_assets.core.internals import column_lineage_metadata
from police_assets.transform.project import dbt_project, manifest, manifest_nodes, relation_of


def _columns(table_meta: Mapping[str, Any] | None) -> dict[str, dict[str, str]]:
    schema = (table_meta or {}).get("dagster/column_schema")
    return {c.name: {"data_type": c.type} for c in schema.columns} if schema else {}


def column_lineage(
    unique_ids: list[str], tables: Mapping[tuple[str, str], Mapping[str, Any]], target_path: Path, translator, log
) -> dict[str, dict]:
    """``{unique_id: {"dagster/column_lineage": ...}}`` for the models among ``unique_ids`` (what the dbt step
    materialised); ``tables`` is the warehouse catalogue by (schema, table), ``target_path`` the dbt run's
    target folder (its compiled SQL), ``translator`` the dbt assets' (it names the upstream assets)."""
    full, nodes = manifest(), manifest_nodes()
    out: dict[str, dict] = {}
    for unique_id in unique_ids:
        props = nodes.get(unique_id)
        if not props or props["resource_type"] != "model":
            continue
        parents = {}
        for parent_id in full["parent_map"].get(unique_id, []):
            parent = nodes.get(parent_id)
            if parent and parent.get("relation_name"):
                parents[parent["relation_name"]] = _columns(tables.get(relation_of(parent)))
        try:
            out[unique_id] = column_lineage_metadata(
                _columns(tables.get(relation_of(props))), parents, props, full, translator, target_path, dbt_project
            )
        except Exception as exc:  # noqa: BLE001 - decoration must never fail the run
            log.warning(f"no column lineage for {props['name']}: {type(exc).__name__}: {exc}")
    return out
