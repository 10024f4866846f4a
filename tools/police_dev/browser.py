"""Headless Chromium for the dashboard tests and ``bench/site.py``: Debian's ``chromium``, driven by Playwright.

Playwright's own browser download (``playwright install``) needs its CDN, which this project never relies on;
``make browser`` installs Debian's package instead and Playwright is pointed at it with ``executable_path``.
Playwright is a dev dependency: import this module only from tests and benchmarks.
"""

from __future__ import annotations

import os
import shutil

# Flags measured to matter on an offline machine: without the networking ones Chromium keeps trying (and
# failing) to reach Google's update, sync and metrics hosts. --no-sandbox because CI runs as root.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def find_chromium() -> str | None:
    """The Chromium binary: ``$CHROMIUM`` if set, else ``chromium`` / ``chromium-browser`` on the PATH."""
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def launch(playwright, executable: str | None = None):
    """A headless Chromium browser from a started ``sync_playwright()`` object."""
    executable = executable or find_chromium()
    if not executable:
        raise FileNotFoundError("no chromium on this machine: run `make browser` (Debian's chromium package)")
    return playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
