{#- One row per crime month x force x crime type x latest outcome: where the crimes of a month have got to.
    Built from the crime journeys, so it changes when outcomes for old crimes arrive: a full rebuild, which is
    cheap (one narrow table, no join). Anti-social behaviour has no outcomes and is not in the journeys. -#}

with

journeys as (

    select * from {{ ref('int_crime_journeys') }}

),

final as (

    select
        crime_month,
        force_id,
        crime_type_name,
        coalesce(latest_outcome_group, 'Awaiting outcome') as outcome_group,
        coalesce(latest_outcome_name, 'No outcome recorded yet') as outcome_name,
        has_outcome,
        count(*) as crime_count,
        count(*) filter (where is_no_suspect_identified) as no_suspect_identified_count,
        avg(months_to_outcome) as mean_months_to_outcome
    from journeys
    group by all

)

select * from final
