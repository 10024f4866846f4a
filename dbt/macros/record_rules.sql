{#- The two rules the marts share, kept in one place so every path applies them the same way. -#}

{#- Record key: rows with a Crime ID are identified by the given columns (month, Crime ID, ...); rows without one
    are never the same record as another row, so their source position identifies them. -#}
{% macro record_key(id_columns) -%}
    case
        when crime_id is not null then md5(concat_ws('|', {{ id_columns | join(', ') }}))
        else md5(concat_ws('|', source_file, source_row))
    end
{%- endmacro %}

{#- Which outcome is a crime's latest: the newest month's; within a month a final outcome beats an interim
    one, then by name. Used by int_crime_journeys. -#}
{% macro latest_outcome_order(outcomes) -%}
    {{ outcomes }}.outcome_month desc nulls last, {{ outcomes }}.is_final_outcome desc, {{ outcomes }}.outcome_name asc
{%- endmacro %}
