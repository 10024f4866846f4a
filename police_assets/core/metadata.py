"""Small helpers that turn what a stage did into Dagster metadata (previews, schemas, sizes)."""

from __future__ import annotations

import ast
import functools
import hashlib
from collections.abc import Iterator
from pathlib import Path

from dagster import AssetKey, Failure, MaterializeResult, MetadataValue

PACKAGE = __name__.split(".")[0]
ROOT = Path(__file__).resolve().parents[1]  # the package's folder

# Who answers for the assets (Dagster shows owners on every asset page); one team for the whole platform.
OWNERS = ["team:police-data-platform"]


def code_version(module: str) -> str:
    """A digest of what an asset's behaviour comes from (``module``: the asset's module, ``__name__``): the source
    of every platform module it imports, directly or through others, and the files of its package that are not
    Python (templates, scripts). When any changes, Dagster shows the asset's materialisations as from an older
    code version, so a re-run after an upgrade is visible. Derived from the imports, so none can be left out."""
    digest = hashlib.sha1()
    for f in code_files(module):
        digest.update(f.read_bytes())
    return digest.hexdigest()[:12]


def code_files(module: str) -> list[Path]:
    """The files :func:`code_version` digests for ``module``."""
    files: set[Path] = set()
    todo = [module]
    while todo:
        file = _module_file(todo.pop())
        if file and file not in files:
            files.add(file)
            todo += _platform_imports(file)
    # the packages around them, whose __init__ runs first
    inits = {d / "__init__.py" for f in files for d in f.parents if d.is_relative_to(ROOT)}
    package = ROOT.joinpath(*module.split(".")[1:-1])
    data = [f for f in package.rglob("*") if f.is_file() and f.suffix not in {".py", ".pyc"}]
    return sorted({*files, *(i for i in inits if i.is_file()), *data})


def _module_file(name: str) -> Path | None:
    """The source file of platform module ``name``, found on disk (never imported), or None if not a module."""
    path = ROOT.joinpath(*name.split(".")[1:])
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


@functools.cache
def _platform_imports(file: Path) -> list[str]:
    """The platform modules a source file imports (anywhere in it); ``from a import b`` counts ``a.b`` when
    ``b`` is a module."""
    found = []
    for node in ast.walk(ast.parse(file.read_bytes())):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append(node.module)
            found += [f"{node.module}.{alias.name}" for alias in node.names]
    return [n for n in found if n.split(".")[0] == PACKAGE and _module_file(n)]


def markdown_table(columns: list[str], rows: list[tuple], max_width: int = 40) -> MetadataValue:
    """A markdown table (no tabulate dependency) with long cells cut to ``max_width``."""

    def cell(v) -> str:
        s = "" if v is None else str(v)
        s = s.replace("|", "\\|").replace("\n", " ")
        return s if len(s) <= max_width else s[: max_width - 1] + "…"

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return MetadataValue.md("\n".join(lines))


def months_metadata(months: list[str]) -> MetadataValue:
    """The data months a published output covers, as "first..last (count)"."""
    return MetadataValue.text(f"{months[0]}..{months[-1]} ({len(months)})" if months else "none")


def preview(con, sql: str, params: list | None = None, limit: int = 5) -> MetadataValue:
    cur = con.execute(f"SELECT * FROM ({sql}) LIMIT {int(limit)}", params or [])
    return markdown_table([d[0] for d in cur.description], cur.fetchall())


def per_partition(context, by_month: dict[str, dict], asset_key: AssetKey | None = None) -> None:
    """Give each month of a range run its own metadata (``by_month``: month -> entries), so partition 2024-03 of
    a three-month run shows 2024-03's rows, not the run's. The entries override the run-wide metadata of the
    materialisation with the same names; the run-wide entries are named ``run_*`` so they read as such."""
    for month, meta in by_month.items():
        context.add_asset_metadata(meta, asset_key=asset_key, partition_key=month)


def run_metadata(months: list[str], seconds: float) -> dict:
    """What every partition of a run shares: which months the run covered and how long the step took."""
    return {"run_months": months_metadata(months), "run_duration_s": round(seconds, 2)}


def stage_results(
    stage: str,
    metadata: dict[str, dict],
    failed: dict[str, str],
    context=None,
    by_month: dict[str, dict[str, dict]] | None = None,
) -> Iterator[MaterializeResult]:
    """A stage step's outcome: a materialisation for each dataset that succeeded (``metadata`` by dataset name,
    ``by_month[name]`` its per-month entries), then, if any dataset failed, the step's failure naming each one
    (``failed``: dataset name -> message)."""
    for name, meta in metadata.items():
        key = AssetKey([stage, name])
        if context is not None and by_month:
            per_partition(context, by_month.get(name, {}), key)
        yield MaterializeResult(asset_key=key, metadata=meta)
    if failed:
        raise Failure("; ".join(failed.values()))
