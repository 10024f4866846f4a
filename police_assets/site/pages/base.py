"""What a page is made of: filters, views (a chart or a headline number, each with its table), and the pieces
every page shares (force names, month filters, the coverage cube, headline shares)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import altair as alt

from police_assets.core.sql import sql_literal
from police_assets.site.cubes import Cube, Published, cube_from_query

GAP_NOTE = (
    " A month with no records for the selection, or a rate nobody recorded, is a gap in the line, not a zero. "
    "A vermilion triangle marks a month where some of the selection's force-months have no file or only part "
    "of one (hover it, or see the table, for which)."
)


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


# View fields that stay in Python: the heading and caption go into the HTML, the chart into its own spec.
_NOT_IN_SPEC = {"title", "description", "chart"}


@dataclass
class View:
    """One chart (or headline number) and its table alternative, computed in the browser from one cube.

    The chart is drawn from the data set named after the view, which the browser fills; a chart needs no
    title of its own (the view's title is the heading above it), only the parts of a side-by-side pair do.
    """

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
    # groups of those labels, which it drops; sums measures[0]), or {"text": ..., "cube": c, "measure": m}: of
    # the selection's records in cube c (its first measure), those counted by m, under every filter of the page
    # (the map: records without a point, in the months of the headline even though the map shows all months).
    left_out: dict | None = None
    # Headline ratios: what the denominator is, "{den}" replaced by its count ("of the {den} searches ..."),
    # and why it reads "not published" where the selection has records but the denominator is 0.
    basis: str | None = None
    unknown_basis: str | None = None
    # A chart that has nothing to show where no record of the selection is counted by a measure: {"cube": c,
    # "measure": m, "text": ...}. Then the text replaces the chart (outcome waits where no force publishes
    # outcome files).
    needs: dict | None = None
    coverage: bool = False  # a trend: mark months with missing or partial force-months (the page's coverage)
    # Companion data sets for layers of the chart, by name: each a small view of its own (cube, group,
    # measures, ratios, sort, limit), e.g. the map's place names; the chart's layer reads alt.Data(name=...).
    extra: dict[str, dict] = field(default_factory=dict)
    # A map: its cells' size in degrees. The browser adds data set "frame", the cells' extent (edges included)
    # padded to a minimum span.
    frame: float | None = None
    # A companion data set whose text labels must not overlap: the browser drops, smallest first, the rows
    # (named by field ``declutter_by``) whose label would overlap another or run off the chart.
    declutter: str | None = None
    declutter_by: str | None = None

    def __post_init__(self) -> None:
        if self.left_out and "where" in self.left_out and not set(self.left_out["where"]) <= set(self.group):
            raise ValueError(f"view {self.id}: left_out['where'] must name labels of its own groups {self.group}")
        if self.chart is not None:
            self.chart = self.chart.properties(data=alt.Data(name=self.id))

    def spec(self) -> dict:
        """What the browser needs to compute and draw the view (dashboard.js reads it)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name not in _NOT_IN_SPEC}


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
    # Forces the coverage note names as publishing none of something: {"cube": c, "measure": m, "text": ...},
    # the forces of the selection with records in cube c (its first measure) of which m counts none.
    lacking: dict | None = None


def force_names(con: Published) -> dict[str, dict[str, str]]:
    """``relabel`` for cubes: force ids shown as force names."""
    return {"force": dict(con.execute("SELECT force_id, force_name FROM dim_forces").fetchall())}


def month_filters() -> list[Filter]:
    return [
        Filter("month_from", "month", "From month", kind="from"),
        Filter("month_to", "month", "To month", kind="to"),
    ]


def share(kpi_id: str, cube: str, title: str, description: str, ratio: tuple[str, str], basis: str, **kw) -> View:
    """A headline share ``part / whole`` that says what it is a share of (``basis``, "{den}" the whole)."""
    part, whole = ratio
    return View(kpi_id, cube, title, description, measures=[whole, part], ratios={"share": ratio}, basis=basis, **kw)


def coverage_cube(con: Published, dataset: str, names: dict, unknown: str) -> Cube:
    """Force-months of one dataset by what their coverage status means (the mart's rule, the meanings of
    dim_coverage_statuses), for a page's notes and trend marks: ``kind`` is "gap" (expected, no records),
    "partial", "unexpected" (the force never publishes the dataset) or "published"."""
    return cube_from_query(
        con,
        "coverage",
        f"""SELECT strftime(c.file_month, '%Y-%m'), c.force_id,
                   CASE WHEN NOT s.is_expected THEN 'unexpected' WHEN s.is_gap THEN 'gap'
                        WHEN s.is_partial THEN 'partial' ELSE 'published' END,
                   count(*)
            FROM fct_force_month_coverage c JOIN dim_coverage_statuses s USING (coverage_status)
            WHERE c.dataset_name = {sql_literal(dataset)} GROUP BY ALL""",
        ["month", "force", "kind"],
        ["n"],
        relabel=names,
        unknown=unknown,
    )
