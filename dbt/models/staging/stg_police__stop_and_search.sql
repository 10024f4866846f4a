with

source as (

    select * from {{ source('warehouse', 'stop_and_search') }}

),

renamed as (

    select
        month as search_month,
        force_id,
        search_type,
        searched_at,
        is_part_of_policing_operation,
        policing_operation,
        latitude,
        longitude,
        gender,
        age_range,
        self_defined_ethnicity,
        officer_defined_ethnicity,
        legislation,
        object_of_search,
        outcome as outcome_source,
        is_outcome_linked_to_object,
        is_removal_of_more_than_outer_clothing,
        source_file,
        source_row
    from source

)

select * from renamed
