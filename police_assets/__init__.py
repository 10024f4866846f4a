"""UK police open data (data.police.uk) as Dagster software-defined assets.

One package per stage, in pipeline order: ``source`` (data.police.uk) -> ``raw`` -> ``lake`` -> ``warehouse`` ->
``transform`` (dbt) -> ``publish`` -> ``site``, with ``automation`` (the release sensor) keeping them current and
``core`` holding what they share. The Dagster definitions are wired in :mod:`police_assets.definitions` (the one
wiring point); importing this package itself stays cheap, so the pure helpers load without Dagster or the dbt
manifest. Development tools (the fake data.police.uk, the demo) are the separate ``police_dev`` package.
"""

__version__ = "0.1.0"
