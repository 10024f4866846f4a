"""The release sensor against the fake data.police.uk, tick by tick, and two releases end to end."""

import json

import duckdb
import pytest
from dagster import DagsterInstance, SensorResult, build_sensor_context

from police_assets.automation.sensors import build_release_sensor
from police_assets.core.months import add_months, month_range
from police_assets.core.partitions import RANGE_END, RANGE_START
from police_assets.core.storage import PoliceStorage
from police_assets.definitions import all_assets, police_pipeline
from police_assets.lake.assets import lake_assets
from police_assets.raw.assets import archive_month
from police_assets.source.resource import DataPoliceUk
from police_assets.warehouse.assets import force_files, warehouse_assets
from police_dev.fake.generate import FORCE_NAMES, month_members, write_api, write_archive
from police_dev.fake.server import FakePoliceServer
from tests.helpers import materialize_months

FORCES = ["kent", "essex", "city-of-london", "btp"]
SEED, SCALE = 11, 4000
PYTHON_ASSETS = [archive_month, *lake_assets, *warehouse_assets, force_files]


def publish(site, latest, n_months, last_updated, revisions=None, patch=None):
    """Write a release: the archive of ``latest`` holding ``n_months`` months, and the API answers."""
    months = month_range(add_months(latest, -(n_months - 1)), latest)
    members = {}
    for m in months:
        members.update(month_members(SEED, m, SCALE, revisions, FORCES))
    if patch:
        patch(members)
    write_archive(site, latest, members)
    write_api(site, months, {f: FORCE_NAMES[f] for f in FORCES}, {m: FORCES for m in months}, last_updated)


class Harness:
    def __init__(self, site, server, storage, start_month=None):
        self.site, self.server, self.storage = site, server, storage
        self.instance = DagsterInstance.ephemeral()
        self.sensor = build_release_sensor(police_pipeline, start_month=start_month)
        self.police = DataPoliceUk(base_url=server.url, backoff_factor=0.01, retries=1, requests_per_second=200)
        self.cursor = None

    def tick(self) -> SensorResult:
        ctx = build_sensor_context(
            instance=self.instance, cursor=self.cursor, resources={"police": self.police, "storage": self.storage}
        )
        result = self.sensor(ctx)
        self.cursor = result.cursor
        return result

    def run(self, request, assets=PYTHON_ASSETS, police=None):
        """Run what the sensor asked for, in process; dbt's tests are left out (test_marts runs them)."""
        return materialize_months(
            assets,
            request.tags[RANGE_START],
            request.tags[RANGE_END],
            storage=self.storage,
            police=police or self.police,
            instance=self.instance,
            tags={**request.tags, "dagster/run_key": request.run_key},
            raise_on_error=False,
        )


def months_of(request):
    return month_range(request.tags[RANGE_START], request.tags[RANGE_END])


@pytest.fixture
def harness(tmp_path):
    site = tmp_path / "site"
    publish(site, "2024-03", 3, "2024-05-02")
    with FakePoliceServer(site) as server:
        yield Harness(site, server, PoliceStorage(data_dir=str(tmp_path / "data")), start_month="2024-02")


def test_first_tick_loads_the_published_months_asked_for_in_one_run(harness):
    result = harness.tick()
    assert [months_of(r) for r in result.run_requests] == [["2024-02", "2024-03"]]  # not 2024-01: before start
    assert result.run_requests[0].tags["police/reason"] == "new"
    # the newest archive's directory was read, not its data: one tail request
    archive_requests = [r for r in harness.server.requests if r.path.endswith(".zip")]
    assert len(archive_requests) == 1 and archive_requests[0].range.startswith("bytes=-")


def test_restart_with_the_stored_cursor_requests_nothing_twice(harness):
    first = harness.tick()
    assert len(first.run_requests) == 1
    again = harness.tick()  # the run has not happened yet (in flight): same cursor, nothing new
    assert not again.run_requests and "no new release" in again.skip_reason.skip_message
    harness.run(first.run_requests[0])
    after = harness.tick()  # it succeeded: still nothing to do
    assert not after.run_requests


def test_new_release_adds_a_month_exactly_one_run(harness):
    harness.run(harness.tick().run_requests[0])
    publish(harness.site, "2024-04", 4, "2024-06-03")
    result = harness.tick()
    assert [months_of(r) for r in result.run_requests] == [["2024-04"]]
    assert result.run_requests[0].tags["police/reason"] == "new"


def test_revised_member_in_an_old_month_runs_that_month_only(harness):
    harness.run(harness.tick().run_requests[0])

    def revise(members):  # BTP re-publishes February's stop and search with one more row
        name = "2024-02/2024-02-btp-stop-and-search.csv"
        members[name] += members[name].split(b"\r\n")[1] + b"\r\n"

    publish(harness.site, "2024-03", 3, "2024-05-20", patch=revise)
    result = harness.tick()
    assert [months_of(r) for r in result.run_requests] == [["2024-02"]]
    assert result.run_requests[0].tags["police/reason"] == "revised"
    assert harness.run(result.run_requests[0]).success
    assert not harness.tick().run_requests


def test_an_archive_that_lags_the_api_is_looked_at_again_until_it_holds_the_month(harness):
    harness.run(harness.tick().run_requests[0])
    # the API announces 2024-04, but the archive of that name still holds the old months only
    months = month_range("2024-02", "2024-04")
    old = {}
    for m in month_range("2024-02", "2024-03"):
        old.update(month_members(SEED, m, SCALE, None, FORCES))
    write_archive(harness.site, "2024-04", old)
    write_api(harness.site, months, {f: FORCE_NAMES[f] for f in FORCES}, {m: FORCES for m in months}, "2024-06-03")
    for _ in range(2):  # every tick looks again, and says why it waits
        lagging = harness.tick()
        assert not lagging.run_requests
        assert "2024-04.zip does not hold 2024-04 yet" in lagging.skip_reason.skip_message
    publish(harness.site, "2024-04", 4, "2024-06-03")  # the archive catches up: same release date
    caught_up = harness.tick()
    assert [months_of(r) for r in caught_up.run_requests] == [["2024-04"]]
    assert harness.run(caught_up.run_requests[0]).success
    assert "no new release" in harness.tick().skip_reason.skip_message


def test_an_archive_with_no_month_of_csv_files_skips_the_tick_with_a_reason(harness):
    harness.run(harness.tick().run_requests[0])
    write_archive(harness.site, "2024-04", {"README.txt": b"soon", "data/2024-04-kent-street.csv": b"x"})
    months = month_range("2024-02", "2024-04")
    write_api(harness.site, months, {f: FORCE_NAMES[f] for f in FORCES}, {m: FORCES for m in months}, "2024-06-03")
    result = harness.tick()
    assert not result.run_requests
    assert "2024-04.zip holds no YYYY-MM/<file>.csv member" in result.skip_reason.skip_message
    publish(harness.site, "2024-04", 4, "2024-06-03")
    assert [months_of(r) for r in harness.tick().run_requests] == [["2024-04"]]


def test_unchanged_release_requests_no_run(harness):
    harness.run(harness.tick().run_requests[0])
    assert "no new release since 2024-05-02" in harness.tick().skip_reason.skip_message
    publish(harness.site, "2024-03", 3, "2024-05-09")  # a new date, the same files
    result = harness.tick()
    assert not result.run_requests and "changes nothing" in result.skip_reason.skip_message


def test_api_failing_skips_the_tick_and_loses_nothing(harness):
    harness.server.add_fault("500", count=100, path_contains="/api/crime-last-updated")
    result = harness.tick()
    assert not result.run_requests
    assert "data.police.uk did not answer" in result.skip_reason.skip_message
    assert harness.cursor in (None, '{"attempts": {}, "last_updated": null, "pending": {}, "retry": []}')
    harness.server.state.faults.clear()
    assert [months_of(r) for r in harness.tick().run_requests] == [["2024-02", "2024-03"]]


def test_a_failed_run_is_requested_again_on_the_next_tick(harness):
    first = harness.tick().run_requests[0]
    broken = DataPoliceUk(base_url="http://127.0.0.1:9", retries=0, backoff_factor=0.01)
    assert not harness.run(first, police=broken).success
    retry = harness.tick().run_requests
    assert [months_of(r) for r in retry] == [["2024-02", "2024-03"]]
    assert retry[0].run_key != first.run_key  # a new key, or the daemon would drop it as a duplicate
    assert harness.run(retry[0]).success
    assert not harness.tick().run_requests


def _snapshot(storage):
    with duckdb.connect(str(storage.warehouse), read_only=True) as con:
        tables = [
            "landing.street_crimes",
            "landing.outcomes",
            "landing.stop_and_search",
            "landing.force_files",
            "marts.fct_street_crimes",
            "marts.fct_outcomes",
            "marts.agg_street_crimes_monthly",
            "marts.agg_outcomes_by_crime_type",
            "marts.fct_force_month_coverage",
        ]

        # lineage columns point at different files and refreshed_at at different runs: neither is the data
        def columns(t):
            rows = "landing.force_files" not in t and "agg" not in t and "coverage" not in t
            return "'refreshed_at'" + (", 'source_file', 'source_row'" if rows else "")

        return {
            t: con.execute(f"SELECT COLUMNS(lambda c: c NOT IN ({columns(t)})) FROM {t} ORDER BY ALL").fetchall()
            for t in tables
        }


def test_two_successive_releases_equal_a_clean_load_of_the_second(tmp_path, monkeypatch):
    site = tmp_path / "site"
    publish(site, "2024-02", 2, "2024-04-02")
    with FakePoliceServer(site) as server:
        live = Harness(site, server, PoliceStorage(data_dir=str(tmp_path / "live")))
        monkeypatch.setenv("POLICE_WAREHOUSE", str(live.storage.warehouse))
        for request in live.tick().run_requests:
            assert live.run(request, assets=all_assets).success

        # the second release adds March and revises Kent's January (its outcomes in later months change too)
        publish(site, "2024-03", 3, "2024-05-02", revisions={("2024-01", "kent"): 1})
        requests = live.tick().run_requests
        reasons = {r.tags["police/reason"]: months_of(r) for r in requests}
        assert reasons["new"] == ["2024-03"] and "2024-01" in reasons["revised"]
        for request in requests:
            assert live.run(request, assets=all_assets).success

        clean = Harness(site, server, PoliceStorage(data_dir=str(tmp_path / "clean")))
        monkeypatch.setenv("POLICE_WAREHOUSE", str(clean.storage.warehouse))
        [request] = clean.tick().run_requests
        assert months_of(request) == ["2024-01", "2024-02", "2024-03"]
        assert clean.run(request, assets=all_assets).success

    assert _snapshot(live.storage) == _snapshot(clean.storage)


def test_a_failed_run_survives_a_tick_that_cannot_reach_the_api(harness):
    """Regression: the tick after a failed run dropped it from the cursor, then an API error saved that
    cursor, and every later tick said "no new release": the months were never reloaded."""
    first = harness.tick().run_requests[0]
    broken = DataPoliceUk(base_url="http://127.0.0.1:9", retries=0, backoff_factor=0.01)
    assert not harness.run(first, police=broken).success
    harness.server.add_fault("500", count=100, path_contains="/api/crime-last-updated")
    assert "did not answer" in harness.tick().skip_reason.skip_message
    harness.server.state.faults.clear()
    harness.server.add_fault("500", count=100, path_contains="/api/crimes-street-dates")
    assert "could not tell the newest month" in harness.tick().skip_reason.skip_message
    harness.server.state.faults.clear()
    retry = harness.tick().run_requests
    assert [months_of(r) for r in retry] == [["2024-02", "2024-03"]]  # requested again, not forgotten
    assert harness.run(retry[0]).success
    assert not harness.tick().run_requests


@pytest.mark.parametrize(
    "answer",
    [
        "[]",
        "{not json",
        '[{"date": "2019-13", "stop-and-search": []}]',
        '[{"date": "latest", "stop-and-search": []}]',
        '["2024-03"]',
        '[{"date": "2024-03", "stop-and-search": "kent"}]',
    ],
    ids=["empty", "bad-json", "month-13", "not-a-month", "not-an-object", "forces-not-a-list"],
)
def test_a_malformed_months_answer_skips_the_tick_and_loses_nothing(harness, answer):
    path = harness.site / "api" / "crimes-street-dates.json"
    good = path.read_text()
    path.write_text(answer)
    result = harness.tick()
    assert not result.run_requests and "crimes-street-dates" in result.skip_reason.skip_message
    path.write_text(good)
    assert [months_of(r) for r in harness.tick().run_requests] == [["2024-02", "2024-03"]]


def _january(con):
    return (
        con.execute(
            "SELECT sum(crime_count) FROM marts.agg_street_crimes_monthly WHERE crime_month = '2024-01-01'"
        ).fetchall(),
        con.execute(
            "SELECT force_id, dataset_name, coverage_status FROM marts.fct_force_month_coverage "
            "WHERE file_month = '2024-01-01' ORDER BY ALL"
        ).fetchall(),
    )


def test_a_month_that_ages_out_of_the_source_stays_loaded_published_and_on_the_dashboards(tmp_path, monkeypatch):
    """data.police.uk keeps 36 months: the next archive no longer holds the oldest. Here archives hold 3."""
    site = tmp_path / "site"
    publish(site, "2024-03", 3, "2024-05-02")
    with FakePoliceServer(site) as server:
        live = Harness(site, server, PoliceStorage(data_dir=str(tmp_path / "live")))
        monkeypatch.setenv("POLICE_WAREHOUSE", str(live.storage.warehouse))
        [first] = live.tick().run_requests
        assert months_of(first) == ["2024-01", "2024-02", "2024-03"]
        assert live.run(first, assets=all_assets).success
        with duckdb.connect(str(live.storage.published_dir / "serving.duckdb"), read_only=True) as con:
            january_before = _january(con)

        publish(site, "2024-04", 3, "2024-06-02")  # 2024-02..2024-04: January aged out of the source
        [second] = live.tick().run_requests
        assert months_of(second) == ["2024-04"]  # nothing asked for January, nothing flagged
        assert live.run(second, assets=all_assets).success

    with duckdb.connect(str(live.storage.published_dir / "serving.duckdb"), read_only=True) as con:
        months = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT strftime(crime_month, '%Y-%m') FROM marts.agg_street_crimes_monthly ORDER BY 1"
            ).fetchall()
        ]
        january_after = _january(con)
    assert months == ["2024-01", "2024-02", "2024-03", "2024-04"]
    assert january_after == january_before  # the same crimes, the same coverage: no gap flagged for it
    manifest = json.loads((live.storage.published_dir / "manifest.json").read_text())
    assert manifest["months"][0] == "2024-01"
    html = (live.storage.published_dir / "site" / "index.html").read_text()
    assert "2024-01 to 2024-04" in html  # the dashboards keep showing the month the source dropped


def test_the_documented_sensor_command_starts_the_sensor_that_make_dev_and_the_daemon_run(tmp_path):
    """docs/keeping-current.md's command, run as written (DAGSTER_HOME pointed at a scratch copy of the
    instance): read back through the workspace that `make dev` and the daemon load, the sensor is RUNNING."""
    import os
    import re
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    documented = re.search(r"`(DAGSTER_HOME=\$PWD/dagster_home \.venv/bin/dagster sensor start [^`]+)`",
                           (root / "docs" / "keeping-current.md").read_text()).group(1)  # fmt: skip
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(root / "dagster_home" / "dagster.yaml", home)
    env = dict(os.environ, DAGSTER_HOME=str(home))
    dagster = str(Path(sys.executable).with_name("dagster"))
    args = documented.split()[1:]  # without the DAGSTER_HOME=... prefix, which env carries
    args[0] = dagster
    subprocess.run(args, env=env, cwd=root, check=True, capture_output=True, timeout=120)
    listed = subprocess.run(
        [dagster, "sensor", "list", "-w", "workspace.yaml"],
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Sensor: data_police_uk_release_sensor [RUNNING]" in listed.stdout, listed.stdout + listed.stderr
