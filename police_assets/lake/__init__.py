"""Stage 2, lake: one typed Parquet file per dataset and month, rows that do not parse quarantined (assets
``lake/*``)."""
