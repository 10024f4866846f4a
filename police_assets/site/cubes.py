"""Pre-aggregated data for the dashboards: small "cubes" the browser filters and groups itself.

A cube is a table of dimension columns (month, force, town, ...) and additive measures (counts). It travels
column by column, each dimension dictionary-encoded (its labels once, then one small integer per row), as
gzip'd JSON in base64 inside the page: the browser filters rows by the chosen labels and sums the measures
per group, so every filter change is instant and nothing is fetched (pages work from ``file://``).

The cubes only RE-AGGREGATE published marts (group by fewer columns, bin coordinates); every business rule
(deduplication, towns, outcome groups, coverage gaps) lives in dbt.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from police_assets.core.config import duckdb_config
from police_assets.core.months import month_range
from police_assets.core.sql import sql_literal
from police_assets.core.tempfiles import temp_path
from police_assets.publish.snapshot import manifest_of, parquet_source, snapshot_dir


@dataclass
class Cube:
    """One cube: ``labels[dim]`` in display order, ``codes[dim][i]`` indexes it, ``values[measure][i]``."""

    name: str
    dims: list[str]
    measures: list[str]
    labels: dict[str, list[str]]
    codes: dict[str, list[int]]
    values: dict[str, list[float]]
    # measures the browser derives on decoding: name -> (a, b) for a - b. A denominator such as "searches whose
    # link was recorded" mostly equals the whole count; shipping its complement (mostly zeros) instead keeps
    # the page light, since gzip cannot see that two columns are nearly equal.
    derived: dict[str, tuple[str, str]] = field(default_factory=dict)
    # The cube as SQL a reader can run on the Ask page (the same table names): its query, and for each relabelled
    # dimension the raw value behind each label, so a headline's "SQL" link can filter the query as the page does.
    sql: str = ""
    raw: dict[str, dict[str, str]] = field(default_factory=dict)

    def source(self) -> dict:
        return {"sql": self.sql, "dims": self.dims, "measures": self.measures, "derived": self.derived, "raw": self.raw}

    @property
    def rows(self) -> int:
        return len(next(iter(self.values.values()))) if self.values else 0

    def payload(self) -> dict:
        return {
            "name": self.name,
            "dims": self.dims,
            "measures": self.measures,
            "labels": self.labels,
            "columns": {**self.codes, **self.values},
            "rows": self.rows,
            "derived": self.derived,
        }

    def encode(self) -> str:
        """gzip'd compact JSON, base64: about 2 bytes a row for a four-dimension cube (bench/site.py). gzip's level
        6, not 9: far less time for slightly more bytes (docs/benchmarks.md). orjson writes the same compact JSON
        as the standard library, several times faster on a page's long integer columns (non-ASCII labels come
        out as UTF-8 instead of escapes, which the page decodes alike)."""
        raw = orjson.dumps(self.payload())
        return base64.b64encode(gzip.compress(raw, compresslevel=6, mtime=0)).decode("ascii")


class Published:
    """The published snapshot as the pages read it: an in-memory DuckDB with one view per published mart
    (:meth:`execute`), never the live warehouse, and :meth:`by_month` for a cube over a table the snapshot splits
    by month. Every view reads the same snapshot (resolved once), even if a publish swaps in a new one meanwhile."""

    def __init__(self, snapshot: Path, cache: Path | None = None):
        self.snapshot = snapshot  # resolved by the caller (snapshot_dir), once
        manifest = manifest_of(self.snapshot)
        self.parts: dict = manifest.get("parts", {})
        self.cache = Path(cache) if cache else None
        self.used: set[Path] = set()  # the cache files this render read
        self.shown: dict[str, str] = {}  # a by_month query -> the query over the table it stands for
        self.con = duckdb.connect(config=duckdb_config())
        for table in sorted(manifest["tables"]):
            source = parquet_source(self.snapshot / "marts", table, self.parts)
            self.con.execute(f"CREATE VIEW {table} AS SELECT * FROM {source}")

    def execute(self, sql: str, parameters=None) -> duckdb.DuckDBPyConnection:
        return self.con.execute(sql, parameters)

    def sql(self, query: str) -> duckdb.DuckDBPyRelation:
        return self.con.sql(query)

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Published:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def by_month(self, table: str, sql: str, dims: int) -> str:
        """``sql``, a GROUP BY over ``table`` whose first ``dims`` columns are its groups and whose other columns
        are sums or counts, as a query that adds up its month-by-month results. Each month's result is kept in the
        cache under the month's version (the snapshot manifest's ``parts``), so a render computes only the months
        whose version changed, however many months are held. Without a cache, or for a table not split by month,
        ``sql`` itself."""
        if self.cache is None or table not in self.parts:
            return sql
        spec = self.parts[table]
        folder = self.cache / table / hashlib.sha256(sql.encode()).hexdigest()[:16]
        folder.mkdir(parents=True, exist_ok=True)
        columns = [f"c{i}" for i in range(len(self.con.sql(sql).columns))]  # bound, not run
        names = ", ".join(columns)
        own = self._reads_own_columns(table, sql)
        files = []
        for month, part in sorted(spec["months"].items()):
            # the logic too: an upgrade can change what a month's file holds without changing its version
            version = f"own:{part['own_version']}" if own and "own_version" in part else part["version"]
            key = hashlib.sha256(f"{spec.get('logic')}|{version}".encode()).hexdigest()[:16]
            target = folder / f"{month}-{key}.parquet"
            if not target.is_file():
                source = sql_literal(self.snapshot / "marts" / part["file"])
                query = f"WITH {table} AS (SELECT * FROM read_parquet({source})) {sql}"
                tmp = temp_path(target)
                try:
                    self.con.execute(
                        f"COPY (SELECT * FROM ({query}) AS q({names})) TO {sql_literal(tmp)} (FORMAT parquet)"
                    )
                    os.replace(tmp, target)
                finally:
                    tmp.unlink(missing_ok=True)
            files.append(target)
        self.used.update(files)
        select = ", ".join(columns[:dims] + [f"sum({c})" for c in columns[dims:]])
        query = f"SELECT {select} FROM read_parquet([{', '.join(sql_literal(f) for f in files)}]) GROUP BY ALL"
        self.shown[query] = sql
        return query

    def _reads_own_columns(self, table: str, sql: str) -> bool:
        """Whether ``sql`` reads none of the columns that later months change in ``table`` (the manifest's
        ``later_columns``: a crime's journey), so each month's result follows the month's ``own_version``. DuckDB
        decides, by binding the query to the table without them: a query that names one does not bind, and one
        that takes them through a star binds to other columns."""
        later = self.parts[table].get("later_columns")
        months = self.parts[table]["months"]
        if not later or not months:
            return False
        source = sql_literal(self.snapshot / "marts" / next(iter(months.values()))["file"])
        excluded = ", ".join(f'"{name}"' for name in later)
        whole = self.con.sql(f"WITH {table} AS (SELECT * FROM read_parquet({source})) {sql}")
        try:
            own = self.con.sql(f"WITH {table} AS (SELECT * EXCLUDE ({excluded}) FROM read_parquet({source})) {sql}")
        except duckdb.BinderException:
            return False
        return own.columns == whole.columns and own.types == whole.types

    def prune_cache(self, keep_seconds: float = 3600) -> int:
        """Remove the cached month results this render did not read, once they are ``keep_seconds`` old (a render
        of an older snapshot may be reading them meanwhile); returns how many."""
        if self.cache is None or not self.cache.is_dir():
            return 0
        removed, now = 0, time.time()
        for path in self.cache.rglob("*.parquet"):
            if path not in self.used and now - path.stat().st_mtime > keep_seconds:
                path.unlink(missing_ok=True)
                removed += 1
        return removed


def open_published(published_dir: Path, cache: Path | None = None) -> Published:
    """The current snapshot of ``published_dir`` as the pages read it (:class:`Published`)."""
    return Published(snapshot_dir(published_dir), cache)


def json_numbers(column: np.ndarray) -> list[int | float]:
    """A measure's values as the page writes them: a whole number as an int, any other rounded to 4 places.
    A column of whole numbers (the counts: most measures) converts in one call, not one Python call per value,
    whose cost grew with the months a page carries."""
    whole = np.isfinite(column) & (column == np.floor(column))
    if whole.all():
        return column.astype(np.int64).tolist()
    return [int(v) if is_whole else round(v, 4) for v, is_whole in zip(column.tolist(), whole.tolist(), strict=True)]


def cube_from_query(
    con: Published | duckdb.DuckDBPyConnection,
    name: str,
    sql: str,
    dims: list[str],
    measures: list[str],
    orders: dict[str, list[str]] | None = None,
    relabel: dict[str, dict[str, str]] | None = None,
    derived: dict[str, tuple[str, str]] | None = None,
    *,
    unknown: str,
) -> Cube:
    """Run ``sql`` (its columns: ``dims`` then ``measures``) and dictionary-encode the dimensions.

    Labels sort alphabetically (months therefore in time order) unless ``orders`` gives a dimension's order;
    ``relabel`` maps raw values to display labels (force ids to force names). A NULL dimension value reads
    ``unknown`` (the marts' own label, from the snapshot's manifest), so nothing is silently dropped. A ``month`` dimension ('YYYY-MM') lists every month from its
    first to its last, including months without rows, so views can show a missing month as a gap.
    """
    orders, relabel = orders or {}, relabel or {}
    # Column at a time (Arrow, numpy): the labels are worked out over each dimension's distinct values only, and
    # every row gets its code by lookup; row by row in Python this was most of a national render's time.
    table = con.sql(sql).to_arrow_table()
    labels: dict[str, list[str]] = {}
    code_arrays: dict[str, np.ndarray] = {}
    for j, dim in enumerate(dims):
        names = relabel.get(dim, {})
        column = table.column(j)
        distinct = pc.unique(column)
        shown = [unknown if v is None else str(names.get(v, v)) for v in distinct.to_pylist()]
        order = orders.get(dim)
        seen = set(shown)
        ordered = [v for v in order if v in seen] if order else []
        ordered += sorted(seen - set(ordered))
        if dim == "month" and ordered and unknown not in seen:
            # every month from the first to the last, rows or not, so a missing month can show as a gap
            ordered = month_range(ordered[0], ordered[-1])
        index = {v: i for i, v in enumerate(ordered)}
        positions = pc.index_in(column, value_set=distinct).to_numpy(zero_copy_only=False)
        labels[dim] = ordered
        code_arrays[dim] = np.array([index[v] for v in shown], dtype=np.int64)[positions.astype(np.int64)]
    # Rows in code order, first dimension first: the code columns become long runs and gzip shrinks the
    # national cubes several times over (docs/benchmarks.md). It also makes the
    # page byte-identical for the same marts, whatever order the query returned.
    rows = np.lexsort([code_arrays[d] for d in reversed(dims)]) if dims else np.arange(table.num_rows)
    codes = {d: a[rows].tolist() for d, a in code_arrays.items()}
    values = {}
    for k, m in enumerate(measures, start=len(dims)):
        column = pc.fill_null(pc.cast(table.column(k), pa.float64()), 0).to_numpy(zero_copy_only=False)[rows]
        values[m] = json_numbers(column)
    raw = {dim: {str(label): value for value, label in names.items()} for dim, names in relabel.items() if names}
    shown = getattr(con, "shown", {}).get(sql, sql)
    return Cube(name, dims, measures, labels, codes, values, derived or {}, sql=shown.strip(), raw=raw)
