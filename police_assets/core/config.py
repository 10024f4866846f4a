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

This module is the one reader (and writer) of the environment in the product. Each getter checks its value, and
:func:`check_settings` checks them all at once when the definitions load, so a bad value stops everything before
a byte is fetched, with a :class:`SettingError` naming the variable, its value and the form expected.

dbt gets its settings from here too: :func:`dbt_environment` is what police-dbt hands every dbt it starts, and
``dbt/profiles.yml`` reads those variables with no fallback of its own, so no default is written twice.
"""

from __future__ import annotations

import functools
import math
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import duckdb

from police_assets.core.months import is_month

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt"
# The Ask page's SQL engine (DuckDB-WASM), as `make setup` and `make install` build it from npm (Makefile)
ASK_ENGINE_DIR = PROJECT_ROOT / "build" / "ask-engine"

# data.police.uk, and how fast the client may ask it (the source's client reads these defaults from here).
DEFAULT_BASE_URL = "https://data.police.uk"
REQUESTS_PER_SECOND = 10.0  # data.police.uk allows 15 (source.client.RateLimiter)
REQUESTS_BURST = 10  # data.police.uk allows 30


class SettingError(ValueError):
    """An environment setting the platform cannot use; the message names it, its value and the form expected."""


def _raw(name: str) -> str | None:
    """The variable's value, or None when unset or empty (empty means the default, as it always has)."""
    return os.environ.get(name) or None


def _bad(name: str, value: str, expected: str) -> SettingError:
    return SettingError(f"{name}={value!r} is not {expected}; correct it, or unset it for the default")


def _positive(name: str, default: float, integer: bool = False) -> float:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value) if integer else float(value)
    except ValueError:
        number = math.nan
    if not (math.isfinite(number) and number > 0):
        raise _bad(name, value, "a whole number above 0, e.g. 10" if integer else "a number above 0, e.g. 10")
    return number


def data_dir() -> Path:
    value = _raw("POLICE_DATA_DIR")
    path = Path(value or PROJECT_ROOT / "data").resolve()
    if value and path.exists() and not path.is_dir():
        raise _bad("POLICE_DATA_DIR", value, "a folder (it names a file)")
    return path


def warehouse_path() -> Path:
    explicit = _raw("POLICE_WAREHOUSE")
    if not explicit:
        return data_dir() / "warehouse.duckdb"
    path = Path(explicit).resolve()
    if path.is_dir():
        raise _bad("POLICE_WAREHOUSE", explicit, "a file path (it names a folder), e.g. /srv/data/warehouse.duckdb")
    return path


# DuckDB's own default is 80 % of the machine's memory, per process: a national backfill's dbt build then takes
# what a laptop has. Each process (the run, dbt) stays near this plus its Python (docs/benchmarks.md, backfill).
DUCKDB_MEMORY_LIMIT = "2GB"

# How long a step waits for another process to let go of the warehouse file before it fails (core.storage;
# dbt through dbt_environment). A reader holding the live file is the usual cause (docs/running.md).
WAREHOUSE_LOCK_WAIT_SECONDS = 25


def duckdb_memory_limit() -> str:
    value = _raw("POLICE_DUCKDB_MEMORY_LIMIT")
    if value is None:
        return DUCKDB_MEMORY_LIMIT
    if not _duckdb_takes_memory_limit(value):
        raise _bad("POLICE_DUCKDB_MEMORY_LIMIT", value, "a memory size DuckDB understands, e.g. 2GB, 500MB or 4GiB")
    return value


@functools.cache
def _duckdb_takes_memory_limit(value: str) -> bool:
    """DuckDB is the judge of its own setting's form: an in-memory connection with it, opened and closed."""
    try:
        duckdb.connect(config={"memory_limit": value}).close()
    except duckdb.Error:
        return False
    return True


def duckdb_config() -> dict[str, str | bool | int | float | list[str]]:
    """The settings every DuckDB connection of the platform opens with (``duckdb.connect(..., config=...)``)."""
    return {"memory_limit": duckdb_memory_limit()}


class OutOfMemory(RuntimeError):
    """A step ran out of DuckDB's memory limit; the message says which setting to raise."""


def out_of_memory_advice(what: str, duckdb_said: str) -> str:
    """What to do when ``what`` ran out of memory: the platform's setting and its value, not DuckDB's own
    ``SET memory_limit`` (which the platform sets on every connection, so setting it by hand changes nothing)."""
    env = _raw("POLICE_DUCKDB_MEMORY_LIMIT")
    now = (
        f"POLICE_DUCKDB_MEMORY_LIMIT={env}"
        if env
        else f"POLICE_DUCKDB_MEMORY_LIMIT unset, the default {DUCKDB_MEMORY_LIMIT}"
    )
    lines = [line.strip() for line in duckdb_said.splitlines() if line.strip()]
    first_line = next((line for line in lines if "Out of Memory" in line), lines[0] if lines else "out of memory")
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
    value = _raw("DATA_POLICE_UK_URL")
    if value is None:
        return DEFAULT_BASE_URL
    if not re.match(r"^(https?://[^/\s]+|file:///?\S*)", value):
        raise _bad("DATA_POLICE_UK_URL", value, "an http(s):// address or a file:///folder of archives")
    return value


def requests_per_second() -> float:
    return _positive("POLICE_REQUESTS_PER_SECOND", REQUESTS_PER_SECOND)


def requests_burst() -> int:
    return int(_positive("POLICE_REQUESTS_BURST", REQUESTS_BURST, integer=True))


def sensor_interval_seconds() -> int:
    return int(_positive("POLICE_SENSOR_INTERVAL_SECONDS", 3600, integer=True))


def start_month() -> str | None:
    """The oldest month the release sensor keeps loaded, or None: every month of the newest archive."""
    value = _raw("POLICE_START_MONTH")
    if value is not None and not is_month(value):
        raise _bad("POLICE_START_MONTH", value, "a month as YYYY-MM, e.g. 2021-01")
    return value


def marts_postgres_url() -> str | None:
    """Where the marts are loaded for BI tools (publish/marts_postgres), or None: that asset is then absent."""
    value = _raw("POLICE_MARTS_POSTGRES_URL")
    if value is not None and not re.match(r"^postgres(ql)?(\+psycopg2)?://", value):
        raise _bad(
            "POLICE_MARTS_POSTGRES_URL", _redacted(value), "a PostgreSQL URL, postgresql://user:password@host/db"
        )
    return value


def _redacted(url: str) -> str:
    """A URL with its password replaced, for messages."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _identifier(name: str, default: str) -> str:
    value = _raw(name) or default
    if not _IDENTIFIER.match(value):
        raise _bad(name, value, "a lower-case PostgreSQL name of letters, digits and _, e.g. police")
    return value


def marts_postgres_schema() -> str:
    return _identifier("POLICE_MARTS_POSTGRES_SCHEMA", "police")


def marts_postgres_reader() -> str:
    return _identifier("POLICE_MARTS_POSTGRES_READER", "police_reader")


def dbt_command() -> str:
    """The dbt police-dbt starts: ``dbt`` beside this Python. Not a user setting: tests stand in a program of
    their own with the variable POLICE_DBT_COMMAND."""
    return _raw("POLICE_DBT_COMMAND") or str(Path(sys.executable).with_name("dbt"))


def dbt_connect_attempts(wait_seconds: float = WAREHOUSE_LOCK_WAIT_SECONDS) -> int:
    """dbt-duckdb's ``connect_attempts`` for a lock wait of at least ``wait_seconds``: it sleeps 1, 2, 4, ...
    seconds after each failed attempt, so n attempts wait 2**n - 1 seconds."""
    return max(1, math.ceil(math.log2(wait_seconds + 1)))


def dbt_environment(warehouse: Path | None = None) -> dict[str, str]:
    """What dbt needs from the platform's settings, as the variables ``dbt/profiles.yml`` reads: the warehouse
    file (``warehouse``, else :func:`warehouse_path`), DuckDB's memory limit and the lock wait."""
    return {
        "POLICE_WAREHOUSE": str(Path(warehouse or warehouse_path()).resolve()),
        "POLICE_DUCKDB_MEMORY_LIMIT": duckdb_memory_limit(),
        "POLICE_DBT_CONNECT_ATTEMPTS": str(dbt_connect_attempts()),
    }


def environment_with(values: Mapping[str, str]) -> dict[str, str]:
    """This process's environment with ``values`` added: what a child process (dbt) is started with."""
    return {**os.environ, **values}


@contextmanager
def exported(values: Mapping[str, str]) -> Iterator[None]:
    """``values`` in this process's environment for the block, then as they were. For children started by code
    that takes no environment of its own (dagster-dbt copies ``os.environ`` when it starts dbt)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def dagster_home() -> str | None:
    """Dagster's own setting, read here too: a run without it goes to a throwaway instance (core.storage)."""
    return _raw("DAGSTER_HOME")


# Every setting's getter: check_settings calls them all.
_GETTERS: tuple[Callable[[], object], ...] = (
    data_dir,
    warehouse_path,
    base_url,
    requests_per_second,
    requests_burst,
    sensor_interval_seconds,
    start_month,
    duckdb_memory_limit,
    marts_postgres_url,
    marts_postgres_schema,
    marts_postgres_reader,
)


def check_settings() -> None:
    """Check every setting now; raise one :class:`SettingError` listing each bad one."""
    problems = []
    for getter in _GETTERS:
        try:
            getter()
        except SettingError as exc:
            problems.append(str(exc))
    if problems:
        raise SettingError("bad settings, nothing was done: " + " | ".join(problems))
