"""Stage 1, raw zone: each month's files copied byte-for-byte out of the data.police.uk bulk archive."""

import time

from dagster import AssetExecutionContext, Failure, MaterializeResult, MetadataValue, asset

from police_assets.core.metadata import OWNERS, code_version, markdown_table, per_partition, run_metadata
from police_assets.core.months import months_between
from police_assets.core.partitions import monthly_partitions, single_run
from police_assets.core.storage import PoliceStorage
from police_assets.raw.provenance import ProvenanceError, check_source
from police_assets.raw.zone import clean_stale, fetch_month
from police_assets.source.client import SourceError
from police_assets.source.remote_zip import ArchiveError
from police_assets.source.resource import DataPoliceUk


@single_run(
    asset,
    key=["raw", "archive_month"],
    partitions_def=monthly_partitions,
    group_name="raw",
    owners=OWNERS,
    code_version=code_version(__name__),
    kinds={"python", "zip"},
    # A run for months data.police.uk has not published (the launch dialog offers every calendar month up to the
    # last) produces no output: every later step is skipped, nothing is marked failed, and the log says why.
    output_required=False,
    description=(
        "One month of data.police.uk as published: every `YYYY-MM/YYYY-MM-<force>-<dataset>.csv` member of the "
        "bulk archive that holds the month (the newest one), byte-for-byte, in `raw/month=YYYY-MM/` with a "
        "`_manifest.json` (archive, member names, sizes, CRC-32, fetched-at). Only that month's members are "
        "fetched, with HTTP Range requests, not the whole 1.7 GB archive."
    ),
)
def archive_month(context: AssetExecutionContext, storage: PoliceStorage, police: DataPoliceUk):
    months = context.partition_keys
    started = time.monotonic()
    session = police.session()
    api = police.api(session)
    street_dates = {d.month: d for d in api.crimes_street_dates()}
    try:  # before anything is fetched: generated and real data never share a folder
        check_source(storage, police.base_url, api.generated_by)
    except ProvenanceError as exc:
        raise Failure(str(exc)) from exc
    if not street_dates:
        raise Failure("data.police.uk's crimes-street-dates listed no months")
    latest = max(street_dates)
    unpublished = [m for m in months if months_between(m, latest) < 0]
    if unpublished:
        published = [m for m in months if m not in unpublished]
        context.log.error(
            f"refused: not published on data.police.uk yet: {', '.join(unpublished)} (newest published month: "
            f"{latest}). Nothing was fetched or changed, and no later step runs"
            + (f"; re-run with {published[0]}...{published[-1]}." if published else ".")
        )
        return
    forces = api.forces()
    if clean_stale(storage.raw_dir) if storage.raw_dir.exists() else 0:
        context.log.info("removed leftovers of an interrupted fetch in %s", storage.raw_dir)

    archives: dict = {}
    fetched = []
    try:
        for i, month in enumerate(months, 1):
            archive_name = api.archive_for(month, latest)
            if archive_name not in archives:
                try:
                    archives[archive_name] = police.open_archive(archive_name, storage.raw_dir / ".spool", session)
                except ArchiveError as exc:
                    if "not found" not in str(exc):
                        raise
                    raise Failure(
                        f"no archive holds {month} on {police.base_url}: {exc}. An archive holds the 36 months ending "
                        f"at its own month, and the source keeps only some of them; point DATA_POLICE_UK_URL at a "
                        f"folder of archives kept from earlier downloads that holds {month} (file:///path/to/folder, "
                        "docs/running.md)"
                    ) from exc
                for note in archives[archive_name].stats.notes:
                    context.log.warning(note)
            raw = fetch_month(
                archives[archive_name],
                month,
                storage.raw_dir,
                forces,
                street_dates[month].stop_and_search_forces if month in street_dates else [],
            )
            fetched.append(raw)
            if raw.unrecognised:
                context.log.warning(
                    f"raw {month}: {len(raw.unrecognised)} file(s) follow no dataset's YYYY-MM-<force>-<dataset>.csv "
                    f"name, so no later stage reads them (kept in the raw zone, listed in its manifest as "
                    f"'unrecognised'): {', '.join(raw.unrecognised[:10])}"
                )
            context.log.info(
                f"[{i}/{len(months)}] raw {month}: {len(raw.members)} files, {raw.bytes_on_disk / 1e6:.1f} MB "
                f"from {raw.archive} ({raw.bytes_fetched / 1e6:.1f} MB fetched in {raw.requests} requests)"
            )
    except (ArchiveError, SourceError) as exc:
        raise Failure(str(exc)) from exc
    finally:
        for a in archives.values():
            a.close()

    per_partition(
        context,
        {
            r.month: {
                "files": len(r.members),
                "bytes_on_disk": r.bytes_on_disk,
                "bytes_fetched": r.bytes_fetched,
                "requests": r.requests,
                "archive": r.archive,
                "full_download": r.full_download,
                "unrecognised_files": MetadataValue.text(", ".join(r.unrecognised) or "none"),
            }
            for r in fetched
        },
    )
    total_fetched = sum(a.stats.bytes_fetched for a in archives.values())
    compressed = sum(m["compressed_size"] for r in fetched for m in r.members)
    yield MaterializeResult(
        metadata={
            **run_metadata(months, time.monotonic() - started),
            "run_bytes_fetched": total_fetched,  # with the archives' directories, which months share
            "run_fetched_per_member_byte": round(total_fetched / compressed, 3) if compressed else 0.0,
            "run_archives": MetadataValue.text(", ".join(f"{a}.zip" for a in archives)),
            "newest_published_month": latest,
            "run_by_month": markdown_table(
                ["month", "archive", "files", "MB", "MB fetched", "requests"],
                [
                    (
                        r.month,
                        r.archive,
                        len(r.members),
                        round(r.bytes_on_disk / 1e6, 2),
                        round(r.bytes_fetched / 1e6, 2),
                        r.requests,
                    )
                    for r in fetched[-24:]
                ],
            ),
        }
    )
