"""Stage 3, warehouse: the DuckDB landing tables, loaded month by month, and which force published what (assets
``warehouse/*``); the freshness check."""
