"""Stage 6, publish: the snapshot readers use (marts as Parquet, a read-only DuckDB copy, a manifest), swapped in
whole (asset ``publish/marts_snapshot``)."""
