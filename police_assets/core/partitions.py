"""The one partitioning of the whole chain: the month the data describes.

Keys are months as data.police.uk writes them (``2024-01``). Every partitioned asset, dbt included, uses this
one definition with one start date: different start dates would split single-run backfills into chunks.
data.police.uk's first month is 2010-12. The newest key (last complete calendar month) exists weeks before
data.police.uk publishes it; the sensor only ever asks for published months.
"""

import warnings
from collections.abc import Callable
from typing import Any

from dagster import BackfillPolicy, BetaWarning, MonthlyPartitionsDefinition

from police_assets.core.months import FIRST_MONTH

monthly_partitions = MonthlyPartitionsDefinition(start_date=FIRST_MONTH, fmt="%Y-%m", end_offset=0)


def single_run(decorator: Callable[..., Any], **kwargs: Any) -> Callable[..., Any]:
    """``decorator(**kwargs)`` (``asset``, ``multi_asset``, ``dbt_assets``) for a partitioned asset whose
    backfill is one run over the whole range (docs/decisions): the one place that declares it. The policy is
    beta in this Dagster, and each declaration would warn on every CLI call and ``dagster dev`` start,
    telling users nothing; the warning is silenced for the declaration alone, not for the process."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=BetaWarning, message=".*backfill_policy.*")
        return decorator(backfill_policy=BackfillPolicy.single_run(), **kwargs)


# The tags that make one run cover a range of partitions (a single-run backfill): what the UI's backfill, the
# release sensor and the tests put on a run.
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


def range_tags(first: str, last: str) -> dict[str, str]:
    """Run tags for one run over months ``first..last``."""
    return {RANGE_START: first, RANGE_END: last}
