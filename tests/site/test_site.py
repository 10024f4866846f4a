"""The dashboards: cubes and rendering without a browser, then the rendered site in real headless Chromium.

The browser tests drive Debian's ``chromium`` with Playwright (no browser download). They are skipped where
no Chromium is installed, except under CI (``CI`` set), where a missing browser is a failure.
"""

import base64
import gzip
import json
import shutil
from pathlib import Path
from urllib.parse import urlencode

import duckdb
import numpy as np
import pytest
from markupsafe import escape

from police_assets.publish.snapshot import read_manifest, snapshot_dir
from police_assets.site.cubes import Published, cube_from_query, json_numbers, open_published
from police_assets.site.pages import PAGE_BUILDERS
from police_assets.site.render import _script_safe, render_site
from tests.helpers import build_sample_site

PAGES = ["crime", "outcomes", "stop-and-search", "coverage"]


# --- without a browser -----------------------------------------------------------------------------------


def _total(cube, measure: str, **where: str) -> float:
    """Sum of ``measure`` over the cube's rows with the given labels: what the browser shows for that selection."""
    idx = {d: cube.labels[d].index(v) if v in cube.labels[d] else -1 for d, v in where.items()}
    return sum(v for i, v in enumerate(cube.values[measure]) if all(cube.codes[d][i] == c for d, c in idx.items()))


def test_cube_encodes_dimensions_as_codes_in_the_given_order_rows_sorted_by_code():
    con = duckdb.connect()
    cube = cube_from_query(
        con,
        "t",
        """SELECT * FROM (VALUES ('2024-02', 'kent', 'b', 3), ('2024-01', 'kent', NULL, 2),
                                 ('2024-01', 'essex', 'a', 5)) v(m, f, x, n)""",
        ["month", "force", "x"],
        ["n"],
        orders={"x": ["b", "a"]},
        relabel={"force": {"kent": "Kent Police"}},
        unknown="(not known)",
    )
    assert cube.labels == {
        "month": ["2024-01", "2024-02"],
        "force": ["Kent Police", "essex"],
        "x": ["b", "a", "(not known)"],  # the label given: the marts' own, from the snapshot manifest
    }
    # rows sorted by (month, force, x) codes: long runs for gzip, the same bytes whatever the query order
    assert cube.codes == {"month": [0, 0, 1], "force": [0, 1, 0], "x": [2, 1, 0]} and cube.values["n"] == [2, 5, 3]
    assert _total(cube, "n", force="Kent Police") == 5 and _total(cube, "n", month="2024-01") == 7
    decoded = json.loads(gzip.decompress(base64.b64decode(cube.encode())))
    assert decoded["columns"]["n"] == [2, 5, 3] and decoded["rows"] == 3 and decoded["labels"] == cube.labels


def test_a_measure_writes_whole_numbers_as_ints_and_others_rounded_to_four_places():
    con = duckdb.connect()
    query = "SELECT * FROM (VALUES ('a', 3.0, 0.123456), ('b', 4.0, 2.0), ('c', NULL, 1 / 3)) v(k, n, r)"
    cube = cube_from_query(con, "t", query, ["k"], ["n", "r"], unknown="?")
    # a column of counts goes as ints; a rate keeps its whole values as ints and rounds the rest; NULL is 0
    assert cube.values == {"n": [3, 4, 0], "r": [0.1235, 2, 0.3333]}
    assert [type(v) for v in cube.values["r"]] == [float, int, float]
    assert json_numbers(np.array([1.0, float("inf"), float("nan")]))[:2] == [1, float("inf")]


def test_month_labels_run_from_first_to_last_month_without_holes():
    con = duckdb.connect()
    cube = cube_from_query(
        con, "t", "SELECT * FROM (VALUES ('2023-11', 1), ('2024-02', 2)) v(m, n)", ["month"], ["n"], unknown="?"
    )
    assert cube.labels["month"] == ["2023-11", "2023-12", "2024-01", "2024-02"] and cube.codes["month"] == [0, 3]


def test_inline_code_cannot_close_its_script_element():
    assert (
        str(_script_safe('x = "</script>"; y = /</g; z = "</SCRIPT"'))
        == 'x = "<\\/script>"; y = /</g; z = "<\\/SCRIPT"'
    )


def test_a_month_result_follows_the_own_version_only_when_its_query_reads_no_later_column(tmp_path):
    """A result over the columns later months leave alone is keyed on the month's own version; one that names a
    later column, or takes every column through a star, on the month's whole version."""
    marts = tmp_path / "snapshot" / "marts" / "fct_street_crimes"
    marts.mkdir(parents=True)
    duckdb.execute(
        "COPY (SELECT 'kent' AS force_id, DATE '2024-01-01' AS crime_month, 'Awaiting' AS outcome_status) "
        f"TO '{marts / '2024-01.parquet'}'"
    )
    part = {"version": "v1", "own_version": "o1", "rows": 1, "file": "fct_street_crimes/2024-01.parquet"}
    manifest = {
        "tables": {"fct_street_crimes": 1},
        "parts": {
            "fct_street_crimes": {
                "column": "crime_month",
                "logic": "l",
                "later_columns": ["outcome_status"],
                "months": {"2024-01": part},
            }
        },
    }
    (tmp_path / "snapshot" / "manifest.json").write_text(json.dumps(manifest))
    con = Published(tmp_path / "snapshot", tmp_path / "cache")
    own = "SELECT force_id, count(*) FROM fct_street_crimes GROUP BY ALL"
    later = "SELECT force_id, outcome_status, count(*) FROM fct_street_crimes GROUP BY ALL"
    star = "SELECT * EXCLUDE (crime_month), 1 AS n FROM fct_street_crimes"
    assert [con._reads_own_columns("fct_street_crimes", q) for q in (own, later, star)] == [True, False, False]
    for query, dims in ((own, 1), (later, 2)):
        con.execute(con.by_month("fct_street_crimes", query, dims=dims)).fetchall()
    keys = {path.parent.name: path.stem for path in (tmp_path / "cache").rglob("*.parquet")}
    assert len(keys) == 2
    part["version"] = "v2"  # the next snapshot: the journeys changed, the crimes did not
    (tmp_path / "snapshot" / "manifest.json").write_text(json.dumps(manifest))
    con = Published(tmp_path / "snapshot", tmp_path / "cache")
    for query, dims in ((own, 1), (later, 2)):
        con.execute(con.by_month("fct_street_crimes", query, dims=dims)).fetchall()
    again = {(path.parent.name, path.stem) for path in (tmp_path / "cache").rglob("*.parquet")}
    assert len(again) == 3  # only the result that reads outcome_status was computed again
    assert set(keys.items()) <= again


def test_no_published_marts_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="materialise publish/marts_snapshot first"):
        open_published(tmp_path)


# --- the rendered site -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(fake_site, tmp_path_factory):
    """The sample site (build_sample_site), with publish/site's metadata and every materialisation's."""
    storage, result = build_sample_site(fake_site, tmp_path_factory.mktemp("site-data"))
    meta = result.asset_materializations_for_node("publish__site")[0].metadata
    events = {
        (tuple(e.asset_key.path), e.partition): e.metadata
        for e in result.get_asset_materialization_events()
        for e in [e.step_materialization_data.materialization]
    }
    return storage, meta, events


def _serving(storage, sql, params=()):
    with duckdb.connect(str(storage.published_dir / "serving.duckdb"), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def test_site_asset_writes_every_page_with_metadata(built):
    storage, meta, _ = built
    site = storage.published_dir / "site"
    expected = sorted(["index.html", "data.html", "ask.html", *(f"{p}.html" for p in PAGES)])
    assert sorted(p.name for p in site.glob("*.html")) == expected
    assert meta["pages"].value == 7 and meta["bytes"].value == sum(p.stat().st_size for p in site.glob("*.html"))
    assert meta["data_months"].value == "2024-01..2024-03 (3)"
    index = (site / "index.html").read_text()
    assert "Generated sample data, not real police figures" in index  # the licence line is for real data only
    assert "2024-01 to 2024-03" in index and "archive 2024-03.zip" in index
    for page in PAGES:  # self-contained: no external script, style or data
        html = (site / f"{page}.html").read_text()
        assert "<script src" not in html and "https://cdn" not in html and "vegaEmbed" in html


def test_the_pages_state_the_partial_rule_the_coverage_mart_applies(built):
    """The thresholds are the dbt project's vars; the pages' sentence is the one the marts publish."""
    storage, *_ = built
    [(rule,)] = _serving(storage, "SELECT coverage_rule FROM marts.dim_coverage_statuses WHERE is_partial")
    assert rule.startswith("records below 50 % of the force's median over the 12 months around it")
    site = storage.published_dir / "site"
    for page in ("index.html", "coverage.html"):
        text = (site / page).read_text()
        assert escape(rule) in text or json.dumps(rule)[1:-1] in text, page


def test_a_render_that_fails_midway_leaves_the_previous_site_whole_and_the_next_swaps_in_whole(built, monkeypatch):
    import os

    from police_assets.site import render

    storage, *_ = built
    site = storage.published_dir / "site"

    def files():
        return {str(f.relative_to(site)): f.read_bytes() for f in sorted(site.rglob("*")) if f.is_file()}

    before, serving = files(), os.readlink(site)
    real_write, calls = render._write, []

    def disk_fills(path, text):  # the overview and the Data page are written, then the disk is full
        calls.append(path.name)
        if len(calls) == 3:
            raise OSError(28, "No space left on device", str(path))
        return real_write(path, text)

    monkeypatch.setattr(render, "_write", disk_fills)
    with pytest.raises(OSError, match="No space left"):
        render_site(storage.published_dir)
    assert calls[:2] == ["index.html", "data.html"]
    assert os.readlink(site) == serving and files() == before  # every page and download as it was
    assert [b.name for b in (storage.published_dir / "site-builds").iterdir() if b.name.startswith(".")] == []

    monkeypatch.setattr(render, "_write", real_write)
    render_site(storage.published_dir)
    swapped = os.readlink(site)
    assert swapped != serving and set(files()) == set(before)
    render_site(storage.published_dir)  # the build before is kept for readers mid-visit; older ones go
    kept = {b.name for b in (storage.published_dir / "site-builds").iterdir()}
    assert kept == {Path(swapped).name, Path(os.readlink(site)).name}


def test_each_partition_of_a_three_month_run_has_its_own_metadata(built):
    storage, _, events = built
    with duckdb.connect() as con:
        for dataset in ("street_crimes", "outcomes", "stop_and_search"):
            for month in ("2024-01", "2024-02", "2024-03"):
                path = storage.lake_dir / dataset / f"month={month}" / "data.parquet"
                (rows,) = con.execute(f"SELECT count(*) FROM read_parquet('{path}')").fetchone()
                lake = events[(("lake", dataset), month)]
                assert lake["dagster/row_count"].value == rows and lake["path"].value == str(path), (dataset, month)
                assert events[(("warehouse", dataset), month)]["dagster/row_count"].value == rows, (dataset, month)
                # what the partitions share is named as the run's, and says which months the run covered
                assert lake["run_months"].value == "2024-01..2024-03 (3)"
    raw = {m: events[(("raw", "archive_month"), m)] for m in ("2024-01", "2024-02", "2024-03")}
    assert len({meta["files"].value for meta in raw.values()}) > 1  # Greater Manchester has no files in Feb-Mar


def test_page_builders_only_read_published_files(built):
    storage, *_ = built
    manifest = read_manifest(storage.published_dir)
    con = open_published(storage.published_dir)
    pages = [build(con, manifest["labels"]["unknown"]) for build in PAGE_BUILDERS]
    crimes = next(c for c in pages[0].cubes if c.name == "crimes")
    (expected,) = _serving(storage, "SELECT sum(crime_count) FROM marts.agg_street_crimes_monthly")[0]
    assert _total(crimes, "n") == expected
    # the unknown label the pages rank and note by is the one the marts wrote, taken from the manifest
    assert _serving(storage, "SELECT town_name FROM marts.dim_towns WHERE NOT is_town_known") == [
        (manifest["labels"]["unknown"],)
    ]
    assert "(unknown)" in crimes.labels["town"] and manifest["months"] == ["2024-01", "2024-02", "2024-03"]
    assert manifest["release"]["archives"] == ["2024-03.zip"] and manifest["release"]["fetched"]


def test_every_chart_is_valid_vega_lite(built):
    """The render skips Altair's schema validation (time on every run); every chart is validated here instead."""
    import altair

    storage, *_ = built
    manifest = read_manifest(storage.published_dir)
    con = open_published(storage.published_dir)
    views = [v for build in PAGE_BUILDERS for v in build(con, manifest["labels"]["unknown"]).views]
    assert len(views) > 10
    for view in views:
        view.chart.to_dict(validate=True)  # raises on a spec Vega-Lite's schema rejects
    broken = views[0].chart.copy()
    broken.mark = "no-such-mark"
    with pytest.raises(altair.utils.schemapi.SchemaValidationError):
        broken.to_dict(validate=True)


def test_the_vega_bundle_is_kept_in_the_cache_under_its_version(tmp_path, monkeypatch):
    import vl_convert

    from police_assets.site import render

    made = []
    real = vl_convert.javascript_bundle
    monkeypatch.setattr(vl_convert, "javascript_bundle", lambda *a: made.append(1) or real(*a))
    render.vega_bundle.cache_clear()
    (tmp_path / "vega-bundle-0.0.1.js").write_text("an older version's")
    first = render.vega_bundle(tmp_path)
    render.vega_bundle.cache_clear()  # a new process
    assert render.vega_bundle(tmp_path) == first and len(made) == 1 and "vegaEmbed" in first
    assert [p.name for p in tmp_path.iterdir()] == [f"vega-bundle-{render.version('vl-convert-python')}.js"]
    render.vega_bundle.cache_clear()


@pytest.fixture
def open_page(browser, built):
    storage, *_ = built
    pages, problems = [], []

    def _open(name, hash="", width=1200):
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.on("console", lambda m: problems.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
        page.on("request", lambda r: problems.append(f"request: {r.url}") if not r.url.startswith("file:") else None)
        page.goto((storage.published_dir / "site" / f"{name}.html").as_uri() + (f"#{hash}" if hash else ""))
        if name in PAGES:  # a dashboard: wait for its script; the overview and the Data page have none
            page.wait_for_function("document.body.dataset.ready === 'true'", timeout=30_000)
        pages.append(page)
        return page

    yield _open
    for p in pages:
        p.close()
    assert problems == []  # no console error or warning, no page error, nothing fetched from the network


def _kpi(page, kpi_id):
    return page.locator(f"#kpi-{kpi_id}").get_attribute("data-value")


def _choose(page, filter_id, label):
    updates = int(page.evaluate("document.body.dataset.updates"))
    page.select_option(f"#filter-{filter_id}", label=label)
    page.wait_for_function(f"Number(document.body.dataset.updates) > {updates}")


def _values(page, filter_id) -> list[str]:
    return page.eval_on_selector_all(f"#filter-{filter_id} option", "os => os.map(o => o.value)")


def test_the_filters_live_in_the_address_a_copied_link_reopens_the_view_reload_keeps_it_back_returns(open_page):
    page = open_page("crime")
    force = _values(page, "force")[1]
    _choose(page, "force", force)
    months = _values(page, "month_from")
    _choose(page, "month_from", months[1])
    assert page.url.endswith("#" + urlencode({"force": force, "month_from": months[1]}))
    shown = page.locator(".kpis").inner_text()

    copied = open_page("crime", hash=page.url.split("#", 1)[1])  # the link, opened elsewhere
    assert copied.locator("#filter-force").input_value() == force
    assert copied.locator("#filter-month_from").input_value() == months[1]
    assert copied.locator(".kpis").inner_text() == shown
    assert copied.locator("#link-note").is_hidden()

    page.reload()
    page.wait_for_function("document.body.dataset.ready === 'true'")
    assert page.locator("#filter-month_from").input_value() == months[1]
    assert page.locator(".kpis").inner_text() == shown

    updates = int(page.evaluate("document.body.dataset.updates"))
    page.go_back()  # before the month was chosen: the force alone
    page.wait_for_function(f"Number(document.body.dataset.updates) > {updates}")
    assert page.locator("#filter-force").input_value() == force
    assert page.locator("#filter-month_from").input_value() == months[0]
    assert page.url.endswith("#" + urlencode({"force": force}))


def test_a_link_to_what_the_page_does_not_have_says_so_and_shows_the_default(open_page):
    page = open_page("crime", hash="force=Atlantis%20Police&month_from=2031-01&colour=red")
    note = page.locator("#link-note")
    assert note.is_visible()
    for asked in ('Force "Atlantis Police"', 'From month "2031-01"', '"colour"'):
        assert asked in note.inner_text(), asked
    assert page.locator("#filter-force").input_value() == ""
    assert page.locator("#filter-month_from").input_value() == _values(page, "month_from")[0]
    assert "#" not in page.url  # the address says what is shown
    assert "…" not in page.locator(".kpis").inner_text()


def test_from_can_never_be_after_to(open_page):
    page = open_page("crime")
    months = _values(page, "month_to")
    _choose(page, "month_to", months[0])
    disabled = page.eval_on_selector_all(
        "#filter-month_from option", "os => os.filter(o => o.disabled).map(o => o.value)"
    )
    assert disabled == months[1:]
    crossed = open_page("crime", hash=urlencode({"month_from": months[-1], "month_to": months[0]}))
    assert "after To month" in crossed.locator("#link-note").inner_text()
    assert crossed.locator("#filter-month_from").input_value() == months[0]
    assert crossed.locator("#filter-month_to").input_value() == months[-1]
    assert " 0 " not in f" {crossed.locator('#kpi-kpi_crimes').inner_text()} "


@pytest.mark.parametrize("name", PAGES)
def test_every_page_loads_and_every_chart_renders(open_page, name):
    page = open_page(name)
    charts = page.locator(".chart")
    assert charts.count() >= 2
    for i in range(charts.count()):
        svg = charts.nth(i).locator("svg")
        assert svg.count() == 1, f"chart {i} of {name} did not render"
        assert (
            charts.nth(i).locator("g[class*='mark-'] path, g[class*='mark-'] rect, g[class*='mark-'] text").count() > 0
        )
    # every chart has its table alternative, filled
    for table in page.locator("table").all():
        assert table.locator("tbody tr").count() > 0
    assert page.locator("footer").inner_text().startswith("Generated sample data")


@pytest.mark.parametrize("name", ["index", *PAGES, "data", "ask"])
def test_generated_data_says_so_on_every_page(open_page, name):
    page = open_page(name)
    banner = page.locator("#sample-banner")
    assert banner.is_visible() and banner.inner_text().startswith("Generated sample data, not real police figures")
    assert banner.bounding_box()["y"] < 5  # the first thing on the page, above the header


def test_real_data_has_no_sample_banner_and_keeps_the_licence(built, tmp_path):
    storage, *_ = built
    published = tmp_path / "published"
    snapshot = published / "snapshots" / "real"  # the same snapshot, as if its folder were not marked
    shutil.copytree(snapshot_dir(storage.published_dir), snapshot)
    (published / "current").symlink_to(snapshot)
    manifest = json.loads((snapshot / "manifest.json").read_text())
    assert manifest["generated"]["generated_by"].startswith("make demo")
    (snapshot / "manifest.json").write_text(json.dumps({**manifest, "generated": None}))
    render_site(published, tmp_path / "site")
    for page in (tmp_path / "site").glob("*.html"):
        html = page.read_text()
        assert 'id="sample-banner"' not in html and "Generated sample data" not in html, page.name
        assert "Contains public sector information licensed under the Open Government Licence v3.0." in html
    downloads = list((tmp_path / "site" / "data").rglob("*.*"))
    assert {p.name for p in downloads} >= {"dim_forces.csv", "dim_forces.parquet"}
    assert not any(p.name.startswith("generated") for p in downloads)
    assert (tmp_path / "site" / "data" / "dim_forces.csv").read_text().startswith("force_id")


@pytest.mark.parametrize("name", ["index", *PAGES, "data", "ask"])
def test_pages_pass_the_axe_accessibility_rules(open_page, name):
    """axe-core (the engine behind Lighthouse's accessibility audit) over the rendered page: labels, names,
    contrast, landmarks, table headers, language."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(open_page(name))
    assert results.violations_count == 0, results.generate_report()


def test_the_accessibility_check_can_fail(browser):
    from axe_playwright_python.sync_playwright import Axe

    page = browser.new_page()
    page.set_content("<html><body><select><option>a</option></select><img src='x.png'></body></html>")
    found = {v["id"] for v in Axe().run(page).response["violations"]}
    page.close()
    assert {"html-has-lang", "select-name", "image-alt"} <= found


def test_index_page(open_page):
    page = open_page("index")
    assert page.locator("#months").inner_text().startswith("2024-01 to 2024-03 (3 months)")
    assert page.locator("nav a").count() == 7  # overview, four dashboards, data, ask


def test_crime_filters_change_the_numbers_and_match_the_marts(open_page, built):
    storage, *_ = built
    page = open_page("crime")
    (total,) = _serving(
        storage, "SELECT sum(crime_count) FROM marts.agg_street_crimes_monthly WHERE NOT is_anti_social_behaviour"
    )[0]
    assert int(_kpi(page, "kpi_crimes")) == total  # recorded crime: anti-social behaviour is not in it
    # records without a location count in the total but are left out of the town ranking
    (unknown,) = _serving(
        storage, "SELECT count(*) FROM marts.fct_street_crimes WHERE NOT is_town_known AND NOT is_anti_social_behaviour"
    )[0]
    ranked = page.eval_on_selector_all("#table-top_towns tbody tr", "trs => trs.map(tr => tr.cells[0].textContent)")
    assert unknown > 0 and len(ranked) == 15 and "(unknown)" not in ranked

    force_id, force_name = (
        "kent",
        _serving(storage, "SELECT force_name FROM marts.dim_forces WHERE force_id='kent'")[0][0],
    )
    _choose(page, "force", force_name)
    _choose(page, "month_from", "2024-02")
    _choose(page, "month_to", "2024-02")
    # the marts' own count for the known force-month, straight from the deduplicated fact table
    (expected,) = _serving(
        storage,
        "SELECT count(*) FROM marts.fct_street_crimes WHERE force_id = ? AND crime_month = '2024-02-01' "
        "AND NOT is_anti_social_behaviour",
        [force_id],
    )[0]
    shown = int(_kpi(page, "kpi_crimes"))
    assert shown == expected and shown != total
    (asb,) = _serving(
        storage,
        "SELECT count(*) FROM marts.fct_street_crimes WHERE force_id = ? AND crime_month = '2024-02-01' "
        "AND is_anti_social_behaviour",
        [force_id],
    )[0]
    assert int(_kpi(page, "kpi_asb")) == asb
    # the table alternative of the trend shows the same number for the month
    rows = page.eval_on_selector_all(
        "#table-trend tbody tr", "trs => trs.map(tr => [...tr.cells].map(c => c.textContent))"
    )
    assert rows == [["2024-02", f"{expected:,}", ""]]  # Kent published February in full: no coverage note

    # the town list now offers only Kent's towns; choosing one narrows the numbers again
    town = _serving(
        storage,
        "SELECT town_name, count(*) FROM marts.fct_street_crimes WHERE force_id = ? AND crime_month = '2024-02-01' "
        "AND NOT is_anti_social_behaviour GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1",
        [force_id],
    )[0]
    offered = page.eval_on_selector_all("#filter-town option", "os => os.map(o => o.value).filter(Boolean)")
    (kent_towns,) = _serving(
        storage, "SELECT count(DISTINCT town_name) FROM marts.agg_street_crimes_monthly WHERE force_id = ?", [force_id]
    )[0]
    assert town[0] in offered and len(offered) == kent_towns  # only Kent's towns are in the list at all
    _choose(page, "town", town[0])
    assert int(_kpi(page, "kpi_crimes")) == town[1]
    _choose(page, "force", "All")  # and every town comes back, the chosen one still chosen
    assert page.locator("#filter-town option").count() > kent_towns + 1
    assert page.locator("#filter-town").input_value() == town[0]


def test_a_month_without_records_is_a_gap_not_a_zero(open_page, built):
    storage, *_ = built
    # a force and crime type with records in only one of the three months
    force_name, type_name, month = _serving(
        storage,
        "SELECT f.force_name, a.crime_type_name, min(strftime(a.crime_month, '%Y-%m')) FROM marts.agg_street_crimes_monthly a "
        "JOIN marts.dim_forces f USING (force_id) WHERE NOT a.is_anti_social_behaviour "
        "GROUP BY ALL HAVING count(DISTINCT a.crime_month) = 1 ORDER BY 1, 2 LIMIT 1",
    )[0]
    page = open_page("crime")
    _choose(page, "force", force_name)
    _choose(page, "type", type_name)
    rows = page.eval_on_selector_all(
        "#table-trend tbody tr", "trs => trs.map(tr => [...tr.cells].map(c => c.textContent))"
    )
    shown = {r[0]: r[1] for r in rows}
    assert shown[month] != "–" and len(shown) == 3
    assert all(value == "–" for m, value in shown.items() if m != month)


def test_stop_and_search_numbers_match_the_marts(open_page, built):
    storage, *_ = built
    page = open_page("stop-and-search")
    force_id, force_name = _serving(
        storage,
        "SELECT force_id, force_name FROM marts.fct_stop_and_search WHERE search_month = '2024-01-01' "
        "GROUP BY ALL ORDER BY count(*) DESC LIMIT 1",
    )[0]
    _choose(page, "force", force_name)
    _choose(page, "month_to", "2024-01")
    searches, arrests = _serving(
        storage,
        "SELECT count(*), count(*) FILTER (WHERE is_arrest) FROM marts.fct_stop_and_search "
        "WHERE force_id = ? AND search_month = '2024-01-01'",
        [force_id],
    )[0]
    assert int(_kpi(page, "kpi_searches")) == searches
    assert float(_kpi(page, "kpi_arrest_rate")) == pytest.approx(arrests / searches)


def test_outcomes_and_coverage_follow_their_filters(open_page, built):
    storage, *_ = built
    page = open_page("outcomes")
    (crimes,) = _serving(
        storage,
        "SELECT count(*) FROM marts.fct_street_crimes WHERE NOT is_anti_social_behaviour AND crime_month = '2024-01-01'",
    )[0]
    _choose(page, "month_to", "2024-01")
    assert int(_kpi(page, "kpi_crimes")) == crimes

    page = open_page("coverage")
    gaps_sql = (
        "SELECT count(*) FILTER (WHERE coverage_status IN ('missing', 'empty')), "
        "count(*) FILTER (WHERE coverage_status = 'partial') FROM marts.fct_force_month_coverage WHERE dataset_name = ?"
    )
    gaps, partial = _serving(storage, gaps_sql, ["street"])[0]
    assert int(_kpi(page, "kpi_gaps")) == gaps and int(_kpi(page, "kpi_partial")) == partial >= 1
    _choose(page, "dataset", "Stop and search")  # titles from the dataset specs, not file suffixes
    (ss_gaps, _) = _serving(storage, gaps_sql, ["stop-and-search"])[0]
    assert int(_kpi(page, "kpi_gaps")) == ss_gaps


# --- unknown is never zero: each pattern of the fake release, as a reader sees it ---------------------------


def _text(page, selector):
    return page.locator(selector).inner_text()


def _table(page, view_id):
    return page.eval_on_selector_all(
        f"#table-{view_id} tbody tr", "trs => trs.map(tr => [...tr.cells].map(c => c.textContent))"
    )


def test_the_crime_headline_is_recorded_crime_and_asb_is_its_own_series(open_page, built):
    storage, *_ = built
    crimes, asb = _serving(
        storage,
        "SELECT sum(crime_count) FILTER (WHERE NOT is_anti_social_behaviour), "
        "sum(crime_count) FILTER (WHERE is_anti_social_behaviour) FROM marts.agg_street_crimes_monthly",
    )[0]
    page = open_page("crime")
    assert int(_kpi(page, "kpi_crimes")) == crimes and int(_kpi(page, "kpi_asb")) == asb > 0
    trend = lambda: sum(int(r[1].replace(",", "")) for r in _table(page, "trend") if r[1] != "–")  # noqa: E731
    assert trend() == crimes  # the default series: crime, never crime + ASB
    # options outside the chosen series are taken out of the list, not hidden (Safari shows hidden options)
    types = page.eval_on_selector_all("#filter-type option", "os => os.map(o => o.textContent)")
    assert "Anti-social behaviour" not in types and "Burglary" in types
    _choose(page, "series", "Anti-social behaviour")
    assert trend() == asb and int(_kpi(page, "kpi_crimes")) == crimes  # the headlines stay apart
    assert [r[0] for r in _table(page, "by_type")] == ["Anti-social behaviour"]


def test_find_rate_is_over_recorded_links_and_a_force_that_records_none_reads_not_published(open_page, built):
    storage, *_ = built
    found, known, searches = _serving(
        storage,
        "SELECT sum(object_found_count), sum(outcome_link_known_count), sum(search_count) "
        "FROM marts.agg_stop_and_search_monthly",
    )[0]
    page = open_page("stop-and-search")
    assert float(_kpi(page, "kpi_find_rate")) == pytest.approx(found / known) and known < searches
    assert f"of the {known:,} searches whose link was recorded" in _text(page, "#kpi-basis-kpi_find_rate")
    met = _serving(storage, "SELECT force_name FROM marts.dim_forces WHERE force_id = 'metropolitan'")[0][0]
    # by force: the Met's share reads "not published" in the table and on the chart, never 0 %
    by_force = {r[0]: r for r in _table(page, "by_force")}
    assert by_force[met][-1] == "not published" and by_force[met][1] != "–"
    assert page.locator("#chart-by_force text", has_text="not published").count() >= 1
    _choose(page, "force", met)
    assert _text(page, "#kpi-kpi_find_rate") == "not published" and _kpi(page, "kpi_find_rate") == ""
    assert int(_kpi(page, "kpi_searches")) > 0  # the Met did search: only the link is unknown
    assert {r[-2] for r in _table(page, "trend") if r[1] != "–"} == {"not published"}


def test_crimes_of_forces_without_outcome_files_are_never_awaiting(open_page, built):
    storage, *_ = built
    city = _serving(storage, "SELECT force_name FROM marts.dim_forces WHERE force_id = 'city-of-london'")[0][0]
    statuses = dict(
        _serving(
            storage,
            "SELECT outcome_status, count(*) FROM marts.fct_street_crimes "
            "WHERE force_id = 'city-of-london' AND NOT is_anti_social_behaviour GROUP BY 1",
        )
    )
    assert "Awaiting an outcome" not in statuses and statuses.get("Outcome from the street file", 0) > 0
    unpublished = statuses.get("No outcome data published", 0)
    page = open_page("outcomes")
    _choose(page, "force", city)
    assert float(_kpi(page, "kpi_unpublished")) == pytest.approx(unpublished / sum(statuses.values()))
    groups = {r[1] for r in _table(page, "mix")}
    assert "Awaiting an outcome" not in groups and "No outcome data published" not in groups
    if unpublished:
        assert _text(page, "#left-out-mix").startswith(f"{unpublished:,} of the selection's")
    # no outcome files: whether its crimes await an outcome is not published, never 0 %
    assert _text(page, "#kpi-kpi_awaiting") == "not published" and _kpi(page, "kpi_awaiting") == ""
    assert "no force of this selection published outcome files" in _text(page, "#kpi-basis-kpi_awaiting")
    assert page.locator("#chart-waits").is_hidden() and _text(page, "#empty-waits").startswith("Not published")
    assert all(r[3] == "not published" for r in _table(page, "awaiting"))  # every month a break in the line
    assert page.locator("#chart-awaiting g.mark-line path").get_attribute("d") in (None, "", "M0,0Z")
    note = page.locator("#coverage-note")
    assert note.get_attribute("data-lacking") == city and f"{city} published no outcome files" in note.inner_text()
    # with a force that publishes them, the share is over that force's crimes alone, and the chart is back
    tracked, awaiting = _serving(
        storage,
        "SELECT count(*) FILTER (WHERE outcome_status IN ('Outcome recorded', 'Awaiting an outcome')), "
        "count(*) FILTER (WHERE outcome_status = 'Awaiting an outcome') FROM marts.fct_street_crimes "
        "WHERE NOT is_anti_social_behaviour",
    )[0]
    _choose(page, "force", "All")
    assert float(_kpi(page, "kpi_awaiting")) == pytest.approx(awaiting / tracked)
    assert page.locator("#chart-waits").is_visible() and page.locator("#empty-waits").is_hidden()
    assert city in page.locator("#coverage-note").get_attribute("data-lacking").split("|")


def test_a_selection_without_files_says_so_instead_of_zero(open_page, built):
    storage, *_ = built
    gmp = _serving(storage, "SELECT force_name FROM marts.dim_forces WHERE force_id = 'greater-manchester'")[0][0]
    page = open_page("crime")
    _choose(page, "force", gmp)
    _choose(page, "month_from", "2024-02")
    assert _text(page, "#kpi-kpi_crimes") == "no data" and _kpi(page, "kpi_crimes") == ""
    assert "no file was published" in _text(page, "#kpi-basis-kpi_crimes")
    note = page.locator("#coverage-note")
    assert note.get_attribute("data-missing") == "2" and "have no file" in note.inner_text()
    assert page.locator("#empty-trend").is_visible() and "no file was published" in _text(page, "#empty-trend")
    assert page.locator("#chart-trend").is_hidden()  # no empty frame with a 0 tick


def test_trend_points_over_missing_or_partial_force_months_are_marked(open_page, built):
    storage, *_ = built
    flagged = _serving(
        storage,
        "SELECT strftime(file_month, '%Y-%m'), list(force_name ORDER BY force_name), "
        "list(coverage_status ORDER BY force_name) "
        "FROM marts.fct_force_month_coverage WHERE dataset_name = 'street' "
        "AND coverage_status IN ('missing', 'empty', 'partial') GROUP BY 1 ORDER BY 1",
    )
    statuses = {m: dict(zip(forces, s, strict=True)) for m, forces, s in flagged}
    assert statuses["2024-02"]["Greater Manchester Police"] == "missing"
    assert statuses["2024-02"]["Gwent Police"] == "partial"
    page = open_page("crime")
    notes = {r[0]: r[2] for r in _table(page, "trend")}
    for month, note in notes.items():
        assert bool(note) == (month in statuses), month
    assert "forces missing: " in notes["2024-02"] and "Greater Manchester Police" in notes["2024-02"]
    assert "partial: " in notes["2024-02"] and "Gwent Police" in notes["2024-02"]
    # on the chart: one vermilion triangle per flagged month
    marked = page.locator("#chart-trend g.mark-symbol path[fill='#D55E00']").count()
    assert marked == len([m for m in notes if m in statuses])
    assert "have no file" in _text(page, "#coverage-note")


def test_the_town_ranking_and_the_map_say_what_they_leave_out_of_the_headline_s_selection(open_page, built):
    storage, *_ = built

    def counts(month=None):
        return _serving(
            storage,
            "SELECT count(*), count(*) FILTER (WHERE NOT is_town_known), count(*) FILTER (WHERE is_location_missing) "
            "FROM marts.fct_street_crimes WHERE NOT is_anti_social_behaviour AND strftime(crime_month, '%Y-%m') "
            "LIKE ?",
            [month or "%"],
        )[0]

    total, no_town, no_point = counts()
    page = open_page("crime")
    assert page.locator("#left-out-top_towns").get_attribute("data-value") == str(no_town)
    assert _text(page, "#left-out-top_towns").startswith(f"{no_town:,} of the selection's {total:,} records")
    assert page.locator("#left-out-map").get_attribute("data-value") == str(no_point) and no_point > 0
    # one month chosen: the map still draws every month, but its note counts the headline's records
    month = _values(page, "month_from")[-1]
    _choose(page, "month_from", month)
    total, _, no_point = counts(month)
    assert _kpi(page, "kpi_crimes") == str(total)
    assert page.locator("#left-out-map").get_attribute("data-whole") == str(total)
    assert _text(page, "#left-out-map").startswith(f"{no_point:,} of the selection's {total:,} records")


def test_data_page_lists_every_table_and_its_downloads_read_back_as_the_snapshot(open_page, built, tmp_path):
    storage, *_ = built
    manifest = read_manifest(storage.published_dir)
    page = open_page("data")
    for table, rows in manifest["tables"].items():
        section = page.locator(f"#table-{table}")
        assert section.is_visible() and f"{rows:,} rows" in section.inner_text(), table
        # the columns and their meanings are the dbt docs', as the manifest recorded them
        assert section.locator("tbody tr").count() == len(manifest["catalogue"][table]["columns"]), table
    assert "One row per" in page.locator("#table-fct_outcomes").inner_text()
    # follow a download link as a user would; what arrives is the snapshot's table, row for row
    with page.expect_download() as download:
        page.locator("#table-agg_street_crimes_monthly a", has_text="Parquet").click()
    saved = tmp_path / "agg.parquet"
    download.value.save_as(saved)
    # generated data says so once saved, away from the page: in the file's name and in the file itself
    assert download.value.suggested_filename == "generated-sample-data-agg_street_crimes_monthly.parquet"
    with duckdb.connect() as con:
        got = con.execute(f"SELECT * FROM read_parquet('{saved}') ORDER BY ALL").fetchall()
        mark = con.execute(
            f"SELECT value::VARCHAR FROM parquet_kv_metadata('{saved}') WHERE key::VARCHAR = 'generated_sample_data'"
        ).fetchall()
    assert got == _serving(storage, "SELECT * FROM marts.agg_street_crimes_monthly ORDER BY ALL") and got
    assert mark == [
        (f"Generated sample data, not real police figures: made up by {manifest['generated']['generated_by']}",)
    ]
    with page.expect_download() as download:
        page.locator("#table-dim_forces a", has_text="CSV").click()
    csv_path = tmp_path / "forces.csv"
    download.value.save_as(csv_path)
    assert download.value.suggested_filename == "generated-sample-data-dim_forces.csv"
    assert csv_path.read_text().startswith("# Generated sample data, not real police figures: made up by make demo")
    with duckdb.connect() as con:
        forces = con.execute(f"SELECT force_id, force_name FROM read_csv('{csv_path}') ORDER BY 1").fetchall()
    assert forces == _serving(storage, "SELECT force_id, force_name FROM marts.dim_forces ORDER BY 1")
    # a table split by month downloads a month at a time, each link that month's rows
    month = manifest["months"][-1]
    with page.expect_download() as download:
        page.locator("#table-fct_street_crimes a", has_text=month).click()
    saved = tmp_path / "month.parquet"
    download.value.save_as(saved)
    assert download.value.suggested_filename == f"generated-sample-data-fct_street_crimes-{month}.parquet"
    with duckdb.connect() as con:
        got = con.execute(f"SELECT street_crime_key FROM read_parquet('{saved}') ORDER BY 1").fetchall()
    month_sql = f"SELECT street_crime_key FROM marts.fct_street_crimes WHERE crime_month = DATE '{month}-01' ORDER BY 1"
    assert got == _serving(storage, month_sql) and got
    # the Parquet downloads are the snapshot's own files (hard links), not a second copy of the data
    downloads = list((storage.published_dir / "site" / "data").rglob("*.parquet"))
    assert any(p.parent.name == "fct_street_crimes" for p in downloads)
    for parquet in downloads:
        assert parquet.stat().st_nlink >= 2, parquet.name


def test_the_map_names_the_largest_towns_and_a_small_selection_does_not_fill_it(open_page, built):
    storage, *_ = built
    page = open_page("crime")

    def names():
        return page.eval_on_selector_all("#chart-map g.mark-text.role-mark text", "ts => ts.map(t => t.textContent)")

    (largest,) = _serving(
        storage,
        "SELECT town_name FROM marts.fct_street_crimes WHERE is_town_known AND longitude IS NOT NULL "
        "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
    )[0]
    assert largest in names()  # place names from the data's own points, no tile server
    # one town of one force: a handful of cells, shown in their surroundings rather than filling the map
    force_id, force_name, town = _serving(
        storage,
        "SELECT c.force_id, f.force_name, c.town_name FROM marts.fct_street_crimes c JOIN marts.dim_forces f "
        "USING (force_id) WHERE c.is_town_known AND c.longitude IS NOT NULL AND NOT c.is_anti_social_behaviour "
        "GROUP BY ALL ORDER BY count(*) ASC, 3 LIMIT 1",
    )[0]
    _choose(page, "force", force_name)
    _choose(page, "town", town)
    assert names() == [town]
    width = page.eval_on_selector("#chart-map svg", "s => s.getBoundingClientRect().width")
    cells = page.eval_on_selector_all(
        "#chart-map g.mark-rect.role-mark path", "ps => ps.map(p => p.getBoundingClientRect().width)"
    )
    assert cells and max(cells) < width / 4, (cells, width)


# --- phones, tablets and laptops -------------------------------------------------------------------------

WIDTHS = [390, 768, 1280]  # a phone, a tablet upright, a laptop

# Where each page's layout breaks, if it does: the page scrolling sideways, a chart drawn wider than its box, an
# element over the middle of a chart, and place names over one another.
LAYOUT = """() => {
  const problems = [];
  const doc = document.documentElement;
  if (doc.scrollWidth > doc.clientWidth) problems.push(`page ${doc.scrollWidth} px wide in ${doc.clientWidth}`);
  for (const box of document.querySelectorAll(".chart")) {
    const svg = box.querySelector("svg");
    if (box.hidden || !svg) continue;
    const outer = box.getBoundingClientRect(), drawn = svg.getBoundingClientRect();
    if (drawn.left < outer.left - 0.5 || drawn.right > outer.right + 0.5) {
      problems.push(`${box.id}: drawn ${drawn.left}..${drawn.right} in ${outer.left}..${outer.right}`);
    }
    svg.scrollIntoView({ block: "center" });
    const shown = svg.getBoundingClientRect();  // the middle of its part on screen (a tall chart overflows it)
    const [top, bottom] = [Math.max(shown.top, 0), Math.min(shown.bottom, window.innerHeight)];
    const hit = document.elementFromPoint(shown.left + shown.width / 2, (top + bottom) / 2);
    if (!box.contains(hit)) problems.push(`${box.id}: covered by ${hit && (hit.id || hit.className || hit.tagName)}`);
    const labels = [...box.querySelectorAll("g.mark-text.role-mark text")].map((t) => t.getBoundingClientRect());
    labels.forEach((a, i) => labels.slice(i + 1).forEach((b) => {
      if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) problems.push(`${box.id}: labels overlap`);
    }));
  }
  return problems;
}"""


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_fits_the_screen_with_every_chart_inside_its_box_and_uncovered(open_page, width):
    for name in ["index", *PAGES, "data", "ask"]:
        page = open_page(name, width=width)
        assert page.evaluate(LAYOUT) == [], (name, width)
        assert page.locator(".chart svg").count() == page.locator(".chart:not([hidden])").count()


def test_the_layout_check_fails_on_a_chart_wider_than_its_box(open_page):
    page = open_page("crime", width=390)
    page.evaluate("document.querySelector('#chart-trend svg').setAttribute('width', 2000)")
    assert any(p.startswith("chart-trend: drawn") for p in page.evaluate(LAYOUT))
    page.evaluate("document.querySelector('#filters').style.cssText = 'position: fixed; inset: 0'")
    assert any("covered by" in p for p in page.evaluate(LAYOUT))
    page.evaluate("(t => t.after(t.cloneNode(true)))(document.querySelector('#chart-map g.mark-text.role-mark text'))")
    assert "chart-map: labels overlap" in page.evaluate(LAYOUT)


def test_charts_refit_when_a_phone_turns_or_a_window_narrows(open_page):
    page = open_page("stop-and-search", width=1280)
    assert page.evaluate(LAYOUT) == []
    page.set_viewport_size({"width": 390, "height": 900})
    page.wait_for_function("Number(document.body.dataset.refits || 0) > 0")
    assert page.evaluate(LAYOUT) == []
    # a pair of charts side by side on a laptop is stacked on the phone
    boxes = page.eval_on_selector_all(
        "#chart-by_force g.mark-group.role-scope", "gs => gs.map(g => g.getBoundingClientRect().top)"
    )
    assert len(boxes) == 2 and boxes[0] != boxes[1]


def test_counts_never_tick_a_fraction_of_one(open_page, built):
    page = open_page("coverage")  # a handful of missing force-months: the axis runs 0, 1, 2
    ticks = page.eval_on_selector_all("#chart-gaps_by_force g.role-axis-label text", "ts => ts.map(t => t.textContent)")
    numbers = [t for t in ticks if t and (t.replace(",", "").isdigit() or "." in t)]
    assert numbers and all("." not in t for t in numbers) and len(numbers) == len(set(numbers)), ticks


def test_a_chart_drawn_while_hidden_is_fitted_when_it_shows(open_page, built):
    storage, *_ = built
    city = _serving(storage, "SELECT force_name FROM marts.dim_forces WHERE force_id = 'city-of-london'")[0][0]
    page = open_page("outcomes", hash=urlencode({"force": city}), width=390)  # no outcome files: no waits chart
    assert page.locator("#chart-waits").is_hidden()
    _choose(page, "force", "All")
    assert page.locator("#chart-waits").is_visible() and page.evaluate(LAYOUT) == []
