"""The site server `make serve` runs (police_dev.serve): HTTP Range answered with 206 and just those bytes, a
range past the end with 416, `.wasm` as application/wasm; Python's own http.server sends the whole file."""

import urllib.error
import urllib.request

import pytest

from police_dev.serve import SiteServer


def _get(url, headers=None):
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {})) as response:
        return response.status, response.headers, response.read()


def test_ranges_are_answered_with_just_their_bytes(tmp_path):
    body = bytes(range(256)) * 40
    (tmp_path / "engine.wasm").write_bytes(body)
    with SiteServer(tmp_path) as server:
        status, headers, got = _get(server.url + "engine.wasm", {"Range": "bytes=100-199"})
        assert status == 206 and got == body[100:200]
        assert (
            headers["Content-Range"] == f"bytes 100-199/{len(body)}" and headers["Content-Type"] == "application/wasm"
        )
        assert _get(server.url + "engine.wasm", {"Range": "bytes=-10"})[2] == body[-10:]  # the last ten
        assert _get(server.url + "engine.wasm", {"Range": "bytes=10000-"})[2] == body[10000:]  # to the end
        status, headers, got = _get(server.url + "engine.wasm")
        assert status == 200 and got == body and headers["Accept-Ranges"] == "bytes"
        with pytest.raises(urllib.error.HTTPError) as past:
            _get(server.url + "engine.wasm", {"Range": f"bytes={len(body)}-"})
        assert past.value.code == 416
        assert server.sent["/engine.wasm"] == 100 + 10 + (len(body) - 10000) + len(body)
