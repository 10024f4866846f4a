{#- True for rows whose month falls in the run's window [min_month, max_month), passed by Dagster as --vars
    (first days of months). The defaults in dbt_project.yml cover every month. -#}
{% macro in_month_window(column) -%}
    ({{ column }} >= cast('{{ var("min_month") }}' as date) and {{ column }} < cast('{{ var("max_month") }}' as date))
{%- endmacro %}
