"""Stage 7, the public dashboards: a static site rendered from the published snapshot, last in the lineage."""

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from police_assets.core.config import explain_out_of_memory
from police_assets.core.metadata import OWNERS, code_version, markdown_table, months_metadata
from police_assets.core.partitions import monthly_partitions, single_run
from police_assets.core.storage import PoliceStorage
from police_assets.publish.assets import marts_snapshot
from police_assets.site.render import render_site


@single_run(
    asset,
    key=AssetKey(["publish", "site"]),
    deps=[marts_snapshot],
    partitions_def=monthly_partitions,
    group_name="publish",
    owners=OWNERS,
    code_version=code_version(__name__),
    kinds={"html", "altair"},
    description=(
        "The public dashboards: `published/site/`, one self-contained HTML page each for reported crime, "
        "outcomes, stop and search and coverage, plus an index (months, release, licence, definitions). Charts "
        "are Vega-Altair specs in `police_assets/site/pages/`; data, script and the Vega bundle are inlined, "
        "so the folder opens from file:// or any static host. Reads only the published snapshot, never the "
        "live warehouse, so it needs no warehouse slot. Covers every published month, whichever months the run "
        "loaded."
    ),
)
def site(context: AssetExecutionContext, storage: PoliceStorage) -> MaterializeResult:
    with explain_out_of_memory("DuckDB, reading the published marts for the dashboards,"):
        result = render_site(storage.published_dir, storage.published_dir / "site")
    context.log.info(
        f"rendered {len(result.pages)} pages ({result.bytes / 1e6:.1f} MB) into {result.out_dir} "
        f"in {result.seconds:.1f}s; open {result.out_dir / 'index.html'}"
    )
    return MaterializeResult(
        metadata={
            "pages": len(result.pages),
            "bytes": result.bytes,
            "data_months": months_metadata(result.months),
            "index": MetadataValue.path(str(result.out_dir / "index.html")),
            "page_bytes": markdown_table(["page", "bytes"], sorted(result.pages.items())),
            "cube_rows": markdown_table(["page/cube", "rows"], sorted(result.cube_rows.items())),
            "duration_s": round(result.seconds, 2),
        }
    )
