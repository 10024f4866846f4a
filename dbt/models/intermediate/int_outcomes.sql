{{
    config(
        incremental_strategy='append',
        pre_hook="{{ delete_month_window('outcome_month') }}",
    )
}}

{#- One row per outcome recorded for a crime in a month, deduplicated by the rule in the doc block
    dedup_outcomes (models/intermediate/_rules.md). Incremental by outcome month. -#}

with

outcomes as (

    select * from {{ ref('stg_police__outcomes') }}
    {% if is_incremental() %}
    where {{ in_month_window('outcome_month') }}
    {% endif %}

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
        record_key as outcome_key,
        outcome_month,
        force_id,
        crime_id,
        outcome_source,
        outcome_name,
        outcome_group,
        is_final_outcome,
        is_no_suspect_identified,
        lsoa_code,
        lsoa_name,
        coalesce(town_name, {{ unknown_label() }}) as town_name,
        published_row_count,
        source_file,
        source_row,
        {{ run_started_at_literal() }} as refreshed_at
    from deduplicated

)

select * from final
{{ stored_by_month('outcome_month') }}
