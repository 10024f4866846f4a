{#- One row per outcome group, in the order charts list them, with the outcome wordings it gathers. The
    statuses that are not an outcome ('Awaiting an outcome', 'No outcome data published': macro
    outcome_status) are not groups and are not here. -#}

with

outcome_groups as (

    select * from {{ ref('outcome_groups') }}

),

outcome_types as (

    select * from {{ ref('outcome_types') }}

),

final as (

    select
        outcome_groups.outcome_group,
        outcome_groups.outcome_group_order,
        outcome_groups.outcome_group_description,
        string_agg(distinct outcome_types.outcome_name, '; ' order by outcome_types.outcome_name) as outcome_names
    from outcome_groups
    left join outcome_types
        on outcome_groups.outcome_group = outcome_types.outcome_group
    group by all

)

select * from final
