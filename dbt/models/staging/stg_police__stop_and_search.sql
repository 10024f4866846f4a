with

source as (

    select * from {{ source('warehouse', 'stop_and_search') }}

),

outcomes as (

    select * from {{ ref('stop_and_search_outcomes') }}

),

renamed as (

    select
        source.month as search_month,
        source.force_id,
        source.search_type,
        source.searched_at,
        source.is_part_of_policing_operation,
        source.policing_operation,
        source.latitude,
        source.longitude,
        source.gender,
        source.age_range,
        source.self_defined_ethnicity,
        -- "Black/African/Caribbean/Black British - African" -> "Black/African/Caribbean/Black British"
        nullif(trim(split_part(source.self_defined_ethnicity, ' - ', 1)), '') as self_defined_ethnic_group,
        source.officer_defined_ethnicity,
        source.legislation,
        source.object_of_search,
        source.outcome as outcome_source,
        coalesce(outcomes.outcome_name, source.outcome) as outcome_name,
        coalesce(outcomes.is_arrest, false) as is_arrest,
        coalesce(outcomes.is_no_further_action, false) as is_no_further_action,
        source.is_outcome_linked_to_object,
        source.is_removal_of_more_than_outer_clothing,
        source.source_file,
        source.source_row
    from source
    left join outcomes
        on source.outcome = outcomes.outcome_source

)

select * from renamed
