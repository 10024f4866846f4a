"""Coverage: which forces published which months of each dataset, whole, partial or not at all."""

from __future__ import annotations

from police_assets.core.datasets import DATASETS, STREET
from police_assets.site.cubes import Published, cube_from_query
from police_assets.site.pages import charts
from police_assets.site.pages.base import Filter, Page, View, force_names, month_filters


def partial_rule(con: Published) -> str:
    """When a force-month's file counts as partial, in words, as the coverage mart's thresholds make it."""
    [(rule,)] = con.execute("SELECT coverage_rule FROM dim_coverage_statuses WHERE is_partial").fetchall()
    return rule


def build(con: Published, unknown: str) -> Page:
    names = force_names(con)
    # the vocabulary (label, order, meaning, colour) is the published dim_coverage_statuses'
    statuses = con.execute(
        "SELECT coverage_label, chart_colour, is_expected FROM dim_coverage_statuses ORDER BY coverage_order"
    ).fetchall()
    labels = [label for label, *_ in statuses]
    [unexpected] = [label for label, _, expected in statuses if not expected]
    partial = partial_rule(con)
    coverage = cube_from_query(
        con,
        "coverage",
        """SELECT strftime(c.file_month, '%Y-%m'), c.force_id, c.dataset_name, s.coverage_label,
                   count(*), count(*) FILTER (WHERE s.is_expected AND s.is_gap),
                   count(*) FILTER (WHERE s.is_partial),
                   count(*) FILTER (WHERE s.is_expected), sum(coalesce(c.record_count, 0))
            FROM fct_force_month_coverage c JOIN dim_coverage_statuses s USING (coverage_status) GROUP BY ALL""",
        ["month", "force", "dataset", "status"],
        ["n", "gaps", "partial", "expected", "records"],
        orders={"status": labels, "dataset": [spec.title for spec in DATASETS]},
        # the coverage mart names a dataset by its file suffix; the dataset spec table gives its title
        relabel={**names, "dataset": {spec.file_suffix: spec.title for spec in DATASETS}},
        unknown=unknown,
    )
    set_aside = con.execute(
        """SELECT strftime(file_month, '%Y-%m'), force_name, dataset_name, set_aside_reason
           FROM fct_force_month_coverage WHERE set_aside_reason IS NOT NULL ORDER BY 1 DESC, 2, 3"""
    ).fetchall()
    titles = {spec.file_suffix: spec.title for spec in DATASETS}
    shown = [f"{month} {force}, {titles.get(ds, ds)}: {why}" for month, force, ds, why in set_aside[:20]]
    set_aside_note = (
        [
            f"{len(set_aside)} published file(s) were set aside unread and count as missing: "
            + "; ".join(shown)
            + ("; and more in fct_force_month_coverage.set_aside_reason." if len(set_aside) > 20 else ".")
        ]
        if set_aside
        else []
    )
    return Page(
        slug="coverage",
        title="Coverage",
        intro=(
            "Which forces published which months. A force-month without a file (or with an empty one) is a gap "
            f"in the data, not a month without crime; a file is partial when it holds {partial}. Read every "
            "other page with these in mind: their trends mark the months they touch."
        ),
        cubes=[coverage],
        filters=[
            Filter("dataset", "dataset", "Dataset", default=STREET.title, all_label="All datasets"),
            Filter("force", "force", "Force"),
            *month_filters(),
        ],
        kpis=[
            View("kpi_gaps", "coverage", "force-months missing", "No file, or an empty one.", measures=["gaps"]),
            View("kpi_partial", "coverage", "force-months partial", "Far under the usual.", measures=["partial"]),
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
                chart=charts.heatmap(labels, [colour for _, colour, _ in statuses]),
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
                chart=charts.bars("force", "Force", "gaps", "Force-months missing"),
                columns=[("force", "Force", "text"), ("gaps", "Force-months missing", "int")],
            ),
        ],
        notes=[
            "Stop-and-search and outcome files are published per force; some forces publish none at all "
            f'("{unexpected}"), which is not counted as missing.',
            f"Partial: {partial}; the rule lives in the dbt model fct_force_month_coverage "
            "(dim_coverage_statuses.coverage_rule).",
            *set_aside_note,
        ],
    )
