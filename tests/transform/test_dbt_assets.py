"""The small pure helpers around dbt: the month window passed in dbt's environment, the argv, target housekeeping;
and that the window leaves dbt's partial parsing intact."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from police_assets.transform.build import dbt_build_args, dbt_month_env, keep_parse_state
from police_assets.transform.project import dbt_project


@pytest.mark.parametrize(
    "first,last,expected",
    [
        ("2024-01", "2024-01", ("2024-01-01", "2024-02-01")),
        ("2023-11", "2024-02", ("2023-11-01", "2024-03-01")),  # across a year end
        ("2010-12", "2010-12", ("2010-12-01", "2011-01-01")),
    ],
)
def test_the_dbt_month_window_is_half_open_over_first_days(first, last, expected):
    assert dbt_month_env(first, last) == {"POLICE_DBT_MIN_MONTH": expected[0], "POLICE_DBT_MAX_MONTH": expected[1]}


def test_dbt_build_args():
    assert dbt_build_args() == ["build", "--exclude-resource-type", "unit_test"]
    assert dbt_build_args(full_refresh=True) == ["build", "--full-refresh", "--exclude-resource-type", "unit_test"]


def test_the_dbt_unit_tests_pass_here_as_runs_leave_them_out(tmp_path):
    """Production builds leave the unit tests out (dbt_build_args); this is where they run: every one of the
    project's unit tests, against empty models built from empty landing views (a unit test reads its inputs'
    column types from the warehouse)."""
    import duckdb

    from police_assets.core.storage import landing_dir_for
    from police_assets.warehouse.load import ensure_landing, load_force_files

    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        ensure_landing(con, landing_dir_for(tmp_path / "w.duckdb"))
        load_force_files(con, "2024-01", [], "no files")
    dbt = str(Path(sys.executable).with_name("police-dbt"))
    project = Path(dbt_project.project_dir)
    env = dict(os.environ, POLICE_WAREHOUSE=str(tmp_path / "w.duckdb"), DBT_LOG_PATH=str(tmp_path / "logs"))
    common = ["--profiles-dir", str(project), "--target-path", str(tmp_path / "t"), "-q"]
    for args in (
        ["build", "--empty", "--exclude-resource-type", "test", "unit_test"],
        ["test", "-s", "test_type:unit"],
    ):
        out = subprocess.run([dbt, *args, *common], cwd=project, env=env, capture_output=True, text=True, timeout=240)
        assert out.returncode == 0, out.stdout[-3000:]
    results = json.loads((tmp_path / "t" / "run_results.json").read_text())["results"]
    manifest = json.loads((project / "target" / "manifest.json").read_text())
    assert sorted(r["unique_id"] for r in results) == sorted(manifest["unit_tests"]) != []
    assert {r["status"] for r in results} == {"pass"}


def test_a_new_month_window_keeps_dbt_partial_parsing_and_reaches_the_sql(tmp_path):
    """Two compiles with different windows, the second from the first's parse state as the dbt asset hands it on:
    the second parses nothing again, and each compiled model selects its own window."""
    dbt = str(Path(sys.executable).with_name("police-dbt"))
    project = Path(dbt_project.project_dir)
    target, state = tmp_path / "target", tmp_path / "state"
    env = dict(os.environ, POLICE_WAREHOUSE=str(tmp_path / "w.duckdb"), DBT_LOG_PATH=str(tmp_path / "logs"))
    compiled = {}
    for first in ("2024-01", "2023-07"):
        shutil.rmtree(target, ignore_errors=True)
        if (state / "partial_parse.msgpack").exists():  # what dagster-dbt does: start from the project's state
            target.mkdir()
            shutil.copy(state / "partial_parse.msgpack", target)
        run_env = {**env, **dbt_month_env(first, "2024-01")}
        cmd = [dbt, "compile", "--profiles-dir", str(project), "--target-path", str(target)]
        cmd += ["--inline", "select {{ in_month_window('m') }}", "--log-format", "json", "--log-level", "debug"]
        out = subprocess.run(cmd, cwd=project, env=run_env, capture_output=True, text=True, timeout=240)
        assert out.returncode == 0, out.stdout[-3000:]
        keep_parse_state(target, state.mkdir(exist_ok=True) or state)
        compiled[first] = out.stdout
    said = _messages(compiled["2023-07"])
    assert any("skipping partial parsing" in msg for msg in said), said[:20]
    assert not any("Unable to do partial parsing" in msg for msg in said)
    shown = {first: [m for m in _messages(out) if "m >= cast(" in m] for first, out in compiled.items()}
    assert any("'2024-01-01' as date) and m < cast('2024-02-01'" in m for m in shown["2024-01"]), shown
    assert any("'2023-07-01' as date) and m < cast('2024-02-01'" in m for m in shown["2023-07"]), shown


def _messages(stdout: str) -> list[str]:
    return [json.loads(line)["info"]["msg"] for line in stdout.splitlines() if line.startswith("{")]


def test_prune_run_targets_keeps_the_newest(tmp_path):
    import os

    from police_assets.transform.build import prune_run_targets

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

    storage = PoliceStorage(data_dir=str(tmp_path / "data"))  # no force files table: its staging cannot be built
    monkeypatch.setenv("POLICE_WAREHOUSE", str(storage.warehouse))
    result = materialize_months([police_dbt_assets], "2024-01", storage=storage, raise_on_error=False)
    assert not result.success
    built = {
        tuple(e.asset_key.path): e.step_materialization_data.materialization.metadata
        for e in result.get_asset_materialization_events()
    }
    assert ("reference", "crime_types") in built and ("staging", "stg_police__force_files") not in built
    assert ("staging", "stg_police__street_crimes") in built  # over the empty landing view the step made
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
    from police_assets.transform.build import _out_of_memory

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


def test_month_keyed_tests_read_the_run_window_and_the_journeys_key_every_copy_of_the_keys_the_build_wrote(
    tmp_path,
):
    """A test of a month-local model (the model's `meta: {month_window: ...}`) reads only the run's months
    (get_where_subquery), the child side of a relationship too; a test of any other model reads every row. The
    journeys' key, which a month's build rewrites for crimes of any month, is checked on the keys the latest
    build wrote, with their old copies: a key written again beside an old row of itself fails it."""
    dbt = str(Path(sys.executable).with_name("police-dbt"))
    project = Path(dbt_project.project_dir)
    env = {
        **os.environ,
        "POLICE_WAREHOUSE": str(tmp_path / "w.duckdb"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
        **dbt_month_env("2024-02", "2024-02"),
    }
    cmd = [dbt, "compile", "--profiles-dir", str(project), "--target-path", str(tmp_path / "t"), "-q"]
    cmd += ["--select", "test_name:unique,int_street_crimes", "test_name:unique,int_crime_journeys"]
    cmd += ["test_name:relationships,int_street_crimes", "test_name:not_null,stg_police__outcomes"]
    cmd += ["test_name:unique,dim_forces"]
    out = subprocess.run(cmd, cwd=project, env=env, capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stdout[-3000:]
    compiled = {p.stem: p.read_text() for p in (tmp_path / "t").rglob("*.sql")}
    window = "{column} >= cast('2024-02-01' as date) and {column} < cast('2024-03-01' as date)"
    month_local = [name for name in compiled if "int_street_cr" in name or "outcomes" in name]
    assert len(month_local) == 6, sorted(compiled)  # a unique key, three relationships, two not_nulls
    for name in month_local:
        column = "outcome_month" if "outcomes" in name else "crime_month"
        assert window.format(column=column) in compiled[name], name
    assert "2024-02-01" not in compiled["unique_dim_forces_force_id"]
    assert "2024-02-01" not in compiled["unique_int_crime_journeys_street_crime_key"]
    journeys = compiled["unique_int_crime_journeys_street_crime_key"]
    assert "crime_month" not in journeys and "max(refreshed_at)" in journeys

    import duckdb

    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        con.execute("CREATE SCHEMA intermediate")
        con.execute("CREATE TABLE intermediate.int_crime_journeys (street_crime_key VARCHAR, refreshed_at TIMESTAMP)")
        con.execute(
            "INSERT INTO intermediate.int_crime_journeys VALUES ('old', '2024-01-01'), ('again', '2024-01-01'), "
            "('again', '2024-02-01'), ('new', '2024-02-01')"
        )
        assert [r[0] for r in con.execute(journeys).fetchall()] == ["again"]
        con.execute("DELETE FROM intermediate.int_crime_journeys WHERE street_crime_key = 'again'")
        assert con.execute(journeys).fetchall() == []


def test_column_lineage_is_kept_until_its_model_or_columns_change(tmp_path, monkeypatch):
    """The lineage of a model whose SQL, macros and columns are as before comes from the project's cache, not
    sqlglot; a change of its columns, or a damaged cache, computes it again."""
    from dagster import AssetKey, TableColumn, TableColumnDep, TableColumnLineage, TableSchema

    from police_assets.transform import lineage
    from police_assets.transform.project import manifest_nodes, relation_of
    from police_assets.transform.translator import TRANSLATOR

    computed = []

    def fake(columns, parents, props, *rest):
        computed.append(props["name"])
        dep = TableColumnDep(asset_key=AssetKey(["staging", "x"]), column_name=next(iter(columns)))
        return {"dagster/column_lineage": TableColumnLineage(deps_by_column={next(iter(columns)): [dep]})}

    monkeypatch.setattr(lineage, "column_lineage_metadata", fake)
    model = "model.police.int_outcomes"
    props = manifest_nodes()[model]

    def tables(type_: str) -> dict:
        schema = TableSchema(columns=[TableColumn("crime_id", type_)])
        return {relation_of(props): {"dagster/column_schema": schema}}

    target = tmp_path / "target" / "run-1"
    target.mkdir(parents=True)

    def run(type_: str) -> TableColumnLineage:
        return lineage.column_lineage([model], tables(type_), target, TRANSLATOR, log=None)[model][
            "dagster/column_lineage"
        ]

    first = run("VARCHAR")
    assert run("VARCHAR") == first and computed == ["int_outcomes"]  # the second from the cache
    assert (tmp_path / "target" / lineage.CACHE_NAME).is_file()
    run("BIGINT")  # its columns changed
    assert computed == ["int_outcomes"] * 2
    (tmp_path / "target" / lineage.CACHE_NAME).write_text("{not json")
    assert run("BIGINT") == first and computed == ["int_outcomes"] * 3
