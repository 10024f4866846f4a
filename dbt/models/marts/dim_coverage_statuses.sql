{#- One row per coverage status of fct_force_month_coverage, in legend order: its label, what it means for
    counting (expected, a gap, partial), its chart colour, and for a status set by thresholds the rule in words
    (macro partial_rule). The dashboards read the vocabulary from here. -#}

with

statuses as (

    select * from {{ ref('coverage_statuses') }}

),

final as (

    select
        *,
        case when is_partial then '{{ partial_rule() | replace("'", "''") }}' end as coverage_rule
    from statuses

)

select * from final
