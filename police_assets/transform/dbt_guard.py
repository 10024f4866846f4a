"""``police-dbt``: dbt, as a child that never outlives the Dagster run that started it.

dagster-dbt starts dbt as a subprocess. If the run's process is killed (SIGKILL, out of memory), nothing
stops that dbt: it goes on writing the warehouse as an orphan while the next run takes the writer slot. This
launcher sits between the two: it starts the real dbt (``dbt`` beside it in the same environment) with the
same arguments and output, forwards SIGINT and SIGTERM to it (a cancelled run still stops dbt cleanly), and
asks Linux to send it SIGTERM the moment its parent dies (``PR_SET_PDEATHSIG``), which it forwards like a
cancel. As a fallback (another OS, or a signal lost) it checks every second that its parent is alive; once
the parent is gone (the launcher has been re-parented), it stops dbt, and kills it if it has not stopped within
``GRACE_SECONDS``. Its exit code is dbt's.

It also gives dbt the platform's settings (core.config.dbt_environment: the warehouse file, DuckDB's memory limit,
the lock wait), which ``dbt/profiles.yml`` reads with no defaults of its own; so ``police-dbt build`` from
``dbt/`` is also how a person runs dbt by hand on the platform's warehouse.

What must stay true: nothing the launcher does before stopping dbt may fail. Its stdout and stderr are the dead
run's pipe (dagster-dbt reads dbt's output through it), so any write there raises BrokenPipeError: dbt is
stopped first, and the launcher's own words are written only if they can be, never at dbt's expense.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys

from police_assets.core import config

GRACE_SECONDS = 10
POLL_SECONDS = 1.0


_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _signal_me_when_parent_dies(signum: int) -> None:
    """Best effort: on Linux, have the kernel send ``signum`` to this process when its parent dies."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signum, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: the poll in run() is the only watch


def _say(message: str) -> None:
    """Write to stderr if it is still there; a dead run's closed pipe is not an error worth dying of."""
    try:
        os.write(2, f"police-dbt: {message}\n".encode())
    except OSError:
        pass


def run(argv: list[str], poll: float = POLL_SECONDS) -> int:
    parent = os.getppid()
    try:
        environment = config.environment_with(config.dbt_environment())
    except config.SettingError as exc:
        _say(str(exc))
        return 2
    # dbt must act on the signals forwarded to it, whatever this launcher inherited: a process started in the
    # background of a script ignores SIGINT, Dagster then maps SIGTERM to the same (ignored) handler, and an
    # ignored signal stays ignored across exec, so dbt would outlive a cancel until the kill below
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_DFL)
    child = subprocess.Popen([config.dbt_command(), *argv], env=environment)  # stdout, stderr, cwd inherited

    def forward(signum, _frame):
        child.send_signal(signum)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    _signal_me_when_parent_dies(signal.SIGTERM)
    while True:
        try:
            return child.wait(timeout=poll)
        except subprocess.TimeoutExpired:
            if os.getppid() == parent:
                continue
        child.terminate()  # first: the words below go to a pipe that may be gone
        _say(f"the Dagster run (pid {parent}) is gone; stopping dbt (pid {child.pid})")
        try:
            child.wait(timeout=GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        return 1


def main() -> None:
    # os._exit: at exit Python would flush stdout and stderr, which fails (with a traceback) on a dead run's
    # pipe; the launcher buffers nothing of its own
    os._exit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()
