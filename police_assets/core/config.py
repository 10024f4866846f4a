"""Where data lives and where it comes from, from the environment.

| variable | default | meaning |
|---|---|---|
| ``POLICE_DATA_DIR`` | ``./data`` | root of the raw zone, lake, warehouse and published files |
| ``POLICE_WAREHOUSE`` | ``$POLICE_DATA_DIR/warehouse.duckdb`` | the DuckDB warehouse file (dbt reads the same variable) |
| ``DATA_POLICE_UK_URL`` | ``https://data.police.uk`` | the data.police.uk to read, or ``file:///folder`` of its archives |
| ``POLICE_REQUESTS_PER_SECOND`` | ``10`` | client-side rate limit (data.police.uk allows 15) |
| ``POLICE_REQUESTS_BURST`` | ``10`` | requests that may start at once under that limit (data.police.uk allows 30) |
| ``POLICE_START_MONTH`` | oldest month of the newest archive | the oldest month the release sensor keeps loaded |
| ``POLICE_SENSOR_INTERVAL_SECONDS`` | ``3600`` | how often the release sensor asks data.police.uk (the demo: 30) |
| ``POLICE_DUCKDB_MEMORY_LIMIT`` | ``2GB`` | DuckDB's memory limit in every step, dbt's included (it spills to disk beyond) |
| ``POLICE_MARTS_POSTGRES_URL`` | unset | a PostgreSQL URL: when set, every publish also loads the marts there |
| ``POLICE_MARTS_POSTGRES_SCHEMA`` | ``police`` | the schema BI users read |
| ``POLICE_MARTS_POSTGRES_READER`` | ``police_reader`` | the role given read-only access to that schema |
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from police_assets.source import client

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt"


def data_dir() -> Path:
    return Path(os.environ.get("POLICE_DATA_DIR") or PROJECT_ROOT / "data").resolve()


def warehouse_path() -> Path:
    explicit = os.environ.get("POLICE_WAREHOUSE")
    return Path(explicit).resolve() if explicit else data_dir() / "warehouse.duckdb"


# DuckDB's own default is 80 % of the machine's memory, per process: a national backfill's dbt build then takes
# what a laptop has. Each process (the run, dbt) stays near this plus its Python (docs/benchmarks.md, backfill).
# dbt/profiles.yml falls back to the same value for dbt run by hand.
DUCKDB_MEMORY_LIMIT = "2GB"


def duckdb_memory_limit() -> str:
    return os.environ.get("POLICE_DUCKDB_MEMORY_LIMIT") or DUCKDB_MEMORY_LIMIT


def duckdb_config() -> dict[str, str]:
    """The settings every DuckDB connection of the platform opens with (``duckdb.connect(..., config=...)``)."""
    return {"memory_limit": duckdb_memory_limit()}


class OutOfMemory(RuntimeError):
    """A step ran out of DuckDB's memory limit; the message says which setting to raise."""


def out_of_memory_advice(what: str, duckdb_said: str) -> str:
    """What to do when ``what`` ran out of memory: the platform's setting and its value, not DuckDB's own
    ``SET memory_limit`` (which the platform sets on every connection, so setting it by hand changes nothing)."""
    env = os.environ.get("POLICE_DUCKDB_MEMORY_LIMIT")
    now = (
        f"POLICE_DUCKDB_MEMORY_LIMIT={env}"
        if env
        else f"POLICE_DUCKDB_MEMORY_LIMIT unset, the default {DUCKDB_MEMORY_LIMIT}"
    )
    first_line = duckdb_said.strip().splitlines()[0] if duckdb_said.strip() else "out of memory"
    return (
        f"{what} ran out of memory under DuckDB's limit of {duckdb_memory_limit()} ({now}). DuckDB spills large "
        "sorts, joins and aggregates to disk, but not every operation. Raise the limit, for example "
        "POLICE_DUCKDB_MEMORY_LIMIT=4GB (well below the machine's memory: docs/running.md), check the free disk "
        f"space, and re-run the failed months. DuckDB said: {first_line}"
    )


@contextmanager
def explain_out_of_memory(what: str) -> Iterator[None]:
    """Turn DuckDB's out-of-memory error inside the block into :class:`OutOfMemory` naming the platform's setting."""
    try:
        yield
    except duckdb.OutOfMemoryException as exc:
        raise OutOfMemory(out_of_memory_advice(what, str(exc))) from exc


def base_url() -> str:
    return os.environ.get("DATA_POLICE_UK_URL") or client.DEFAULT_BASE_URL


def requests_per_second() -> float:
    return float(os.environ.get("POLICE_REQUESTS_PER_SECOND") or client.REQUESTS_PER_SECOND)


def requests_burst() -> int:
    return int(os.environ.get("POLICE_REQUESTS_BURST") or client.REQUESTS_BURST)


def sensor_interval_seconds() -> int:
    return int(os.environ.get("POLICE_SENSOR_INTERVAL_SECONDS") or 3600)


def marts_postgres_url() -> str | None:
    """Where the marts are loaded for BI tools (publish/marts_postgres), or None: that asset is then absent."""
    return os.environ.get("POLICE_MARTS_POSTGRES_URL") or None


def marts_postgres_schema() -> str:
    return os.environ.get("POLICE_MARTS_POSTGRES_SCHEMA") or "police"


def marts_postgres_reader() -> str:
    return os.environ.get("POLICE_MARTS_POSTGRES_READER") or "police_reader"
