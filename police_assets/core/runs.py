"""Runs that die must not block the ones after them: the ``duckdb`` pool's slot is freed when its holder is gone.

Every warehouse writer takes the pool's one slot. A run killed mid-step (SIGKILL, out of memory, a reboot)
never gives it back and stays STARTED, so every later run would wait for that slot forever. Two answers:

* every run, when it starts, tags itself with its host and process id (:func:`register_run`) and fails the
  runs of this host whose process is gone, freeing their slots (:func:`reap_dead_runs`), before any of its
  steps asks for a slot. This is what catches a run killed outright, from the CLI or under the daemon: the
  daemon's default run launcher offers Dagster's run monitoring no worker health check;
* under the daemon (``make dev``, a deployment), the ``dead_run_reaper`` sensor does the same every minute
  (police_assets.automation.sensors), so a run killed while no other run starts (the release sensor waits for
  it) is failed and its slot freed without anyone; run monitoring (``dagster.yaml``) also frees the slots of
  runs that ended, 5 minutes after.

A step that does wait for the slot says which run holds it, and sleeps between checks rather than spinning
(``core.internals.wait_for_slots_without_spinning``).

Only runs tagged by this code on this host are judged: a run on another machine, or one started before this
code, is never touched. A recycled process id makes a dead run look alive; it then waits for run monitoring.
"""

from __future__ import annotations

import os
import socket

from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

from police_assets.core.tempfiles import writer_alive

HOST_TAG, PID_TAG = "police/host", "police/pid"
IN_PROGRESS = [DagsterRunStatus.STARTING, DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING]


def register_run(instance: DagsterInstance, run_id: str) -> None:
    """Tag the run with this host and process, so a later run can tell whether it is still alive."""
    instance.add_run_tags(run_id, {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())})


def dead_runs(instance: DagsterInstance, current_run_id: str | None = None) -> list[tuple]:
    """The in-progress runs of this host whose process is gone: ``(run, pid)``, without changing anything."""
    host = socket.gethostname()
    dead = []
    for record in instance.get_run_records(filters=RunsFilter(statuses=IN_PROGRESS)):
        run = record.dagster_run
        tags = run.tags
        if run.run_id == current_run_id or tags.get(HOST_TAG) != host or not tags.get(PID_TAG, "").isdigit():
            continue
        pid = int(tags[PID_TAG])
        if not writer_alive(pid):
            dead.append((run, pid))
    return dead


def reap_dead_runs(instance: DagsterInstance, current_run_id: str | None = None, by: str | None = None) -> list[str]:
    """Fail every in-progress run of this host whose process is gone and free its concurrency slots; returns
    their run ids. ``by`` says who noticed (a run's id, or the reaper sensor)."""
    host = socket.gethostname()
    noticed_by = by or f"run {current_run_id or '-'}"
    reaped = []
    for run, pid in dead_runs(instance, current_run_id):
        instance.report_run_failed(
            run,
            message=(
                f"The process of this run ({host}, pid {pid}) is gone: it was killed, crashed or the machine "
                f"restarted. Marked failed and its concurrency slots freed by {noticed_by}."
            ),
        )
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        reaped.append(run.run_id)
    return reaped


def slot_holders(instance: DagsterInstance, pool: str) -> list[str]:
    """The runs holding a slot of ``pool`` now (for the log line that says what a blocked step waits for)."""
    if not instance.event_log_storage.supports_global_concurrency_limits:
        return []
    return sorted(instance.event_log_storage.get_concurrency_info(pool).active_run_ids)
