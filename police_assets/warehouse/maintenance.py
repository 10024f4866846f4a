"""The warehouse's maintenance job: ``compact_warehouse`` gives its free space back to the disk (warehouse.compact).

Run by hand, from the UI's Jobs page or ``dagster job execute -m police_assets.definitions -j compact_warehouse``,
typically after a full refresh (docs/operations.md). It waits for the ``duckdb`` pool like every warehouse writer,
so it never runs beside a pipeline step that writes the warehouse.
"""

from dagster import Failure, MetadataValue, OpExecutionContext, Output, job, op

from police_assets.core.storage import WAREHOUSE_POOL, PoliceStorage
from police_assets.warehouse.compact import CompactionError, compact_warehouse


@op(pool=WAREHOUSE_POOL)
def compact_warehouse_file(context: OpExecutionContext, storage: PoliceStorage):
    """Copy the live warehouse without its free space and swap the copy in (warehouse.compact)."""
    if not storage.warehouse.is_file():
        raise Failure(f"there is no warehouse at {storage.warehouse} to compact (nothing has been loaded yet)")
    with storage.connect_warehouse() as con:
        try:
            done = compact_warehouse(con, storage.warehouse, context.log)
        except CompactionError as exc:
            raise Failure(str(exc)) from exc
    context.log.info(
        f"compacted {storage.warehouse}: {done.before_bytes / 1e6:,.0f} MB -> {done.after_bytes / 1e6:,.0f} MB "
        f"({done.tables} tables and {done.views} views checked) in {done.seconds:.1f}s"
    )
    yield Output(
        None,
        metadata={
            "path": MetadataValue.path(str(storage.warehouse)),
            "before_bytes": done.before_bytes,
            "after_bytes": done.after_bytes,
            "free_bytes_before": done.free_bytes,
            "tables": done.tables,
            "duration_s": round(done.seconds, 2),
        },
    )


@job(
    name="compact_warehouse",
    description="Give the warehouse's free space back to the disk: a checked copy without it, swapped in whole.",
)
def compact_warehouse_job():
    compact_warehouse_file()
