{{ config(materialized='view') }}

{#- One row per street-level crime or anti-social behaviour incident (int_street_crimes: deduplicated, with
    town and force), with its journey: the latest outcome recorded for it in ANY loaded month
    (int_crime_journeys). A view over the two, so a new month's outcomes change earlier crimes' journeys
    without rewriting their wide rows; the published snapshot (publish/marts_snapshot) materialises it once
    per publish, and marts that need only counts read the narrow tables directly. -#}

with

crimes as (

    select * from {{ ref('int_street_crimes') }}

),

journeys as (

    select * from {{ ref('int_crime_journeys') }}

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
        journeys.latest_outcome_name,
        journeys.latest_outcome_group,
        journeys.latest_outcome_month,
        journeys.months_to_outcome,
        coalesce(journeys.has_outcome, false) as has_outcome,
        coalesce(journeys.is_outcome_final, false) as is_outcome_final,
        coalesce(journeys.is_no_suspect_identified, false) as is_no_suspect_identified,
        crimes.published_row_count,
        crimes.source_file,
        crimes.source_row
    from crimes
    left join journeys
        on crimes.street_crime_key = journeys.street_crime_key

)

select * from final
