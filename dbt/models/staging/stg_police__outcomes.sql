with

source as (

    select * from {{ source('warehouse', 'outcomes') }}

),

outcome_types as (

    select * from {{ ref('outcome_types') }}

),

renamed as (

    select
        source.month as outcome_month,
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
        source.outcome_type as outcome_source,
        coalesce(outcome_types.outcome_name, source.outcome_type) as outcome_name,
        coalesce(outcome_types.outcome_group, 'Other') as outcome_group,
        coalesce(outcome_types.is_final, false) as is_final_outcome,
        coalesce(outcome_types.is_no_suspect_identified, false) as is_no_suspect_identified,
        source.source_file,
        source.source_row
    from source
    left join outcome_types
        on source.outcome_type = outcome_types.outcome_source

)

select * from renamed
