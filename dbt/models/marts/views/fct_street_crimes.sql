{#- One row per street-level crime or anti-social behaviour incident (int_street_crimes: deduplicated, with
    town and force), with its journey: the latest outcome recorded for it in ANY loaded month
    (int_crime_journeys), and what is known about it (outcome_status: recorded, awaiting, from the street file,
    or no outcome data published). A view over the two, so a new month's outcomes change earlier crimes' journeys
    without rewriting their wide rows; the published snapshot (publish/marts_snapshot) materialises it once
    per publish, and marts that need only counts read the narrow tables directly. -#}

with

crimes as (

    select * from {{ ref('int_street_crimes') }}

),

journeys as (

    select * from {{ ref('int_crime_journeys') }}

),

outcome_files as (

    select * from {{ ref('int_force_outcome_files') }}

),

classified as (

    select
        journeys.*,
        {{ outcome_status(
            'journeys.has_outcome', 'journeys.has_crime_id', 'journeys.crime_month',
            'outcome_files.last_outcomes_file_month', 'journeys.last_outcome_name'
        ) }} as outcome_status
    from journeys
    left join outcome_files
        on journeys.force_id = outcome_files.force_id

),

final as (

    select
        crimes.street_crime_key,
        crimes.crime_month,
        crimes.force_id,
        crimes.force_name,
        crimes.crime_id,
        crimes.crime_type_source,
        crimes.crime_type_name,
        crimes.crime_type_series,
        crimes.is_anti_social_behaviour,
        crimes.lsoa_code,
        crimes.lsoa_name,
        crimes.town_name,
        crimes.is_town_known,
        crimes.location_description,
        crimes.longitude,
        crimes.latitude,
        crimes.is_location_missing,
        crimes.last_outcome_source,
        crimes.last_outcome_name,
        crimes.last_outcome_group,
        -- null for anti-social behaviour, which has no outcomes
        journeys.outcome_status,
        {{ known_outcome('journeys.outcome_status', 'journeys.latest_outcome_name', 'journeys.last_outcome_name') }}
            as known_outcome_name,
        {{ known_outcome('journeys.outcome_status', 'journeys.latest_outcome_group', 'journeys.last_outcome_group') }}
            as known_outcome_group,
        journeys.latest_outcome_name,
        journeys.latest_outcome_group,
        journeys.latest_outcome_month,
        journeys.months_to_outcome,
        coalesce(journeys.has_outcome, false) as has_outcome,
        coalesce(journeys.is_outcome_final, false) as is_outcome_final,
        coalesce({{ known_outcome(
            'journeys.outcome_status', 'journeys.is_no_suspect_identified',
            'journeys.is_last_outcome_no_suspect_identified', 'false'
        ) }}, false) as is_no_suspect_identified,
        crimes.published_row_count,
        crimes.source_file,
        crimes.source_row
    from crimes
    left join classified as journeys
        -- the month is part of the key; joining on it too lets a filter on crime_month reach the journeys' scan
        on
            crimes.street_crime_key = journeys.street_crime_key
            and crimes.crime_month = journeys.crime_month

)

select * from final
