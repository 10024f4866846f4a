"""``police-dbt``: dbt, as a child that never outlives the Dagster run that started it.

dagster-dbt starts dbt as a subprocess. If the run's process is killed (SIGKILL, out of memory), nothing
stops that dbt: it goes on writing the warehouse as an orphan while the next run takes the writer slot. This
launcher sits between the two: it starts the real dbt (``dbt`` beside it in the same environment) with the
same arguments and output, forwards SIGINT and SIGTERM to it (a cancelled run still stops dbt cleanly), and
checks every second that its own parent is alive; once the parent is gone (the launcher has been re-parented),
it stops dbt, and kills it if it has not stopped within ``GRACE_SECONDS``. Its exit code is dbt's.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

GRACE_SECONDS = 10
POLL_SECONDS = 1.0


def real_dbt() -> str:
    """The dbt to run: ``POLICE_DBT_COMMAND`` if set (tests stand in a sleeper), else dbt beside this Python."""
    return os.environ.get("POLICE_DBT_COMMAND") or str(Path(sys.executable).with_name("dbt"))


def run(argv: list[str], poll: float = POLL_SECONDS) -> int:
    parent = os.getppid()
    child = subprocess.Popen([real_dbt(), *argv])  # stdout, stderr and the working directory are inherited

    def forward(signum, _frame):
        child.send_signal(signum)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    while True:
        try:
            return child.wait(timeout=poll)
        except subprocess.TimeoutExpired:
            if os.getppid() == parent:
                continue
        print(f"police-dbt: the Dagster run (pid {parent}) is gone; stopping dbt (pid {child.pid})", file=sys.stderr)
        child.terminate()
        try:
            child.wait(timeout=GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        return 1


def main() -> None:
    sys.exit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()
