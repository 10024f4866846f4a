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
        crime_type as crime_type_source,
        last_outcome_category as last_outcome_source,
        context as context_note,
        source_file,
        source_row
    from source

)

select * from renamed
