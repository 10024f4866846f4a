"""The chart shapes the pages share, as Vega-Altair specs without data: a view names the data set (its id)
and the browser fills it (police_assets.site.pages.base.View)."""

from __future__ import annotations

import altair as alt

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
WIDTH = 760  # most of a laptop page's content column; the bars leave room for their labels
# Map cells: about 3.4 km east-west x 5.6 km north-south in England and Wales. Not finer: the map draws one
# mark per cell and its drawing time grows with the marks (docs/benchmarks.md); 0.05 still gives ~150 cells
# over one force.
GRID_DEGREES = 0.05


def month_x() -> alt.X:
    return alt.X("month:T", timeUnit="utcyearmonth", title="Month", axis=alt.Axis(format="%b %Y", labelAngle=-40))


def axis(fmt: str) -> alt.Axis:
    """A quantitative axis: ``fmt`` for shares, else a count of whole things, which never ticks 0.5 of one.
    Vega's ``tickMinStep`` alone still ticks 0, 0.5, 1, 1.5, 2 over a domain of 0..2 (labelled "0 1 1 2 2"), so
    a tick between two whole numbers is hidden: no label, no tick, no grid line."""
    if fmt:
        return alt.Axis(format=fmt)
    between = "datum.value % 1 !== 0"
    hidden = {"condition": {"test": between, "value": 0}, "value": 1}
    return alt.Axis(
        format=",d", tickMinStep=1, labelExpr=f"{between} ? '' : datum.label", tickOpacity=hidden, gridOpacity=hidden
    )


def trend(measure: str, label: str, color: str = BLUE, fmt: str = "", width: int = WIDTH) -> alt.LayerChart:
    """A line per month that breaks at months without a value (no records, or a rate nobody recorded); a month
    the browser flags ``incomplete`` (a force-month of the selection missing or partial) gets a vermilion
    triangle instead of a dot, with the forces in the tooltip. One layer more than a plain line: every layer
    costs Vega start-up time on every page load."""
    y = alt.Y(f"{measure}:Q", title=label, axis=axis(fmt))
    value = alt.Tooltip(f"{measure}:Q", title=label, format=fmt or ",")
    flagged = "datum.incomplete"
    base = alt.Chart().encode(x=month_x())
    line = base.mark_line(color=color, invalid="break-paths-show-domains").encode(y=y)  # null: a gap
    # null values stay in the scale domains: a selection whose values are all null still has a time axis
    points = base.mark_point(filled=True, size=45, opacity=1, invalid="break-paths-show-domains").encode(
        y=y,
        color=alt.condition(flagged, alt.value(VERMILION), alt.value(color)),
        shape=alt.condition(flagged, alt.value("triangle-down"), alt.value("circle")),
        tooltip=[alt.Tooltip("month:N", title="Month"), value, alt.Tooltip("coverage_note:N", title="Coverage")],
    )
    return alt.layer(line, points).properties(width=width, height=220)


PAIR_WIDTH = 360  # each of two bar charts side by side, with their labels, within the content column


def bars(
    category: str,
    cat_label: str,
    measure: str,
    label: str,
    fmt: str = "",
    width: int = WIDTH - 200,
) -> alt.Chart:
    """Horizontal bars, largest first."""
    return (
        alt.Chart()
        .mark_bar(color=BLUE)
        .encode(
            y=alt.Y(f"{category}:N", sort="-x", title=cat_label, axis=alt.Axis(labelLimit=260)),
            x=alt.X(f"{measure}:Q", title=label, axis=axis(fmt)),
            tooltip=[
                alt.Tooltip(f"{category}:N", title=cat_label),
                alt.Tooltip(f"{measure}:Q", title=label, format=fmt or ","),
            ],
        )
        .properties(width=width)
    )


def rate_bars(category: str, cat_label: str, rate: str, sort_by: str, say_unknown: bool) -> alt.Chart | alt.LayerChart:
    """A rate per category in ``sort_by`` order. With ``say_unknown``, a category whose rate nobody recorded
    reads "not published" where its bar would be (a text layer: worth its start-up time where one category
    alone can be unknown, as a force); otherwise it is an absent bar, and the table says "not published"."""
    # op "max": a layered chart unions its domains, which keeps only count/min/max sorts (one row per category)
    y = alt.Y(f"{category}:N", sort=alt.EncodingSortField(sort_by, op="max", order="descending"), title=None)
    shown = (
        alt.Chart()
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
    if not say_unknown:
        return shown.properties(width=PAIR_WIDTH)
    unknown = (
        alt.Chart()
        .transform_filter(f"datum['{rate}_unknown']")
        .mark_text(align="left", dx=3, color=MUTED, fontStyle="italic")
        .encode(
            y=y,
            x=alt.datum(0),
            text=alt.value("not published"),
            tooltip=[alt.Tooltip(f"{category}:N", title=cat_label), alt.Tooltip(f"{rate}_why:N", title="Share")],
        )
    )
    return alt.layer(shown, unknown).properties(width=PAIR_WIDTH)


def searches_and_find_rate(category: str, cat_label: str, say_unknown: bool = False) -> alt.HConcatChart:
    """Searches per category beside the share of them that found what was searched for, in the same order."""
    left = bars(category, cat_label, "searches", "Searches", width=PAIR_WIDTH).properties(
        title=f"Searches by {cat_label.lower()}"
    )
    right = rate_bars(category, cat_label, "find_rate", "searches", say_unknown).properties(
        title="Found what was searched for (of those with the link recorded)"
    )
    return left | right


def density_map(places: str | None = None) -> alt.LayerChart:
    """Density on a plain projection: each grid cell drawn as its own square, coloured by count; no tile
    server. The cell label is its centre ("lon lat"); its corners are half a cell either way. Two layers give
    it bearings: an invisible ``frame`` (the browser pads the cells' extent to a minimum span, so one cell does
    not fill the map) and, with ``places``, the names of the selection's largest towns at the mean position of
    their records (the data's own points: no gazetteer)."""
    half = GRID_DEGREES / 2
    cells = (
        alt.Chart()
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
    )
    frame = alt.Chart(alt.Data(name="frame")).mark_point(opacity=0).encode(longitude="lon:Q", latitude="lat:Q")
    layers = [cells, frame]
    if places:
        at = {"longitude": "lon:Q", "latitude": "lat:Q"}
        named = alt.Chart(alt.Data(name=places))
        layers += [
            named.mark_point(shape="circle", size=18, filled=True, color=BLACK).encode(**at),
            named.mark_text(align="left", dx=5, dy=-5, fontSize=11, fontWeight="bold", color=BLACK).encode(
                **at, text="town:N"
            ),
        ]
    return alt.layer(*layers).project(type="mercator").properties(width=WIDTH, height=460)


def stacked_share(category: str, cat_label: str, part: str, part_label: str, order: list[str]) -> alt.Chart:
    return (
        alt.Chart()
        .mark_bar()
        .encode(
            y=alt.Y(f"{category}:N", title=cat_label, axis=alt.Axis(labelLimit=260)),
            x=alt.X(
                "n:Q",
                stack="normalize",
                title="Share of crimes with outcome data",
                axis=alt.Axis(format="%", tickCount=5, labelOverlap="greedy"),  # 0 %, 20 % ... never "90%100%"
            ),
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
        .properties(width=WIDTH - 200)
    )


def heatmap(status_labels: list[str], status_colors: list[str]) -> alt.Chart:
    return (
        alt.Chart()
        .mark_rect()
        .encode(
            x=alt.X("month:O", title="Month", axis=alt.Axis(labelAngle=-60, labelOverlap="parity")),
            y=alt.Y("force:N", title="Force", axis=alt.Axis(labelLimit=220)),
            color=alt.Color(
                "status:N", title="File for the month", scale=alt.Scale(domain=status_labels, range=status_colors)
            ),
            tooltip=["force:N", "month:N", "status:N"],
        )
        .properties(width=WIDTH)
    )
