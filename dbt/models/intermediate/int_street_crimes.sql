{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_month_window('crime_month') }}",
        post_hook="{% if is_incremental() %}{{ refresh_crime_journeys(this) }}{% endif %}",
    )
}}

{#- One row per street-level crime or anti-social behaviour incident, deduplicated, with its journey: the
    latest outcome recorded for it in ANY loaded month (outcomes mostly arrive months later).

    Dedup rule: rows with the same Crime ID in the same month are one crime (data.police.uk repeats rows and
    can list one Crime ID twice with different "Last outcome category", or once with a location and once as
    "No Location"; a row with a location wins, then the last row in the file). Rows
    without a Crime ID (anti-social behaviour; BTP before 2014) are distinct incidents even when they look
    identical: nothing identifies them as the same.

    Incremental: a run over months [min_month, max_month) replaces the crimes OF those months (the pre-hook
    removes them first, so a crime dropped by a revised release disappears), then the post-hook
    refresh_crime_journeys updates, in place, the journey of every earlier crime whose outcomes the run's
    months touch (a new outcome, or a revised month that no longer holds its latest outcome). Journeys are
    therefore the same whatever order months are loaded in, without re-writing whole earlier rows. -#}

with

crimes as (

    select * from {{ ref('stg_police__street_crimes') }}

),

outcomes as (

    select * from {{ ref('fct_outcomes') }}

),

forces as (

    select * from {{ ref('dim_forces') }}

),

selected as (

    select * from crimes
    {% if is_incremental() %}
        where {{ in_month_window('crime_month') }}
    {% endif %}

),

keyed as (

    select
        *,
        {{ record_key(['crime_month', 'crime_id']) }} as street_crime_key
    from selected

),

deduplicated as (

    select
        *,
        count(*) over (partition by street_crime_key) as published_row_count
    from keyed
    -- a row with a location beats one without (real files list one Crime ID both with a point and as
    -- "No Location"); then the last row in the file, which carries the newest "Last outcome category"
    qualify row_number() over (
        partition by street_crime_key order by lsoa_name is not null desc, source_file desc, source_row desc
    ) = 1

),

latest_outcomes as (

    select
        outcomes.crime_id,
        outcomes.outcome_month as latest_outcome_month,
        outcomes.outcome_name as latest_outcome_name,
        outcomes.outcome_group as latest_outcome_group,
        outcomes.is_final_outcome as is_latest_outcome_final,
        outcomes.is_no_suspect_identified
    from outcomes
    where
        outcomes.crime_id in (
            select deduplicated.crime_id from deduplicated
            where deduplicated.crime_id is not null
        )
    qualify row_number() over (
        partition by outcomes.crime_id
        order by {{ latest_outcome_order('outcomes') }}
    ) = 1

),

final as (

    select
        deduplicated.street_crime_key,
        deduplicated.crime_month,
        deduplicated.force_id,
        coalesce(forces.force_name, deduplicated.reported_by_force_name) as force_name,
        deduplicated.crime_id,
        deduplicated.crime_type_source,
        deduplicated.crime_type_name,
        deduplicated.crime_type_series,
        deduplicated.is_anti_social_behaviour,
        deduplicated.lsoa_code,
        deduplicated.lsoa_name,
        coalesce(deduplicated.town_name, {{ unknown_label() }}) as town_name,
        deduplicated.town_name is not null as is_town_known,
        deduplicated.location_description,
        deduplicated.longitude,
        deduplicated.latitude,
        deduplicated.is_location_missing,
        deduplicated.last_outcome_source,
        latest_outcomes.latest_outcome_name,
        latest_outcomes.latest_outcome_group,
        latest_outcomes.latest_outcome_month,
        date_diff('month', deduplicated.crime_month, latest_outcomes.latest_outcome_month) as months_to_outcome,
        latest_outcomes.crime_id is not null as has_outcome,
        coalesce(latest_outcomes.is_latest_outcome_final, false) as is_outcome_final,
        coalesce(latest_outcomes.is_no_suspect_identified, false) as is_no_suspect_identified,
        deduplicated.published_row_count,
        deduplicated.source_file,
        deduplicated.source_row
    from deduplicated
    left join latest_outcomes
        on deduplicated.crime_id = latest_outcomes.crime_id
    left join forces
        on deduplicated.force_id = forces.force_id

)

select * from final
