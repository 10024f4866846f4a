"""The documentation names tests, files and make targets as proof of what it promises; each must exist, or the
promise points at nothing."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
# Code and build files name files and tests in their comments just as the docs do.
CODE = sorted(
    f
    for pattern in (
        "police_assets/**/*",
        "tools/**/*",
        "tests/**/*.py",
        "bench/*.py",
        "dbt/models/**/*",
        "dbt/macros/**/*",
        "dbt/tests/**/*",
        "deploy/**/*",
    )
    for f in ROOT.glob(pattern)
    if f.is_file()
    and f.suffix in {".py", ".sql", ".yml", ".js", ".j2", ".css", ".service", ".conf", ".sh", ""}
    and "__pycache__" not in f.parts
    and not f.name.endswith(".egg-info")
) + [ROOT / "Makefile", ROOT / ".ci" / "run", ROOT / "dbt" / "dbt_project.yml"]
PATH = re.compile(
    r"(?<![\w/.])((?:police_assets|tools|tests|bench|dbt|docs|deploy)/[\w./-]*\w\."
    r"(?:py|sql|md|yml|yaml|j2|json|js|css|toml))(?:::(\w+))?"
)
MODEL = re.compile(r"\b((?:stg_police|int|fct|dim|agg)_[a-z_]*[a-z])\b")


def test_every_test_the_docs_name_exists():
    missing = []
    for doc in DOCS:
        for path, name in re.findall(r"(tests/[\w/]+\.py)(?:::(\w+))?", doc.read_text()):
            file = ROOT / path
            if not file.is_file() or (name and not re.search(rf"^def {name}\b", file.read_text(), re.M)):
                missing.append(f"{doc.relative_to(ROOT)}: {path}{'::' + name if name else ''}")
    assert not missing, "\n".join(missing)


def test_every_make_target_the_docs_name_exists():
    targets = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), re.M))
    named = {(doc.name, t) for doc in DOCS for t in re.findall(r"`make ([\w-]+)", doc.read_text())}
    assert not {f"{doc}: make {t}" for doc, t in named if t not in targets}


def test_every_deploy_file_the_docs_name_exists():
    named = {p for doc in DOCS for p in re.findall(r"`(deploy/[\w./-]+)`", doc.read_text())}
    assert named, "the docs name no deployment file"
    assert not {p for p in named if not (ROOT / p).exists()}


RUNTIME = ("dbt/target/",)


def dangling(text: str) -> list[str]:
    """The files (and tests in them) ``text`` names that do not exist."""
    missing = []
    for path, name in PATH.findall(text):
        if path.startswith(RUNTIME):  # made by set-up and runs, never in the repository: named, not checked
            continue
        file = ROOT / path
        if not file.exists():
            missing.append(path)
        elif name and not re.search(rf"^(?:async )?def {name}\b", file.read_text(), re.M):
            missing.append(f"{path}::{name}")
    return missing


def test_every_file_and_test_the_code_names_exists():
    """Comments and messages that point at a file (or a test in it) keep pointing at one after a move."""
    sources = [f for f in [*CODE, *DOCS] if f != Path(__file__)]  # this file names missing ones on purpose
    missing = [f"{s.relative_to(ROOT)}: {ref}" for s in sources for ref in dangling(s.read_text(errors="replace"))]
    assert not missing, "\n".join(missing)


def test_every_dbt_model_the_docs_and_the_product_name_exists():
    """A model renamed or removed leaves no doc, comment or query naming the old one (tests may make up names)."""
    known = {p.stem for p in (ROOT / "dbt").glob("models/**/*.sql")} | {p.stem for p in (ROOT / "dbt").glob("seeds/*")}
    product = [f for f in CODE if not f.is_relative_to(ROOT / "tests")]
    named = {(source, m) for source in [*product, *DOCS] for m in MODEL.findall(source.read_text(errors="replace"))}
    assert not sorted(f"{s.relative_to(ROOT)}: {m}" for s, m in named if m not in known)


def test_the_reference_checks_can_fail():
    text = "see tests/lake/test_gone.py, tests/core/test_layers.py::test_nothing and tests/core/test_layers.py"
    assert dangling(text) == ["tests/lake/test_gone.py", "tests/core/test_layers.py::test_nothing"]
    assert MODEL.findall("the model fct_gone, not a prefix stg_police__") == ["fct_gone"]


def test_the_asset_table_lists_every_dbt_model_the_manifest_holds():
    """docs/assets.md's table names each model (or its prefix, as `stg_police__*`), checked against dbt's manifest."""
    import json

    manifest = json.loads((ROOT / "dbt" / "target" / "manifest.json").read_text())
    models = {n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    table = "\n".join(line for line in (ROOT / "docs" / "assets.md").read_text().splitlines() if line.startswith("|"))
    prefixes = re.findall(r"\b(\w+_)\*", table)
    listed = {m for m in models if re.search(rf"\b{m}\b", table) or any(m.startswith(p) for p in prefixes)}
    assert sorted(models - listed) == []
