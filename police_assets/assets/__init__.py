"""The asset stages, one module each: raw -> lake -> warehouse -> dbt marts."""
