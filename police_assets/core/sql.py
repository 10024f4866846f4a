"""Building SQL text from Python values (paths, months) where DuckDB takes no bound parameter (COPY, read_*)."""


def sql_literal(value) -> str:
    """A single-quoted SQL string literal: ``O'Brien`` -> ``'O''Brien'``."""
    return "'" + str(value).replace("'", "''") + "'"
