"""Building SQL text from Python values (paths, months) where DuckDB takes no bound parameter (COPY, read_*)."""


def sql_literal(value) -> str:
    """A single-quoted SQL string literal: ``O'Brien`` -> ``'O''Brien'``."""
    return "'" + str(value).replace("'", "''") + "'"


# How every Parquet file the platform writes (the lake's add their encodings below) is written. zstd level 1: files
# about 40 % smaller than DuckDB's default Snappy, for a little more write time (docs/benchmarks.md, disk
# footprint). Every Parquet reader in use (DuckDB, pyarrow, pandas, Polars, R arrow) reads zstd.
PARQUET_COPY_OPTIONS = "FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1"

# How the files only DuckDB reads are written: the lake's, which the warehouse's landing views read through
# their links. The Parquet 2 encodings (delta lengths for the IDs, split bytes for the coordinates, deltas for
# the row numbers) make them smaller and quicker to write (docs/benchmarks.md, run G). The published files keep
# the first version's encodings: BI tools' Parquet readers (Power BI's among them) refuse the newer ones.
LAKE_PARQUET_COPY_OPTIONS = f"{PARQUET_COPY_OPTIONS}, PARQUET_VERSION V2"
