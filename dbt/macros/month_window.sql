{#- True for rows whose month falls in the run's window [min_month, max_month), passed by Dagster as --vars
    (first days of months). The defaults in dbt_project.yml cover every month. -#}
{% macro in_month_window(column) -%}
    ({{ column }} >= cast('{{ var("min_month") }}' as date) and {{ column }} < cast('{{ var("max_month") }}' as date))
{%- endmacro %}

{#- Pre-hook of the month-incremental models: remove the run's months before appending them again. Cheaper
    than delete+insert's delete-by-key subquery, and a month that lost rows in a revision loses them here too. -#}
{% macro delete_month_window(column) -%}
    {% if is_incremental() %}delete from {{ this }} where {{ in_month_window(column) }}{% endif %}
{%- endmacro %}
