"""The dbt project, on its own: no Dagster assets here, so tooling can import it without the manifest."""

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
