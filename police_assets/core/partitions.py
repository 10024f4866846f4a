"""The one partitioning of the whole chain: the month the data describes.

Keys are months as data.police.uk writes them (``2024-01``). Every partitioned asset, dbt included, uses this
one definition with one start date: different start dates would split single-run backfills into chunks.
data.police.uk's first month is 2010-12. The newest key (last complete calendar month) exists weeks before
data.police.uk publishes it; the sensor only ever asks for published months.
"""

import warnings

from dagster import BetaWarning, MonthlyPartitionsDefinition

from police_assets.core.months import FIRST_MONTH

monthly_partitions = MonthlyPartitionsDefinition(start_date=FIRST_MONTH, fmt="%Y-%m", end_offset=0)

# Every partitioned asset declares BackfillPolicy.single_run() (one run per backfill, docs/decisions), which is
# beta in this Dagster; the warning repeats on each CLI call and `dagster dev` start and tells users nothing.
# Filtered here because every asset module imports this one before it declares an asset.
warnings.filterwarnings("ignore", category=BetaWarning, message=".*backfill_policy.*")
# Dagster's own parser of `--select` strings passes a beta parameter (`AssetSelection.all(include_sources=...)`):
# nothing a user of this project can act on either.
warnings.filterwarnings("ignore", category=BetaWarning, message=".*include_sources.*")

# The tags that make one run cover a range of partitions (a single-run backfill): what the UI's backfill, the
# release sensor and the tests put on a run.
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


def range_tags(first: str, last: str) -> dict[str, str]:
    """Run tags for one run over months ``first..last``."""
    return {RANGE_START: first, RANGE_END: last}
