{{ config(
    pre_hook="{{ delete_month_window('crime_month') }}",
    built_by_month={'column': 'crime_month', 'months_from': 'stg_police__street_crimes'},
) }}

{#- One row per street-level crime or anti-social behaviour incident, deduplicated, with its force name,
    town (from the LSOA name), and crime type and street-file outcome in the marts' vocabularies (seeds
    crime_types and outcome_types; the published wordings kept): everything fct_street_crimes says about a crime except its journey, which changes after the crime's month
    and lives in int_crime_journeys.

    The dedup rule is the doc block dedup_street_crimes (models/intermediate/_rules.md), shown in the docs.

    Incremental: a run over months [min_month, max_month) replaces the crimes OF those months (the pre-hook
    removes them first, so a crime dropped by a revised release disappears). Nothing here depends on later
    months, so earlier rows are never rewritten, and a build of many months goes a month at a time (macro
    built_by_month). -#}

with

crimes as (

    select * from {{ ref('stg_police__street_crimes') }}

),

forces as (

    select * from {{ ref('int_forces') }}

),

crime_types as (

    select * from {{ ref('crime_types') }}

),

outcome_types as (

    select * from {{ ref('outcome_types') }}

),

selected as (

    select * from crimes
    where
        {{ in_build_month('crime_month') }}
    {% if is_incremental() %}
        and {{ in_month_window('crime_month') }}
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
        count(*) over (partition by street_crime_key) as published_row_count,
        {{ town_from_lsoa_name('lsoa_name') }} as town_name
    from keyed
    -- a row with a location beats one without (real files list one Crime ID both with a point and as
    -- "No Location"); then the last row in the file, which carries the newest "Last outcome category"
    qualify row_number() over (
        partition by street_crime_key order by lsoa_name is not null desc, source_file desc, source_row desc
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
        coalesce(crime_types.crime_type_name, deduplicated.crime_type_source) as crime_type_name,
        coalesce(crime_types.crime_type_series, deduplicated.crime_type_source) as crime_type_series,
        coalesce(crime_types.is_anti_social_behaviour, false) as is_anti_social_behaviour,
        deduplicated.lsoa_code,
        deduplicated.lsoa_name,
        coalesce(deduplicated.town_name, {{ unknown_label() }}) as town_name,
        deduplicated.town_name is not null as is_town_known,
        deduplicated.location_description,
        deduplicated.longitude,
        deduplicated.latitude,
        deduplicated.latitude is null as is_location_missing,
        deduplicated.last_outcome_source,
        -- the street file's snapshot of the crime's outcome at publication, in the outcomes' vocabulary
        coalesce(outcome_types.outcome_name, deduplicated.last_outcome_source) as last_outcome_name,
        case
            when deduplicated.last_outcome_source is not null then coalesce(outcome_types.outcome_group, 'Other')
        end as last_outcome_group,
        coalesce(outcome_types.is_no_suspect_identified, false) as is_last_outcome_no_suspect_identified,
        deduplicated.published_row_count,
        deduplicated.source_file,
        deduplicated.source_row,
        {{ run_started_at_literal() }} as refreshed_at
    from deduplicated
    left join forces
        on deduplicated.force_id = forces.force_id
    left join crime_types
        on deduplicated.crime_type_source = crime_types.crime_type_source
    left join outcome_types
        on deduplicated.last_outcome_source = outcome_types.outcome_source

)

select * from final
{{ stored_by_month('crime_month') }}
