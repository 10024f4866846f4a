{#- The label the marts use where a dimension is missing, so a gap is grouped and counted, never dropped. -#}
{% macro unknown_label() -%}
    '(unknown)'
{%- endmacro %}
