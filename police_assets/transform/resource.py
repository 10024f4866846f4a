"""dbt as a Dagster resource."""

from __future__ import annotations

from functools import cached_property

from dagster_dbt import DbtCliResource
from packaging import version


class PoliceDbtCliResource(DbtCliResource):
    """``DbtCliResource`` that knows dbt's version without running ``dbt --version``.

    dagster-dbt starts ``dbt --version`` (a slow subprocess: docs/benchmarks.md) before every dbt command to
    learn the version. Our dbt executable always comes from this same virtualenv (see definitions.DBT_EXECUTABLE),
    so the installed dbt-core package's version is the same answer. ``_cli_version`` is private to dagster-dbt: pinned at 0.29.27,
    and covered by every test that runs dbt.
    """

    @cached_property
    def _cli_version(self) -> version.Version:
        from dbt.version import __version__ as dbt_version

        return version.parse(dbt_version)
