{{ config(
    pre_hook="{{ delete_month_window('outcome_month') }}",
    built_by_month={'column': 'outcome_month', 'months_from': 'stg_police__outcomes'},
) }}

{#- One row per outcome recorded for a crime in a month, deduplicated by the rule in the doc block
    dedup_outcomes (models/intermediate/_rules.md), with the outcome in the current vocabulary (seed
    outcome_types; the published wording kept) and the town of its LSOA. Incremental by outcome month, a month
    at a time (macro built_by_month). -#}

with

outcomes as (

    select * from {{ ref('stg_police__outcomes') }}
    where
        {{ in_build_month('outcome_month') }}
    {% if is_incremental() %}
        and {{ in_month_window('outcome_month') }}
    {% endif %}

),

outcome_types as (

    select * from {{ ref('outcome_types') }}

),

keyed as (

    select
        *,
        {{ record_key(['outcome_month', 'crime_id', 'outcome_source']) }} as record_key
    from outcomes

),

deduplicated as (

    select
        *,
        count(*) over (partition by record_key) as published_row_count
    from keyed
    qualify row_number() over (partition by record_key order by source_file asc, source_row asc) = 1

),

final as (

    select
        deduplicated.record_key as outcome_key,
        deduplicated.outcome_month,
        deduplicated.force_id,
        deduplicated.crime_id,
        deduplicated.outcome_source,
        coalesce(outcome_types.outcome_name, deduplicated.outcome_source) as outcome_name,
        coalesce(outcome_types.outcome_group, 'Other') as outcome_group,
        coalesce(outcome_types.is_final, false) as is_final_outcome,
        coalesce(outcome_types.is_no_suspect_identified, false) as is_no_suspect_identified,
        deduplicated.lsoa_code,
        deduplicated.lsoa_name,
        coalesce({{ town_from_lsoa_name('deduplicated.lsoa_name') }}, {{ unknown_label() }}) as town_name,
        deduplicated.published_row_count,
        deduplicated.source_file,
        deduplicated.source_row,
        {{ run_started_at_literal() }} as refreshed_at
    from deduplicated
    left join outcome_types
        on deduplicated.outcome_source = outcome_types.outcome_source

)

select * from final
{{ stored_by_month('outcome_month') }}
