"""HTTP access to data.police.uk: the JSON API and the bulk archives.

data.police.uk allows 15 requests per second and answers 429 beyond that; it also has the odd 5xx. Every
request here goes through one ``requests.Session`` whose adapter retries 429/5xx and connection errors with
exponential backoff (urllib3 ``Retry``, honouring ``Retry-After``), behind a client-side rate limit set under
the published one, with a User-Agent that names this project so the operators can tell who is calling.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from police_assets import __version__
from police_assets.core.config import REQUESTS_BURST, REQUESTS_PER_SECOND
from police_assets.core.months import InvalidMonth, archive_month_for, parse_month

log = logging.getLogger(__name__)

# The client's defaults. Those a setting can change live with the settings (core.config); the rest are here.
RETRIES = 5
BACKOFF_FACTOR = 0.5
TIMEOUT_SECONDS = 60.0  # per connect and per read: a server that stops sending
# A whole API answer, from the request to its last byte: a server that trickles bytes never trips the per-read
# timeout, so without this a call could hold a run for hours. The largest answer (crimes-street-dates, about
# 44 kB) takes well under a second; retries of a failed request come on top (make_retry).
API_DEADLINE_SECONDS = 120.0
API_READ_CHUNK = 1 << 16
USER_AGENT = f"police-assets/{__version__} (+https://github.com/police-data-platform/police-assets)"


# A source of generated sample data (the development tools' fake data.police.uk) names what generated it in this
# response header; data.police.uk sends no such header.
GENERATED_HEADER = "X-Generated-Sample-Data"


class SourceError(RuntimeError):
    """data.police.uk answered something we cannot use (after retries)."""


def archive_url(base_url: str, archive_month: str) -> str:
    """``https://data.police.uk/data/archive/2024-01.zip`` for ``archive_month="2024-01"``."""
    parse_month(archive_month)
    return f"{base_url.rstrip('/')}/data/archive/{archive_month}.zip"


def api_url(base_url: str, endpoint: str) -> str:
    """``https://data.police.uk/api/forces`` for ``endpoint="forces"``."""
    return f"{base_url.rstrip('/')}/api/{endpoint.strip('/')}"


class RateLimiter:
    """At most ``per_second`` request starts per second on average, in bursts of at most ``burst``, across threads.

    data.police.uk meters calls with a leaky bucket: 15 requests per second with a burst of 30
    (https://data.police.uk/docs/api-call-limits/). This is the same shape set well under it (10/s, bursts of
    10 by default), as a virtual schedule: each start takes the next slot ``1/per_second`` after the previous
    one, and may run up to ``burst - 1`` slots early. ``burst=1`` spaces every start evenly. Why a burst at all:
    a month needs four calls (street dates, forces, the archive's tail, its span), and spacing them evenly
    was a measurable share of a national month's load (docs/benchmarks.md).
    """

    def __init__(self, per_second: float, burst: int = REQUESTS_BURST):
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.slack = (max(1, int(burst)) - 1) * self.interval
        self._next = 0.0  # the next start's slot (monotonic clock)
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            slot = max(self._next, now)
            start = max(now, slot - self.slack)
            self._next = slot + self.interval
        if start > now:
            time.sleep(start - now)


class _RateLimitedAdapter(HTTPAdapter):
    """An adapter that waits for the rate limiter before every attempt, retries included."""

    def __init__(self, limiter: RateLimiter, **kwargs):
        self._limiter = limiter
        super().__init__(**kwargs)

    def send(self, request, **kwargs):
        self._limiter.wait()
        return super().send(request, **kwargs)


# The longest wait a Retry-After may ask for before the client waits this long instead (and says so): a
# server asking for minutes would otherwise hold a run, silently, for as long as it likes.
MAX_RETRY_AFTER = 30.0


class _CappedRetry(Retry):
    """urllib3's Retry, with Retry-After capped at MAX_RETRY_AFTER and every long wait logged."""

    def get_retry_after(self, response):
        asked = super().get_retry_after(response)
        if asked is not None and asked > 1:
            waited = min(asked, MAX_RETRY_AFTER)
            log.warning(
                "%s answered %s with Retry-After %.0f s; waiting %.0f s%s",
                getattr(response, "geturl", lambda: "the server")(),
                response.status,
                asked,
                waited,
                f" (capped at {MAX_RETRY_AFTER:.0f} s)" if asked > MAX_RETRY_AFTER else "",
            )
            return waited
        return asked


def make_retry(total: int = 5, backoff_factor: float = 0.5) -> Retry:
    """Retry 429 and 5xx (honouring Retry-After, capped at MAX_RETRY_AFTER) and connection/read errors, with
    exponential backoff. With the defaults a request is tried 6 times over about 0.5+1+2+4+8 = 15.5 s before
    the error surfaces (plus any Retry-After waits).
    """
    return _CappedRetry(
        total=total,
        connect=total,
        read=total,
        status=total,
        backoff_factor=backoff_factor,
        backoff_max=30,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=frozenset({"GET", "HEAD"}),
        respect_retry_after_header=True,
        raise_on_status=False,
    )


def make_session(
    requests_per_second: float = REQUESTS_PER_SECOND,
    retries: int = RETRIES,
    backoff_factor: float = BACKOFF_FACTOR,
    burst: int = REQUESTS_BURST,
) -> requests.Session:
    session = requests.Session()
    adapter = _RateLimitedAdapter(
        RateLimiter(requests_per_second, burst),
        max_retries=make_retry(retries, backoff_factor),
        pool_maxsize=4,
    )
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session


@dataclass
class StreetDate:
    """One entry of ``/api/crimes-street-dates``: a published month and the forces with stop and search."""

    month: str
    stop_and_search_forces: list[str]


class PoliceApi:
    """The data.police.uk JSON API calls this platform needs."""

    def __init__(
        self,
        base_url: str,
        session: requests.Session,
        timeout: float = TIMEOUT_SECONDS,
        deadline: float = API_DEADLINE_SECONDS,
    ):
        self.base_url = base_url
        self.session = session
        self.timeout = timeout
        self.deadline = deadline
        self.generated_by: str | None = None  # what generated the source's data, as its last answer said

    def get_json(self, endpoint: str):
        """The JSON answer of ``endpoint``, read whole within ``deadline`` seconds or a SourceError saying so."""
        url = api_url(self.base_url, endpoint)
        started = time.monotonic()
        try:
            with self.session.get(url, timeout=self.timeout, stream=True) as resp:
                body = bytearray()
                # read1: whatever has arrived, so the deadline is checked as bytes trickle in
                while chunk := resp.raw.read1(API_READ_CHUNK, decode_content=True):
                    body += chunk
                    if time.monotonic() - started > self.deadline:
                        raise SourceError(
                            f"GET {url} gave up after {self.deadline:.0f} s: the answer was still arriving "
                            f"({len(body):,} bytes so far); data.police.uk is too slow now, try again later"
                        )
        except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:  # retries are exhausted by now
            raise SourceError(f"GET {url} failed after retries: {exc}") from exc
        text = body.decode("utf-8", errors="replace")
        self.generated_by = resp.headers.get(GENERATED_HEADER)
        if resp.status_code != 200:
            raise SourceError(f"GET {url} answered HTTP {resp.status_code} after retries: {text[:200]!r}")
        try:
            return json.loads(text)
        except ValueError as exc:
            raise SourceError(f"GET {url} did not return JSON: {text[:200]!r}") from exc

    def crime_last_updated(self) -> str:
        """The date of the latest release, e.g. ``"2024-03-01"`` (cheap: poll this to spot a release)."""
        body = self.get_json("crime-last-updated")
        if not isinstance(body, dict) or "date" not in body:
            raise SourceError(f"crime-last-updated: unexpected answer {body!r:.200}")
        return str(body["date"])

    def crimes_street_dates(self) -> list[StreetDate]:
        """Every published month, newest first, with the forces that published stop and search for it."""
        body = self.get_json("crimes-street-dates")
        if not isinstance(body, list):
            raise SourceError(f"crimes-street-dates: unexpected answer {body!r:.200}")
        out = []
        for entry in body:
            # one bad entry makes the whole answer untrustworthy: a clean SourceError, never a crash
            if not isinstance(entry, dict):
                raise SourceError(f"crimes-street-dates: an entry is not an object: {entry!r:.100}")
            month = str(entry.get("date", ""))
            try:
                parse_month(month)
            except InvalidMonth as exc:
                raise SourceError(f"crimes-street-dates: {exc}") from None
            forces = entry.get("stop-and-search") or []
            if not isinstance(forces, list):
                raise SourceError(f"crimes-street-dates: {month}'s stop-and-search is not a list: {forces!r:.100}")
            out.append(StreetDate(month, [str(f) for f in forces]))
        return sorted(out, key=lambda d: d.month, reverse=True)

    def archive_for(self, month: str, latest: str) -> str:
        """The archive to read ``month`` from: the newest one that holds it (``core.months.archive_month_for``)."""
        return archive_month_for(month, latest)

    def latest_month(self) -> str:
        dates = self.crimes_street_dates()
        if not dates:
            raise SourceError("crimes-street-dates listed no months")
        return dates[0].month

    def forces(self) -> dict[str, str]:
        """Force id -> force name, e.g. ``{"avon-and-somerset": "Avon and Somerset Constabulary"}``."""
        body = self.get_json("forces")
        if not isinstance(body, list):
            raise SourceError(f"forces: unexpected answer {body!r:.200}")
        bad = [f for f in body if not isinstance(f, dict) or not f.get("id") or "name" not in f]
        if bad:
            raise SourceError(
                f"forces: {len(bad)} entr{'y' if len(bad) == 1 else 'ies'} without an id or name, e.g. {bad[0]!r:.100}"
            )
        return {str(f["id"]): str(f["name"]) for f in body}
