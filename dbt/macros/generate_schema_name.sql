{#- Use the folder's schema as is (staging, marts, ...) instead of dbt's `<target>_<schema>`: analysts query
    `marts.fct_street_crimes`, not `main_marts.fct_street_crimes`. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name | trim if custom_schema_name is not none else target.schema }}
{%- endmacro %}
