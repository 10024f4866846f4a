"""Reported crime: street-level crimes by force, town, type and month, with a density map; ASB apart."""

from __future__ import annotations

from police_assets.site.cubes import Published, cube_from_query
from police_assets.site.pages import charts
from police_assets.site.pages.base import (
    GAP_NOTE,
    Filter,
    Page,
    View,
    coverage_cube,
    force_names,
    month_filters,
)

CRIME, ASB = "Recorded crime", "Anti-social behaviour"  # two series, never summed
MAP_PLACE_NAMES = 8  # the largest towns of the selection, named on the map
SERIES = f"CASE WHEN is_anti_social_behaviour THEN '{ASB}' ELSE '{CRIME}' END"


def build(con: Published, unknown: str) -> Page:
    names = force_names(con)
    crimes = cube_from_query(
        con,
        "crimes",
        f"""SELECT strftime(crime_month, '%Y-%m'), force_id, town_name, {SERIES}, crime_type_name, sum(crime_count),
                   sum(location_missing_count)
            FROM agg_street_crimes_monthly GROUP BY ALL""",
        ["month", "force", "town", "series", "type"],
        ["n", "no_point"],
        orders={"series": [CRIME, ASB]},
        relabel=names,
        unknown=unknown,
    )
    grid = charts.GRID_DEGREES
    cells = cube_from_query(
        con,
        "grid",
        # grouped on the cell's numbers, labelled after: formatting every point's label before grouping is the
        # slow way (docs/benchmarks.md); + 0.0 makes a cell at -0.0 read "0.00", as one cell
        con.by_month(
            "fct_street_crimes",
            f"""SELECT force_id, town_name, series, crime_type_name, printf('%.2f %.2f', x * {grid} + 0.0, y * {grid} + 0.0), n
                FROM (SELECT force_id, town_name, {SERIES} AS series, crime_type_name, round(longitude / {grid}) AS x,
                             round(latitude / {grid}) AS y, count(*) AS n
                      FROM fct_street_crimes WHERE longitude IS NOT NULL AND latitude IS NOT NULL GROUP BY ALL)""",
            dims=5,
        ),
        ["force", "town", "series", "type", "cell"],
        ["n"],
        orders={"series": [CRIME, ASB]},
        relabel=names,
        unknown=unknown,
    )
    # where each town's records are on average, to name the largest towns on the map
    places = cube_from_query(
        con,
        "places",
        con.by_month(
            "fct_street_crimes",
            # exact sums (the published coordinates have 6 decimals): a sum of doubles depends on the order the
            # threads add them in, and month results added up must give the same page every time
            """SELECT force_id, town_name, count(*), sum(longitude::DECIMAL(18, 6)), sum(latitude::DECIMAL(18, 6))
               FROM fct_street_crimes WHERE longitude IS NOT NULL AND latitude IS NOT NULL AND is_town_known
               GROUP BY ALL""",
            dims=2,
        ),
        ["force", "town"],
        ["n", "lon_sum", "lat_sum"],
        relabel=names,
        unknown=unknown,
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
        cubes=[crimes, cells, places, coverage_cube(con, "street", names, unknown)],
        coverage="coverage",
        filters=[
            Filter("force", "force", "Force"),
            Filter("town", "town", "Town", narrow_by="force", narrow_cube="crimes"),
            Filter("series", "series", "Series", all_label=None, default=CRIME),
            Filter("type", "type", "Crime type", narrow_by="series", narrow_cube="crimes"),
            *month_filters(),
        ],
        kpis=[
            View(
                "kpi_crimes",
                "crimes",
                "recorded crimes",
                "Crimes in the selection (anti-social behaviour not included).",
                where={"series": CRIME},
                ignores=["series"],
            ),
            View(
                "kpi_asb",
                "crimes",
                "anti-social behaviour incidents (a separate series, not crime)",
                "ASB incidents for the chosen force, town and months, whatever the series and crime type.",
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
                chart=charts.trend("n", "Records"),
                columns=[("month", "Month", "text"), *count_cols, ("coverage_note", "Coverage", "note")],
            ),
            View(
                "by_type",
                "crimes",
                "By crime type",
                "Records per crime type for the selection, largest first.",
                group=["type"],
                sort=("n", True),
                chart=charts.bars("type", "Crime type", "n", "Records"),
                columns=[("type", "Crime type", "text"), *count_cols],
            ),
            View(
                "top_towns",
                "crimes",
                "Top 15 towns",
                "The 15 towns with the most records for the selection.",
                group=["town"],
                left_out={"where": {"town": unknown}, "text": "have no LSOA (town unknown) and are not ranked"},
                sort=("n", True),
                limit=15,
                chart=charts.bars("town", "Town", "n", "Records"),
                columns=[("town", "Town", "text"), *count_cols],
            ),
            View(
                "map",
                "grid",
                "Map of density",
                f"Records per {grid}° grid cell over all published months for the chosen series, force, town and type.",
                group=["cell"],
                sort=("n", True),
                # counted in the crimes cube, which has months: the note follows the headline's filters
                left_out={
                    "cube": "crimes",
                    "measure": "no_point",
                    "text": "have no coordinates, so no map could show them",
                },
                chart=charts.density_map(places="places"),
                extra={
                    "places": {
                        "cube": "places",
                        "group": ["town"],
                        "measures": ["n", "lon_sum", "lat_sum"],
                        "ratios": {"lon": ["lon_sum", "n"], "lat": ["lat_sum", "n"]},
                        "sort": ["n", True],
                        "limit": MAP_PLACE_NAMES,
                    }
                },
                frame=grid,
                declutter="places",
                declutter_by="town",
                columns=[("cell", "Cell (longitude latitude)", "text"), ("n", "Records", "int")],
                ignores=["month_from", "month_to"],
            ),
        ],
        notes=[
            "Towns are the local authority part of each record's LSOA name; records without one count under "
            f"{unknown}, left out of the town ranking (the note under it says how many).",
            'The map leaves out records published without coordinates ("No Location"); the note under it says how many.',
        ],
    )
