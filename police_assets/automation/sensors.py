"""Keeping the platform current: a sensor that reacts to data.police.uk releases, and a fallback schedule.

Every run they request targets the whole chain (raw -> lake -> warehouse -> dbt marts) for the months
concerned, so a release ends with fresh marts and no manual step. Both are off by default: turn the sensor on
in the UI (Automation -> data_police_uk_release_sensor -> Start) or with
``dagster sensor start data_police_uk_release_sensor -w workspace.yaml`` (the workspace, so the sensor is the one
``make dev`` and the daemon run, under the code location name ``police_assets``).
"""

from dagster import (
    DagsterRunStatus,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    JobDefinition,
    RunRequest,
    RunsFilter,
    ScheduleEvaluationContext,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    schedule,
    sensor,
)

from police_assets.automation.releases import Cursor, decide, fingerprint, members_by_month
from police_assets.core import config, runs
from police_assets.core.months import ARCHIVE_SPAN_MONTHS, add_months
from police_assets.core.partitions import monthly_partitions, range_tags
from police_assets.core.storage import PoliceStorage
from police_assets.raw.zone import RawMonthMissing, read_manifest
from police_assets.source.client import SourceError
from police_assets.source.remote_zip import ArchiveError
from police_assets.source.resource import DataPoliceUk

SENSOR_NAME = "data_police_uk_release_sensor"
REAPER_NAME = "dead_run_reaper"
REAPER_INTERVAL_SECONDS = 60  # or the release sensor's interval, if shorter: never slower than what waits on it


def range_request(key: str, months: list[str], reason: str) -> RunRequest:
    """One run over a contiguous range of months (a single-run backfill)."""
    return RunRequest(run_key=key, tags={**range_tags(months[0], months[-1]), "police/reason": reason})


def loaded_fingerprint(storage: PoliceStorage, month: str) -> str | None:
    try:
        raw = read_manifest(storage.raw_dir, month)
    except RawMonthMissing:
        return None
    return fingerprint({m["name"]: (m["crc32"], m["size"]) for m in raw.members})


def settle_pending(instance, cursor: Cursor) -> None:
    """Forget runs that succeeded; move the months of runs that failed to ``cursor.retry``, where they stay
    (saved with the cursor, whatever the tick does next) until a tick requests them again."""
    for key, months in list(cursor.pending.items()):
        runs = instance.get_runs(filters=RunsFilter(tags={"dagster/run_key": key}), limit=1)
        if not runs:
            continue  # not launched yet
        status = runs[0].status
        if status == DagsterRunStatus.SUCCESS:
            del cursor.pending[key]
        elif status in (DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED):
            del cursor.pending[key]
            cursor.retry = sorted(set(cursor.retry) | set(months))


def build_release_sensor(job: JobDefinition, start_month: str | None = None) -> SensorDefinition:
    """The release sensor. ``start_month`` (or ``POLICE_START_MONTH``): the oldest month to keep loaded;
    by default, every month the newest archive holds (36)."""

    @sensor(
        name=SENSOR_NAME,
        job=job,
        minimum_interval_seconds=config.sensor_interval_seconds(),
        default_status=DefaultSensorStatus.STOPPED,
        description=(
            "Polls data.police.uk's crime-last-updated (one cheap call) every hour (POLICE_SENSOR_INTERVAL_SECONDS). "
            "When it changes, reads the "
            "newest archive's central directory (a range read of the directory only) and requests: one run for "
            "the months that are new, and one for each run of loaded months whose files changed (CRC-32, size, "
            "or a force file appearing or vanishing). Runs cover raw -> marts. An unchanged release requests "
            "nothing; a failed run is requested again on the next tick; a release whose archive does not yet hold "
            "every month the API announces is looked at again on every tick until it does."
        ),
    )
    def release_sensor(context: SensorEvaluationContext, police: DataPoliceUk, storage: PoliceStorage):
        cursor = Cursor.load(context.cursor)
        settle_pending(context.instance, cursor)
        session = police.session()
        api = police.api(session)
        try:
            last_updated = api.crime_last_updated()
        except SourceError as exc:
            return SensorResult(
                skip_reason=f"data.police.uk did not answer ({exc}); nothing was changed, trying again next tick",
                cursor=cursor.dump(),
            )
        if last_updated == cursor.last_updated and not cursor.retry:
            in_flight = f"; {len(cursor.pending)} run(s) still in flight" if cursor.pending else ""
            return SensorResult(skip_reason=f"no new release since {last_updated}{in_flight}", cursor=cursor.dump())

        try:
            announced = [d.month for d in api.crimes_street_dates()]
            if not announced:
                raise SourceError("crimes-street-dates listed no months")
        except SourceError as exc:
            # keep the old last_updated (and any retry): the next tick looks at this release again
            return SensorResult(
                skip_reason=f"release {last_updated}: could not tell the newest month ({exc}); retrying next tick",
                cursor=cursor.dump(),
            )
        latest = max(announced)
        try:
            with police.open_archive(latest, storage.raw_dir / ".spool", session) as archive:
                listing = members_by_month(archive.infolist())
        except (SourceError, ArchiveError) as exc:
            return SensorResult(
                skip_reason=f"release {last_updated}: could not read {latest}.zip's directory ({exc}); retrying next tick",
                cursor=cursor.dump(),
            )

        if not listing:
            return SensorResult(
                skip_reason=(
                    f"release {last_updated}: {latest}.zip holds no YYYY-MM/<file>.csv member, so it cannot be this "
                    "release's archive; nothing was requested, looking again next tick"
                ),
                cursor=cursor.dump(),
            )
        # data.police.uk publishes the API and the archive separately: until the archive holds every month the
        # API announces (within the archive's span), the release is not marked seen, so a later tick loads what
        # the archive catches up with instead of finding "no new release"
        span_start = add_months(latest, -(ARCHIVE_SPAN_MONTHS - 1))
        lagging = sorted(m for m in announced if m >= span_start and m not in listing)
        seen_before = cursor.last_updated

        archive_fp = {m: fingerprint(members) for m, members in listing.items()}
        loaded_fp = {m: fp for m in archive_fp if (fp := loaded_fingerprint(storage, m))}
        decision = decide(
            cursor,
            last_updated,
            archive_fp,
            loaded_fp,
            set(monthly_partitions.get_partition_keys()),
            start_month or config.start_month(),
        )
        if lagging:
            cursor.last_updated = seen_before
            lag = (
                f"release {last_updated}: {latest}.zip does not hold {', '.join(lagging)} yet, which the API "
                "announces (the archive is published separately); looking again next tick"
            )
            if not decision.runs:
                return SensorResult(skip_reason=lag, cursor=cursor.dump())
            context.log.warning(lag)
        elif decision.skip_reason:
            return SensorResult(skip_reason=decision.skip_reason, cursor=cursor.dump())
        context.log.info(decision.summary)
        requests = [range_request(key, months, reason) for key, months, reason in decision.runs]
        return SensorResult(run_requests=requests, cursor=cursor.dump())

    return release_sensor


def build_dead_run_reaper() -> SensorDefinition:
    """A sensor that requests nothing: every minute it fails the runs of this host whose process is gone (a
    SIGKILL, an out-of-memory kill, the end of a unit's stop timeout) and frees their ``duckdb`` slot.

    Every run does the same when it starts (police_assets.core.runs), but a dead run that holds the slot also
    keeps the release sensor waiting for it ("runs still in flight"), so no new run would start to notice it:
    this is what breaks that circle without a person. Its next tick, the release sensor sees the run failed and
    requests its months again. On by default: it only reads the run list, and acts on dead runs alone."""

    @sensor(
        name=REAPER_NAME,
        minimum_interval_seconds=min(REAPER_INTERVAL_SECONDS, config.sensor_interval_seconds()),
        default_status=DefaultSensorStatus.RUNNING,
        description=(
            "Every minute: runs of this machine still marked in progress whose process is gone (killed, out of "
            "memory) are marked failed and their concurrency slots freed, so the release sensor requests their "
            "months again. Requests no run itself."
        ),
    )
    def dead_run_reaper(context: SensorEvaluationContext):
        reaped = runs.reap_dead_runs(context.instance, by=f"the {REAPER_NAME} sensor")
        if not reaped:
            return SkipReason("no run of this machine has lost its process")
        context.log.warning(f"marked failed and freed the slots of {len(reaped)} dead run(s): {', '.join(reaped)}")
        return SkipReason(f"marked failed {len(reaped)} run(s) whose process is gone: {', '.join(reaped)}")

    return dead_run_reaper


def build_monthly_schedule(job: JobDefinition):
    """Fallback for cron-minded deployments: on the 20th, reload the three newest published months."""

    @schedule(
        name="monthly_refresh_schedule",
        job=job,
        cron_schedule="0 6 20 * *",
        default_status=DefaultScheduleStatus.STOPPED,
        description=(
            "Off by default; the release sensor is the better way. On the 20th of each month at 06:00, asks "
            "data.police.uk for its newest month and reloads it and the two before it (recent months are the "
            "ones forces revise), raw -> marts, in one run. Older revisions need the sensor or a backfill."
        ),
    )
    def monthly_refresh(context: ScheduleEvaluationContext, police: DataPoliceUk):
        try:
            latest = police.api().latest_month()
        except SourceError as exc:
            return SkipReason(f"data.police.uk did not answer: {exc}")
        months = [add_months(latest, -2), add_months(latest, -1), latest]
        stamp = context.scheduled_execution_time.strftime("%Y-%m-%d") if context.scheduled_execution_time else "now"
        return range_request(f"schedule {stamp} {months[0]}...{months[-1]}", months, "schedule")

    return monthly_refresh
