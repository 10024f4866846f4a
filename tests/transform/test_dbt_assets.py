"""The small pure helpers around dbt: the month window passed as vars, the argv, target housekeeping."""

import json
import re

import pytest

from police_assets.transform.assets import dbt_build_args, dbt_month_vars


@pytest.mark.parametrize(
    "first,last,expected",
    [
        ("2024-01", "2024-01", {"min_month": "2024-01-01", "max_month": "2024-02-01"}),
        ("2023-11", "2024-02", {"min_month": "2023-11-01", "max_month": "2024-03-01"}),  # across a year end
        ("2010-12", "2010-12", {"min_month": "2010-12-01", "max_month": "2011-01-01"}),
    ],
)
def test_dbt_month_vars_are_a_half_open_window_of_first_days(first, last, expected):
    assert dbt_month_vars(first, last) == expected


def test_dbt_build_args():
    args = dbt_build_args("2024-01", "2024-03")
    assert args[:2] == ["build", "--vars"] and json.loads(args[2]) == dbt_month_vars("2024-01", "2024-03")
    assert "--full-refresh" not in args
    assert dbt_build_args("2024-01", "2024-03", full_refresh=True)[-1] == "--full-refresh"


def test_prune_run_targets_keeps_the_newest(tmp_path):
    import os

    from police_assets.transform.assets import prune_run_targets

    for i in range(8):
        d = tmp_path / f"police_dbt_assets-{i:07d}-abc"
        d.mkdir()
        (d / "run_results.json").write_text("{}")
        os.utime(d, (1000 + i, 1000 + i))
    (tmp_path / "manifest.json").write_text("{}")
    assert prune_run_targets(tmp_path, keep=3) == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "manifest.json",
        "police_dbt_assets-0000005-abc",
        "police_dbt_assets-0000006-abc",
        "police_dbt_assets-0000007-abc",
    ]


def test_when_dbt_fails_what_it_built_is_still_reported_with_its_catalogue(tmp_path, monkeypatch):
    """The dbt step holds its materialisations until dbt exits (to add column types and row counts): a dbt
    that fails partway must still report what it built before the step fails."""
    from police_assets.core.storage import PoliceStorage
    from police_assets.transform.assets import police_dbt_assets
    from tests.helpers import materialize_months

    storage = PoliceStorage(data_dir=str(tmp_path / "data"))  # no landing tables: staging cannot be built
    monkeypatch.setenv("POLICE_WAREHOUSE", str(storage.warehouse))
    result = materialize_months([police_dbt_assets], "2024-01", storage=storage, raise_on_error=False)
    assert not result.success
    built = {
        tuple(e.asset_key.path): e.step_materialization_data.materialization.metadata
        for e in result.get_asset_materialization_events()
    }
    assert ("reference", "crime_types") in built and ("staging", "stg_police__street_crimes") not in built
    assert built[("reference", "crime_types")]["table_row_count"].value > 10  # the seed's rows, counted after dbt


def test_the_dbt_project_names_datasets_as_the_dataset_spec_table_does():
    """The coverage mart labels each dataset's record counts with its file suffix, and staging accepts only
    those: both must be the spec table's suffixes, or a dataset's records would never meet its force files."""
    from police_assets.core.datasets import DATASETS
    from police_assets.transform.project import dbt_project

    manifest = json.loads(dbt_project.manifest_path.read_text())
    suffixes = sorted(spec.file_suffix for spec in DATASETS)
    accepted = [
        node["test_metadata"]["kwargs"]["values"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test"
        and node.get("attached_node") == "model.police.stg_police__force_files"
        and (node.get("test_metadata") or {}).get("name") == "accepted_values"
    ]
    assert [sorted(values) for values in accepted] == [suffixes]
    coverage = manifest["nodes"]["model.police.fct_force_month_coverage"]["raw_code"]
    assert sorted(set(re.findall(r"'([a-z-]+)' as dataset_name", coverage))) == suffixes


def test_every_dbt_check_and_asset_says_what_it_is_and_who_owns_it():
    from police_assets.transform.assets import police_dbt_assets

    specs = list(police_dbt_assets.check_specs)
    assert len(specs) > 50 and all(spec.description for spec in specs)  # never "No description provided"
    by_name = {spec.name: spec.description for spec in specs}
    assert (
        by_name["unique_int_outcomes_outcome_key"]
        == "dbt test: no value of int_outcomes.outcome_key repeats (one row per key)."
    )
    assert (
        "exists in int_forces.force_id"
        in by_name["relationships_int_street_crimes_force_id__force_id__ref_int_forces_"]
    )
    assert all(spec.owners == ["team:police-data-platform"] for spec in police_dbt_assets.specs)


def test_out_of_memory_is_recognised_when_dbt_stopped_before_writing_its_results():
    """dbt can run out of memory while it sets up (exit code 2, no run_results.json): the failure's own text is
    then where DuckDB's message is, and the advice quotes that line, not the failure's first."""
    from police_assets.core.config import out_of_memory_advice
    from police_assets.transform.assets import _out_of_memory

    class NoResults:
        def get_artifact(self, name):
            raise FileNotFoundError(name)

    failure = RuntimeError(
        "The dbt CLI process with command\n  failed with exit code `2`. Check the stdout ...\n"
        "    Out of Memory Error: failed to allocate data of size 32.0 KiB (988.0 KiB/976.5 KiB used)"
    )
    said = _out_of_memory(NoResults(), failure)
    assert said is not None
    advice = out_of_memory_advice("dbt", said)
    assert advice.endswith(
        "DuckDB said: Out of Memory Error: failed to allocate data of size 32.0 KiB (988.0 KiB/976.5 KiB used)"
    )
    assert _out_of_memory(NoResults(), RuntimeError("a model failed: Binder Error")) is None
