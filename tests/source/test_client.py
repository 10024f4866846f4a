import time

import pytest

from police_assets.source.client import (
    PoliceApi,
    RateLimiter,
    SourceError,
    api_url,
    archive_url,
    make_session,
)


def test_urls():
    assert archive_url("https://data.police.uk", "2024-01") == "https://data.police.uk/data/archive/2024-01.zip"
    assert archive_url("http://127.0.0.1:8/", "2024-01") == "http://127.0.0.1:8/data/archive/2024-01.zip"
    assert api_url("https://data.police.uk", "/forces") == "https://data.police.uk/api/forces"
    with pytest.raises(ValueError):
        archive_url("https://data.police.uk", "2024-1")


def _api(server, **kw):
    return PoliceApi(server.url, make_session(requests_per_second=200, backoff_factor=0.01, **kw))


def test_api_answers(fake_server):
    api = _api(fake_server)
    dates = api.crimes_street_dates()
    assert [d.month for d in dates] == ["2024-03", "2024-02", "2024-01"]  # newest first
    assert api.latest_month() == "2024-03"
    forces = api.forces()
    assert len(forces) == 45 and forces["btp"] == "British Transport Police"
    assert api.crime_last_updated().startswith("2024-05")
    assert fake_server.requests[0].path == "/api/crimes-street-dates"


@pytest.mark.parametrize("kind", ["429", "500"])
def test_retries_429_and_500_then_succeeds(fake_server, kind):
    fake_server.add_fault(kind, count=3, path_contains="/api/forces")
    assert len(_api(fake_server).forces()) == 45
    statuses = [r.status for r in fake_server.requests if r.path == "/api/forces"]
    assert statuses == [int(kind)] * 3 + [200]


def test_gives_up_with_a_clear_error_after_retries(fake_server):
    fake_server.add_fault("500", count=50, path_contains="/api/forces")
    with pytest.raises(SourceError, match=r"api/forces.*(HTTP 500|failed after retries)"):
        PoliceApi(fake_server.url, make_session(retries=2, backoff_factor=0.01)).forces()
    assert len([r for r in fake_server.requests if r.path == "/api/forces"]) == 3  # 1 + 2 retries


def test_requests_name_the_project_and_its_version(fake_server):
    from police_assets import __version__

    sent = make_session().get(fake_server.url + "/api/forces").request.headers["User-Agent"]
    # not requests' own "python-requests/x.y": data.police.uk can tell who is asking and where to write
    assert sent.startswith(f"police-assets/{__version__} (+https://") and "python-requests" not in sent


def test_rate_limiter_spaces_requests():
    limiter = RateLimiter(per_second=20, burst=1)
    started = time.monotonic()
    for _ in range(11):
        limiter.wait()
    # 11 starts at 20/s need at least 10 gaps of 50 ms
    assert time.monotonic() - started >= 0.49


def test_rate_limiter_lets_a_burst_through_then_keeps_the_rate():
    limiter = RateLimiter(per_second=20, burst=5)
    started = time.monotonic()
    starts = []
    for _ in range(15):
        limiter.wait()
        starts.append(time.monotonic() - started)
    assert starts[4] < 0.04  # the first 5 at once
    # then one per 50 ms: the 15th start is 10 slots after the burst (sleep may overshoot, never undershoot)
    assert starts[14] >= 0.49
    # and the burst is never exceeded: no 6 starts within one 50 ms interval
    assert all(starts[i + 5] - starts[i] >= 0.049 for i in range(len(starts) - 5))


def test_a_long_retry_after_is_capped_and_said(fake_server, monkeypatch, caplog):
    """Regression: a 429 asking for 100 s made the client sleep 100 s, silently."""
    import logging

    import police_assets.source.client as client

    monkeypatch.setattr(client, "MAX_RETRY_AFTER", 1.0)
    fake_server.add_fault("429", count=1, path_contains="/api/forces", seconds=100)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="police_assets.source.client"):
        assert len(_api(fake_server).forces()) == 45
    assert time.monotonic() - started < 10
    assert "Retry-After 100 s; waiting 1 s (capped at 1 s)" in caplog.text


@pytest.mark.parametrize(
    "answer,message",
    [
        ("<html><body>maintenance</body></html>", "did not return JSON"),
        ('[{"id": "kent", "name": "Kent Police"}, {"name": "no id"}]', "1 entry without an id or name"),
        ('[{"id": "kent"}]', "without an id or name"),
        ('{"forces": []}', "forces: unexpected answer"),
    ],
)
def test_a_malformed_forces_answer_is_a_clear_source_error(fake_site, tmp_path, answer, message):
    import shutil

    from police_dev.fake.server import FakePoliceServer

    site = tmp_path / "site"
    shutil.copytree(fake_site / "api", site / "api")
    (site / "api" / "forces.json").write_text(answer)
    with FakePoliceServer(site) as server, pytest.raises(SourceError, match=message):
        _api(server).forces()


def test_an_html_page_served_with_200_is_not_json(fake_server):
    fake_server.add_fault("html", count=1, path_contains="/api/crimes-street-dates")
    with pytest.raises(SourceError, match="crimes-street-dates did not return JSON"):
        _api(fake_server).latest_month()


def test_an_api_answer_that_trickles_in_gives_up_at_its_overall_deadline(fake_server):
    import time

    api = PoliceApi(fake_server.url, make_session(requests_per_second=200, retries=0), timeout=5, deadline=1.0)
    # 256 bytes every 0.3 s: every read is quick, so only an overall deadline can stop it (45 forces: ~3 kB)
    fake_server.add_fault("trickle", count=1, path_contains="/api/forces", seconds=0.3)
    started = time.monotonic()
    with pytest.raises(SourceError, match=r"gave up after 1 s: the answer was still arriving \(\d[\d,]* bytes"):
        api.forces()
    assert time.monotonic() - started < 2.5
    assert len(api.forces()) == 45  # the next call, at full speed, is whole
