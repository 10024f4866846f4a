"""Outcomes: where the crimes of the chosen months have got to, and what is not known about them."""

from __future__ import annotations

import json

import altair as alt

from police_assets.core.sql import sql_literal
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

STREET_WAIT = "Not known (street file)"
LONGEST_WAIT = 12  # months; longer waits share one bar


def wait_label(months: int) -> str:
    """The bar of a crime whose latest outcome came ``months`` after it."""
    if months >= LONGEST_WAIT:
        return f"{LONGEST_WAIT}+ months"
    return "1 month" if months == 1 else f"{months} months"


def build(con: Published, unknown: str) -> Page:
    names = force_names(con)
    # the outcome statuses (labels and meanings) are the published dim_outcome_statuses' (macro outcome_statuses)
    status = dict(con.execute("SELECT outcome_status_key, outcome_status FROM dim_outcome_statuses").fetchall())
    recorded, awaiting, unpublished, from_street = (
        status[k] for k in ("recorded", "awaiting", "unpublished", "street")
    )
    wait_order = [wait_label(n) for n in range(LONGEST_WAIT + 1)] + [STREET_WAIT, awaiting, unpublished]
    group_order = [
        r[0]
        for r in con.execute("SELECT outcome_group FROM dim_outcome_groups ORDER BY outcome_group_order").fetchall()
    ]
    outcomes = cube_from_query(
        con,
        "outcomes",
        """SELECT strftime(a.crime_month, '%Y-%m'), a.force_id, a.crime_type_name, a.outcome_group,
                   sum(a.crime_count), sum(a.no_suspect_identified_count),
                   sum(a.crime_count) FILTER (WHERE s.is_awaiting),
                   sum(a.crime_count) FILTER (WHERE NOT s.has_outcome_data),
                   sum(a.crime_count) FILTER (WHERE s.is_force_publishing_outcome_files)
            FROM agg_outcomes_by_crime_type a JOIN dim_outcome_statuses s USING (outcome_status) GROUP BY ALL""",
        ["month", "force", "type", "group"],
        # tracked: the crimes whose force published outcome files for their month or later, the only ones that
        # can be awaiting one (a crime known from the street file alone never is)
        ["n", "no_suspect", "awaiting", "unpublished", "tracked"],
        orders={"group": [*group_order, awaiting, unpublished]},
        relabel=names,
        derived={"known": ("n", "unpublished")},  # crimes with outcome data
        unknown=unknown,
    )
    # a recorded outcome's wait in whole months (capped), else its status; wait_label names the bars
    waits = cube_from_query(
        con,
        "waits",
        con.by_month(
            "fct_street_crimes",
            f"""SELECT strftime(crime_month, '%Y-%m'), force_id, crime_type_name,
                       CASE WHEN outcome_status = {sql_literal(recorded)} THEN least(months_to_outcome, {LONGEST_WAIT})::VARCHAR
                            ELSE outcome_status END,
                       count(*)
                FROM fct_street_crimes WHERE NOT is_anti_social_behaviour GROUP BY ALL""",
            dims=4,
        ),
        ["month", "force", "type", "wait"],
        ["n"],
        orders={"wait": wait_order},
        relabel={
            **names,
            "wait": {str(n): wait_label(n) for n in range(LONGEST_WAIT + 1)} | {from_street: STREET_WAIT},
        },
        unknown=unknown,
    )
    known = "crimes with outcome data published"
    tracked = "crimes whose force publishes outcome files"
    no_files = "no force of this selection published outcome files for its months"
    visible_waits = [w for w in wait_order if w != unpublished]
    return Page(
        slug="outcomes",
        title="Outcomes",
        intro=(
            "Where the crimes of the chosen months have got to: each crime's latest outcome so far, from the "
            "outcome files of that month and every later month. Where a force published no outcome files, the "
            'street file\'s "Last outcome category" (a snapshot at publication) stands in, marked as such; '
            'where there is neither, the crime counts as "no outcome data published", never as awaiting. '
            "Shares are over the crimes with outcome data; the share still awaiting one, over the crimes whose "
            "force publishes outcome files (a force that publishes none says nothing about what its crimes "
            "await). Anti-social behaviour has no outcomes and is left out. Recent months always look "
            "unresolved: outcomes keep arriving for months."
        ),
        cubes=[outcomes, waits, coverage_cube(con, "street", names, unknown)],
        coverage="coverage",
        lacking={
            "cube": "outcomes",
            "measure": "tracked",
            "text": "published no outcome files for these months: whether their crimes still await an outcome is "
            "not published",
        },
        filters=[Filter("force", "force", "Force"), Filter("type", "type", "Crime type"), *month_filters()],
        kpis=[
            View("kpi_crimes", "outcomes", "crimes (excluding ASB)", "Crimes in the selection."),
            share(
                "kpi_no_suspect",
                "outcomes",
                "closed with no suspect identified",
                f"Share of the selection's {known} whose latest outcome says no suspect was identified.",
                ("no_suspect", "known"),
                "of the {den} " + known,
            ),
            share(
                "kpi_awaiting",
                "outcomes",
                "still awaiting an outcome",
                f"Share of the selection's {tracked} with no outcome yet.",
                ("awaiting", "tracked"),
                "of the {den} " + tracked,
                unknown_basis=no_files,
            ),
            share(
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
                left_out={"where": {"group": unpublished}, "text": "have no outcome data published and are left out"},
                chart=charts.stacked_share("type", "Crime type", "group", "Latest outcome", [*group_order, awaiting]),
                columns=[("type", "Crime type", "text"), ("group", "Latest outcome", "text"), ("n", "Crimes", "int")],
            ),
            View(
                "waits",
                "waits",
                "Time from crime to outcome",
                "Crimes by months between the crime and its latest outcome; awaiting means none yet. An outcome "
                "from a street file has no date.",
                group=["wait"],
                left_out={"where": {"wait": unpublished}, "text": "have no outcome data published and are left out"},
                needs={
                    "cube": "outcomes",
                    "measure": "tracked",
                    "text": f"Not published: {no_files}, so when their crimes got an outcome is not known.",
                },
                chart=(
                    alt.Chart()
                    .mark_bar(color=charts.BLUE)
                    .encode(
                        x=alt.X("wait:N", sort=visible_waits, title="Months from crime to latest outcome"),
                        y=alt.Y("n:Q", title="Crimes"),
                        color=alt.condition(
                            f"datum.wait == {json.dumps(awaiting)}", alt.value(charts.VERMILION), alt.value(charts.BLUE)
                        ),
                        tooltip=[alt.Tooltip("wait:N", title="Time to outcome"), alt.Tooltip("n:Q", format=",")],
                    )
                    .properties(width=charts.WIDTH)
                ),
                columns=[("wait", "Time to latest outcome", "text"), ("n", "Crimes", "int")],
            ),
            View(
                "awaiting",
                "outcomes",
                "Share still awaiting an outcome, by crime month",
                f"Of each month's {tracked}, the share with no outcome yet; a month where no force of the "
                "selection published outcome files has no value (a break in the line)." + GAP_NOTE,
                group=["month"],
                gaps=True,
                coverage=True,
                measures=["tracked", "awaiting"],
                ratios={"awaiting_share": ("awaiting", "tracked")},
                chart=charts.trend("awaiting_share", "Share awaiting", charts.VERMILION, fmt="%"),
                columns=[
                    ("month", "Crime month", "text"),
                    ("tracked", "Crimes whose force publishes outcome files", "int"),
                    ("awaiting", awaiting, "int"),
                    ("awaiting_share", "Share awaiting", "pct"),
                    ("coverage_note", "Coverage", "note"),
                ],
            ),
        ],
        notes=[
            "Outcome groups combine the published outcome wording of all years (see the dbt seeds outcome_types "
            "and outcome_groups).",
            "Outcome status, one rule (dbt macro outcome_status): an outcome recorded in an outcomes file; "
            "awaiting an outcome (the force published outcomes for the crime's month or later, none for this "
            "crime yet); the street file's Last outcome category, where the force published no outcomes; or no "
            "outcome data published.",
        ],
    )
