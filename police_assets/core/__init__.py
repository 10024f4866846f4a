"""Shared by every stage: months, the dataset spec table, partitions, storage and the warehouse connection,
configuration from the environment, SQL quoting, temp files, run bookkeeping and Dagster metadata helpers."""
