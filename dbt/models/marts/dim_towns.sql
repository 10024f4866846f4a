{#- One row per town (the local authority part of the LSOA name) seen in street-level crime or anti-social
    behaviour, with the force that records most of its crime; "(unknown)" gathers the rows with no LSOA.
    Recorded crime and anti-social behaviour are counted apart: ASB is not crime, and its recording practice
    changed over the years. -#}

with

monthly as (

    -- the same counts as the crimes themselves, in ~1/100th of the rows
    select * from {{ ref('agg_street_crimes_monthly') }}

),

by_force as (

    select
        town_name,
        force_id,
        coalesce(sum(crime_count) filter (where not is_anti_social_behaviour), 0)::bigint as crime_count,
        coalesce(sum(crime_count) filter (where is_anti_social_behaviour), 0)::bigint as asb_count,
        sum(crime_count)::bigint as record_count
    from monthly
    group by town_name, force_id

),

final as (

    select
        town_name,
        town_name <> {{ unknown_label() }} as is_town_known,
        -- by recorded crime, then all records (a town with ASB only)
        arg_max(force_id, (crime_count, record_count)) as main_force_id,
        count(distinct force_id) as force_count,
        sum(crime_count)::bigint as crime_count,
        sum(asb_count)::bigint as asb_count
    from by_force
    group by town_name

)

select * from final
