"""The documentation names tests, files and make targets as proof of what it promises; each must exist, or the
promise points at nothing."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


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
