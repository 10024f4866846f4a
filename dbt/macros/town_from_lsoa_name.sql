{#- The town (local authority) of an LSOA name: data.police.uk's LSOA names are "<local authority> NNNX", e.g.
    "Bath and North East Somerset 001A", so the town is the name without the trailing space, three digits and a
    capital letter. Cutting at the first non-letter would break "King's Lynn and West Norfolk",
    "Newcastle-under-Lyme", "St. Helens" and "Herefordshire, County of"; a name without the code is kept whole.
    Blank -> null (the marts show it as the unknown town). -#}
{% macro town_from_lsoa_name(lsoa_name) -%}
    nullif(trim(regexp_replace(trim({{ lsoa_name }}), '\s+[0-9]{3}[A-Z]$', '')), '')
{%- endmacro %}
