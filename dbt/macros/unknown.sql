{#- The label the marts use where a dimension is missing, so a gap is grouped and counted, never dropped. Its
    text is the project var unknown_label (dbt_project.yml), which the published manifest.json repeats for the
    dashboards. -#}
{% macro unknown_label() -%}
    '{{ var("unknown_label") }}'
{%- endmacro %}
