"""``make dev``: the Dagster UI; on the demo's folder (``make dev DEMO=1``) it reads the demo's fake
data.police.uk.

``make demo`` marks its folder (``demo/``) as generated sample data, and a run refuses to load real months
into it. So while the data folder holds ``make demo``'s mark and ``DATA_POLICE_UK_URL`` is not set, this serves
the demo's fake data.police.uk on 127.0.0.1 for as long as the UI runs, points the platform at it, and lets the
release sensor look every 30 seconds (``make demo-release`` publishes the next release). Otherwise (the real
defaults, ``data/`` and ``dagster_home/``) it starts ``dagster dev`` as it is.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from police_assets.core import config
from police_assets.core.generated import SAMPLE_MARKER
from police_assets.core.storage import PoliceStorage
from police_dev.demo import ensure_instance
from police_dev.fake.server import FakePoliceServer

DEMO_PORT = 8765  # a fixed port, so the URL in runs' logs stays the same between `make dev` sessions
DEMO_SENSOR_INTERVAL = "30"


def dagster_dev(env: dict) -> int:
    cmd = [
        str(Path(sys.executable).with_name("dagster")),
        "dev",
        "-w",
        "workspace.yaml",
        "-h",
        "127.0.0.1",
        "-p",
        "3000",
    ]
    try:
        return subprocess.call(cmd, env=env, cwd=config.PROJECT_ROOT)
    except KeyboardInterrupt:
        return 0


def main() -> int:
    storage = PoliceStorage.from_env()
    note = storage.sample_note()
    env = dict(os.environ)
    if env.get("DAGSTER_HOME"):  # the demo's instance (DEMO=1) starts without the project's dagster.yaml
        ensure_instance(Path(env["DAGSTER_HOME"]))
    # a folder marked by its first (fake) source rather than by make demo names no site to serve
    if not note or os.environ.get("DATA_POLICE_UK_URL") or "site" not in note:
        print(f"data.police.uk: {config.base_url()}", flush=True)
        return dagster_dev(env)
    site = Path(note["site"])
    try:
        server = FakePoliceServer(site, port=DEMO_PORT)
    except OSError:  # the port is taken (another `make dev`): any free one
        server = FakePoliceServer(site)
    with server:
        env["DATA_POLICE_UK_URL"] = server.url
        env.setdefault("POLICE_SENSOR_INTERVAL_SECONDS", DEMO_SENSOR_INTERVAL)
        print(
            f"This data folder holds the demo's GENERATED data ({SAMPLE_MARKER}), so the UI reads the "
            f"demo's fake data.police.uk at {server.url} (serving {site}), offline.\n"
            "  publish its next release:  make demo-release   (the release sensor, when on, picks it up)\n"
            "  use the real data.police.uk instead:  make dev  (without DEMO=1: data/ and dagster_home/)\n",
            flush=True,
        )
        return dagster_dev(env)


if __name__ == "__main__":
    sys.exit(main())
