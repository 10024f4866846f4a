"""A static server for the published site that honours HTTP Range requests and serves ``.wasm`` as
``application/wasm``: what the Ask page needs, since DuckDB-WASM reads the Parquet files a piece at a time
(Python's own ``http.server`` answers every Range request with the whole file). For ``make serve``, the tests and
the benchmark; a real static host (nginx, Caddy, GitHub Pages, S3, Netlify) does both already.

    python -m police_dev.serve SITE_DIR [--port 8000] [--bind 127.0.0.1]

It counts the bytes it sends per file (``SiteServer.sent``), which the Ask benchmark reads.
"""

from __future__ import annotations

import argparse
import os
import re
import threading
from collections import Counter
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

RANGE = re.compile(r"bytes=(\d*)-(\d*)")


class SiteHandler(SimpleHTTPRequestHandler):
    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".wasm": "application/wasm",
        ".mjs": "text/javascript",
        ".js": "text/javascript",
        ".parquet": "application/vnd.apache.parquet",
    }
    _span: int | None = None

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass  # quiet: tests and the benchmark read the counters, not a log line per range read

    def end_headers(self):
        self.send_header("Accept-Ranges", "bytes")
        super().end_headers()

    def send_head(self):
        self._span = None
        wanted = RANGE.fullmatch((self.headers.get("Range") or "").strip())
        path = self.translate_path(self.path)
        if not wanted or os.path.isdir(path):
            return super().send_head()  # a whole file (or a folder): the base class's answer
        try:
            f = open(path, "rb")  # noqa: SIM115 - handed to the base class, which closes it
        except OSError:
            self.send_error(404, "File not found")
            return None
        size = os.fstat(f.fileno()).st_size
        first, last = wanted.groups()
        if first == "":  # the last n bytes
            start, end = max(0, size - int(last or 0)), size - 1
        else:
            start, end = int(first), min(int(last) if last else size - 1, size - 1)
        if start >= size or start > end:
            f.close()
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        self.send_response(206)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("Last-Modified", self.date_time_string(int(os.fstat(f.fileno()).st_mtime)))
        self.end_headers()
        f.seek(start)
        self._span = end - start + 1
        return f

    def copyfile(self, source, outputfile):
        left = self._span
        if left is None:
            left = os.fstat(source.fileno()).st_size - source.tell()
        sent = 0
        while left > 0:
            chunk = source.read(min(1 << 16, left))
            if not chunk:
                break
            outputfile.write(chunk)
            left -= len(chunk)
            sent += len(chunk)
        self.server.count(self.path.split("?")[0], sent)


class SiteServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, site_dir: Path, port: int = 0, bind: str = "127.0.0.1"):
        super().__init__((bind, port), partial(SiteHandler, directory=str(site_dir)))
        self.sent: Counter[str] = Counter()
        self._lock = threading.Lock()

    def count(self, path: str, nbytes: int) -> None:
        with self._lock:
            self.sent[path] += nbytes

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"

    def __enter__(self):
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()


def serve_until_interrupted(server, what: str) -> None:
    """Serve in the foreground until Ctrl-C, saying ``what`` is served where: the development servers' command
    lines (this one and the fake data.police.uk's)."""
    print(f"{what} at {server.url} (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site_dir", type=Path)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--bind", default="127.0.0.1")
    args = parser.parse_args()
    serve_until_interrupted(SiteServer(args.site_dir, args.port, args.bind), f"serving {args.site_dir}")


if __name__ == "__main__":
    main()
