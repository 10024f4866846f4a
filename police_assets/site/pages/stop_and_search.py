"""Stop and search: who was searched, what for and what happened, by force and over time."""

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
    share,
)

SEARCH_BREAKDOWNS = {
    "self_defined_ethnic_group": "Self-defined ethnicity",
    "officer_defined_ethnicity": "Officer-defined ethnicity",
    "age_range": "Age range",
    "gender": "Gender",
    "object_of_search": "Object of search",
    "outcome_name": "Outcome",
}


def build(con: Published, unknown: str) -> Page:
    names = force_names(con)
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
        unknown=unknown,
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
            chart=charts.trend("searches", "Searches", width=charts.WIDTH // 2 - 40).properties(
                title="Searches per month"
            )
            | charts.trend("find_rate", "Share", charts.GREEN, fmt="%", width=charts.WIDTH // 2 - 40).properties(
                title="Found what was searched for"
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
            chart=charts.searches_and_find_rate("force", "Force", say_unknown=True),
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
                chart=charts.searches_and_find_rate("value", label),
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
        cubes=[searches, coverage_cube(con, "stop-and-search", names, unknown)],
        coverage="coverage",
        filters=[Filter("force", "force", "Force"), *month_filters()],
        kpis=[
            View(
                "kpi_searches", "searches", "searches", "Searches in the selection.", measures=["searches"], where=whole
            ),
            share(
                "kpi_arrest_rate",
                "searches",
                "ended in arrest",
                "Share of the selection's searches with an outcome recorded that ended in an arrest.",
                ("arrests", "outcome_known"),
                "of the {den} searches with an outcome recorded",
                where=whole,
            ),
            share(
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
