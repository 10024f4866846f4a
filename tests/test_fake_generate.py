import zipfile

from police_assets.datasets import STOP_AND_SEARCH, STREET
from police_assets.fake.generate import FORCES, Release, month_members, write_release


def test_release_is_deterministic(tmp_path):
    a = write_release(tmp_path / "a", Release(latest="2024-02", months=2, scale=500, seed=3)).read_bytes()
    b = write_release(tmp_path / "b", Release(latest="2024-02", months=2, scale=500, seed=3)).read_bytes()
    assert a == b


def test_members_look_like_data_police_uk():
    members = month_members(seed=7, month="2024-01", scale=5000)
    assert len(FORCES) == 45
    street = [n for n in members if n.endswith("-street.csv")]
    assert 40 <= len(street) <= 45  # ~2 % of force-months are holes
    assert all(n.startswith("2024-01/2024-01-") for n in members)
    body = members["2024-01/2024-01-metropolitan-street.csv"].decode()
    lines = body.split("\r\n")
    assert lines[0] == ",".join(STREET.header) and "\n" not in body.replace("\r\n", "")  # CRLF only
    asb = [ln for ln in lines if ",Anti-social behaviour," in ln]
    assert asb and all(ln.startswith(",") for ln in asb)  # blank Crime ID
    assert len(lines) - 2 > len(set(lines[1:-1]))  # exact duplicate rows exist
    assert any(",No Location," in ln for ln in lines)
    sas = members["2024-01/2024-01-metropolitan-stop-and-search.csv"].decode().split("\r\n")
    assert sas[0] == ",".join(STOP_AND_SEARCH.header)
    assert not any(n.startswith("2024-01/2024-01-northern-ireland-outcomes") for n in members)


def test_revision_changes_only_that_force_month(tmp_path):
    base = month_members(seed=7, month="2024-01", scale=2000)
    revised = month_members(seed=7, month="2024-01", scale=2000, revisions={("2024-01", "kent"): 1})
    changed = {n for n in base if base[n] != revised.get(n)}
    assert "2024-01/2024-01-kent-street.csv" in changed
    assert all("-kent-" in n for n in changed)


def test_archive_layout(tmp_path):
    path = write_release(tmp_path, Release(latest="2024-03", months=2, scale=300))
    with zipfile.ZipFile(path) as zf:
        months = {n.split("/")[0] for n in zf.namelist()}
    assert months == {"2024-02", "2024-03"}
    assert (tmp_path / "api" / "crimes-street-dates.json").exists()
