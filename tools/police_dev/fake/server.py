"""A local fake data.police.uk on 127.0.0.1, for tests and the offline demo.

Serves a folder written by :func:`police_dev.fake.generate.write_release`:

* ``GET/HEAD /data/archive/YYYY-MM.zip`` with ``Range: bytes=a-b``, ``bytes=a-`` and ``bytes=-n`` (206 with
  ``Content-Range``), as data.police.uk's file host does;
* ``GET /api/<endpoint>`` from ``api/<endpoint>.json``;
* every answer with the ``X-Generated-Sample-Data`` header when the folder holds generated data (its
  ``GENERATED-SAMPLE-DATA.json``, written by ``write_release``): the platform then refuses to load it into a
  folder of real data. A folder of real files (the realism tests') has no marker and says nothing.

It can be told to misbehave so tests can prove the client copes: answer 429 or 500 for the next N requests,
send a truncated body, ignore ``Range``, or be slow. It counts the body bytes it sends, so a test can assert
how much of an archive a month really cost.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from police_assets.core.generated import read_note
from police_assets.source.client import GENERATED_HEADER

_RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")


@dataclass
class Fault:
    # "429" (Retry-After: ``seconds``) | "500" | "html" (200 with an HTML page, as a captive portal or an
    # outage page serves) | "truncate" (half the body, then the connection closes) | "slow" (``seconds`` per
    # 64 KiB sent) | "trickle" (256 bytes every ``seconds``)
    kind: str
    count: int = 1  # how many matching requests it hits
    path_contains: str = ""
    seconds: float = 0.0


@dataclass
class RequestRecord:
    method: str
    path: str
    range: str | None
    status: int
    body_bytes: int


@dataclass
class ServerState:
    root: Path
    ignore_range: bool = False
    faults: list[Fault] = field(default_factory=list)
    log: list[RequestRecord] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Requests being answered. A client can have its whole response before the handler thread has logged it,
    # so readers of the log wait for this to reach zero (it is raised before the first byte is sent).
    in_flight: int = 0
    idle: threading.Condition = field(default=None)

    def __post_init__(self) -> None:
        self.idle = threading.Condition(self.lock)

    @property
    def generated_by(self) -> str | None:  # read per answer: the marker may be written after the server starts
        note = read_note(self.root)
        return note["generated_by"] if note else None

    def wait_idle(self, timeout: float = 5.0) -> None:
        with self.idle:
            self.idle.wait_for(lambda: self.in_flight == 0, timeout)

    def take_fault(self, path: str) -> Fault | None:
        with self.lock:
            for f in self.faults:
                if f.count > 0 and f.path_contains in path:
                    f.count -= 1
                    return f
        return None


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeDataPoliceUK/1.0"
    state: ServerState  # set on the subclass made per server

    def log_message(self, fmt, *args) -> None:  # keep test output quiet
        pass

    def do_HEAD(self) -> None:
        self._tracked(head=True)

    def do_GET(self) -> None:
        self._tracked(head=False)

    def _tracked(self, head: bool) -> None:
        with self.state.lock:
            self.state.in_flight += 1
        try:
            self._serve(head)
        finally:
            with self.state.idle:
                self.state.in_flight -= 1
                self.state.idle.notify_all()

    def _record(self, status: int, body_bytes: int) -> None:
        with self.state.lock:
            self.state.log.append(RequestRecord(self.command, self.path, self.headers.get("Range"), status, body_bytes))

    def _error(self, status: int, message: str, extra: dict | None = None) -> None:
        body = message.encode()
        self.send_response(status)
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self._record(status, len(body))

    def _serve(self, head: bool) -> None:
        path = self.path.split("?", 1)[0]
        fault = self.state.take_fault(path)
        if fault and fault.kind == "429":
            return self._error(429, "Too Many Requests", {"Retry-After": f"{fault.seconds:.0f}"})
        if fault and fault.kind == "500":
            return self._error(500, "Internal Server Error")
        if fault and fault.kind == "html":
            return self._error(200, "<html><body>Service temporarily unavailable</body></html>")

        if path.startswith("/api/"):
            file = self.state.root / "api" / f"{path[5:].strip('/')}.json"
            ctype = "application/json"
        elif re.fullmatch(r"/data/archive/\d{4}-\d{2}\.zip", path):
            file = self.state.root / path.lstrip("/")
            ctype = "application/zip"
        else:
            return self._error(404, "Not Found")
        if not file.is_file():
            return self._error(404, "Not Found")

        size = file.stat().st_size
        start, end, status = 0, size - 1, 200
        rng = self.headers.get("Range")
        if rng and not self.state.ignore_range and ctype == "application/zip":
            m = _RANGE_RE.match(rng.strip())
            if not m or (not m.group(1) and not m.group(2)):
                return self._error(416, "Bad Range", {"Content-Range": f"bytes */{size}"})
            if m.group(1):
                start = int(m.group(1))
                end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
            else:
                start, end = max(size - int(m.group(2)), 0), size - 1
            if start > end or start >= size:
                return self._error(416, "Range Not Satisfiable", {"Content-Range": f"bytes */{size}"})
            status = 206

        length = end - start + 1
        self.send_response(status)
        if self.state.generated_by:
            self.send_header(GENERATED_HEADER, self.state.generated_by)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(length))
        if ctype == "application/zip" and not self.state.ignore_range:
            self.send_header("Accept-Ranges", "bytes")
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        if head:
            return self._record(status, 0)

        to_send = length // 2 if fault and fault.kind == "truncate" else length
        sent = 0
        try:
            with open(file, "rb") as fh:
                fh.seek(start)
                step = 256 if fault and fault.kind == "trickle" else 1 << 16
                while sent < to_send:
                    chunk = fh.read(min(step, to_send - sent))
                    if not chunk:
                        break
                    self.wfile.write(chunk)
                    sent += len(chunk)
                    if fault and fault.kind in ("slow", "trickle"):
                        self.wfile.flush()
                        time.sleep(fault.seconds)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client hung up (e.g. it closed a stream it no longer needs)
        self._record(status, sent)
        if sent < length:
            self.close_connection = True


class FakePoliceServer:
    """``with FakePoliceServer(root) as server: ... server.url ...`` (port 0 picks a free port)."""

    def __init__(self, root: str | Path, host: str = "127.0.0.1", port: int = 0):
        self.state = ServerState(Path(root))
        handler = type("Handler", (_Handler,), {"state": self.state})
        self._httpd = ThreadingHTTPServer((host, port), handler)
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def add_fault(self, kind: str, count: int = 1, path_contains: str = "", seconds: float = 0.0) -> None:
        with self.state.lock:
            self.state.faults.append(Fault(kind, count, path_contains, seconds))

    @property
    def requests(self) -> list[RequestRecord]:
        self.state.wait_idle()
        with self.state.lock:
            return list(self.state.log)

    def bytes_sent(self, path_contains: str = "") -> int:
        return sum(r.body_bytes for r in self.requests if path_contains in r.path)

    def reset_log(self) -> None:
        with self.state.lock:
            self.state.log.clear()

    def start(self) -> FakePoliceServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="fake-data-police-uk", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self.server_close()

    def serve_forever(self) -> None:
        self._httpd.serve_forever()

    def server_close(self) -> None:
        self._httpd.server_close()

    def __enter__(self) -> FakePoliceServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
