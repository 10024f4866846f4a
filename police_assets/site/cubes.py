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
import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from police_assets.core.config import duckdb_config
from police_assets.core.months import month_range
from police_assets.publish.snapshot import parquet_source, snapshot_dir


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
        """gzip'd compact JSON, base64: about 2 bytes a row for a four-dimension cube (bench/site.py)."""
        raw = json.dumps(self.payload(), separators=(",", ":")).encode()
        return base64.b64encode(gzip.compress(raw, compresslevel=9, mtime=0)).decode("ascii")

    def total(self, measure: str, **where: str) -> float:
        """Sum of ``measure`` over rows whose dims have the given labels (what the browser shows for that selection; tests compare with it)."""
        idx = {d: self.labels[d].index(v) if v in self.labels[d] else -1 for d, v in where.items()}
        return sum(v for i, v in enumerate(self.values[measure]) if all(self.codes[d][i] == c for d, c in idx.items()))


def open_published(published_dir: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with one view per published mart: never the live warehouse. Every view reads the same
    snapshot (resolved once), even if a publish swaps in a new one meanwhile."""
    snapshot = snapshot_dir(published_dir)
    if not (snapshot / "manifest.json").is_file():
        raise FileNotFoundError(f"no published marts in {snapshot}: materialise publish/marts_snapshot first")
    manifest = json.loads((snapshot / "manifest.json").read_text())
    con = duckdb.connect(config=duckdb_config())
    for table in sorted(manifest["tables"]):
        con.execute(
            f"CREATE VIEW {table} AS SELECT * FROM {parquet_source(snapshot / 'marts', table, manifest.get('parts', {}))}"
        )
    return con


def cube_from_query(
    con: duckdb.DuckDBPyConnection,
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
    rows = con.execute(sql).fetchall()
    labels: dict[str, list[str]] = {}
    codes: dict[str, list[int]] = {}
    for j, dim in enumerate(dims):
        names = relabel.get(dim, {})
        column = [names.get(r[j], r[j]) if r[j] is not None else unknown for r in rows]
        column = [str(v) for v in column]
        order = orders.get(dim)
        seen = set(column)
        ordered = [v for v in order if v in seen] if order else []
        ordered += sorted(seen - set(ordered))
        if dim == "month" and ordered and unknown not in seen:
            # every month from the first to the last, rows or not, so a missing month can show as a gap
            ordered = month_range(ordered[0], ordered[-1])
        index = {v: i for i, v in enumerate(ordered)}
        labels[dim] = ordered
        codes[dim] = [index[v] for v in column]
    values = {}
    for k, m in enumerate(measures, start=len(dims)):
        col = [0 if r[k] is None else r[k] for r in rows]
        values[m] = [int(v) if float(v).is_integer() else round(float(v), 4) for v in col]
    # Rows in code order, first dimension first: the code columns become long runs and gzip shrinks the
    # national cubes several times over (docs/benchmarks.md). It also makes the
    # page byte-identical for the same marts, whatever order the query returned.
    order = sorted(range(len(rows)), key=lambda i: tuple(codes[d][i] for d in dims))
    codes = {d: [c[i] for i in order] for d, c in codes.items()}
    values = {m: [v[i] for i in order] for m, v in values.items()}
    return Cube(name, dims, measures, labels, codes, values, derived or {})
