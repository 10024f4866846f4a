"""The Ask page (police_assets/site/ask.py): SQL in the browser over the site's own Parquet files, served over
HTTP with range requests as `make serve` serves it. Each example question gives what DuckDB gives on
serving.duckdb; bad SQL, an unknown table and a cancelled query say so and leave the page usable; the query
lives in the address; from file:// the page says it must be served."""

import datetime
import decimal
import math

import duckdb
import pytest

from police_assets.site.ask import EXAMPLES, engine_ready
from police_dev.serve import SiteServer
from tests.helpers import build_sample_site, skip_or_fail_in_ci


@pytest.fixture(scope="module")
def built(fake_site, tmp_path_factory):
    return build_sample_site(fake_site, tmp_path_factory.mktemp("ask-data"))[0]


@pytest.fixture(scope="module")
def served(built):
    """The site over HTTP, as make serve serves it; every test through it runs the engine."""
    if not engine_ready():
        skip_or_fail_in_ci("the Ask page's engine is not built (make setup runs npm ci)")
    with SiteServer(built.published_dir / "site") as server:
        yield server


@pytest.fixture(scope="module")
def ask_page(served, browser):
    """One Ask page, its engine loaded once for the module's tests; console errors and any request outside the
    local server are collected and must stay empty."""
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    problems = []
    page.on("console", lambda m: problems.append(f"{m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    page.on("request", lambda r: problems.append(f"request: {r.url}") if not r.url.startswith(served.url) else None)
    page.goto(served.url + "ask.html")
    page.wait_for_function("document.body.dataset.askState === 'ready'", timeout=60_000)
    yield page
    page.close()
    assert problems == []


def _ask(page, sql):
    page.evaluate("sql => { document.body.dataset.askState = 'asked'; window.askRun(sql); }", sql)
    page.wait_for_function("!['asked', 'running'].includes(document.body.dataset.askState)", timeout=60_000)
    return page.evaluate("document.body.dataset.askState"), page.evaluate("window.askResult")


def _serving(storage, sql):
    with duckdb.connect(str(storage.published_dir / "serving.duckdb"), read_only=True) as con:
        con.execute("USE marts")
        cursor = con.execute(sql)
        return [d[0] for d in cursor.description], cursor.fetchall()


def _same(browser_value, python_value) -> bool:
    if python_value is None or browser_value is None:
        return python_value is None and browser_value is None
    if isinstance(python_value, datetime.date):
        return browser_value == python_value.isoformat()
    if isinstance(python_value, bool):
        return browser_value is python_value
    if isinstance(python_value, (int, float, decimal.Decimal)):
        return math.isclose(float(browser_value), float(python_value), rel_tol=1e-9, abs_tol=1e-12)
    return browser_value == python_value


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.slug for e in EXAMPLES])
def test_every_example_answers_as_duckdb_does_on_serving(ask_page, built, example):
    state, got = _ask(ask_page, example.sql)
    assert state == "done", ask_page.locator("#ask-error").text_content()
    columns, rows = _serving(built, example.sql)
    assert rows, "an example that answers nothing on the sample proves nothing"
    assert got["columns"] == columns
    assert got["count"] == len(rows)
    assert len(got["rows"]) == len(rows)
    for b, p in zip(got["rows"], rows, strict=True):
        assert all(_same(bv, pv) for bv, pv in zip(b, p, strict=True)), (b, p)


def test_the_comparison_can_fail(ask_page, built):
    """The same check over a query whose answer differs from the reference's."""
    _, got = _ask(ask_page, "SELECT count(*) + 1 AS n FROM dim_forces")
    _, rows = _serving(built, "SELECT count(*) AS n FROM dim_forces")
    assert not _same(got["rows"][0][0], rows[0][0])


def test_bad_sql_an_unknown_table_and_a_cancel_say_so_and_leave_the_page_usable(ask_page):
    state, _ = _ask(ask_page, "SELEC force_name FROM dim_forces")
    assert state == "error" and "Parser Error" in ask_page.locator("#ask-error").text_content()
    state, _ = _ask(ask_page, "SELECT * FROM fct_crimes_of_the_moon")
    message = ask_page.locator("#ask-error").text_content()
    assert state == "error" and "fct_crimes_of_the_moon" in message and "does not exist" in message
    # a query that runs for minutes: cancelled
    ask_page.evaluate(
        "() => { document.body.dataset.askState = 'asked';"
        " window.askRun('SELECT sum(a.range * b.range) FROM range(200000) a, range(200000) b'); }"
    )
    ask_page.wait_for_function("document.body.dataset.askState === 'running'", timeout=10_000)
    ask_page.wait_for_timeout(500)
    ask_page.click("#ask-cancel")
    ask_page.wait_for_function("document.body.dataset.askState === 'cancelled'", timeout=30_000)
    assert "Cancelled" in ask_page.locator("#ask-error").text_content()
    # still usable, the message gone
    state, got = _ask(ask_page, "SELECT 42 AS answer")
    assert state == "done" and got["rows"] == [[42]] and ask_page.locator("#ask-error").is_hidden()


def test_a_large_result_shows_the_first_rows_states_the_count_and_says_what_it_fetched(ask_page, built, served):
    before = sum(n for path, n in served.sent.items() if path.endswith(".parquet"))
    state, got = _ask(ask_page, "SELECT * FROM fct_street_crimes")
    [(total,)] = _serving(built, "SELECT count(*) FROM fct_street_crimes")[1]
    assert state == "done" and total > 1000
    assert got["count"] == total and len(got["rows"]) == 1000 and not got["complete"]
    status = ask_page.locator("#ask-status").text_content()
    assert f"{total:,} rows; the first 1,000 shown" in status and "fetched" in status
    assert ask_page.locator("#ask-result tbody tr").count() == 1000
    sent = sum(n for path, n in served.sent.items() if path.endswith(".parquet")) - before
    assert sent > 0  # read from the site's own files, through the server
    assert 0 < got["fetched"] <= sent  # what the page says it fetched (the worker's count of DuckDB's reads)
    # a result too long to count while it streams is counted by DuckDB, and its CSV written by DuckDB
    state, got = _ask(ask_page, "SELECT range AS n FROM range(250000)")
    assert state == "done" and got["count"] == 250_000 and len(got["rows"]) == 1000
    assert "250,000 rows; the first 1,000 shown" in ask_page.locator("#ask-status").text_content()
    with ask_page.expect_download() as download:
        ask_page.click("#ask-csv")
    lines = open(download.value.path(), encoding="utf-8").read().splitlines()
    assert lines[0].startswith("# Generated sample data") and lines[1] == "n" and len(lines) == 2 + 250_000


def test_the_query_lives_in_the_address_and_a_link_reopens_it(browser, served):
    page = browser.new_page()
    try:
        page.goto(served.url + "ask.html?q=" + "SELECT%20count(*)%20AS%20forces%20FROM%20dim_forces")
        page.wait_for_function("document.body.dataset.askState === 'done'", timeout=60_000)
        forces = page.evaluate("window.askResult.rows[0][0]")
        assert forces > 40 and page.locator("#ask-sql").input_value().startswith("SELECT count(*)")
        page.evaluate("() => { document.body.dataset.askState = 'asked'; window.askRun('SELECT 1 AS one'); }")
        page.wait_for_function("document.body.dataset.askState === 'done'")
        assert "q=SELECT%201%20AS%20one" in page.url
        page.go_back()
        page.wait_for_function("window.askResult && window.askResult.sql.includes('dim_forces')", timeout=30_000)
        assert page.evaluate("window.askResult.rows[0][0]") == forces
    finally:
        page.close()


def test_the_csv_download_holds_the_whole_result_marked_as_generated(ask_page, built):
    state, got = _ask(ask_page, "SELECT force_id, force_name FROM dim_forces ORDER BY force_id")
    assert state == "done"
    with ask_page.expect_download() as download:
        ask_page.click("#ask-csv")
    text = open(download.value.path(), encoding="utf-8").read()
    assert download.value.suggested_filename.startswith("generated-sample-data-")
    lines = text.splitlines()
    assert lines[0].startswith("# Generated sample data") and lines[1] == "force_id,force_name"
    _, rows = _serving(built, "SELECT force_id, force_name FROM dim_forces ORDER BY force_id")
    assert len(lines) == 2 + len(rows) and lines[2].split(",")[0] == rows[0][0]


def test_from_a_file_the_page_says_it_must_be_served(browser, built):
    page = browser.new_page()
    try:
        page.goto((built.published_dir / "site" / "ask.html").as_uri())
        page.wait_for_function("document.body.dataset.askState === 'needs-server'")
        note = page.locator("#ask-served")
        assert note.is_visible() and "make serve" in note.text_content()
        assert page.locator("#ask-run").is_disabled()
    finally:
        page.close()


def test_the_data_page_links_each_table_to_its_first_rows_in_ask(browser, served, built):
    page = browser.new_page()
    try:
        page.goto(served.url + "data.html")
        link = page.locator("#table-dim_forces a", has_text="Ask")
        link.click()
        page.wait_for_function("document.body.dataset.askState === 'done'", timeout=60_000)
        [(n,)] = _serving(built, "SELECT count(*) FROM (SELECT * FROM dim_forces LIMIT 100)")[1]
        assert page.evaluate("window.askResult.count") == n
        assert page.locator("#ask-sql").input_value() == 'SELECT * FROM "dim_forces" LIMIT 100'
    finally:
        page.close()


def test_the_ask_page_with_a_result_passes_the_axe_accessibility_rules(ask_page):
    from axe_playwright_python.sync_playwright import Axe

    _ask(ask_page, EXAMPLES[0].sql)
    results = Axe().run(ask_page)
    assert results.violations_count == 0, results.generate_report()


def test_the_ask_page_and_its_answers_fit_a_phone(ask_page):
    _ask(ask_page, "SELECT * FROM fct_stop_and_search LIMIT 20")
    ask_page.set_viewport_size({"width": 390, "height": 800})
    try:
        assert ask_page.evaluate("document.documentElement.scrollWidth") <= 390
        box = ask_page.locator("#ask-result-box").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390  # the wide table scrolls inside its box
    finally:
        ask_page.set_viewport_size({"width": 1200, "height": 900})


def _options(page, filter_id) -> list[str]:
    if not page.locator(f"#filter-{filter_id}").count():
        return []
    return [v for v in page.eval_on_selector_all(f"#filter-{filter_id} option", "os => os.map(o => o.value)") if v]


@pytest.mark.parametrize("slug", ["crime", "outcomes", "stop-and-search", "coverage"])
def test_every_headline_s_sql_link_answers_the_number_shown(browser, served, ask_page, slug):
    """Three filter states per dashboard: as opened, one force, and another force over a later month range
    (the coverage page: another dataset). Each headline's "SQL" link, run on the Ask page, gives its number."""
    from urllib.parse import parse_qs, urlencode, urlparse

    page = browser.new_page(viewport={"width": 1200, "height": 900})
    try:
        page.goto(served.url + f"{slug}.html")
        page.wait_for_function("document.body.dataset.ready === 'true'", timeout=30_000)
        forces, months = _options(page, "force"), _options(page, "month_from")
        states = [{}, {"force": forces[1]}, {"force": forces[len(forces) // 2]}]
        if months:
            states[2]["month_from"] = months[1]
        if slug == "coverage":
            states[2]["dataset"] = _options(page, "dataset")[1]
        checked = 0
        for state in states:  # each opened from its link, as a reader would
            page.goto(served.url + f"{slug}.html" + (f"#{urlencode(state)}" if state else ""))
            page.wait_for_function("document.body.dataset.ready === 'true'", timeout=30_000)
            assert page.locator("#link-note").is_hidden(), state  # the page has every value asked for
            for kpi in page.eval_on_selector_all(".kpi-value", "els => els.map(e => e.id.slice(4))"):
                shown = page.locator(f"#kpi-{kpi}").get_attribute("data-value")
                href = page.locator(f"#kpi-sql-{kpi}").get_attribute("href")
                sql = parse_qs(urlparse(href).query)["q"][0]
                outcome, got = _ask(ask_page, sql)
                assert outcome == "done", (kpi, sql, ask_page.locator("#ask-error").text_content())
                answer = got["rows"][0][0]
                if shown == "":  # "no data" or "not published": nothing counted, never a zero shown
                    assert answer in (None, 0), (kpi, state, answer)
                else:
                    assert answer is not None and math.isclose(float(shown), answer, rel_tol=1e-9), (kpi, state, sql)
                checked += 1
        assert checked >= 3 * 2
    finally:
        page.close()
