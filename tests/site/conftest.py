"""What both site test modules need: a browser, started once each module has built its site."""

import pytest

from police_dev.browser import find_chromium, launch
from tests.helpers import skip_or_fail_in_ci


@pytest.fixture(scope="module")
def browser(built):
    """Debian's Chromium through Playwright, started after the module's ``built`` site: a Dagster run inside
    Playwright's event loop leaves a coroutine never awaited."""
    chromium = find_chromium()
    if not chromium:
        skip_or_fail_in_ci("no chromium on this machine (make browser: Debian's chromium package)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch(p, chromium)
        yield b
        b.close()
