"""The one partitioning of the whole chain: the month the data describes.

Keys are months as data.police.uk writes them (``2024-01``). Every partitioned asset, dbt included, uses this
one definition with one start date: different start dates would split single-run backfills into chunks.
data.police.uk's first month is 2010-12. The newest key (last complete calendar month) exists weeks before
data.police.uk publishes it; the sensor only ever asks for published months.
"""

from dagster import MonthlyPartitionsDefinition

from police_assets.months import FIRST_MONTH

monthly_partitions = MonthlyPartitionsDefinition(start_date=FIRST_MONTH, fmt="%Y-%m", end_offset=0)
