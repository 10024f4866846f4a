"""How the dbt project's nodes become Dagster assets and checks: their keys, groups, owners and descriptions.
The one place that names a dbt node's asset key; other stages ask here (:func:`model_keys`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dagster import AssetCheckSpec, AssetKey
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

from police_assets.core.metadata import OWNERS
from police_assets.transform.project import manifest_nodes


class PoliceDbtTranslator(DagsterDbtTranslator):
    """Two generic rules: a source is the warehouse asset that loads it; a model is keyed and grouped by folder.

    Keys do not depend on dbt's `+schema` config, so renaming a schema does not rename assets.
    """

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        return AssetKey([self._folder(dbt_resource_props), dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return self._folder(dbt_resource_props)

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> Sequence[str] | None:
        return OWNERS

    def get_asset_check_spec(self, asset_spec, manifest, unique_id, project) -> AssetCheckSpec | None:
        """dbt's data tests as asset checks, each saying what it checks (dbt's generic tests carry no
        description of their own: the UI would read "No description provided")."""
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None or spec.description:
            return spec
        return AssetCheckSpec(
            spec.name,
            asset=spec.asset_key,
            description=describe_test(manifest["nodes"][unique_id]),
            additional_deps=spec.additional_deps,
            blocking=spec.blocking,
            metadata=spec.metadata,
        )

    @staticmethod
    def _folder(props: Mapping[str, Any]) -> str:
        fqn = props.get("fqn") or []
        # fqn: [project, folder, ..., name]; seeds sit at the top of their folder
        return fqn[1] if len(fqn) > 2 else "reference"


def describe_test(node: Mapping[str, Any]) -> str:
    """What a dbt data test checks, in a sentence, from its manifest node."""
    meta = node.get("test_metadata") or {}
    kwargs = meta.get("kwargs") or {}
    model = (node.get("attached_node") or "").rsplit(".", 1)[-1]
    column = kwargs.get("column_name") or node.get("column_name")
    where = f"{model}.{column}" if column else model
    name = meta.get("name")
    if name == "unique":
        return f"dbt test: no value of {where} repeats (one row per key)."
    if name == "not_null":
        return f"dbt test: {where} is never missing."
    if name == "relationships":
        target = str(kwargs.get("to", "")).replace("ref('", "").replace("')", "")
        return f"dbt test: every {where} exists in {target}.{kwargs.get('field')}."
    if name == "accepted_values":
        return f"dbt test: {where} is one of {', '.join(map(str, kwargs.get('values', [])))}."
    return f"dbt test {node.get('name')} on {where}."


TRANSLATOR = PoliceDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


def model_keys(*folders: str) -> list[AssetKey]:
    """The asset keys of the dbt models in the given top folders (``marts``, ``publish``), sorted."""
    return sorted(
        TRANSLATOR.get_asset_key(props)
        for props in manifest_nodes().values()
        if props["resource_type"] == "model" and TRANSLATOR.get_group_name(props) in folders
    )
