"""The dashboards as code: each page's cubes, filters, headline numbers and Vega-Altair charts.

A page is data (cubes built from the published marts) plus views. A view says how the browser groups a cube
after filtering (``group``), what it sums (``measures``), which ratios it derives, and how it is drawn: an
Altair chart over a named dataset the browser fills, and the columns of the table shown as its alternative.
Changing a page means changing this file; ``render.py`` turns it into HTML.

Unknown is never zero, and every page says which (the rules are the marts'; pages only show them):
* recorded crime and anti-social behaviour are separate series, never summed; crime is the default;
* a rate divides by the records whose field was recorded; where none was, it reads "not published";
* a page with a ``coverage`` cube (fct_force_month_coverage of its dataset) says which force-months of the
  selection have no file or a partial one, marks trend points over them, and shows "no data" instead of 0
  when nothing of the selection was published;
* rankings and the map say what share of the selection they leave out (no LSOA, no coordinates).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import altair as alt
import duckdb

from police_assets.site.cubes import UNKNOWN, Cube, cube_from_query
from police_assets.sqltext import sql_literal

# Okabe-Ito: distinguishable with the common colour-vision deficiencies, and in greyscale by order.
BLUE, ORANGE, GREEN, VERMILION, SKY, PURPLE, YELLOW, GREY = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#56B4E9",
    "#CC79A7",
    "#F0E442",
    "#999999",
)
INDIGO, BLACK = "#332288", "#000000"
CATEGORICAL = [BLUE, ORANGE, GREEN, VERMILION, SKY, PURPLE, YELLOW, GREY, INDIGO, BLACK]
MUTED = "#505a5f"  # text on white with enough contrast (the page's --muted)
WIDTH = 560

CRIME, ASB = "Recorded crime", "Anti-social behaviour"  # two series, never summed
# The marts' outcome_status values (macro outcome_status) that are not an outcome.
AWAITING, NOT_PUBLISHED, FROM_STREET = (
    "Awaiting an outcome",
    "No outcome data published",
    "Outcome from the street file",
)
STREET_WAIT = "Not known (street file)"
WAIT_ORDER = [f"{n} months" if n != 1 else "1 month" for n in range(12)] + ["12+ months", STREET_WAIT, AWAITING]
OUTCOME_GROUP_ORDER = [
    "Charged or summonsed",
    "Court outcome",
    "Out of court",
    "No further action",
    "No suspect identified",
    "Other",
    "Under investigation",
    "Awaiting court",
    AWAITING,
]
# fct_force_month_coverage.coverage_status -> label, in display order, with its colour
COVERAGE_STATUS = {
    "complete": ("Published", SKY),
    "partial": ("Partial file", YELLOW),
    "empty": ("Empty file", ORANGE),
    "missing": ("No file", VERMILION),
    "never": ("Never published", GREY),
}
COVERAGE_ORDER = [label for label, _ in COVERAGE_STATUS.values()]
# Map cells: about 3.4 km east-west x 5.6 km north-south in England and Wales. Why not finer: the map draws one
# mark per cell, and drawing time grows with the marks (0.02-degree cells made five times as many on national
# data: docs/benchmarks.md); 0.05 still gives ~150 cells over one force.
GRID_DEGREES = 0.05


@dataclass
class Filter:
    """A control above the charts. ``kind``: ``select`` (one label or all), ``from``/``to`` (a month bound)."""

    id: str
    dim: str
    label: str
    kind: str = "select"
    all_label: str | None = "All"  # None: no "all" option (a choice between series that must not be summed)
    default: str | None = None  # a label; None means all (or the first/last month)
    narrow_by: str | None = None  # another filter's id: offer only labels that occur with its choice...
    narrow_cube: str | None = None  # ...in this cube (towns of the chosen force)


@dataclass
class View:
    """One chart (or headline number) and its table alternative, computed in the browser from one cube."""

    id: str
    cube: str
    title: str
    description: str
    group: list[str] = field(default_factory=list)
    measures: list[str] = field(default_factory=lambda: ["n"])
    ratios: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (numerator, denominator)
    where: dict[str, str] = field(default_factory=dict)  # fixed labels, e.g. one breakdown of a long cube
    sort: tuple[str, bool] | None = None  # (field, descending)
    limit: int | None = None
    positive: str | None = None  # keep only groups where this measure is above zero (e.g. forces with gaps)
    gaps: bool = False  # a one-dimension view lists every label the filters allow: missing ones as null
    chart: alt.TopLevelMixin | None = None  # None: a headline number
    columns: list[tuple[str, str, str]] = field(default_factory=list)  # (field, heading, format)
    ignores: list[str] = field(default_factory=list)  # filters this view cannot apply (said in its caption)
    # What the view leaves out of the selection, said under it: {"text": ..., "where": {dim: label}} (its own
    # groups of those labels, which it drops), or {"text": ..., "cube": c}: all records of the selection in cube
    # c less the view's own total (the map: records less those with a point). Sums measures[0].
    left_out: dict | None = None
    # Headline ratios: what the denominator is, "{den}" replaced by its count ("of the {den} searches ...").
    basis: str | None = None
    coverage: bool = False  # a trend: mark months with missing or partial force-months (the page's coverage)

    def __post_init__(self) -> None:
        if self.left_out and "where" in self.left_out and not set(self.left_out["where"]) <= set(self.group):
            raise ValueError(f"view {self.id}: left_out['where'] must name labels of its own groups {self.group}")

    def spec(self) -> dict:
        return {
            "id": self.id,
            "cube": self.cube,
            "group": self.group,
            "measures": self.measures,
            "ratios": self.ratios,
            "where": self.where,
            "sort": self.sort,
            "limit": self.limit,
            "positive": self.positive,
            "gaps": self.gaps,
            "columns": self.columns,
            "ignores": self.ignores,
            "left_out": self.left_out,
            "basis": self.basis,
            "coverage": self.coverage,
        }


@dataclass
class Page:
    slug: str
    title: str
    intro: str
    cubes: list[Cube]
    filters: list[Filter]
    kpis: list[View]
    views: list[View]
    notes: list[str] = field(default_factory=list)
    coverage: str | None = None  # name of the page's coverage cube (month x force x status)


# --- charts ----------------------------------------------------------------------------------------------


GAP_NOTE = (
    " A month with no records for the selection, or a rate nobody recorded, is a gap in the line, not a zero. "
    "A vermilion triangle marks a month where some of the selection's force-months have no file or only part "
    "of one (hover it, or see the table, for which)."
)


def _named(view_id: str) -> alt.Chart:
    return alt.Chart(alt.Data(name=view_id))


def _month_x() -> alt.X:
    return alt.X("month:T", timeUnit="utcyearmonth", title="Month", axis=alt.Axis(format="%b %Y", labelAngle=-40))


def _trend(
    view_id: str, title: str, measure: str, label: str, color: str = BLUE, fmt: str = "", width: int = WIDTH
) -> alt.LayerChart:
    """A line per month that breaks at months without a value (no records, or a rate nobody recorded); a month
    the browser flags ``incomplete`` (a force-month of the selection missing or partial) gets a vermilion
    triangle instead of a dot, with the forces in the tooltip. One layer more than a plain line: every layer
    costs Vega start-up time on every page load."""
    y = alt.Y(f"{measure}:Q", title=label, axis=alt.Axis(format=fmt) if fmt else alt.Axis())
    value = alt.Tooltip(f"{measure}:Q", title=label, format=fmt or ",")
    flagged = "datum.incomplete"
    base = _named(view_id).encode(x=_month_x())
    line = base.mark_line(color=color, invalid="break-paths-show-domains").encode(y=y)  # null: a gap
    # null values stay in the scale domains: a selection whose values are all null still has a time axis
    points = base.mark_point(filled=True, size=45, opacity=1, invalid="break-paths-show-domains").encode(
        y=y,
        color=alt.condition(flagged, alt.value(VERMILION), alt.value(color)),
        shape=alt.condition(flagged, alt.value("triangle-down"), alt.value("circle")),
        tooltip=[alt.Tooltip("month:N", title="Month"), value, alt.Tooltip("coverage_note:N", title="Coverage")],
    )
    return alt.layer(line, points).properties(title=title, width=width, height=220)


def _bars(view_id: str, title: str, category: str, cat_label: str, measure: str, label: str, fmt="") -> alt.Chart:
    return (
        _named(view_id)
        .mark_bar(color=BLUE)
        .encode(
            y=alt.Y(f"{category}:N", sort="-x", title=cat_label, axis=alt.Axis(labelLimit=260)),
            x=alt.X(f"{measure}:Q", title=label, axis=alt.Axis(format=fmt) if fmt else alt.Axis()),
            tooltip=[
                alt.Tooltip(f"{category}:N", title=cat_label),
                alt.Tooltip(f"{measure}:Q", title=label, format=fmt or ","),
            ],
        )
        .properties(title=title, width=WIDTH - 200)
    )


def _rate_bars(
    view_id: str, title: str, category: str, cat_label: str, rate: str, sort_by: str, say_unknown: bool
) -> alt.Chart | alt.LayerChart:
    """A rate per category in ``sort_by`` order. With ``say_unknown``, a category whose rate nobody recorded
    reads "not published" where its bar would be (a text layer: worth its start-up time where one category
    alone can be unknown, as a force); otherwise it is an absent bar, and the table says "not published"."""
    # op "max": a layered chart unions its domains, which keeps only count/min/max sorts (one row per category)
    y = alt.Y(f"{category}:N", sort=alt.EncodingSortField(sort_by, op="max", order="descending"), title=None)
    bars = (
        _named(view_id)
        .mark_bar(color=GREEN)
        .encode(
            y=y,
            x=alt.X(f"{rate}:Q", title="Share", axis=alt.Axis(format="%")),
            tooltip=[
                alt.Tooltip(f"{category}:N", title=cat_label),
                alt.Tooltip(f"{rate}:Q", title="Share", format=".1%"),
            ],
        )
    )
    unknown = (
        _named(view_id)
        .transform_filter(f"datum['{rate}_unknown']")
        .mark_text(align="left", dx=3, color=MUTED, fontStyle="italic")
        .encode(
            y=y,
            x=alt.datum(0),
            text=alt.value("not published"),
            tooltip=[alt.Tooltip(f"{category}:N", title=cat_label), alt.Tooltip(f"{rate}_why:N", title="Share")],
        )
    )
    if not say_unknown:
        return bars.properties(title=title, width=WIDTH - 200)
    return alt.layer(bars, unknown).properties(title=title, width=WIDTH - 200)


def _searches_and_find_rate(view_id: str, category: str, cat_label: str, say_unknown=False) -> alt.HConcatChart:
    """Searches per category beside the share of them that found what was searched for, in the same order."""
    return _bars(view_id, f"Searches by {cat_label.lower()}", category, cat_label, "searches", "Searches") | _rate_bars(
        view_id,
        "Found what was searched for (of those with the link recorded)",
        category,
        cat_label,
        "find_rate",
        "searches",
        say_unknown,
    )


def _map(view_id: str) -> alt.Chart:
    """Density on a plain projection: each grid cell drawn as its own square, coloured by count; no tile
    server. The cell label is its centre ("lon lat"); its corners are half a cell either way."""
    half = GRID_DEGREES / 2
    return (
        _named(view_id)
        .transform_calculate(lon="toNumber(split(datum.cell, ' ')[0])", lat="toNumber(split(datum.cell, ' ')[1])")
        .transform_calculate(
            west=f"datum.lon - {half}",
            east=f"datum.lon + {half}",
            south=f"datum.lat - {half}",
            north=f"datum.lat + {half}",
        )
        .mark_rect(opacity=0.9)
        .encode(
            longitude="west:Q",
            latitude="south:Q",
            longitude2="east:Q",
            latitude2="north:Q",
            color=alt.Color("n:Q", title="Records", scale=alt.Scale(type="log", scheme="viridis")),
            tooltip=[
                alt.Tooltip("cell:N", title="Cell centre (lon lat)"),
                alt.Tooltip("n:Q", title="Records", format=","),
            ],
        )
        .project(type="mercator")
        .properties(
            title=f"Where: records per {GRID_DEGREES}° cell (all months of the chosen series, force, town and type)",
            width=WIDTH,
            height=460,
        )
    )


def _stacked_share(view_id: str, title: str, category: str, cat_label: str, part: str, part_label: str, order):
    return (
        _named(view_id)
        .mark_bar()
        .encode(
            y=alt.Y(f"{category}:N", title=cat_label, axis=alt.Axis(labelLimit=260)),
            x=alt.X("n:Q", stack="normalize", title="Share of crimes with outcome data", axis=alt.Axis(format="%")),
            color=alt.Color(
                f"{part}:N", title=part_label, scale=alt.Scale(domain=order, range=CATEGORICAL[: len(order)])
            ),
            order=alt.Order("part_order:Q"),
            tooltip=[
                alt.Tooltip(f"{category}:N", title=cat_label),
                alt.Tooltip(f"{part}:N", title=part_label),
                alt.Tooltip("n:Q", title="Crimes", format=","),
            ],
        )
        .transform_calculate(part_order=f"indexof({order!r}, datum['{part}'])")
        .properties(title=title, width=WIDTH - 200)
    )


def _heatmap(view_id: str) -> alt.Chart:
    return (
        _named(view_id)
        .mark_rect()
        .encode(
            x=alt.X("month:O", title="Month", axis=alt.Axis(labelAngle=-60)),
            y=alt.Y("force:N", title="Force", axis=alt.Axis(labelLimit=220)),
            color=alt.Color(
                "status:N",
                title="File for the month",
                scale=alt.Scale(domain=COVERAGE_ORDER, range=[color for _, color in COVERAGE_STATUS.values()]),
            ),
            tooltip=["force:N", "month:N", "status:N"],
        )
        .properties(title="Which force-months were published (one dataset)", width=WIDTH)
    )


# --- pages -----------------------------------------------------------------------------------------------


def _forces(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(con.execute("SELECT force_id, force_name FROM dim_forces").fetchall())


def _months_filters() -> list[Filter]:
    return [
        Filter("month_from", "month", "From month", kind="from"),
        Filter("month_to", "month", "To month", kind="to"),
    ]


def _share(kpi_id: str, cube: str, title: str, description: str, ratio: tuple[str, str], basis: str, **kw) -> View:
    """A headline share ``part / whole`` that says what it is a share of (``basis``, "{den}" the whole)."""
    part, whole = ratio
    return View(kpi_id, cube, title, description, measures=[whole, part], ratios={"share": ratio}, basis=basis, **kw)


def _coverage_cube(con: duckdb.DuckDBPyConnection, dataset: str, names: dict) -> Cube:
    """Force-months of one dataset by coverage status (the mart's rule), for a page's notes and trend marks."""
    return cube_from_query(
        con,
        "coverage",
        f"""SELECT strftime(file_month, '%Y-%m'), force_id, coverage_status, count(*)
            FROM fct_force_month_coverage WHERE dataset_name = {sql_literal(dataset)} GROUP BY ALL""",
        ["month", "force", "status"],
        ["n"],
        relabel=names,
    )


def crime_page(con: duckdb.DuckDBPyConnection) -> Page:
    names = {"force": _forces(con)}
    series = f"CASE WHEN is_anti_social_behaviour THEN '{ASB}' ELSE '{CRIME}' END"
    crimes = cube_from_query(
        con,
        "crimes",
        f"""SELECT strftime(crime_month, '%Y-%m'), force_id, town_name, {series}, crime_type_name, sum(crime_count)
            FROM agg_street_crimes_monthly GROUP BY ALL""",
        ["month", "force", "town", "series", "type"],
        ["n"],
        orders={"series": [CRIME, ASB]},
        relabel=names,
    )
    grid = cube_from_query(
        con,
        "grid",
        f"""SELECT force_id, town_name, {series}, crime_type_name,
                   printf('%.2f %.2f', round(longitude / {GRID_DEGREES}) * {GRID_DEGREES},
                          round(latitude / {GRID_DEGREES}) * {GRID_DEGREES}),
                   count(*)
            FROM fct_street_crimes WHERE longitude IS NOT NULL AND latitude IS NOT NULL GROUP BY ALL""",
        ["force", "town", "series", "type", "cell"],
        ["n"],
        orders={"series": [CRIME, ASB]},
        relabel=names,
    )
    count_cols = [("n", "Records of the chosen series", "int")]
    return Page(
        slug="crime",
        title="Reported crime",
        intro=(
            "Street-level crimes recorded by the forces, after removing repeated rows. Anti-social behaviour (ASB) "
            "is not crime and its recording practice changed over the years, so it is a separate series: choose it "
            "under Series. Choose a force, town, crime type and months; every number and chart follows."
        ),
        cubes=[crimes, grid, _coverage_cube(con, "street", names)],
        coverage="coverage",
        filters=[
            Filter("force", "force", "Force"),
            Filter("town", "town", "Town", narrow_by="force", narrow_cube="crimes"),
            Filter("series", "series", "Series", all_label=None, default=CRIME),
            Filter("type", "type", "Crime type", narrow_by="series", narrow_cube="crimes"),
            *_months_filters(),
        ],
        kpis=[
            View(
                "kpi_crimes",
                "crimes",
                "recorded crimes",
                "Crimes in the selection (anti-social behaviour not included).",
                measures=["n"],
                where={"series": CRIME},
                ignores=["series"],
            ),
            View(
                "kpi_asb",
                "crimes",
                "anti-social behaviour incidents (a separate series, not crime)",
                "ASB incidents for the chosen force, town and months, whatever the series and crime type.",
                measures=["n"],
                where={"series": ASB},
                ignores=["series", "type"],
            ),
        ],
        views=[
            View(
                "trend",
                "crimes",
                "Trend: records per month",
                "Records of the chosen series (recorded crime unless ASB is chosen) per month." + GAP_NOTE,
                group=["month"],
                gaps=True,
                coverage=True,
                chart=_trend("trend", "Trend: records per month (the chosen series)", "n", "Records"),
                columns=[("month", "Month", "text"), *count_cols, ("coverage_note", "Coverage", "note")],
            ),
            View(
                "by_type",
                "crimes",
                "By crime type",
                "Records per crime type for the selection, largest first.",
                group=["type"],
                sort=("n", True),
                chart=_bars("by_type", "By crime type", "type", "Crime type", "n", "Records"),
                columns=[("type", "Crime type", "text"), *count_cols],
            ),
            View(
                "top_towns",
                "crimes",
                "Top 15 towns",
                "The 15 towns with the most records for the selection.",
                group=["town"],
                left_out={"where": {"town": UNKNOWN}, "text": "have no LSOA (town unknown) and are not ranked"},
                sort=("n", True),
                limit=15,
                chart=_bars("top_towns", "Top 15 towns", "town", "Town", "n", "Records"),
                columns=[("town", "Town", "text"), *count_cols],
            ),
            View(
                "map",
                "grid",
                "Map of density",
                "Records per grid cell over all published months for the chosen series, force, town and type.",
                group=["cell"],
                sort=("n", True),
                # the records of the selection (crimes cube) less those on the map (this view's own rows)
                left_out={"cube": "crimes", "text": "have no coordinates and are not on the map"},
                chart=_map("map"),
                columns=[("cell", "Cell (longitude latitude)", "text"), ("n", "Records", "int")],
                ignores=["month_from", "month_to"],
            ),
        ],
        notes=[
            "Towns are the local authority part of each record's LSOA name; records without one count under "
            "(unknown), left out of the town ranking (the note under it says how many).",
            'The map leaves out records published without coordinates ("No Location"); the note under it says how many.',
        ],
    )


def outcomes_page(con: duckdb.DuckDBPyConnection) -> Page:
    names = {"force": _forces(con)}
    outcomes = cube_from_query(
        con,
        "outcomes",
        f"""SELECT strftime(crime_month, '%Y-%m'), force_id, crime_type_name, outcome_group,
                   sum(crime_count), sum(no_suspect_identified_count),
                   sum(crime_count) FILTER (WHERE outcome_status = '{AWAITING}'),
                   sum(crime_count) FILTER (WHERE outcome_status = '{NOT_PUBLISHED}')
            FROM agg_outcomes_by_crime_type GROUP BY ALL""",
        ["month", "force", "type", "group"],
        ["n", "no_suspect", "awaiting", "unpublished"],
        orders={"group": [*OUTCOME_GROUP_ORDER, NOT_PUBLISHED]},
        relabel=names,
        derived={"known": ("n", "unpublished")},  # crimes with outcome data
    )
    waits = cube_from_query(
        con,
        "waits",
        f"""SELECT strftime(crime_month, '%Y-%m'), force_id, crime_type_name,
                   CASE outcome_status WHEN '{AWAITING}' THEN '{AWAITING}'
                        WHEN '{NOT_PUBLISHED}' THEN '{NOT_PUBLISHED}'
                        WHEN '{FROM_STREET}' THEN '{STREET_WAIT}'
                        WHEN 'Outcome recorded' THEN
                            CASE WHEN months_to_outcome >= 12 THEN '12+ months'
                                 WHEN months_to_outcome = 1 THEN '1 month'
                                 ELSE months_to_outcome || ' months' END END,
                   count(*)
            FROM fct_street_crimes WHERE NOT is_anti_social_behaviour GROUP BY ALL""",
        ["month", "force", "type", "wait"],
        ["n"],
        orders={"wait": [*WAIT_ORDER, NOT_PUBLISHED]},
        relabel=names,
    )
    known = "crimes with outcome data published"
    return Page(
        slug="outcomes",
        title="Outcomes",
        intro=(
            "Where the crimes of the chosen months have got to: each crime's latest outcome so far, from the "
            "outcome files of that month and every later month. Where a force published no outcome files, the "
            'street file\'s "Last outcome category" (a snapshot at publication) stands in, marked as such; '
            'where there is neither, the crime counts as "no outcome data published", never as awaiting. '
            "Shares are over the crimes with outcome data. Anti-social behaviour has no outcomes and is left "
            "out. Recent months always look unresolved: outcomes keep arriving for months."
        ),
        cubes=[outcomes, waits, _coverage_cube(con, "street", names)],
        coverage="coverage",
        filters=[Filter("force", "force", "Force"), Filter("type", "type", "Crime type"), *_months_filters()],
        kpis=[
            View("kpi_crimes", "outcomes", "crimes (excluding ASB)", "Crimes in the selection.", measures=["n"]),
            _share(
                "kpi_no_suspect",
                "outcomes",
                "closed with no suspect identified",
                f"Share of the selection's {known} whose latest outcome says no suspect was identified.",
                ("no_suspect", "known"),
                "of the {den} " + known,
            ),
            _share(
                "kpi_awaiting",
                "outcomes",
                "still awaiting an outcome",
                f"Share of the selection's {known} with no outcome yet.",
                ("awaiting", "known"),
                "of the {den} " + known,
            ),
            _share(
                "kpi_unpublished",
                "outcomes",
                "with no outcome data published",
                "Share of the selection's crimes whose force published no outcome for them (no file), left out "
                "of the shares above.",
                ("unpublished", "n"),
                "of the {den} crimes",
            ),
        ],
        views=[
            View(
                "mix",
                "outcomes",
                "Outcome mix by crime type",
                "Share of each crime type's crimes (with outcome data) by latest outcome group; outcomes taken from "
                "street files count in their group.",
                group=["type", "group"],
                left_out={"where": {"group": NOT_PUBLISHED}, "text": "have no outcome data published and are left out"},
                chart=_stacked_share(
                    "mix",
                    "Outcome mix by crime type",
                    "type",
                    "Crime type",
                    "group",
                    "Latest outcome",
                    OUTCOME_GROUP_ORDER,
                ),
                columns=[("type", "Crime type", "text"), ("group", "Latest outcome", "text"), ("n", "Crimes", "int")],
            ),
            View(
                "waits",
                "waits",
                "Time from crime to outcome",
                "Crimes by months between the crime and its latest outcome; awaiting means none yet. An outcome "
                "from a street file has no date.",
                group=["wait"],
                left_out={"where": {"wait": NOT_PUBLISHED}, "text": "have no outcome data published and are left out"},
                chart=(
                    _named("waits")
                    .mark_bar(color=BLUE)
                    .encode(
                        x=alt.X("wait:N", sort=WAIT_ORDER, title="Months from crime to latest outcome"),
                        y=alt.Y("n:Q", title="Crimes"),
                        color=alt.condition(f"datum.wait == '{AWAITING}'", alt.value(VERMILION), alt.value(BLUE)),
                        tooltip=[alt.Tooltip("wait:N", title="Time to outcome"), alt.Tooltip("n:Q", format=",")],
                    )
                    .properties(title="Time from crime to outcome", width=WIDTH)
                ),
                columns=[("wait", "Time to latest outcome", "text"), ("n", "Crimes", "int")],
            ),
            View(
                "awaiting",
                "outcomes",
                "Share still awaiting an outcome, by crime month",
                f"Of each month's {known}, the share with no outcome yet." + GAP_NOTE,
                group=["month"],
                gaps=True,
                coverage=True,
                measures=["known", "awaiting"],
                ratios={"awaiting_share": ("awaiting", "known")},
                chart=_trend(
                    "awaiting",
                    "Share still awaiting an outcome, by crime month",
                    "awaiting_share",
                    "Share awaiting",
                    VERMILION,
                    fmt="%",
                ),
                columns=[
                    ("month", "Crime month", "text"),
                    ("known", "Crimes with outcome data", "int"),
                    ("awaiting", "Awaiting an outcome", "int"),
                    ("awaiting_share", "Share awaiting", "pct"),
                    ("coverage_note", "Coverage", "note"),
                ],
            ),
        ],
        notes=[
            "Outcome groups combine the published outcome wording of all years (see the dbt seed outcome_types).",
            "Outcome status, one rule (dbt macro outcome_status): an outcome recorded in an outcomes file; "
            "awaiting an outcome (the force published outcomes for the crime's month or later, none for this "
            "crime yet); the street file's Last outcome category, where the force published no outcomes; or no "
            "outcome data published.",
        ],
    )


SEARCH_BREAKDOWNS = {
    "self_defined_ethnic_group": "Self-defined ethnicity",
    "officer_defined_ethnicity": "Officer-defined ethnicity",
    "age_range": "Age range",
    "gender": "Gender",
    "object_of_search": "Object of search",
    "outcome_name": "Outcome",
}


def search_page(con: duckdb.DuckDBPyConnection) -> Page:
    names = {"force": _forces(con)}
    union = " UNION ALL ".join(
        f"""SELECT strftime(search_month, '%Y-%m'), force_id, '{label}', {column},
                   sum(search_count), sum(arrest_count), sum(object_found_count),
                   sum(search_count - outcome_link_known_count), sum(search_count - outcome_known_count)
            FROM agg_stop_and_search_monthly GROUP BY ALL"""
        for column, label in SEARCH_BREAKDOWNS.items()
    )
    searches = cube_from_query(
        con,
        "searches",
        union,
        ["month", "force", "breakdown", "value"],
        ["searches", "arrests", "found", "link_unknown", "outcome_unknown"],
        relabel=names,
        derived={"link_known": ("searches", "link_unknown"), "outcome_known": ("searches", "outcome_unknown")},
    )
    measures = ["searches", "arrests", "found", "link_known", "outcome_known"]
    # Rates over the searches whose field was recorded (the marts' rule): the Met leaves the link blank.
    rates = {"arrest_rate": ("arrests", "outcome_known"), "find_rate": ("found", "link_known")}
    columns = [
        ("searches", "Searches", "int"),
        ("arrest_rate", "Arrest rate (of those with an outcome)", "pct"),
        ("link_known", "Link recorded", "int"),
        ("find_rate", "Found what was searched for (of those with the link recorded)", "pct"),
    ]
    # One breakdown holds every search once, so totals and trends sum over it without double counting.
    whole = {"breakdown": "Gender"}
    views = [
        View(
            "trend",
            "searches",
            "Searches per month",
            "Stop and searches per month for the selection, and the share that found what was searched for, of "
            "the searches whose link was recorded." + GAP_NOTE,
            group=["month"],
            gaps=True,
            coverage=True,
            measures=measures,
            ratios=rates,
            where=whole,
            chart=_trend("trend", "Searches per month", "searches", "Searches", width=WIDTH // 2 - 40)
            | _trend(
                "trend", "Found what was searched for", "find_rate", "Share", GREEN, fmt="%", width=WIDTH // 2 - 40
            ),
            columns=[("month", "Month", "text"), *columns, ("coverage_note", "Coverage", "note")],
        ),
        View(
            "by_force",
            "searches",
            "Searches by force",
            "Searches per force for the chosen months, and the share that found what was searched for, of the "
            'searches whose link was recorded: a force that recorded none reads "not published".',
            group=["force"],
            measures=measures,
            ratios=rates,
            where=whole,
            sort=("searches", True),
            chart=_searches_and_find_rate("by_force", "force", "Force", say_unknown=True),
            columns=[("force", "Force", "text"), *columns],
        ),
    ]
    for column, label in SEARCH_BREAKDOWNS.items():
        vid = f"by_{column}"
        views.append(
            View(
                vid,
                "searches",
                f"By {label.lower()}",
                f"Searches by {label.lower()}, and the share that found what was searched for (of those with the "
                "link recorded).",
                group=["value"],
                measures=measures,
                ratios=rates,
                where={"breakdown": label},
                sort=("searches", True),
                chart=_searches_and_find_rate(vid, "value", label),
                columns=[("value", label, "text"), *columns],
            )
        )
    return Page(
        slug="stop-and-search",
        title="Stop and search",
        intro=(
            "Stop and searches reported by each force, by who was searched, what for, and what happened. The "
            "find rate is the share of searches whose outcome was linked to the object searched for, counted "
            "over the searches where the force recorded that link: some forces (the Metropolitan Police among "
            'them) leave it blank, which reads "not published", never 0 %. The arrest rate is over the '
            "searches with an outcome recorded."
        ),
        cubes=[searches, _coverage_cube(con, "stop-and-search", names)],
        coverage="coverage",
        filters=[Filter("force", "force", "Force"), *_months_filters()],
        kpis=[
            View(
                "kpi_searches", "searches", "searches", "Searches in the selection.", measures=["searches"], where=whole
            ),
            _share(
                "kpi_arrest_rate",
                "searches",
                "ended in arrest",
                "Share of the selection's searches with an outcome recorded that ended in an arrest.",
                ("arrests", "outcome_known"),
                "of the {den} searches with an outcome recorded",
                where=whole,
            ),
            _share(
                "kpi_find_rate",
                "searches",
                "found what was searched for",
                "Share of the selection's searches, of those whose link was recorded, whose outcome was linked to "
                "the object of the search.",
                ("found", "link_known"),
                "of the {den} searches whose link was recorded",
                where=whole,
            ),
        ],
        views=views,
        notes=[
            "Ethnicity is shown both as the person described it (self-defined) and as the officer recorded it.",
            "Searches of vehicles only carry no person's details and show as (unknown).",
        ],
    )


def coverage_page(con: duckdb.DuckDBPyConnection) -> Page:
    names = {"force": _forces(con)}
    labels = " ".join(f"WHEN '{status}' THEN '{label}'" for status, (label, _) in COVERAGE_STATUS.items())
    coverage = cube_from_query(
        con,
        "coverage",
        f"""SELECT strftime(file_month, '%Y-%m'), force_id, dataset_name, CASE coverage_status {labels} END,
                   count(*), count(*) FILTER (WHERE coverage_status IN ('missing', 'empty')),
                   count(*) FILTER (WHERE coverage_status = 'partial'),
                   count(*) FILTER (WHERE coverage_status <> 'never'), sum(coalesce(record_count, 0))
            FROM fct_force_month_coverage GROUP BY ALL""",
        ["month", "force", "dataset", "status"],
        ["n", "gaps", "partial", "expected", "records"],
        orders={"status": COVERAGE_ORDER},
        relabel=names,
    )
    return Page(
        slug="coverage",
        title="Coverage",
        intro=(
            "Which forces published which months. A force-month without a file (or with an empty one) is a gap "
            "in the data, not a month without crime; a partial file holds under half the force's usual records "
            "(its median over the surrounding 12 months). Read every other page with these in mind: their "
            "trends mark the months they touch."
        ),
        cubes=[coverage],
        filters=[
            Filter("dataset", "dataset", "Dataset", default="street", all_label="All datasets"),
            Filter("force", "force", "Force"),
            *_months_filters(),
        ],
        kpis=[
            View("kpi_gaps", "coverage", "force-months missing", "No file, or an empty one.", measures=["gaps"]),
            View("kpi_partial", "coverage", "force-months partial", "Under half the usual.", measures=["partial"]),
            View(
                "kpi_cells",
                "coverage",
                "force-months expected",
                "Force-months of forces that publish the dataset.",
                measures=["expected"],
            ),
        ],
        views=[
            View(
                "grid",
                "coverage",
                "Which force-months were published",
                "One cell per force and month, coloured by whether a file was published, whole, partial or empty.",
                group=["force", "month", "status"],
                chart=_heatmap("grid"),
                columns=[("force", "Force", "text"), ("month", "Month", "text"), ("status", "Status", "text")],
            ),
            View(
                "gaps_by_force",
                "coverage",
                "Gaps by force",
                "Force-months missing per force in the selection.",
                group=["force"],
                measures=["gaps"],
                sort=("gaps", True),
                positive="gaps",
                chart=_bars("gaps_by_force", "Force-months missing, by force", "force", "Force", "gaps", "Missing"),
                columns=[("force", "Force", "text"), ("gaps", "Force-months missing", "int")],
            ),
        ],
        notes=[
            "Stop-and-search and outcome files are published per force; some forces publish none at all "
            '("Never published"), which is not counted as missing.',
            "Partial: records below half the force's median over its surrounding 12 months (at least 2 of them "
            "with records); the rule lives in the dbt model fct_force_month_coverage.",
        ],
    )


PAGE_BUILDERS = [crime_page, outcomes_page, search_page, coverage_page]
