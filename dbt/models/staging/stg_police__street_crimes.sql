with

source as (

    select * from {{ source('warehouse', 'street_crimes') }}

),

crime_types as (

    select * from {{ ref('crime_types') }}

),

outcome_types as (

    select * from {{ ref('outcome_types') }}

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
        -- the street file's snapshot of the crime's outcome at publication, in the outcomes' vocabulary
        coalesce(outcome_types.outcome_name, source.last_outcome_category) as last_outcome_name,
        case
            when source.last_outcome_category is not null then coalesce(outcome_types.outcome_group, 'Other')
        end as last_outcome_group,
        coalesce(outcome_types.is_no_suspect_identified, false) as is_last_outcome_no_suspect_identified,
        source.context as context_note,
        source.latitude is null as is_location_missing,
        source.source_file,
        source.source_row
    from source
    left join crime_types
        on source.crime_type = crime_types.crime_type_source
    left join outcome_types
        on source.last_outcome_category = outcome_types.outcome_source

)

select * from renamed
