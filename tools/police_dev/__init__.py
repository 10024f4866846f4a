"""Development tools for the police data platform, kept out of the product package ``police_assets``.

- :mod:`police_dev.fake`: a fake data.police.uk (generated releases, a local HTTP server with fault injection);
- :mod:`police_dev.demo`: ``make demo``, the whole pipeline offline on a generated release;
- :mod:`police_dev.browser`: Debian's Chromium driven by Playwright, for the dashboard tests and benchmarks.
"""
