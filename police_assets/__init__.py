"""UK police open data (data.police.uk) as Dagster software-defined assets.

The Dagster definitions live in :mod:`police_assets.definitions` (the one wiring point); importing this package
itself stays cheap so the pure helpers (months, datasets, the source client, the fake server) load without
Dagster or the dbt manifest.
"""

__version__ = "0.1.0"
