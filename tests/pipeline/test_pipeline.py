"""In-process materialisations of the whole chain against the fake data.police.uk."""

import itertools
import zipfile

import duckdb
from dagster import DagsterInstance, materialize

from police_assets.core.storage import PoliceStorage
from police_assets.definitions import all_assets, defs
from police_assets.lake.assets import lake_assets
from police_assets.raw.assets import archive_month
from police_assets.warehouse.assets import force_files, warehouse_assets
from tests.helpers import materialize_months

INGEST_ASSETS = [archive_month, *lake_assets, *warehouse_assets, force_files]


def _resources(storage, police):
    return {"storage": storage, "police": police, "dbt": defs.resources["dbt"]}


def _archive_rows(fake_site, months, suffix):
    """An independent count: data rows in the archive's members, read with zipfile, no project code."""
    with zipfile.ZipFile(fake_site / "data/archive/2024-03.zip") as zf:
        return {
            m: sum(zf.read(n).count(b"\r\n") - 1 for n in zf.namelist() if n.startswith(f"{m}/") and n.endswith(suffix))
            for m in months
        }


def _warehouse_counts(storage: PoliceStorage):
    with duckdb.connect(str(storage.warehouse), read_only=True) as con:
        return {
            t: dict(con.execute(f"SELECT strftime(month, '%Y-%m'), count(*) FROM landing.{t} GROUP BY 1").fetchall())
            for t in ("street_crimes", "outcomes", "stop_and_search")
        } | {
            "stg_street": con.execute("SELECT count(*) FROM staging.stg_police__street_crimes").fetchone()[0],
        }


def test_whole_chain_for_two_months_in_one_run_is_idempotent(storage, police, fake_site):
    instance = DagsterInstance.ephemeral()
    first = materialize_months(
        all_assets, "2024-01", "2024-02", storage=storage, police=police, checks=True, instance=instance
    )
    assert first.success
    counts = _warehouse_counts(storage)

    expected = {
        "street_crimes": _archive_rows(fake_site, ["2024-01", "2024-02"], "-street.csv"),
        "outcomes": _archive_rows(fake_site, ["2024-01", "2024-02"], "-outcomes.csv"),
        "stop_and_search": _archive_rows(fake_site, ["2024-01", "2024-02"], "-stop-and-search.csv"),
    }
    for table, per_month in expected.items():
        assert counts[table] == per_month, table
    assert counts["stg_street"] == sum(expected["street_crimes"].values())

    # one run, and every asset recorded a materialisation for both months
    for key in defs.resolve_asset_graph().get_all_asset_keys():
        assert instance.get_materialized_partitions(key) == {"2024-01", "2024-02"}, key

    # each partition of the range run has its own metadata: that month's files, rows, bytes (not the run's)
    raw_events = {e.partition: e.metadata for e in first.asset_materializations_for_node("raw__archive_month")}
    with zipfile.ZipFile(fake_site / "data/archive/2024-03.zip") as zf:
        members = {m: [n for n in zf.namelist() if n.startswith(f"{m}/")] for m in ("2024-01", "2024-02")}
    for month, meta in raw_events.items():
        assert meta["files"].value == len(members[month]) and meta["full_download"].value is False, month
        assert meta["run_months"].value == "2024-01..2024-02 (2)"
    assert raw_events["2024-01"]["run_fetched_per_member_byte"].value < 1.6  # tiny archive: the 64 KiB tail weighs
    lake_rows = {
        e.partition: e.metadata["dagster/row_count"].value
        for e in first.asset_materializations_for_node("lake")
        if e.asset_key.path == ["lake", "street_crimes"]
    }
    assert lake_rows == expected["street_crimes"]
    warehouse_rows = {
        e.partition: e.metadata["dagster/row_count"].value
        for e in first.asset_materializations_for_node("warehouse")
        if e.asset_key.path == ["warehouse", "outcomes"]
    }
    assert warehouse_rows == expected["outcomes"]

    # the dbt models' catalogue: column types, row counts and column lineage, read after dbt exited
    dbt_meta = {
        tuple(e.asset_key.path): e.metadata
        for e in first.asset_materializations_for_node("police_dbt_assets")
        if e.partition == "2024-02"
    }
    crimes = dbt_meta[("intermediate", "int_street_crimes")]
    types = {c.name: c.type for c in crimes["dagster/column_schema"].value.columns}
    assert types["crime_month"] == "DATE" and types["published_row_count"] == "BIGINT"
    with duckdb.connect(str(storage.warehouse), read_only=True) as con:
        rows = con.execute("SELECT count(*) FROM intermediate.int_street_crimes").fetchone()[0]
    assert crimes["table_row_count"].value == rows > 0
    lineage = crimes["dagster/column_lineage"].value.deps_by_column
    assert {(tuple(d.asset_key.path), d.column_name) for d in lineage["force_name"]} == {
        (("intermediate", "int_forces"), "force_name"),
        (("staging", "stg_police__street_crimes"), "reported_by_force_name"),
    }
    staged = dbt_meta[("staging", "stg_police__street_crimes")]["dagster/column_lineage"].value.deps_by_column
    assert any(d.asset_key.path == ["warehouse", "street_crimes"] for d in staged["crime_id"])  # back to the load

    # materialise the same months again: exactly the same rows, nothing duplicated. (The ingest stages here;
    # re-runs through dbt are checked mart by mart in test_marts.py.)
    again = materialize_months(INGEST_ASSETS, "2024-01", "2024-02", storage=storage, police=police, instance=instance)
    assert again.success
    assert _warehouse_counts(storage) == counts


def test_a_single_month_touches_only_that_month(storage, police):
    instance = DagsterInstance.ephemeral()
    python_assets = INGEST_ASSETS
    assert materialize(
        python_assets, resources=_resources(storage, police), partition_key="2024-02", instance=instance
    ).success
    assert materialize(
        python_assets, resources=_resources(storage, police), partition_key="2024-03", instance=instance
    ).success
    assert set(_warehouse_counts_py(storage)) == {"2024-02", "2024-03"}
    assert sorted(p.name for p in storage.raw_dir.iterdir()) == ["month=2024-02", "month=2024-03"]


def _warehouse_counts_py(storage):
    with duckdb.connect(str(storage.warehouse), read_only=True) as con:
        return dict(
            con.execute("SELECT strftime(month, '%Y-%m'), count(*) FROM landing.street_crimes GROUP BY 1").fetchall()
        )


def test_an_unpublished_month_is_refused_before_anything_is_fetched_or_marked_failed(storage, police, fake_server):
    instance = DagsterInstance.ephemeral()
    for partition_range in (("2024-05", "2024-05"), ("2024-03", "2024-04")):  # the dialog's "latest"; a range past it
        result = materialize_months(all_assets, *partition_range, storage=storage, police=police, instance=instance)
        assert result.success and not result.get_asset_materialization_events()
        logs = [e.user_message for e in instance.all_logs(result.run_id)]
        assert any("refused: not published on data.police.uk yet: 2024-0" in m for m in logs)
        assert any("newest published month: 2024-03" in m for m in logs)
        kinds = {e.dagster_event.event_type_value for e in instance.all_logs(result.run_id) if e.dagster_event}
        assert "ASSET_FAILED_TO_MATERIALIZE" not in kinds and "STEP_FAILURE" not in kinds and "STEP_SKIPPED" in kinds
    assert any("re-run with 2024-03...2024-03" in m for m in logs)
    assert not any(r.path.endswith(".zip") for r in fake_server.requests)  # nothing fetched
    assert not storage.raw_dir.exists() or not any(storage.raw_dir.iterdir())


def test_definitions_load_and_lineage_is_unbroken():
    from dagster import AssetKey, Definitions

    Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    chain = [
        ["raw", "archive_month"],
        ["lake", "street_crimes"],
        ["warehouse", "street_crimes"],
        ["staging", "stg_police__street_crimes"],
    ]
    for parent, child in itertools.pairwise(chain):
        assert AssetKey(parent) in graph.get(AssetKey(child)).parent_keys
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.partitions_def is not None and node.backfill_policy is not None, key
    # the BI copy in PostgreSQL is there only when a PostgreSQL is configured (tests/deploy runs it with one)
    assert AssetKey(["publish", "marts_postgres"]) not in graph.get_all_asset_keys()


def test_one_dataset_of_a_stage_can_be_materialised_alone(storage, police):
    from dagster import AssetKey

    assert materialize([archive_month], resources=_resources(storage, police), partition_key="2024-02").success
    result = materialize(
        INGEST_ASSETS,
        resources=_resources(storage, police),
        partition_key="2024-02",
        selection=[AssetKey(["lake", "outcomes"]), AssetKey(["warehouse", "outcomes"])],
    )
    assert result.success
    done = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert done == {"lake/outcomes", "warehouse/outcomes"}
    lake_meta = next(
        e.step_materialization_data.materialization.metadata
        for e in result.get_asset_materialization_events()
        if e.asset_key == AssetKey(["lake", "outcomes"])
    )
    preview = lake_meta["preview"].value.splitlines()
    assert preview[0].startswith("| month | force_id | crime_id |") and len(preview) == 2 + 5
    assert all(line.startswith("| 2024-02-01 |") for line in preview[2:])
    assert sorted(p.name for p in storage.lake_dir.iterdir()) == ["outcomes"]
    with duckdb.connect(str(storage.warehouse), read_only=True) as con:
        tables = {
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'landing'"
            ).fetchall()
        }
    assert "outcomes" in tables and "street_crimes" not in tables
    assert [p.name for p in storage.landing_dir.iterdir()] == ["outcomes"]


def test_a_file_whose_header_drifted_is_set_aside_alone_and_shown_as_a_gap_with_its_reason(tmp_path, storage):
    """A fresh data folder, a source that publishes one stop-and-search file with a renamed column: the run
    succeeds, every other file of the month and the next month's load, and the coverage mart and the coverage
    page show that force-month as missing with the reason."""
    from police_assets.site.cubes import open_published
    from police_assets.site.pages import coverage
    from police_dev.fake.generate import FORCE_NAMES, month_members, write_api, write_archive
    from police_dev.fake.server import FakePoliceServer
    from tests.helpers import fast_police

    forces = ["kent", "essex", "city-of-london"]
    months = ["2024-01", "2024-02"]
    members = {}
    for m in months:
        members.update(month_members(5, m, 3000, None, forces))
    drifted = "2024-01/2024-01-kent-stop-and-search.csv"
    members[drifted] = members[drifted].replace(b"Type,", b"Search type,", 1)
    write_archive(tmp_path / "site", "2024-02", members)
    write_api(tmp_path / "site", months, {f: FORCE_NAMES[f] for f in forces}, {m: forces for m in months}, "2024-03-01")
    instance = DagsterInstance.ephemeral()
    with FakePoliceServer(tmp_path / "site") as server:
        result = materialize_months(
            all_assets, "2024-01", "2024-02", storage=storage, police=fast_police(server), instance=instance
        )
    assert result.success
    logged = [e.user_message for e in instance.all_logs(result.run_id)]
    assert any(f"{drifted} set aside, none of its rows loaded" in m and "Search type" in m for m in logged)

    with duckdb.connect(str(storage.warehouse), read_only=True) as con:
        searched = dict(
            con.execute(
                "SELECT force_id || ' ' || strftime(month, '%Y-%m'), count(*) FROM landing.stop_and_search GROUP BY 1"
            ).fetchall()
        )
        loaded = {
            t: con.execute(f"SELECT count(*) FROM landing.{t}").fetchone()[0] for t in ("street_crimes", "outcomes")
        }
        row = con.execute(
            """SELECT coverage_status, is_gap, has_file, set_aside_reason FROM marts.fct_force_month_coverage
               WHERE force_id = 'kent' AND file_month = DATE '2024-01-01' AND dataset_name = 'stop-and-search'"""
        ).fetchone()
    assert "kent 2024-01" not in searched and searched["kent 2024-02"] > 0 and searched["essex 2024-01"] > 0
    assert all(loaded.values())
    status, is_gap, has_file, reason = row
    assert (status, is_gap, has_file) == ("missing", True, True)
    assert "header not the published layout" in reason and "Search type" in reason
    with open_published(storage.published_dir) as con:  # as the site renders it
        page = coverage.build(con, "Not known")
    assert any("set aside unread" in n and "2024-01 Kent" in n and "Search type" in n for n in page.notes)


def test_a_raw_file_damaged_on_disk_fails_its_month_and_nothing_of_it_reaches_the_lake(storage, police):
    from dagster import AssetKey

    assert materialize(INGEST_ASSETS[:2], resources=_resources(storage, police), partition_key="2024-02").success
    lake_file = storage.lake_dir / "street_crimes" / "month=2024-02" / "data.parquet"
    before = lake_file.read_bytes()
    damaged = sorted((storage.raw_dir / "month=2024-02").glob("*-street.csv.gz"))[3]
    body = bytearray(damaged.read_bytes())
    body[len(body) // 2] ^= 0x10  # one bit, mid-file: DuckDB would read it without a word
    damaged.write_bytes(bytes(body))

    result = materialize(
        INGEST_ASSETS[1:2], resources=_resources(storage, police), partition_key="2024-02", raise_on_error=False
    )
    assert not result.success
    failure = result.get_step_failure_events()[0].event_specific_data.error.message
    assert f"raw file {damaged} is damaged" in failure and "raw/archive_month for 2024-02" in failure
    assert AssetKey(["lake", "street_crimes"]) not in {e.asset_key for e in result.get_asset_materialization_events()}
    assert lake_file.read_bytes() == before  # the last good conversion stays

    # doing what the message says (fetch the month again) mends it
    assert materialize(INGEST_ASSETS[:2], resources=_resources(storage, police), partition_key="2024-02").success


def test_a_damaged_raw_file_stops_its_dataset_at_its_month_while_the_other_datasets_load_every_month(storage, police):
    """The lake queues a month's conversions before it collects the month before's: a dataset that fails in a
    month is not reported for the months after it, which were already queued, and the other datasets go on."""

    months = ["2024-01", "2024-02", "2024-03"]
    assert materialize_months(INGEST_ASSETS[:1], months[0], months[-1], storage=storage, police=police, dbt=False)
    # the street files of 2024-02 and 2024-03 damaged: the dataset stops at the first
    for month in months[1:]:
        path = sorted((storage.raw_dir / f"month={month}").glob("*-street.csv.gz"))[0]
        body = bytearray(path.read_bytes())
        body[-20] ^= 0x01
        path.write_bytes(bytes(body))
    damaged = sorted((storage.raw_dir / "month=2024-02").glob("*-street.csv.gz"))[0]

    instance = DagsterInstance.ephemeral()
    result = materialize_months(
        INGEST_ASSETS[1:2], months[0], months[-1], storage=storage, instance=instance, dbt=False, raise_on_error=False
    )
    assert not result.success
    failure = result.get_step_failure_events()[0].event_specific_data.error.message
    assert f"lake/street_crimes 2024-02: raw file {damaged} is damaged" in failure, failure
    assert "street_crimes 2024-03" not in failure and "lake/outcomes" not in failure
    reported: dict[str, list[str]] = {}
    for event in result.get_asset_materialization_events():
        reported.setdefault(event.asset_key.path[-1], []).append(event.partition)
    assert "street_crimes" not in reported
    assert sorted(reported["outcomes"]) == months and sorted(reported["stop_and_search"]) == months
    errors = [e.user_message for e in instance.all_logs(result.run_id) if e.level >= 40]
    assert len([m for m in errors if "is damaged" in m]) == 1, errors  # one message for the dataset, not a month each


def test_out_of_memory_names_the_platform_setting_and_its_value_in_python_steps_and_in_dbt(
    storage, police, monkeypatch
):
    from police_assets.transform.assets import police_dbt_assets

    assert materialize_months(INGEST_ASSETS, "2024-01", storage=storage, police=police, dbt=False).success
    monkeypatch.setenv("POLICE_DUCKDB_MEMORY_LIMIT", "1MB")
    for assets in (INGEST_ASSETS[1:2], [police_dbt_assets]):
        result = materialize_months(assets, "2024-01", storage=storage, police=police, raise_on_error=False)
        assert not result.success
        error = result.get_step_failure_events()[0].event_specific_data.error
        failure = error.message + (error.cause.message if error.cause else "")
        assert "ran out of memory under DuckDB's limit of 1MB (POLICE_DUCKDB_MEMORY_LIMIT=1MB)" in failure, failure
        assert "for example POLICE_DUCKDB_MEMORY_LIMIT=4GB" in failure and "Out of Memory Error" in failure


def test_an_incremental_model_stored_by_an_older_version_is_rebuilt_from_the_landing_data_once(storage, police):
    """An upgrade that changes an incremental model's columns: dbt refuses to extend the stored table, and the dbt
    step rebuilds every model from the warehouse's landing data instead of failing every run from then on."""
    from police_assets.transform.assets import police_dbt_assets

    assert materialize_months(INGEST_ASSETS, "2024-01", "2024-02", storage=storage, police=police, dbt=False).success
    assert materialize_months([police_dbt_assets], "2024-01", "2024-02", storage=storage).success
    journeys = "SELECT count(*), sum(hash(street_crime_key, latest_outcome_name)::HUGEINT) FROM intermediate.{}"
    with duckdb.connect(str(storage.warehouse)) as con:
        before = con.execute(journeys.format("int_crime_journeys")).fetchone()
        # as an older version stored it: a column the model no longer gives (the journeys once kept the Crime ID)
        con.execute("ALTER TABLE intermediate.int_crime_journeys ADD COLUMN crime_id VARCHAR")
        con.execute("UPDATE intermediate.int_crime_journeys SET latest_outcome_name = 'stale'")
    instance = DagsterInstance.ephemeral()
    result = materialize_months([police_dbt_assets], "2024-02", storage=storage, instance=instance)
    assert result.success
    said = [entry.user_message for entry in instance.all_logs(result.run_id)]
    assert any("the stored columns of int_crime_journeys are not the columns" in m for m in said), said
    with duckdb.connect(str(storage.warehouse), read_only=True) as con:
        columns = [r[0] for r in con.execute("DESCRIBE intermediate.int_crime_journeys").fetchall()]
        assert "crime_id" not in columns and "has_crime_id" in columns
        # every month rebuilt, not only the run's: January's journeys are no longer 'stale'
        assert con.execute(journeys.format("int_crime_journeys")).fetchone() == before
