"""The one way tests materialise a range of months: a single run over ``first..last``, as a backfill or the
release sensor would start it (the same range tags), in process."""

from __future__ import annotations

import os

import pytest
from dagster import AssetSelection, DagsterInstance, materialize

from police_assets.core.partitions import range_tags


def skip_or_fail_in_ci(reason: str) -> None:
    """A test needs a program this machine lacks (Chromium, PostgreSQL): skip it, saying ``reason``. Under CI
    (``CI`` set), where .ci/run installs every such program first, fail instead: a skip there would hide a test
    that never ran."""
    if os.environ.get("CI"):
        pytest.fail(f"CI must install it first (.ci/run): {reason}")
    pytest.skip(reason)


def fast_police(server):
    """The data.police.uk resource pointed at a fake server, with retries that do not sleep for seconds."""
    from police_assets.source.resource import DataPoliceUk

    return DataPoliceUk(base_url=server.url, backoff_factor=0.01, requests_per_second=200)


def materialize_months(
    assets,
    first: str,
    last: str | None = None,
    *,
    storage,
    police=None,
    dbt: bool = True,
    checks: bool = False,
    instance: DagsterInstance | None = None,
    tags: dict | None = None,
    raise_on_error: bool = True,
):
    """Materialise ``assets`` for months ``first..last`` in one run. dbt's data tests and the asset checks run
    only with ``checks`` (they cost seconds a run; the tests that are about them ask for them)."""
    from police_assets.definitions import defs

    resources = {"storage": storage}
    if police is not None:
        resources["police"] = police
    if dbt:
        resources["dbt"] = defs.resources["dbt"]
    return materialize(
        assets,
        resources=resources,
        tags={**range_tags(first, last or first), **(tags or {})},
        instance=instance or DagsterInstance.ephemeral(),
        raise_on_error=raise_on_error,
        selection=None if checks else AssetSelection.all().without_checks(),
    )


def build_sample_site(fake_site, folder):
    """The whole chain for 2024-01..2024-03 of the small fake release, ending with publish/site, into ``folder``,
    marked generated as make demo marks it: (storage, the run's result). The fake's coverage patterns all show:
    Greater Manchester has no files in February and March, Gwent's February street file is partial, City of
    London and Northern Ireland publish no outcomes, the Met no search links."""
    from police_assets.core.storage import PoliceStorage
    from police_assets.definitions import all_assets
    from police_dev.demo import mark_generated
    from police_dev.fake.server import FakePoliceServer

    storage = PoliceStorage(data_dir=str(folder))
    mark_generated(storage, fake_site)  # as make demo does: the pages must say the data is generated
    with FakePoliceServer(fake_site) as server:
        result = materialize_months(all_assets, "2024-01", "2024-03", storage=storage, police=fast_police(server))
    assert result.success
    return storage, result
