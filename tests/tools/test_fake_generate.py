import zipfile

from police_assets.core.datasets import STOP_AND_SEARCH, STREET
from police_assets.core.months import add_months
from police_dev.fake.generate import FORCES, Release, late_outcome_rows, month_members, write_release


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


def test_late_outcomes_reach_every_earlier_month_and_name_real_crimes():
    """The benchmark's long tail of court outcomes: each row names a crime of its street file, with that
    crime's columns, from as far back as the files given, and fewer the further back."""
    month, earlier = "2025-01", [add_months("2025-01", -lag) for lag in range(1, 36)]
    files = {}
    for m in earlier:
        members = month_members(seed=7, month=m, scale=40_000, forces=["metropolitan"])
        if f"{m}/{m}-metropolitan-street.csv" in members:  # a force misses some months
            files[m] = members[f"{m}/{m}-metropolitan-street.csv"]
    rows = late_outcome_rows(7, month, files)
    by_crime = {}
    for m, data in files.items():
        for line in data.decode().split("\r\n")[1:-1]:
            fields = line.split(",")
            if fields[0]:
                by_crime.setdefault(fields[0], (m, fields))
    reached = {by_crime[r[0]][0] for r in rows}
    assert reached == {m for m in earlier[6:] if m in files}  # 7 to 35 back: the six nearer are the generator's own
    assert len(reached) > 25
    assert len({r[0] for r in rows}) == len(rows)  # a crime once
    for r in rows:
        _, street = by_crime[r[0]]
        assert r[1] == month and r[2:6] == street[2:6] and r[7:9] == street[7:9]
    near, far = sorted(reached)[-1], sorted(reached)[0]
    counts = [sum(by_crime[r[0]][0] == m for r in rows) for m in (near, far)]
    assert counts[0] > 3 * counts[1]  # the tail thins out
    assert late_outcome_rows(7, month, dict(list(files.items())[10:])) == [
        r for r in rows if by_crime[r[0]][0] in list(files)[10:]
    ]  # a crime is chosen whatever other months are given


def test_archive_layout(tmp_path):
    path = write_release(tmp_path, Release(latest="2024-03", months=2, scale=300))
    with zipfile.ZipFile(path) as zf:
        months = {n.split("/")[0] for n in zf.namelist()}
    assert months == {"2024-02", "2024-03"}
    assert (tmp_path / "api" / "crimes-street-dates.json").exists()


def test_the_fake_reproduces_the_real_coverage_patterns():
    """Each pattern the dashboards must show honestly (issue: unknown is never zero) is in the generated data."""
    import csv
    import io

    from police_dev.fake.generate import NO_OUTCOME_FILES, force_publishes

    jan = month_members(seed=1, month="2024-01", scale=20000)
    feb = month_members(seed=1, month="2024-02", scale=20000)
    # a force missing a run of months: Greater Manchester publishes nothing in February and March
    assert "2024-01/2024-01-greater-manchester-street.csv" in jan
    assert not [n for n in feb if "-greater-manchester-" in n]
    assert not force_publishes(1, "greater-manchester", "2023-03", "street")
    # a partial file: Gwent's February street file holds about a quarter of January's rows
    rows = {
        m: len(members[f"{m}/{m}-gwent-street.csv"].split(b"\r\n"))
        for m, members in (("2024-01", jan), ("2024-02", feb))
    }
    assert 0.15 < rows["2024-02"] / rows["2024-01"] < 0.35
    # forces without outcome files; their street rows still carry a Last outcome category, or nothing
    assert NO_OUTCOME_FILES == ("northern-ireland", "city-of-london")
    assert not [n for n in jan if n.endswith("-outcomes.csv") and any(f"-{f}-" in n for f in NO_OUTCOME_FILES)]
    city = list(csv.DictReader(io.StringIO(jan["2024-01/2024-01-city-of-london-street.csv"].decode())))
    crimes = [r for r in city if r["Crime type"] != "Anti-social behaviour"]
    assert any(r["Last outcome category"] for r in crimes) and any(not r["Last outcome category"] for r in crimes)
    # the Met leaves the link column blank in every row; other forces fill it in
    link = "Outcome linked to object of search"
    met = list(csv.DictReader(io.StringIO(jan["2024-01/2024-01-metropolitan-stop-and-search.csv"].decode())))
    assert met and all(r[link] == "" for r in met)
    others = [
        r
        for name, body in jan.items()
        if name.endswith("-stop-and-search.csv")
        for r in csv.DictReader(io.StringIO(body.decode()))
    ]
    assert any(r[link] in ("True", "False") for r in others)
