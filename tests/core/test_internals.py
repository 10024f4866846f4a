"""The uses of Dagster's and dbt's private parts (core.internals): each still does what it is for, an upgrade
stops at load with a clear message, and importing the definitions changes nothing global."""

import os
import subprocess
import sys
import time

import pytest

from police_assets.core import internals


def test_a_blocked_step_sleeps_between_checks_instead_of_spinning():
    from dagster._core.execution.plan.instance_concurrency_context import InstanceConcurrencyContext

    class Waiting:
        _pending_claims = {"warehouse"}
        _pending_timeouts = {"warehouse": time.time() + 5}

    internals.wait_for_slots_without_spinning()
    assert 4 < InstanceConcurrencyContext.interval_to_next_pending_claim_check(Waiting()) <= 5
    # Dagster's own method still answers 0 (a busy loop): when this fails, Dagster fixed it; drop the shim
    assert internals.DAGSTER_INTERVAL(Waiting()) == 0


def test_an_upgraded_framework_stops_at_load_naming_what_to_recheck():
    installed = {**internals.WRITTEN_FOR, "dagster-dbt": "0.30.0"}
    with pytest.raises(internals.FrameworkVersionError) as error:
        internals.check_versions(installed)
    message = str(error.value)
    assert "dagster-dbt 0.29.27 (installed: 0.30.0)" in message and "police_assets/core/internals.py" in message
    assert "dagster " not in message.replace("dagster-dbt", "")  # the matching ones are not named
    internals.check_versions()  # this environment: the pinned versions


def test_the_resource_knows_dbt_s_version_without_a_subprocess():
    from dbt.version import __version__

    from police_assets.definitions import defs

    assert str(defs.resources["dbt"]._cli_version) == __version__


def test_the_resource_makes_no_dbt_adapter_in_dagster_s_process():
    from dagster_dbt import DbtCliResource

    from police_assets.definitions import defs

    # the method it replaces is still dagster-dbt's (were it renamed, the replacement would do nothing)
    assert callable(DbtCliResource._initialize_dbt_core_adapter)
    assert defs.resources["dbt"]._initialize_dbt_core_adapter(["build"]) is None


def test_importing_the_definitions_changes_no_global_state():
    """No environment variable, warning filter or framework patch is set by loading the code location."""
    probe = """
import os, warnings
import altair, dagster, dagster_dbt, duckdb, numpy, pandas  # the libraries' own import-time filters are theirs
from dagster._core.execution.plan.instance_concurrency_context import InstanceConcurrencyContext as C
env, filters, method = dict(os.environ), list(warnings.filters), C.interval_to_next_pending_claim_check
import police_assets.definitions
assert dict(os.environ) == env, set(os.environ.items()) ^ set(env.items())
assert list(warnings.filters) == filters, [f for f in warnings.filters if f not in filters]
assert C.interval_to_next_pending_claim_check is method
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICE_")}
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
