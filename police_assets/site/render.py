"""Render the static site from the published snapshot: one self-contained HTML file per page.

Every page carries its own data (gzip'd cubes), the dashboard script and the Vega / Vega-Lite / vega-embed
bundle from vl-convert-python (about 0.9 MB), so a page opens from ``file://`` or any static host with no
network, CDN or server code.

The site is published like the marts' snapshot: each render builds a whole new folder in
``published/site-builds/`` and ``published/site`` is a symlink swapped to it with one rename, so a web server
serves the old site or the new one, never a mix, and a render that fails at any point (a full disk, say)
leaves the previous site whole. The build before the current one is kept for readers mid-visit; older go.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from importlib.metadata import version
from pathlib import Path

import duckdb
import jinja2
from markupsafe import Markup

from police_assets.core.config import duckdb_config
from police_assets.core.sql import sql_literal
from police_assets.core.tempfiles import build_name, link_or_copy, swap_to_build, sweep, temp_path
from police_assets.publish.snapshot import generated_note, manifest_of, snapshot_dir
from police_assets.site import ask
from police_assets.site.cubes import Published
from police_assets.site.pages import PAGE_BUILDERS, Page
from police_assets.site.pages.coverage import partial_rule

BLURBS = {
    "crime": "recorded street-level crime by force, town, type and month, with a map; anti-social behaviour apart",
    "outcomes": "what happened to the crimes: outcome mix, no suspect identified, time to outcome, awaiting, and "
    "where no outcome data was published",
    "stop-and-search": "who was searched, what for and what happened, by force and over time",
    "coverage": "which forces published which months, whole or partial: gaps are missing data, not zero crime",
    "data": "every published table with its columns explained, to download as Parquet or CSV",
    "ask": "your own questions of those tables in SQL, answered in your browser, with example questions",
}
# Tables up to this many rows are also offered as CSV (a spreadsheet opens about a million rows); larger ones
# as Parquet only, which the site links to the snapshot's own files rather than copying.
CSV_MAX_ROWS = 200_000
GENERATED_PREFIX = "generated-sample-data-"  # the file names of generated data's downloads


@dataclass
class SiteResult:
    out_dir: Path
    pages: dict[str, int]  # file name -> bytes
    cube_rows: dict[str, int]  # page/cube -> rows
    months: list[str]
    seconds: float

    @property
    def bytes(self) -> int:
        return sum(self.pages.values())


def _static(name: str) -> str:
    return resources.files("police_assets.site").joinpath("static", name).read_text(encoding="utf-8")


@cache
def vega_bundle(cache_dir: Path | None = None) -> str:
    """Vega, Vega-Lite and vega-embed as one script (vl-convert-python ships them; nothing is downloaded).

    Bundling is slow (docs/benchmarks.md) and its result depends only on vl-convert-python's
    version, so ``cache_dir`` (the site's cache) keeps it under that version from one render to the next."""
    import vl_convert

    kept = Path(cache_dir) / f"vega-bundle-{version('vl-convert-python')}.js" if cache_dir else None
    if kept and kept.is_file():
        return kept.read_text(encoding="utf-8")
    bundle = vl_convert.javascript_bundle("window.vegaEmbed = vegaEmbed; window.vega = vega;")
    if kept:
        kept.parent.mkdir(parents=True, exist_ok=True)
        for old in kept.parent.glob("vega-bundle-*.js"):  # another version's
            old.unlink(missing_ok=True)
        tmp = temp_path(kept)
        try:
            tmp.write_text(bundle, encoding="utf-8")
            os.replace(tmp, kept)
        finally:
            tmp.unlink(missing_ok=True)
    return bundle


def _script_safe(text: str) -> Markup:
    # A "</script" inside inline code would end the element early. It can only occur inside a string or a
    # regular expression, where "<\/script" means the same (to JSON too); any other "</" is left alone.
    return Markup(re.sub(r"</(script)", r"<\\/\1", text, flags=re.IGNORECASE))


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("police_assets.site", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
    )


def _filter_context(page: Page) -> list[dict]:
    """Each filter with its options: the labels of its dimension across the page's cubes, months in order."""
    out = []
    for f in page.filters:
        labels = sorted({label for c in page.cubes if f.dim in c.labels for label in c.labels[f.dim]})
        if f.kind == "from":
            selected = labels[0] if labels else None
        elif f.kind == "to":
            selected = labels[-1] if labels else None
        else:
            selected = f.default
        out.append({**f.__dict__, "options": labels, "selected": selected})
    return out


def _write(path: Path, text: str) -> int:
    tmp = temp_path(path)
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path.stat().st_size


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{max(n, 1000) / 1e3:.0f} kB"


def write_downloads(snapshot: Path, manifest: dict, folder: Path) -> list[dict]:
    """The tables of ``snapshot`` (a resolved snapshot folder) as downloads inside the site folder (so any static
    host serves them): each Parquet file hard-linked to the snapshot's own, one per month for a table the
    snapshot splits by month, and a CSV of each whole table small enough for a spreadsheet. Returns what the
    Data page lists."""
    marts = snapshot / "marts"
    parts = manifest.get("parts", {})
    folder.mkdir(parents=True, exist_ok=True)
    sweep(folder)
    # Generated data says so in every download, which leaves the page's banner behind: in its name, in the
    # Parquet file's metadata (written by the publish) and on a CSV's first line (a comment DuckDB and
    # pandas' comment="#" skip, and a spreadsheet shows).
    generated = manifest.get("generated")
    prefix = GENERATED_PREFIX if generated else ""
    tables = []
    with duckdb.connect(config=duckdb_config()) as con:
        for name, doc in sorted(manifest.get("catalogue", {}).items()):
            rows = manifest["tables"][name]
            entry = {"name": name, "rows": rows, "description": doc["description"], "columns": doc["columns"]}
            if name in parts:
                by_month = []
                (folder / name).mkdir(exist_ok=True)
                for month, part in sorted(parts[name]["months"].items()):
                    # the table in the file's own name: what a browser saves (from file:// it ignores `download`)
                    file = f"{name}/{prefix}{name}-{month}.parquet"
                    link_or_copy(marts / part["file"], folder / file)
                    size = (folder / file).stat().st_size
                    by_month.append(
                        {
                            "month": month,
                            "rows": part["rows"],
                            "href": f"data/{file}",
                            "size": _size(size),
                        }
                    )
                years = sorted({m["month"][:4] for m in by_month}, reverse=True)
                entry["by_month"] = [(y, [m for m in by_month if m["month"][:4] == y]) for y in years]
                entry["column"] = parts[name]["column"]
                tables.append(entry)
                continue
            source, parquet = marts / f"{name}.parquet", folder / f"{prefix}{name}.parquet"
            link_or_copy(source, parquet)
            csv = folder / f"{prefix}{name}.csv"
            if rows <= CSV_MAX_ROWS:
                tmp = temp_path(csv)
                # generated data: DuckDB writes the rows apart, to go after the mark (it cannot write a line
                # before a header); real data goes straight to the file
                rows_file = temp_path(folder / f"{name}.rows.csv") if generated else tmp
                con.execute(
                    f"COPY (FROM read_parquet({sql_literal(source)})) TO {sql_literal(rows_file)} (FORMAT csv, HEADER)"
                )
                if generated:
                    with open(tmp, "wb") as out, open(rows_file, "rb") as rows_in:
                        out.write(f"# {generated_note(generated)}\n".encode())
                        shutil.copyfileobj(rows_in, out)
                    rows_file.unlink()
                os.replace(tmp, csv)
            else:
                csv.unlink(missing_ok=True)
            entry |= {
                "by_month": None,
                "parquet": f"data/{parquet.name}",
                "parquet_size": _size(parquet.stat().st_size),
                "csv": f"data/{csv.name}" if csv.exists() else None,
                "csv_size": _size(csv.stat().st_size) if csv.exists() else None,
            }
            tables.append(entry)
    for stale in folder.iterdir():  # a table no longer published
        if stale.name.removeprefix(prefix).split(".")[0] not in manifest.get("catalogue", {}):
            shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    return tables


def months_text(months: list[str]) -> str:
    return f"{months[0]} to {months[-1]}" if months else "no months yet"


def release_text(release: dict | None) -> str:
    """Which archive(s) the months came from and when, from the snapshot manifest's ``release``."""
    if not release or not release.get("archives"):
        return "not recorded"
    return f"archive {', '.join(release['archives'])}, fetched {release['fetched']}"


def render_site(published_dir: Path, out_dir: Path | None = None) -> SiteResult:
    """Build every page from ``published_dir`` (the snapshot of ``publish/marts_snapshot``) into ``out_dir``.

    Everything comes from the snapshot: the marts, and from its manifest the months, the release they came
    from, the licence and the marts' unknown label.
    """
    started = time.monotonic()
    published_dir = Path(published_dir)
    link = Path(out_dir) if out_dir else published_dir / "site"
    builds = link.with_name(f"{link.name}-builds")
    builds.mkdir(parents=True, exist_ok=True)
    sweep(builds)  # what a killed render left
    name = build_name()
    building = temp_path(builds / name)
    building.mkdir()
    try:
        written, cube_rows, months = _render(published_dir, building, link.with_name(f"{link.name}-cache"))
        os.rename(building, builds / name)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    swap_to_build(link, builds, name)  # one rename; the build replaced is kept for a reader between pages
    return SiteResult(link, written, cube_rows, months, time.monotonic() - started)


def _render(published_dir: Path, out_dir: Path, cache: Path) -> tuple[dict[str, int], dict[str, int], list[str]]:
    """Every page and download into ``out_dir``, a new empty folder: (bytes per page, rows per cube, months).
    ``cache`` keeps the cubes' month-by-month results from render to render (:meth:`Published.by_month`)."""
    env = _environment()
    # Resolved once: the manifest, the marts and the downloads all come from the same snapshot, even if a
    # publish swaps in a new one while the pages are rendered.
    snapshot = snapshot_dir(published_dir)
    manifest = manifest_of(snapshot)
    months = manifest["months"]
    con = Published(snapshot, cache)
    try:
        pages = [build(con, manifest["labels"]["unknown"]) for build in PAGE_BUILDERS]
        crimes, asb = con.execute(
            "SELECT coalesce(sum(crime_count) FILTER (WHERE NOT is_anti_social_behaviour), 0), "
            "coalesce(sum(crime_count) FILTER (WHERE is_anti_social_behaviour), 0) FROM agg_street_crimes_monthly"
        ).fetchone()
        totals = {
            "crimes": crimes,
            "asb": asb,
            "outcomes": con.execute("SELECT count(*) FROM fct_outcomes").fetchone()[0],
            "searches": con.execute("SELECT count(*) FROM fct_stop_and_search").fetchone()[0],
        }
        rules = {"partial": partial_rule(con)}
        con.prune_cache()
    finally:
        con.close()

    nav = (
        [{"slug": "index", "title": "Overview", "href": "index.html", "blurb": ""}]
        + [{"slug": p.slug, "title": p.title, "href": f"{p.slug}.html", "blurb": BLURBS.get(p.slug, "")} for p in pages]
        + [{"slug": "data", "title": "Data", "href": "data.html", "blurb": BLURBS["data"]}]
        + [{"slug": "ask", "title": "Ask", "href": "ask.html", "blurb": BLURBS["ask"]}]
    )
    common = {
        "nav": nav,
        "licence": manifest["licence"],
        "generated": manifest.get("generated"),
        "release_text": release_text(manifest.get("release")),
        "months": months,
        "months_text": months_text(months),
        "built_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "css": Markup(_static("style.css")),
    }
    written: dict[str, int] = {}
    cube_rows: dict[str, int] = {}

    def write_page(slug: str, template: str, **context) -> None:
        html = env.get_template(template).render(**common, slug=slug, **context)
        written[f"{slug}.html"] = _write(out_dir / f"{slug}.html", html)

    write_page(
        "index",
        "index.html.j2",
        title="Overview",
        description="UK police open data dashboards",
        totals=totals,
        rules=rules,
    )
    tables = write_downloads(snapshot, manifest, out_dir / "data")
    for table in tables:  # the Data page and Ask link each table to a ready query
        table["ask"] = ask.ask_href(f'SELECT * FROM "{table["name"]}" LIMIT 100')
    write_page(
        "data", "data.html.j2", title="Data", description="The published tables and their columns", tables=tables
    )
    engine = ask.write_engine(out_dir)
    ask_spec = {
        "tables": ask.table_files(tables),
        "engine": engine,
        "maxRows": ask.MAX_ROWS,
        "generated": generated_note(manifest["generated"]) if manifest.get("generated") else None,
        "prefix": GENERATED_PREFIX if manifest.get("generated") else "",
    }
    write_page(
        "ask",
        "ask.html.j2",
        title="Ask",
        description="SQL over the published tables, in your browser",
        tables=tables,
        examples=ask.EXAMPLES,
        default_sql=ask.EXAMPLES[0].sql,
        max_rows=ask.MAX_ROWS,
        engine_version=ask.engine_version(),
        engine_size=f"{engine['bytes'] / 1e6:.0f} MB" if engine else "not installed",
        spec_json=_script_safe(json.dumps(ask_spec, separators=(",", ":"))),
        script=_script_safe(_static("ask.js")),
    )
    dashboard_js, bundle = _script_safe(_static("dashboard.js")), _script_safe(vega_bundle(cache))
    for page in pages:
        spec = {
            "slug": page.slug,
            "coverage": page.coverage,
            "lacking": page.lacking,
            "filters": [{k: v for k, v in f.__dict__.items()} for f in page.filters],
            "kpis": [k.spec() for k in page.kpis],
            # not validated against Vega-Lite's schema on every render (its cost: docs/benchmarks.md): tests.site
            # validates every chart
            "views": [{**v.spec(), "vega": v.chart.to_dict(validate=False)} for v in page.views],
            # each headline's "SQL" link: its cube's query, filtered in the browser as the page filters it
            "sources": {c.name: c.source() for c in page.cubes if c.name in {k.cube for k in page.kpis}},
            "unknown": manifest["labels"]["unknown"],
        }
        cubes = []
        for cube in page.cubes:
            cube_rows[f"{page.slug}/{cube.name}"] = cube.rows
            cubes.append({"name": cube.name, "rows": cube.rows, "encoded": cube.encode()})
        write_page(
            page.slug,
            "dashboard.html.j2",
            title=page.title,
            description=page.intro,
            page=page,
            filters=_filter_context(page),
            spec_json=_script_safe(json.dumps(spec, separators=(",", ":"))),
            cubes=cubes,
            vega_js=bundle,
            dashboard_js=dashboard_js,
        )
    return written, cube_rows, months
