"""The dbt project, on its own: no Dagster assets here, so tooling can import it without the manifest."""

from pathlib import Path

from dagster_dbt import DbtProject

# The manifest (dbt/target/manifest.json) is built by `dbt parse` in `make setup`, CI and the test conftest;
# we do not call prepare_if_dev(): under `dagster dev` it re-parses in every process, seconds each.
dbt_project = DbtProject(
    project_dir=Path(__file__).resolve().parent.parent / "dbt",
    profiles_dir=Path(__file__).resolve().parent.parent / "dbt",
)
