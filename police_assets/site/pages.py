"""The dashboards as code: each page's cubes, filters, headline numbers and Vega-Altair charts.

A page is data (cubes built from the published marts) plus views. A view says how the browser groups a cube
after filtering (``group``), what it sums (``measures``), which ratios it derives, and how it is drawn: an
Altair chart over a named dataset the browser fills, and the columns of the table shown as its alternative.
Changing a page means changing this file; ``render.py`` turns it into HTML.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import altair as alt
import duckdb

from police_assets.site.cubes import UNKNOWN, Cube, cube_from_query

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
CATEGORICAL = [BLUE, ORANGE, GREEN, VERMILION, SKY, PURPLE, YELLOW, GREY]
WIDTH = 560

WAIT_ORDER = [f"{n} months" if n != 1 else "1 month" for n in range(12)] + ["12+ months", "Awaiting outcome"]
OUTCOME_GROUP_ORDER = [
    "Charged or summonsed",
    "Out of court",
    "No further action",
    "No suspect identified",
    "Other",
    "Awaiting outcome",
]
COVERAGE_ORDER = ["Published", "Empty file", "No file"]
# Map cells: about 3.4 km east-west x 5.6 km north-south in England and Wales. Why not finer: the map draws one
# mark per cell. With national-size data (bench/site.py), 0.02-degree cells made ~29k marks that took 0.58 s
# to draw; 0.05 makes ~5.5k marks drawn in 0.15 s, and still ~150 cells over one force.
GRID_DEGREES = 0.05


@dataclass
class Filter:
    """A control above the charts. ``kind``: ``select`` (one label or all), ``from``/``to`` (a month bound)."""

    id: str
    dim: str
    label: str
    kind: str = "select"
    all_label: str = "All"
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
    leave_out: dict[str, list[str]] = field(default_factory=dict)  # labels kept out, e.g. "(unknown)" of a ranking
    sort: tuple[str, bool] | None = None  # (field, descending)
    limit: int | None = None
    positive: str | None = None  # keep only groups where this measure is above zero (e.g. forces with gaps)
    gaps: bool = False  # a one-dimension view lists every label the filters allow: missing ones as null
    chart: alt.TopLevelMixin | None = None  # None: a headline number
    columns: list[tuple[str, str, str]] = field(default_factory=list)  # (field, heading, format)
    ignores: list[str] = field(default_factory=list)  # filters this view cannot apply (said in its caption)

    def spec(self) -> dict:
        return {
            "id": self.id,
            "cube": self.cube,
            "group": self.group,
            "measures": self.measures,
            "ratios": self.ratios,
            "where": self.where,
            "leave_out": self.leave_out,
            "sort": self.sort,
            "limit": self.limit,
            "positive": self.positive,
            "gaps": self.gaps,
            "columns": self.columns,
            "ignores": self.ignores,
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


# --- charts ----------------------------------------------------------------------------------------------


GAP_NOTE = (
    " A month with no records for the selection is a gap in the line, not a zero: nothing was published, or "
    "there was nothing to count (the Coverage page tells which)."
)


def _named(view_id: str) -> alt.Chart:
    return alt.Chart(alt.Data(name=view_id))


def _trend(
    view_id: str, title: str, measure: str, label: str, color: str = BLUE, fmt: str = "", width: int = WIDTH
) -> alt.Chart:
    return (
        _named(view_id)
        .mark_line(
            point=alt.OverlayMarkDef(color=color), color=color, invalid="break-paths-show-domains"
        )  # null: a gap
        .encode(
            x=alt.X("month:T", timeUnit="utcyearmonth", title="Month", axis=alt.Axis(format="%b %Y", labelAngle=-40)),
            y=alt.Y(f"{measure}:Q", title=label, axis=alt.Axis(format=fmt) if fmt else alt.Axis()),
            tooltip=[
                alt.Tooltip("month:N", title="Month"),
                alt.Tooltip(f"{measure}:Q", title=label, format=fmt or ","),
            ],
        )
        .properties(title=title, width=width, height=220)
    )


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


def _searches_and_find_rate(view_id: str, category: str, cat_label: str) -> alt.HConcatChart:
    """Searches per category beside the share of them that found what was searched for, in the same order."""
    return _bars(view_id, f"Searches by {cat_label.lower()}", category, cat_label, "searches", "Searches") | _bars(
        view_id, "Found what was searched for", category, cat_label, "find_rate", "Share", fmt="%"
    ).mark_bar(color=GREEN).encode(
        y=alt.Y(f"{category}:N", sort=alt.EncodingSortField("searches", order="descending"), title=None)
    )


def _map(view_id: str) -> alt.Chart:
    """Crime density on a plain projection: each grid cell drawn as its own square, coloured by count; no
    tile server. The cell label is its centre ("lon lat"); its corners are half a cell either way."""
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
            color=alt.Color("n:Q", title="Crimes", scale=alt.Scale(type="log", scheme="viridis")),
            tooltip=[
                alt.Tooltip("cell:N", title="Cell centre (lon lat)"),
                alt.Tooltip("n:Q", title="Crimes", format=","),
            ],
        )
        .project(type="mercator")
        .properties(
            title=f"Where: crimes per {GRID_DEGREES}° cell (all months of the filtered force, town and type)",
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
            x=alt.X("n:Q", stack="normalize", title="Share of crimes", axis=alt.Axis(format="%")),
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
                scale=alt.Scale(domain=COVERAGE_ORDER, range=[SKY, ORANGE, VERMILION]),
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


def crime_page(con: duckdb.DuckDBPyConnection) -> Page:
    names = {"force": _forces(con)}
    crimes = cube_from_query(
        con,
        "crimes",
        """SELECT strftime(crime_month, '%Y-%m'), force_id, town_name, crime_type_name,
                  sum(crime_count), sum(crime_count) FILTER (WHERE is_anti_social_behaviour)
           FROM agg_street_crimes_monthly GROUP BY ALL""",
        ["month", "force", "town", "type"],
        ["n", "asb"],
        relabel=names,
    )
    grid = cube_from_query(
        con,
        "grid",
        f"""SELECT force_id, town_name, crime_type_name,
                   printf('%.2f %.2f', round(longitude / {GRID_DEGREES}) * {GRID_DEGREES},
                          round(latitude / {GRID_DEGREES}) * {GRID_DEGREES}),
                   count(*)
            FROM fct_street_crimes WHERE longitude IS NOT NULL AND latitude IS NOT NULL GROUP BY ALL""",
        ["force", "town", "type", "cell"],
        ["n"],
        relabel=names,
    )
    count_cols = [("n", "Crimes and ASB incidents", "int")]
    return Page(
        slug="crime",
        title="Reported crime",
        intro=(
            "Street-level crimes and anti-social behaviour (ASB) incidents as published by the forces, after "
            "removing repeated rows. Choose a force, town, crime type and months; every number and chart follows."
        ),
        cubes=[crimes, grid],
        filters=[
            Filter("force", "force", "Force"),
            Filter("town", "town", "Town", narrow_by="force", narrow_cube="crimes"),
            Filter("type", "type", "Crime type"),
            *_months_filters(),
        ],
        kpis=[
            View("kpi_crimes", "crimes", "Crimes and ASB incidents", "All records in the selection.", measures=["n"]),
            View(
                "kpi_asb",
                "crimes",
                "of which anti-social behaviour",
                "ASB incidents in the selection.",
                measures=["asb"],
            ),
        ],
        views=[
            View(
                "trend",
                "crimes",
                "Trend: records per month",
                "Crimes and ASB incidents per month for the selection." + GAP_NOTE,
                group=["month"],
                gaps=True,
                chart=_trend("trend", "Trend: records per month", "n", "Crimes and ASB incidents"),
                columns=[("month", "Month", "text"), *count_cols],
            ),
            View(
                "by_type",
                "crimes",
                "By crime type",
                "Records per crime type for the selection, largest first.",
                group=["type"],
                sort=("n", True),
                chart=_bars("by_type", "By crime type", "type", "Crime type", "n", "Crimes and ASB incidents"),
                columns=[("type", "Crime type", "text"), *count_cols],
            ),
            View(
                "top_towns",
                "crimes",
                "Top 15 towns",
                "The 15 towns with the most records for the selection. Records without a location (town "
                "unknown) are left out of this ranking; the totals above include them.",
                group=["town"],
                leave_out={"town": [UNKNOWN]},
                sort=("n", True),
                limit=15,
                chart=_bars("top_towns", "Top 15 towns", "town", "Town", "n", "Crimes and ASB incidents"),
                columns=[("town", "Town", "text"), *count_cols],
            ),
            View(
                "map",
                "grid",
                "Map of crime density",
                "Crimes per grid cell over all published months for the chosen force, town and type.",
                group=["cell"],
                sort=("n", True),
                chart=_map("map"),
                columns=[("cell", "Cell (longitude latitude)", "text"), ("n", "Crimes", "int")],
                ignores=["month_from", "month_to"],
            ),
        ],
        notes=[
            "Towns are the local authority part of each crime's LSOA name; records without a location count "
            "under (unknown).",
            'The map leaves out records published without coordinates ("No Location").',
        ],
    )


def outcomes_page(con: duckdb.DuckDBPyConnection) -> Page:
    names = {"force": _forces(con)}
    outcomes = cube_from_query(
        con,
        "outcomes",
        """SELECT strftime(crime_month, '%Y-%m'), force_id, crime_type_name, outcome_group,
                  sum(crime_count), sum(no_suspect_identified_count)
           FROM agg_outcomes_by_crime_type GROUP BY ALL""",
        ["month", "force", "type", "group"],
        ["n", "no_suspect"],
        orders={"group": OUTCOME_GROUP_ORDER},
        relabel=names,
    )
    waits = cube_from_query(
        con,
        "waits",
        """SELECT strftime(crime_month, '%Y-%m'), force_id, crime_type_name,
                  CASE WHEN NOT has_outcome THEN 'Awaiting outcome'
                       WHEN months_to_outcome >= 12 THEN '12+ months'
                       WHEN months_to_outcome = 1 THEN '1 month'
                       ELSE months_to_outcome || ' months' END,
                  count(*), count(*) FILTER (WHERE NOT has_outcome)
           FROM fct_street_crimes WHERE NOT is_anti_social_behaviour GROUP BY ALL""",
        ["month", "force", "type", "wait"],
        ["n", "awaiting"],
        orders={"wait": WAIT_ORDER},
        relabel=names,
    )
    return Page(
        slug="outcomes",
        title="Outcomes",
        intro=(
            "Where the crimes of the chosen months have got to: each crime's latest outcome so far, from the "
            "outcome files of that month and every later month. Anti-social behaviour has no outcomes and is "
            "left out. Recent months always look unresolved: outcomes keep arriving for months."
        ),
        cubes=[outcomes, waits],
        filters=[Filter("force", "force", "Force"), Filter("type", "type", "Crime type"), *_months_filters()],
        kpis=[
            View("kpi_crimes", "outcomes", "Crimes (excluding ASB)", "Crimes in the selection.", measures=["n"]),
            View(
                "kpi_no_suspect",
                "outcomes",
                "closed with no suspect identified",
                "Share of the selection's crimes whose latest outcome says no suspect was identified.",
                measures=["n", "no_suspect"],
                ratios={"share": ("no_suspect", "n")},
            ),
            View(
                "kpi_awaiting",
                "waits",
                "still awaiting an outcome",
                "Share of the selection's crimes with no outcome published yet.",
                measures=["n", "awaiting"],
                ratios={"share": ("awaiting", "n")},
            ),
        ],
        views=[
            View(
                "mix",
                "outcomes",
                "Outcome mix by crime type",
                "Share of each crime type's crimes by latest outcome group.",
                group=["type", "group"],
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
                "Crimes by months between the crime and its latest outcome; awaiting means none yet.",
                group=["wait"],
                chart=(
                    _named("waits")
                    .mark_bar(color=BLUE)
                    .encode(
                        x=alt.X("wait:N", sort=WAIT_ORDER, title="Months from crime to latest outcome"),
                        y=alt.Y("n:Q", title="Crimes"),
                        color=alt.condition("datum.wait == 'Awaiting outcome'", alt.value(VERMILION), alt.value(BLUE)),
                        tooltip=[alt.Tooltip("wait:N", title="Time to outcome"), alt.Tooltip("n:Q", format=",")],
                    )
                    .properties(title="Time from crime to outcome", width=WIDTH)
                ),
                columns=[("wait", "Time to latest outcome", "text"), ("n", "Crimes", "int")],
            ),
            View(
                "awaiting",
                "waits",
                "Crimes still awaiting an outcome, by crime month",
                "Crimes of each month with no outcome published yet." + GAP_NOTE,
                group=["month"],
                gaps=True,
                measures=["awaiting"],
                chart=_trend(
                    "awaiting", "Crimes still awaiting an outcome, by crime month", "awaiting", "Crimes", VERMILION
                ),
                columns=[("month", "Crime month", "text"), ("awaiting", "Awaiting an outcome", "int")],
            ),
        ],
        notes=[
            "Outcome groups combine the published outcome wording of all years (see the dbt seed outcome_types).",
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
                   sum(search_count), sum(arrest_count), sum(object_found_count)
            FROM agg_stop_and_search_monthly GROUP BY ALL"""
        for column, label in SEARCH_BREAKDOWNS.items()
    )
    searches = cube_from_query(
        con,
        "searches",
        union,
        ["month", "force", "breakdown", "value"],
        ["searches", "arrests", "found"],
        relabel=names,
    )
    rates = {"arrest_rate": ("arrests", "searches"), "find_rate": ("found", "searches")}
    columns = [
        ("searches", "Searches", "int"),
        ("arrest_rate", "Arrest rate", "pct"),
        ("find_rate", "Found what was searched for", "pct"),
    ]
    # One breakdown holds every search once, so totals and trends sum over it without double counting.
    whole = {"breakdown": "Gender"}
    views = [
        View(
            "trend",
            "searches",
            "Searches per month",
            "Stop and searches per month for the selection, and the share that found what was searched for." + GAP_NOTE,
            group=["month"],
            gaps=True,
            measures=["searches", "arrests", "found"],
            ratios=rates,
            where=whole,
            chart=_trend("trend", "Searches per month", "searches", "Searches", width=WIDTH // 2 - 40)
            | _trend(
                "trend", "Found what was searched for", "find_rate", "Share", GREEN, fmt="%", width=WIDTH // 2 - 40
            ),
            columns=[("month", "Month", "text"), *columns],
        ),
        View(
            "by_force",
            "searches",
            "Searches by force",
            "Searches per force for the chosen months, and the share that found what was searched for.",
            group=["force"],
            measures=["searches", "arrests", "found"],
            ratios=rates,
            where=whole,
            sort=("searches", True),
            chart=_searches_and_find_rate("by_force", "force", "Force"),
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
                f"Searches by {label.lower()}, and the share that found what was searched for.",
                group=["value"],
                measures=["searches", "arrests", "found"],
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
            "find rate is the share of searches whose outcome was linked to the object searched for."
        ),
        cubes=[searches],
        filters=[Filter("force", "force", "Force"), *_months_filters()],
        kpis=[
            View(
                "kpi_searches", "searches", "Searches", "Searches in the selection.", measures=["searches"], where=whole
            ),
            View(
                "kpi_arrest_rate",
                "searches",
                "ended in arrest",
                "Share of the selection's searches that ended in an arrest.",
                measures=["searches", "arrests"],
                ratios={"share": ("arrests", "searches")},
                where=whole,
            ),
            View(
                "kpi_find_rate",
                "searches",
                "found what was searched for",
                "Share of the selection's searches whose outcome was linked to the object of the search.",
                measures=["searches", "found"],
                ratios={"share": ("found", "searches")},
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
    coverage = cube_from_query(
        con,
        "coverage",
        """SELECT strftime(file_month, '%Y-%m'), force_id, dataset_name,
                  CASE WHEN NOT has_file THEN 'No file' WHEN is_gap THEN 'Empty file' ELSE 'Published' END,
                  count(*), count(*) FILTER (WHERE is_gap), sum(coalesce(record_count, 0))
           FROM fct_force_month_coverage GROUP BY ALL""",
        ["month", "force", "dataset", "status"],
        ["n", "gaps", "records"],
        orders={"status": COVERAGE_ORDER},
        relabel=names,
    )
    return Page(
        slug="coverage",
        title="Coverage",
        intro=(
            "Which forces published which months. A force-month without a file (or with an empty one) is a gap "
            "in the data, not a month without crime: read every other page with these gaps in mind."
        ),
        cubes=[coverage],
        filters=[
            Filter("dataset", "dataset", "Dataset", default="street", all_label="All datasets"),
            Filter("force", "force", "Force"),
            *_months_filters(),
        ],
        kpis=[
            View("kpi_gaps", "coverage", "force-months missing", "Gaps in the selection.", measures=["gaps"]),
            View("kpi_cells", "coverage", "force-months expected", "Force-months in the selection.", measures=["n"]),
        ],
        views=[
            View(
                "grid",
                "coverage",
                "Which force-months were published",
                "One cell per force and month, coloured by whether a file was published and had rows.",
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
        notes=["Stop-and-search files are published per force; some forces publish none for long periods."],
    )


PAGE_BUILDERS = [crime_page, outcomes_page, search_page, coverage_page]
