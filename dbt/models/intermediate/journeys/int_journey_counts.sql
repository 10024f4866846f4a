{{
    config(
        unique_key='crime_month',
        pre_hook="{{ delete_months_without_journeys() }}",
    )
}}

{#- One row per crime month x force x crime type x journey state (outcome recorded or not, with its latest
    outcome, or else the street file's snapshot): the counts agg_outcomes_by_crime_type classifies with
    outcome_status. Kept apart from that mart because the status also depends on which outcome files exist,
    which changes as months load, while these counts change only with the journeys.

    Built from the crime journeys, which change when outcomes for old crimes arrive, so it is incremental by
    crime month but not by the run's window: a run recomputes every crime month that has a journey refreshed
    since this model's last run (int_crime_journeys.refreshed_at against the newest refreshed_at here) and
    replaces those months whole. Crime months left with no journey at all (a revision withdrew them) are
    removed by the pre-hook. Anti-social behaviour has no outcomes and is not in the journeys. -#}

with

journeys as (

    select * from {{ ref('int_crime_journeys') }}

),

{% if is_incremental() %}

    -- reads the model, not the journeys CTE: a CTE used twice is materialised whole
    changed_months as (

        select distinct crime_month from {{ ref('int_crime_journeys') }}
        where refreshed_at > (select coalesce(max(refreshed_at), '-infinity'::timestamp) from {{ this }})

    ),

{% endif %}

final as (

    select
        crime_month,
        force_id,
        crime_type_name,
        has_outcome,
        has_crime_id,
        latest_outcome_group,
        latest_outcome_name,
        -- the street snapshot only matters without a recorded outcome; null otherwise keeps the groups few
        case when not has_outcome then last_outcome_group end as last_outcome_group,
        case when not has_outcome then last_outcome_name end as last_outcome_name,
        count(*) as crime_count,
        count(*) filter (where is_no_suspect_identified) as no_suspect_identified_count,
        count(*) filter (where not has_outcome and is_last_outcome_no_suspect_identified)
            as last_outcome_no_suspect_identified_count,
        sum(months_to_outcome) as months_to_outcome_sum,
        {{ run_started_at_literal() }} as refreshed_at
    from journeys
    {% if is_incremental() %}
        where crime_month in (select changed_months.crime_month from changed_months)
    {% endif %}
    group by all

)

select * from final
