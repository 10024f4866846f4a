{#- One row per coverage status of fct_force_month_coverage, in legend order: its label, what it means for
    counting (expected, a gap, partial) and its chart colour. The dashboards read the vocabulary from here. -#}

select * from {{ ref('coverage_statuses') }}
