with

source as (

    select * from {{ source('warehouse', 'outcomes') }}

),

renamed as (

    select
        month as outcome_month,
        force_id,
        crime_id,
        reported_by as reported_by_force_name,
        falls_within as falls_within_force_name,
        longitude,
        latitude,
        location as location_description,
        lsoa_code,
        lsoa_name,
        outcome_type as outcome_source,
        source_file,
        source_row
    from source

)

select * from renamed
