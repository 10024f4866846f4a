{{
    config(
        incremental_strategy='append',
        pre_hook="{{ delete_month_window('crime_month') }}",
    )
}}

{#- One row per street-level crime or anti-social behaviour incident, deduplicated, with town and force name:
    everything fct_street_crimes says about a crime except its journey, which changes after the crime's month
    and lives in int_crime_journeys.

    The dedup rule is the doc block dedup_street_crimes (models/intermediate/_rules.md), shown in the docs.

    Incremental: a run over months [min_month, max_month) replaces the crimes OF those months (the pre-hook
    removes them first, so a crime dropped by a revised release disappears). Nothing here depends on later
    months, so earlier rows are never rewritten. -#}

with

crimes as (

    select * from {{ ref('stg_police__street_crimes') }}

),

forces as (

    select * from {{ ref('int_forces') }}

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
        deduplicated.last_outcome_name,
        deduplicated.last_outcome_group,
        deduplicated.is_last_outcome_no_suspect_identified,
        deduplicated.published_row_count,
        deduplicated.source_file,
        deduplicated.source_row,
        {{ run_started_at_literal() }} as refreshed_at
    from deduplicated
    left join forces
        on deduplicated.force_id = forces.force_id

)

select * from final
{{ stored_by_month('crime_month') }}
