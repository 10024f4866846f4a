{#- The partial-file rule in words, from the project vars that set it (dbt_project.yml): what
    dim_coverage_statuses.coverage_rule publishes and the dashboards show, so no threshold is written twice. -#}
{% macro partial_rule() -%}
    {%- set share = var('partial_share') | float -%}
    {%- set window = var('partial_window_months') | int -%}
    {{- return("records below " ~ ((share * 100) | round | int) ~ " % of the force's median over the "
        ~ (2 * window) ~ " months around it (" ~ window ~ " before, " ~ window ~ " after; months with records"
        ~ " only, at least " ~ (var('partial_min_months') | int) ~ " of them)") -}}
{%- endmacro %}
