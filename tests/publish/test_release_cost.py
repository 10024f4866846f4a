"""A release costs what it changed, and gives the same answers as a run from scratch.

The published facts are one file per month; a month whose version (dbt's publish_month_versions) did not change
is carried over from the previous snapshot as a hard link. These tests play a backfill, then a release that adds
a month, brings outcomes for old crimes and revises an old month, and check every published table against a
from-scratch run over the same files, and that the untouched months were carried over, not written again."""

import json
import zipfile

import duckdb
import pytest

from police_assets.core.storage import PoliceStorage
from police_assets.definitions import all_assets
from police_assets.publish.snapshot import snapshot_dir
from police_assets.site.render import render_site
from police_dev.fake.generate import Release, write_release
from police_dev.fake.server import FakePoliceServer
from tests.conftest import SMALL
from tests.helpers import fast_police, materialize_months

REVISED = ("2024-02", "kent")  # the force-month the next release revises


def _answers(published_dir) -> dict[str, tuple[int, int]]:
    """Per published table, through serving.duckdb: rows and an order-independent checksum of every row."""
    snapshot = snapshot_dir(published_dir)
    with duckdb.connect(str(snapshot / "serving.duckdb"), read_only=True) as con:
        tables = [r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()]
        return {
            t: con.execute(f"SELECT count(*), sum(hash(r)::HUGEINT) FROM marts.{t} AS r").fetchone() for t in tables
        }


def _parts(published_dir) -> tuple[dict, dict]:
    """The current snapshot's manifest parts, and each part's inode (a carried-over month shares its file)."""
    snapshot = snapshot_dir(published_dir)
    parts = json.loads((snapshot / "manifest.json").read_text())["parts"]
    inodes = {
        (table, month): (snapshot / "marts" / part["file"]).stat().st_ino
        for table, spec in parts.items()
        for month, part in spec["months"].items()
    }
    return parts, inodes


def _cached(storage) -> dict[tuple[str, str], int]:
    """The site's cached month results: (query folder, month, version part of the name) -> modification time."""
    cache = storage.published_dir / "site-cache"
    return {(p.parent.name, p.stem[:7], p.stem[8:]): p.stat().st_mtime_ns for p in cache.rglob("*.parquet")}


MONTH_BUILT = {"int_street_crimes": "crime_month", "int_outcomes": "outcome_month"}  # dbt config built_by_month


def _month_runs(storage) -> dict[str, tuple[int, int]]:
    """Per model built month by month: (its months, the runs of one month in storage order). Equal when each
    month's rows are stored together, so a reader of one month skips the others' row groups."""
    with duckdb.connect(str(storage.warehouse), read_only=True) as con:
        return {
            model: con.execute(
                f"SELECT count(DISTINCT m), count(*) FILTER (WHERE previous IS DISTINCT FROM m) FROM ("
                f"SELECT {column} AS m, lag({column}) OVER (ORDER BY rowid) AS previous FROM intermediate.{model})"
            ).fetchone()
            for model, column in MONTH_BUILT.items()
        }


def _page(path) -> str:
    """A page without the line that says when it was rendered."""
    return "\n".join(line for line in path.read_text().splitlines() if " UTC" not in line)


def _revised_months(old_site, new_site) -> list[str]:
    """The months before the newest whose members differ between two releases' archives (CRC-32 and size), as
    the release sensor finds them."""

    def members(site):
        (archive,) = sorted((site / "data" / "archive").glob("*.zip"))[-1:]
        with zipfile.ZipFile(archive) as zf:
            return {i.filename: (i.CRC, i.file_size) for i in zf.infolist() if not i.is_dir()}

    old, new = members(old_site), members(new_site)
    return sorted({name[:7] for name in old if name in new and old[name] != new[name]})


@pytest.fixture(scope="module")
def next_release(tmp_path_factory):
    """The release after the session's fake site (2024-01..2024-03): 2024-04 added, Kent's 2024-02 revised."""
    root = tmp_path_factory.mktemp("next-release")
    write_release(root, Release(latest="2024-04", months=4, revisions={REVISED: 1}, **SMALL))
    return root


def test_a_release_rewrites_only_the_months_it_changed_and_answers_as_a_run_from_scratch(
    tmp_path, fake_site, fake_server, next_release
):
    kept = PoliceStorage(data_dir=str(tmp_path / "kept"))
    assert materialize_months(all_assets, "2024-01", "2024-03", storage=kept, police=fast_police(fake_server)).success
    backfill_parts, backfill_inodes = _parts(kept.published_dir)
    backfill_cache = _cached(kept)
    assert sorted(backfill_parts) == ["fct_outcomes", "fct_stop_and_search", "fct_street_crimes"]
    assert sorted(backfill_parts["fct_street_crimes"]["months"]) == ["2024-01", "2024-02", "2024-03"]

    with FakePoliceServer(next_release) as server:
        police = fast_police(server)
        # the sensor's two runs for this release: the new month, then the revised ones (Kent's revised crimes of
        # 2024-02 change its outcomes files of the months after too)
        assert _revised_months(fake_site, next_release) == ["2024-02", "2024-03"]
        assert materialize_months(all_assets, "2024-04", storage=kept, police=police).success
        new_parts, new_inodes = _parts(kept.published_dir)
        new_cache = _cached(kept)
        assert materialize_months(all_assets, "2024-02", "2024-03", storage=kept, police=police).success
        revised_parts, revised_inodes = _parts(kept.published_dir)
        revised_cache = _cached(kept)

        scratch = PoliceStorage(data_dir=str(tmp_path / "scratch"))
        assert materialize_months(all_assets, "2024-01", "2024-04", storage=scratch, police=police).success

    # The new month's run: outcomes and searches of earlier months were carried over (the same file on disk);
    # crimes of earlier months were written again only where their journeys changed (2024-04's outcomes reach
    # back to them), and the versions say so.
    for table in ("fct_outcomes", "fct_stop_and_search"):
        for month in ("2024-01", "2024-02", "2024-03"):
            assert new_inodes[(table, month)] == backfill_inodes[(table, month)], (table, month)
        assert "2024-04" in new_parts[table]["months"]
    for month in ("2024-01", "2024-02", "2024-03"):
        same = (
            new_parts["fct_street_crimes"]["months"][month]["version"]
            == (backfill_parts["fct_street_crimes"]["months"][month]["version"])
        )
        assert same == (new_inodes[("fct_street_crimes", month)] == backfill_inodes[("fct_street_crimes", month)])
    # ... and the dashboards computed those months again only for the results that read their journeys: a result
    # over the crimes' own columns was kept (the months' own_version did not change)
    crimes_backfill, crimes_new = (
        backfill_parts["fct_street_crimes"]["months"],
        new_parts["fct_street_crimes"]["months"],
    )
    journeys_only = {
        month
        for month, part in crimes_backfill.items()
        if crimes_new[month]["version"] != part["version"] and crimes_new[month]["own_version"] == part["own_version"]
    }
    assert journeys_only
    for month in journeys_only:
        queries = {key[0] for key in new_cache if key[1] == month}
        computed = {key[0] for key in new_cache if key[1] == month and key not in backfill_cache}
        assert computed and queries - computed, month  # some computed again, others kept as they were
    # The revised months' run: of the month-local facts, only its months were written again
    for table in ("fct_outcomes", "fct_stop_and_search"):
        for month in ("2024-01", "2024-04"):
            assert revised_inodes[(table, month)] == new_inodes[(table, month)], (table, month)
        for month in ("2024-02", "2024-03"):
            assert revised_inodes[(table, month)] != new_inodes[(table, month)], (table, month)
            assert revised_parts[table]["months"][month]["version"] != new_parts[table]["months"][month]["version"]

    # The dashboards' month results: the revised run computed again only the months whose version changed, and
    # pages built from results cached over three runs equal pages built with no cache at all
    crimes_before, crimes_after = new_parts["fct_street_crimes"]["months"], revised_parts["fct_street_crimes"]["months"]
    unchanged = {m for m in crimes_after if crimes_after[m]["version"] == crimes_before[m]["version"]}
    assert "2024-04" in unchanged and not {"2024-02", "2024-03"} & unchanged
    assert {key[1] for key in revised_cache if key not in new_cache} == set(crimes_after) - unchanged
    assert all(new_cache[key] == modified for key, modified in revised_cache.items() if key[1] in unchanged)
    fresh = render_site(kept.published_dir, tmp_path / "fresh" / "site")
    for page in fresh.pages:
        assert _page(kept.published_dir / "site" / page) == _page(tmp_path / "fresh" / "site" / page), page

    # The large month-local models keep each month's rows together, after a first build of many months (the
    # scratch run), and after months were appended and replaced (the kept warehouse)
    for storage in (kept, scratch):
        runs = _month_runs(storage)
        assert all(months == together and months >= 3 for months, together in runs.values()), runs

    # Same answers: every published table, row for row, as the from-scratch run over the same files
    kept_answers, scratch_answers = _answers(kept.published_dir), _answers(scratch.published_dir)
    assert sorted(kept_answers) == sorted(scratch_answers)
    assert {t: n for t, (n, _) in kept_answers.items()} == {t: n for t, (n, _) in scratch_answers.items()}
    assert kept_answers == scratch_answers
    assert all(n > 0 for n, _ in kept_answers.values())
