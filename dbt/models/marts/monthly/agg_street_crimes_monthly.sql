{{ config(pre_hook="{{ delete_month_window('crime_month') }}") }}

{#- One row per month x force x town x crime type: how many crimes (deduplicated) were reported. -#}

with

crimes as (

    select * from {{ ref('int_street_crimes') }}
    {% if is_incremental() %}
    where {{ in_month_window('crime_month') }}
    {% endif %}

),

final as (

    select
        crime_month,
        force_id,
        town_name,
        crime_type_name,
        crime_type_series,
        is_anti_social_behaviour,
        count(*) as crime_count,
        count(*) filter (where is_location_missing) as location_missing_count
    from crimes
    group by all

)

select * from final
