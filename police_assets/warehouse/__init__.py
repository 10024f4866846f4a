"""Stage 3, warehouse: the DuckDB landing views over the lake's files, loaded month by month, and which force
published what (assets ``warehouse/*``); the freshness check."""
