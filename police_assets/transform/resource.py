"""dbt as a Dagster resource."""

from __future__ import annotations

from police_assets.core.internals import DbtCliResourceWithKnownVersion


class PoliceDbtCliResource(DbtCliResourceWithKnownVersion):
    """The platform's dbt: dagster-dbt's resource, which here learns dbt's version without running
    ``dbt --version`` (core.internals); the dbt executable is police-dbt (definitions.DBT_EXECUTABLE)."""
