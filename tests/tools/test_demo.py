"""The guided demo: the data folder says it holds generated data, and the next release of the demo's fake
data.police.uk is a new month and a revised one, which the release sensor's decision picks up."""

import json
import zipfile

from police_assets.automation.releases import Cursor, decide, fingerprint, members_by_month
from police_assets.core.months import month_range
from police_assets.core.storage import PoliceStorage
from police_dev.demo import demo_site, mark_generated, next_release
from police_dev.fake.generate import Release, write_release

SCALE = 900


def _members(archive):
    with zipfile.ZipFile(archive) as zf:
        return members_by_month(
            type("M", (), {"name": i.filename, "crc32": i.CRC, "size": i.file_size}) for i in zf.infolist()
        )


def _fingerprints(archive):
    return {m: fingerprint(members) for m, members in _members(archive).items()}


def test_next_demo_release_is_a_new_month_and_a_revised_one(tmp_path, capsys):
    storage = PoliceStorage(data_dir=str(tmp_path / "data"))
    assert next_release(storage, SCALE) == 1 and "run `make demo` first" in capsys.readouterr().err

    site = demo_site(storage)
    write_release(site, Release(latest="2024-03", months=3, scale=SCALE))
    mark_generated(storage, site)
    assert storage.sample_note()["generated_by"].startswith("make demo")
    before = json.loads((site / "api" / "crime-last-updated.json").read_text())["date"]

    assert next_release(storage, SCALE) == 0
    dates = [d["date"] for d in json.loads((site / "api" / "crimes-street-dates.json").read_text())]
    assert dates[0] == "2024-04" and sorted(dates) == month_range("2024-01", "2024-04")
    after = json.loads((site / "api" / "crime-last-updated.json").read_text())["date"]
    assert after != before  # the sensor's cheap call sees a new release

    loaded = _fingerprints(site / "data" / "archive" / "2024-03.zip")  # what the demo run loaded
    archive = _fingerprints(site / "data" / "archive" / "2024-04.zip")
    decision = decide(Cursor(last_updated=before), after, archive, loaded, set(month_range("2010-12", "2024-12")))
    # 2024-02 revised; 2024-03 too, as kent's outcomes of 2024-03 refer to the re-published 2024-02 crimes
    assert [(months, reason) for _, months, reason in decision.runs] == [
        (["2024-04"], "new"),
        (["2024-02", "2024-03"], "revised"),
    ]
    old, new = _members(site / "data" / "archive" / "2024-03.zip"), _members(site / "data" / "archive" / "2024-04.zip")
    changed = {name for m in ("2024-01", "2024-02", "2024-03") for name in new[m] if new[m][name] != old[m].get(name)}
    assert changed and all("-kent-" in name for name in changed) and not any(n.startswith("2024-01") for n in changed)

    # the next one again: 2024-05 new, 2024-03 revised, and 2024-02 keeps its revision (not reverted)
    assert next_release(storage, SCALE) == 0
    newer = _fingerprints(site / "data" / "archive" / "2024-05.zip")
    assert newer["2024-02"] == archive["2024-02"] and newer["2024-03"] != archive["2024-03"]
    assert newer["2024-01"] == archive["2024-01"] == loaded["2024-01"]
