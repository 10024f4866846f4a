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

Computing it is a noticeable part of every run (docs/benchmarks.md) and gives the same answer until the model's SQL, the
project's macros or the columns change, so each model's lineage is kept in ``dbt/target/column_lineage.json``
under a digest of exactly those inputs (:func:`lineage_key`); the month window a run compiles with is not one of
them: it changes which rows are read, not which columns feed which.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from importlib.metadata import version
from pathlib import Path
from typing import Any

from dagster import deserialize_value, serialize_value

from police_assets.core.internals import column_lineage_metadata
from police_assets.core.tempfiles import temp_path
from police_assets.transform.project import dbt_project, manifest, manifest_nodes, relation_of

CACHE_NAME = "column_lineage.json"


def _columns(table_meta: Mapping[str, Any] | None) -> dict[str, dict[str, str]]:
    schema = (table_meta or {}).get("dagster/column_schema")
    return {c.name: {"data_type": c.type} for c in schema.columns} if schema else {}


def macros_digest(full: dict, package: str) -> str:
    """A digest of every macro of ``package`` in the manifest ``full``: they shape each model's compiled SQL."""
    macros = sorted(m["macro_sql"] for m in full.get("macros", {}).values() if m.get("package_name") == package)
    return hashlib.sha256(json.dumps(macros).encode()).hexdigest()


def lineage_key(props: dict, columns: dict, parents: dict, parent_keys: list[str], macros: str) -> str:
    """A digest of what a model's column lineage is computed from: its SQL as written, the project's macros
    (``macros``, their :func:`macros_digest`), its columns' types and its parents', the asset keys the translator
    gives its parents, and dagster-dbt's version (it computes the lineage)."""
    said = [props["raw_code"], macros, columns, parents, parent_keys, version("dagster-dbt")]
    return hashlib.sha256(json.dumps(said, sort_keys=True, default=str).encode()).hexdigest()


def _read_cache(path: Path) -> dict[str, dict]:
    try:
        kept = json.loads(path.read_text())
        return kept if isinstance(kept, dict) else {}
    except (OSError, ValueError):  # none yet, or damaged: computed again
        return {}


def _write_cache(path: Path, kept: dict[str, dict]) -> None:
    tmp = temp_path(path)
    try:
        tmp.write_text(json.dumps(kept, sort_keys=True))
        os.replace(tmp, path)
    except OSError:  # a read-only project folder: the next run computes it again
        pass
    finally:
        tmp.unlink(missing_ok=True)


def column_lineage(
    unique_ids: list[str], tables: Mapping[tuple[str, str], Mapping[str, Any]], target_path: Path, translator, log
) -> dict[str, dict]:
    """``{unique_id: {"dagster/column_lineage": ...}}`` for the models among ``unique_ids`` (what the dbt step
    materialised); ``tables`` is the warehouse catalogue by (schema, table), ``target_path`` the dbt run's
    target folder (its compiled SQL), ``translator`` the dbt assets' (it names the upstream assets). A model
    whose inputs are unchanged since a run computed its lineage gets that run's: the project's target folder
    (``target_path``'s parent) keeps each model's latest, under its :func:`lineage_key`."""
    full, nodes = manifest(), manifest_nodes()
    cache_path = Path(target_path).parent / CACHE_NAME
    kept = _read_cache(cache_path)
    digests: dict[str, str] = {}  # package -> its macros' digest, computed once a call
    changed = False
    out: dict[str, dict] = {}
    for unique_id in unique_ids:
        props = nodes.get(unique_id)
        if not props or props["resource_type"] != "model":
            continue
        parents, parent_keys = {}, []
        for parent_id in full["parent_map"].get(unique_id, []):
            parent = nodes.get(parent_id)
            if parent and parent.get("relation_name"):
                parents[parent["relation_name"]] = _columns(tables.get(relation_of(parent)))
                parent_keys.append(translator.get_asset_key(parent).to_user_string())
        columns = _columns(tables.get(relation_of(props)))
        package = props["package_name"]
        if package not in digests:
            digests[package] = macros_digest(full, package)
        key = lineage_key(props, columns, parents, sorted(parent_keys), digests[package])
        if (entry := kept.get(unique_id)) and entry.get("key") == key:
            out[unique_id] = deserialize_value(entry["lineage"], dict)
            continue
        try:
            out[unique_id] = column_lineage_metadata(
                columns, parents, props, full, translator, target_path, dbt_project
            )
        except Exception as exc:  # noqa: BLE001 - decoration must never fail the run
            log.warning(f"no column lineage for {props['name']}: {type(exc).__name__}: {exc}")
            continue
        kept[unique_id] = {"key": key, "lineage": serialize_value(out[unique_id])}
        changed = True
    if changed:
        _write_cache(cache_path, kept)
    return out
