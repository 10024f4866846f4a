with

source as (

    select * from {{ source('warehouse', 'street_crimes') }}

),

crime_types as (

    select * from {{ ref('crime_types') }}

),

renamed as (

    select
        source.month as crime_month,
        source.force_id,
        source.crime_id,
        source.reported_by as reported_by_force_name,
        source.falls_within as falls_within_force_name,
        source.longitude,
        source.latitude,
        source.location as location_description,
        source.lsoa_code,
        source.lsoa_name,
        {{ town_from_lsoa_name('source.lsoa_name') }} as town_name,
        source.crime_type as crime_type_source,
        coalesce(crime_types.crime_type_name, source.crime_type) as crime_type_name,
        coalesce(crime_types.crime_type_series, source.crime_type) as crime_type_series,
        coalesce(crime_types.is_anti_social_behaviour, false) as is_anti_social_behaviour,
        source.last_outcome_category as last_outcome_source,
        source.context as context_note,
        source.latitude is null as is_location_missing,
        source.source_file,
        source.source_row
    from source
    left join crime_types
        on source.crime_type = crime_types.crime_type_source

)

select * from renamed
