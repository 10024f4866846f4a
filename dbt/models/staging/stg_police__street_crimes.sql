with

source as (

    select * from {{ source('warehouse', 'street_crimes') }}

),

renamed as (

    select
        month as crime_month,
        force_id,
        crime_id,
        reported_by as reported_by_force_name,
        falls_within as falls_within_force_name,
        longitude,
        latitude,
        location as location_description,
        lsoa_code,
        lsoa_name,
        crime_type as crime_type_name,
        last_outcome_category as last_outcome_name,
        context as context_note,
        source_file,
        source_row,
        crime_type = 'Anti-social behaviour' as is_anti_social_behaviour,
        latitude is null as is_location_missing
    from source

)

select * from renamed
