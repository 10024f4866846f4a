"""Stage 1, raw: one month of data.police.uk as published, byte-for-byte, with a manifest (asset
``raw/archive_month``)."""
