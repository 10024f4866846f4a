"""One dbt build as the dbt asset runs it: started with the platform's settings and the run's month window,
its events held until dbt exits and then described (columns, row counts, column lineage), and dbt's target
folder kept tidy. The asset (transform.assets) streams what this gives."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, Failure, Output, TableColumn, TableSchema
from dagster_dbt import DbtCliResource
from dagster_dbt.core.dbt_cli_invocation import DbtCliInvocation

from police_assets.core.config import exported, out_of_memory_advice
from police_assets.core.months import add_months
from police_assets.core.storage import PoliceStorage
from police_assets.core.tempfiles import temp_path
from police_assets.transform.lineage import column_lineage
from police_assets.transform.project import dbt_project, manifest_nodes, relation_of
from police_assets.warehouse.load import ensure_landing


def dbt_month_env(first_month: str, last_month: str) -> dict[str, str]:
    """dbt's environment for a run over ``first_month..last_month``: the half-open window ``[min, max)`` of first
    days that macro ``month_window`` reads when dbt executes (not ``--vars``: a change of those makes dbt parse
    the whole project again)."""
    return {"POLICE_DBT_MIN_MONTH": f"{first_month}-01", "POLICE_DBT_MAX_MONTH": f"{add_months(last_month, 1)}-01"}


def dbt_build_args(full_refresh: bool = False) -> list[str]:
    """The platform's ``dbt build``: models, seeds and data tests. Not the unit tests: their inputs are fixtures,
    not the data, so a run would check the same SQL against the same rows every month (dbt's docs advise keeping
    them to development and CI); ``make test`` runs them (tests/transform/test_dbt_assets.py)."""
    return ["build", *(["--full-refresh"] if full_refresh else []), "--exclude-resource-type", "unit_test"]


def keep_parse_state(run_target: Path, project_target: Path) -> bool:
    """Copy dbt's partial-parse state of a finished run to the project's target folder: dagster-dbt copies that
    file into each run's own target folder. Left as ``dbt parse`` wrote it at set-up (with another warehouse path
    in the profile), it would make every run parse the whole project again."""
    state = Path(run_target) / PARTIAL_PARSE_FILE
    if not state.is_file():
        return False
    tmp = temp_path(Path(project_target) / PARTIAL_PARSE_FILE)
    try:
        shutil.copyfile(state, tmp)
        os.replace(tmp, Path(project_target) / PARTIAL_PARSE_FILE)
    finally:
        tmp.unlink(missing_ok=True)
    return True


KEEP_RUN_TARGETS = 5
PARTIAL_PARSE_FILE = "partial_parse.msgpack"


def prune_run_targets(target_dir: Path, keep: int = KEEP_RUN_TARGETS) -> int:
    """Delete all but the newest ``keep`` per-run dbt target folders; returns how many were deleted.

    dagster-dbt gives every run its own ``target/<op>-<run>-<hash>/`` (its size: docs/benchmarks.md; more on real
    data); a deployment that runs monthly for years would otherwise keep them all.
    """
    runs = sorted(
        (p for p in Path(target_dir).glob("police_dbt_assets-*") if p.is_dir()),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in runs[keep:]:
        shutil.rmtree(old, ignore_errors=True)
    return max(len(runs) - keep, 0)


def warehouse_catalogue(con) -> dict[tuple[str, str], dict]:
    """Every table and view of the dbt schemas: its columns with their DuckDB types and dbt descriptions, and
    its row count (the whole table after the run, named as such: a partition of a range run is part of it)."""
    described = {
        (props["schema"], props.get("alias") or props["name"]): {
            name: col.get("description") or "" for name, col in props.get("columns", {}).items()
        }
        for props in manifest_nodes().values()
        if "schema" in props
    }
    schemas = sorted({schema for schema, _ in described} | {"landing"})  # dbt's own schemas and its sources'
    columns: dict[tuple[str, str], list[TableColumn]] = {}
    for schema, table, column, data_type in con.execute(
        "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns "
        "WHERE list_contains(?, table_schema) ORDER BY table_schema, table_name, ordinal_position",
        [schemas],
    ).fetchall():
        description = described.get((schema, table), {}).get(column, "")
        columns.setdefault((schema, table), []).append(TableColumn(column, data_type, description=description))
    kinds = dict(
        ((s, t), k)
        for s, t, k in con.execute(
            "SELECT table_schema, table_name, table_type FROM information_schema.tables"
        ).fetchall()
    )
    out = {}
    for (schema, table), cols in columns.items():
        meta = {"dagster/column_schema": TableSchema(columns=cols)}
        # a view's count would run its whole query; landing tables are read only as lineage parents (their own
        # assets report their rows)
        if kinds.get((schema, table)) == "BASE TABLE" and schema != "landing":
            meta["table_row_count"] = con.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()[0]
        out[(schema, table)] = meta
    return out


def _unique_id(event: Output) -> str | None:
    node = event.metadata.get("unique_id")
    return node.value if node else None


def _relation(event: Output) -> tuple[str, str] | None:
    """The (schema, table) an Output of the dbt step materialised, from the node's manifest entry."""
    props = manifest_nodes().get(_unique_id(event))
    return relation_of(props) if props else None


def _dbt_results(invocation: DbtCliInvocation) -> list[dict]:
    """dbt's result of each node it ran (run_results.json); none when dbt stopped before writing them."""
    try:
        return invocation.get_artifact("run_results.json").get("results", [])
    except Exception:  # noqa: BLE001 - dbt died before writing its results
        return []


def _out_of_memory(invocation, failure: Exception) -> str | None:
    """DuckDB's out-of-memory message, if that is why dbt failed: in a model's result, or, when dbt stopped before
    writing its results (out of memory while it set up), in the failure dagster-dbt raised with dbt's output."""
    said = [str(failure), *(r.get("message") or "" for r in _dbt_results(invocation))]
    return next((text for text in said if "Out of Memory Error" in text), None)


def start_build(
    context: AssetExecutionContext, dbt: DbtCliResource, storage: PoliceStorage, full_refresh: bool
) -> DbtCliInvocation:
    """Start ``dbt build`` over the run's months, with the storage's settings (dagster-dbt gives dbt a copy of
    this process's environment when it starts it, and takes none of its own per call)."""
    keys = context.partition_keys
    # dbt-duckdb retries a file it cannot open (seconds each, for every model): a missing folder must not be why
    storage.warehouse.parent.mkdir(parents=True, exist_ok=True)
    # the landing views read their files by absolute path: pointed at this storage's folder before dbt reads
    # them, in case the data folder has moved since the warehouse step last ran (a no-op otherwise)
    with storage.connect_warehouse() as con:
        for moved in ensure_landing(con, storage.landing_dir):
            context.log.info(moved)
    args, window = dbt_build_args(full_refresh), dbt_month_env(keys[0], keys[-1])
    context.log.info(f"dbt {' '.join(args)} over {window}")
    with exported({**storage.dbt_environment(), **window}):
        return dbt.cli(args, context=context)


def held_events(invocation: DbtCliInvocation) -> tuple[list[Any], Exception | None]:
    """dbt's events, held until dbt has finished, and dbt's failure if it failed.

    Held because they are described after dbt exits (described_events): while dbt runs it holds the warehouse
    file, and a second process opening it (dagster-dbt's fetch_row_counts) would fail on DuckDB's lock."""
    events, failure = [], None
    try:
        for event in invocation.stream():
            events.append(event)
    except Exception as exc:
        failure = exc
    return events, failure


SCHEMA_OUT_OF_SYNC = "schemas on this incremental model are out of sync"  # dbt's on_schema_change: fail


def out_of_sync_models(invocation: DbtCliInvocation) -> list[str]:
    """The incremental models dbt refused to extend because their stored columns are not the columns their SQL
    now gives (a model changed by an upgrade of the platform)."""
    return sorted(
        r["unique_id"].split(".")[-1]
        for r in _dbt_results(invocation)
        if SCHEMA_OUT_OF_SYNC in (r.get("message") or "")
    )


def described_events(
    invocation: DbtCliInvocation,
    events: list[Any],
    failure: Exception | None,
    storage: PoliceStorage,
    translator: Any,
    log,
) -> Iterator[Any]:
    """dbt's held events and failure (held_events), each materialisation given its table's columns with their
    types, its row count and its column lineage, read through one read-only connection; then dbt's failure if it
    failed. When dbt fails, what it did build is still reported (as it is without the hold), then the failure is
    raised."""
    tables = {}
    if events:
        with storage.connect_warehouse(read_only=True) as con:
            tables = warehouse_catalogue(con)
    built = [_unique_id(e) for e in events if isinstance(e, Output)]
    started = time.monotonic()
    lineage = column_lineage(built, tables, invocation.target_path, translator, log)
    log.info(f"column lineage of {len(lineage)} models in {time.monotonic() - started:.1f}s")
    for event in events:
        if isinstance(event, Output) and (found := tables.get(_relation(event))):
            event = event.with_metadata({**event.metadata, **found, **lineage.get(_unique_id(event), {})})
        yield event
    if failure is not None:
        if said := _out_of_memory(invocation, failure):
            raise Failure(out_of_memory_advice("dbt", said)) from failure
        raise failure


def tidy_target(run_target: Path, log) -> None:
    """After a build that succeeded: its parse state kept for the next run, old run folders removed."""
    project_target = Path(dbt_project.project_dir) / "target"
    keep_parse_state(run_target, project_target)
    if pruned := prune_run_targets(project_target):
        log.info(f"removed {pruned} old dbt run folder(s) from dbt/target")
