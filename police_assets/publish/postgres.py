"""The published marts in PostgreSQL, for BI tools (Metabase, Superset, Power BI) that want a SQL server.

Optional: only when ``POLICE_MARTS_POSTGRES_URL`` is set (:func:`police_assets.core.config.marts_postgres_url`).
Reads one published snapshot (``serving.duckdb`` and its ``manifest.json``), never the live warehouse.

What must stay true:

- **One transaction.** The new tables are built in a loading schema, counted against the snapshot, then the
  served schema is renamed aside (``<schema>__retired_<n>``) and the loading schema renamed to the served
  name, and only then committed. A BI user sees the previous snapshot or the new one, never a mix or a
  half-loaded table; a failure or a killed process rolls everything back (PostgreSQL DDL is transactional),
  leaving the served schema as it was.
- **Never waits on readers.** Renaming a schema takes no lock on its tables, so the swap does not wait for a BI
  session's open transaction, nor queue new queries behind it. Retired schemas are dropped after the commit, each
  in its own transaction under a short ``lock_timeout``: one still read by an open transaction is left, named in
  the log with the reading session's pid, and dropped by a later load. Every statement of the load's session runs
  under ``lock_timeout`` and ``statement_timeout``, so nothing waits unbounded; a wait that times out fails the
  load naming the sessions in the way.
- **Readers cannot write.** The reader role gets USAGE on the schema and SELECT on its tables, nothing else;
  grants are made in the loading schema, so they arrive with the swap.
- **Same tables, same counts, same documentation** as ``serving.duckdb``: every table, its rows (checked before
  the swap), and the dbt descriptions as table and column comments.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import psycopg2
import pyarrow as pa
import pyarrow.csv as pacsv
from psycopg2 import sql

from police_assets.core import config
from police_assets.core.config import duckdb_config
from police_assets.publish.snapshot import MARTS_SCHEMA, snapshot_dir

LOCK_TIMEOUT_SECONDS = 10  # the longest the load waits for any lock (a BI session's, say) before it gives up
STATEMENT_TIMEOUT_SECONDS = 3600  # any one statement (the COPY of a national fact table takes minutes)
BATCH_ROWS = 200_000  # rows per COPY chunk: memory stays bounded whatever the table's size
PROGRESS_EVERY = 2_000_000  # rows between progress lines in the run's log
SNAPSHOT_TABLE = "_snapshot"  # one row: which publish the schema holds

# DuckDB type -> PostgreSQL type. A type not listed fails the load with its name (add it here).
_TYPES = {
    "VARCHAR": "text",
    "BOOLEAN": "boolean",
    "TINYINT": "smallint",
    "SMALLINT": "smallint",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "HUGEINT": "numeric",
    "UTINYINT": "smallint",
    "USMALLINT": "integer",
    "UINTEGER": "bigint",
    "UBIGINT": "numeric",
    "FLOAT": "real",
    "DOUBLE": "double precision",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
}


@dataclass
class PostgresResult:
    schema: str
    tables: dict[str, int]  # table -> rows
    snapshot: str
    seconds: float


def pg_type(duckdb_type: str) -> str:
    if duckdb_type.startswith("DECIMAL"):
        return duckdb_type.replace("DECIMAL", "numeric")
    try:
        return _TYPES[duckdb_type]
    except KeyError:
        raise ValueError(f"no PostgreSQL type for DuckDB type {duckdb_type} (add it to publish/postgres.py)") from None


def libpq_url(url: str) -> str:
    """``url`` as libpq takes it: SQLAlchemy's ``postgresql+psycopg2://`` (the form Dagster's storage needs,
    docs/operations.md) works here too."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme.split('+')[0]}{sep}{rest}"


def _copy_table(
    duck: duckdb.DuckDBPyConnection, cur, source: str, target: sql.Composable, progress: Callable[[int], None]
) -> None:
    """Stream ``source`` (DuckDB) into ``target`` (PostgreSQL) as CSV chunks: nulls unquoted-empty, strings
    quoted, so an empty string stays an empty string and a null stays null. ``progress(rows)`` every
    ``PROGRESS_EVERY`` rows, for the big tables' minutes."""
    reader = duck.sql(f"SELECT * FROM {source}").to_arrow_reader(BATCH_ROWS)
    options = pacsv.WriteOptions(include_header=False)
    statement = sql.SQL("COPY {} FROM STDIN WITH (FORMAT csv)").format(target)
    copied = 0
    for batch in reader:  # one COPY per batch, all in the load's transaction
        sink = pa.BufferOutputStream()
        pacsv.write_csv(batch, sink, options)
        cur.copy_expert(statement, pa.BufferReader(sink.getvalue()))
        if (copied + batch.num_rows) // PROGRESS_EVERY > copied // PROGRESS_EVERY:
            progress(copied + batch.num_rows)
        copied += batch.num_rows


def load_marts(
    snapshot: Path,
    url: str,
    *,
    schema: str = "police",
    reader_role: str = "police_reader",
    log: Callable[[str], None] = lambda message: None,
    warn: Callable[[str], None] | None = None,
    lock_timeout: float = LOCK_TIMEOUT_SECONDS,
) -> PostgresResult:
    """Load every table of the published ``snapshot`` folder into ``schema`` at ``url``, swapped in atomically.
    ``warn`` (default ``log``) is told of a retired copy that readers still hold."""
    started = time.monotonic()
    snapshot = Path(snapshot)
    manifest = json.loads((snapshot / "manifest.json").read_text())
    rows: dict[str, int] = {}
    timeouts = f"-c lock_timeout={int(lock_timeout * 1000)} -c statement_timeout={STATEMENT_TIMEOUT_SECONDS * 1000}"
    conn = psycopg2.connect(libpq_url(url), options=timeouts)
    try:
        with (
            duckdb.connect(str(snapshot / "serving.duckdb"), read_only=True, config=duckdb_config()) as duck,
            conn.cursor() as cur,
        ):
            try:
                _load(duck, cur, manifest, schema, reader_role, rows, log)
                conn.commit()
            except BaseException:
                if not conn.closed:
                    conn.rollback()
                raise
        _drop_retired(conn, schema, warn or log)
    except psycopg2.errors.LockNotAvailable as exc:
        raise RuntimeError(
            f"the load into schema {schema} waited {lock_timeout:g} s for a lock and gave up; nothing was swapped "
            f"in, the served schema is as it was. In the way: {_holders(url, schema)}. The next run tries again "
            "(or end those sessions: SELECT pg_terminate_backend(pid))"
        ) from exc
    except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
        if not conn.closed:
            raise
        raise RuntimeError(
            f"lost the connection to PostgreSQL during the load into schema {schema} "
            f"({str(exc).strip() or type(exc).__name__}): the server rolls the load back, the served schema is as "
            "it was; the next run loads it again"
        ) from exc
    finally:
        conn.close()
    return PostgresResult(schema, rows, manifest["snapshot"], time.monotonic() - started)


def load_published(
    published_dir: Path, log: Callable[[str], None], warn: Callable[[str], None] | None = None
) -> PostgresResult:
    """The current snapshot of ``published_dir`` into the BI copy the settings name (``POLICE_MARTS_POSTGRES_*``):
    what ``publish/marts_postgres`` does after each publish, and ``python -m police_assets.publish load-postgres``
    on demand."""
    url = config.marts_postgres_url()
    if not url:
        raise RuntimeError("POLICE_MARTS_POSTGRES_URL is not set: there is nowhere to load the marts")
    snapshot = snapshot_dir(published_dir)
    if not (snapshot / "manifest.json").is_file():
        raise FileNotFoundError(f"nothing published in {published_dir}: run the pipeline (or restore the data) first")
    with config.explain_out_of_memory("DuckDB, reading the snapshot for PostgreSQL,"):
        return load_marts(
            snapshot,
            url,
            schema=config.marts_postgres_schema(),
            reader_role=config.marts_postgres_reader(),
            log=log,
            warn=warn,
        )


def _retired_prefix(schema: str) -> str:
    return f"{schema}__retired_"


def _drop_retired(conn, schema: str, warn: Callable[[str], None]) -> None:
    """Drop every retired copy of ``schema``, each in its own transaction; leave (and say so) one a reader holds."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s) ORDER BY 1", [_retired_prefix(schema)]
        )
        retired = [r[0] for r in cur.fetchall()]
    conn.commit()
    for name in retired:
        try:
            with conn.cursor() as cur:
                cur.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))
            conn.commit()
        except psycopg2.errors.LockNotAvailable:
            conn.rollback()
            warn(
                f"the previous copy of the marts, schema {name}, is still read by an open transaction "
                f"({_holders_of(conn, name)}); it was left in place (the served schema is already the new one) and "
                "the next load drops it. To drop it now, end that session: SELECT pg_terminate_backend(pid)"
            )


def _holders_of(conn, *schemas: str) -> str:
    """The other sessions holding locks on tables of ``schemas``: pid, user, state and since when."""
    with conn.cursor() as cur:
        cur.execute(
            """SELECT DISTINCT a.pid, a.usename, a.state, a.xact_start
               FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
               JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_stat_activity a ON a.pid = l.pid
               WHERE n.nspname = ANY(%s) AND l.pid <> pg_backend_pid() ORDER BY 1""",
            [list(schemas)],
        )
        found = cur.fetchall()
    conn.rollback()
    described = [
        f"pid {pid} (user {user}, {state}"
        + (f", in a transaction since {since:%Y-%m-%d %H:%M:%S %Z})" if since else ")")
        for pid, user, state, since in found
    ]
    return "; ".join(described) or "no session holds a lock any more"


def _holders(url: str, schema: str) -> str:
    """:func:`_holders_of` the served, loading and retired schemas, on a connection of its own (the load's is in
    a failed transaction)."""
    try:
        conn = psycopg2.connect(libpq_url(url))
    except psycopg2.Error as exc:
        return f"could not look ({exc})"
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname IN (%s, %s) OR starts_with(nspname, %s)",
                [schema, f"{schema}__loading", _retired_prefix(schema)],
            )
            schemas = [r[0] for r in cur.fetchall()]
        return _holders_of(conn, *schemas)
    finally:
        conn.close()


def _load(duck, cur, manifest: dict, schema: str, reader_role: str, rows: dict, log) -> None:
    """The whole load on ``cur``, inside the caller's transaction; ``rows`` filled in as tables load."""
    served, loading = sql.Identifier(schema), sql.Identifier(f"{schema}__loading")
    # unique per load: a retired copy a reader still holds never stands in the way of the next swap
    retired = sql.Identifier(f"{_retired_prefix(schema)}{time.time_ns()}")
    reader = sql.Identifier(reader_role)
    if not _one(cur, "SELECT 1 FROM pg_roles WHERE rolname = %s", [reader_role]):
        cur.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(reader))
    cur.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(loading))
    cur.execute(sql.SQL("CREATE SCHEMA {}").format(loading))
    for table, expected in manifest["tables"].items():
        columns = duck.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
            [MARTS_SCHEMA, table],
        ).fetchall()
        target = sql.Identifier(f"{schema}__loading", table)
        definition = sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(pg_type(t))) for c, t in columns
        )
        cur.execute(sql.SQL("CREATE TABLE {} ({})").format(target, definition))
        _copy_table(duck, cur, f'{MARTS_SCHEMA}."{table}"', target, lambda n, t=table: log(f"{t}: {n:,} rows so far"))
        rows[table] = _one(cur, sql.SQL("SELECT count(*) FROM {}").format(target))[0]
        if rows[table] != expected:
            raise RuntimeError(
                f"{table}: {rows[table]:,} rows reached PostgreSQL, the snapshot has {expected:,}; nothing was swapped in"
            )
        docs = manifest.get("catalogue", {}).get(table, {})
        if docs.get("description"):
            cur.execute(sql.SQL("COMMENT ON TABLE {} IS %s").format(target), [docs["description"]])
        for name, _kind, text in docs.get("columns", []):
            if text:
                column = sql.Identifier(f"{schema}__loading", table, name)
                cur.execute(sql.SQL("COMMENT ON COLUMN {} IS %s").format(column), [text])
        log(f"{table}: {rows[table]:,} rows")
    months = manifest["months"] or [None]
    cur.execute(
        sql.SQL(
            "CREATE TABLE {} AS SELECT %s::text AS snapshot, %s::timestamptz AS published_at, "
            "%s::text AS first_month, %s::text AS last_month, %s::boolean AS generated_data"
        ).format(sql.Identifier(f"{schema}__loading", SNAPSHOT_TABLE)),
        [manifest["snapshot"], manifest["published_at"], months[0], months[-1], bool(manifest.get("generated"))],
    )
    cur.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(loading, reader))
    cur.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(loading, reader))
    # the swap: readers see the old schema until this transaction commits, then the new one. Renames only: a
    # rename locks no table, so an open BI transaction neither holds it up nor queues behind it (the old copy is
    # dropped after the commit, by _drop_retired)
    if _one(cur, "SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema]):
        cur.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(served, retired))
    cur.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(loading, served))


def _one(cur, query, params=None):
    cur.execute(query, params)
    return cur.fetchone()
