"""The dbt project, on its own: no Dagster assets here, so tooling can import it without the manifest."""

import json
from functools import cache

import yaml
from dagster_dbt import DbtProject

from police_assets.core.config import DBT_PROJECT_DIR

# The manifest (dbt/target/manifest.json) is built by `dbt parse` in `make setup`, CI and the test conftest;
# we do not call prepare_if_dev(): under `dagster dev` it re-parses in every process.
dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


@cache
def dbt_var(name: str):
    """A project var's default from dbt_project.yml (where labels the marts write are defined once)."""
    return yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())["vars"][name]


@cache
def manifest() -> dict:
    """The dbt manifest, read once per process (the one this process's dbt assets were built from)."""
    return json.loads(dbt_project.manifest_path.read_text())


@cache
def manifest_nodes() -> dict[str, dict]:
    """The dbt manifest's models, seeds, tests and sources by unique id."""
    return {**manifest()["nodes"], **manifest().get("sources", {})}


def model_docs(schema: str) -> dict[str, dict]:
    """The dbt descriptions of the models in ``schema`` (from the manifest): ``{model: {"description": ...,
    "columns": {column: description}}}``. The one source of the data dictionary wherever it is shown."""
    return {
        node.get("alias") or node["name"]: {
            "description": " ".join((node.get("description") or "").split()),
            "columns": {
                name: " ".join((col.get("description") or "").split()) for name, col in node["columns"].items()
            },
        }
        for node in manifest_nodes().values()
        if node["resource_type"] == "model" and node.get("schema") == schema
    }


def relation_of(props: dict) -> tuple[str, str]:
    """(schema, table) of a dbt model, seed or source, from its manifest entry."""
    return props["schema"], props.get("alias") or props.get("identifier") or props["name"]
