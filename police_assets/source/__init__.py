"""Stage 0, the source: data.police.uk's JSON API (rate-limited, retried), range reads of its bulk archives, and
the Dagster resource that gives both to the assets and the sensor."""
