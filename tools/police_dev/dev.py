"""``make dev``: the Dagster UI, reading the demo's fake data.police.uk while the data folder holds the demo.

After ``make demo`` the data folder is marked as generated sample data. Loading real months into it would mix
real and generated figures (online) or fail (offline), so while the mark is there and ``DATA_POLICE_UK_URL``
is not set, this serves the demo's fake data.police.uk on 127.0.0.1 for as long as the UI runs, points the
platform at it, and lets the release sensor look every 30 seconds (``make demo-release`` publishes the next
release). Without the mark, or with ``DATA_POLICE_UK_URL`` set, it starts ``dagster dev`` as it is.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from police_assets.core import config
from police_assets.core.storage import PoliceStorage
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
    if not note or os.environ.get("DATA_POLICE_UK_URL"):
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
            f"This data folder holds the demo's GENERATED data ({storage.sample_marker.name}), so the UI reads the "
            f"demo's fake data.police.uk at {server.url} (serving {site}), offline.\n"
            "  publish its next release:  make demo-release   (the release sensor, when on, picks it up)\n"
            "  use the real data.police.uk instead:  make clean  (removes the demo's data), then make dev\n",
            flush=True,
        )
        return dagster_dev(env)


if __name__ == "__main__":
    sys.exit(main())
