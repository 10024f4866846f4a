{#- One row per crime type name used in the marts, with its slug and the series that stays comparable across
    years (the pre-May-2013 "Public disorder and weapons" and its successors share one series). -#}

with

crime_types as (

    select * from {{ ref('crime_types') }}

),

final as (

    select
        crime_type_name,
        min(crime_type_slug) as crime_type_slug,
        min(crime_type_series) as crime_type_series,
        bool_or(is_anti_social_behaviour) as is_anti_social_behaviour,
        string_agg(crime_type_source, '; ' order by crime_type_source) as published_as
    from crime_types
    group by crime_type_name

)

select * from final
