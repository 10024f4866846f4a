"""``python -m police_assets.automation.health``: exit 1, naming them, when runs of this machine are marked in
progress but their process is gone (the health check of a deployment, deploy/healthcheck.sh, runs it).

The ``dead_run_reaper`` sensor fails such runs within a minute while the daemon runs; one still listed here means
the daemon, or that sensor, is not doing its job, and the release sensor is waiting on a run that will never end.
"""

from __future__ import annotations

import sys

from dagster import DagsterInstance

from police_assets.automation.sensors import REAPER_NAME
from police_assets.core import runs


def main() -> int:
    with DagsterInstance.get() as instance:
        dead = runs.dead_runs(instance)
    if not dead:
        print("runs: none has lost its process")
        return 0
    listed = ", ".join(f"{run.run_id} (pid {pid})" for run, pid in dead)
    print(
        f"runs: {len(dead)} marked in progress whose process is gone: {listed}. The {REAPER_NAME} sensor marks them "
        "failed within a minute while the daemon runs: is the daemon up, and the sensor on (dagster sensor list)?"
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
