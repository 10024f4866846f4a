{#- One row per town (the local authority part of the LSOA name) seen in street-level crime, with the force
    that records most of its crime; "(unknown)" gathers the rows with no LSOA. -#}

with

monthly as (

    -- the same counts as the crimes themselves, in ~1/100th of the rows
    select * from {{ ref('agg_street_crimes_monthly') }}

),

by_force as (

    select
        town_name,
        force_id,
        sum(crime_count)::bigint as crime_count
    from monthly
    group by town_name, force_id

),

final as (

    select
        town_name,
        town_name <> {{ unknown_label() }} as is_town_known,
        arg_max(force_id, crime_count) as main_force_id,
        count(distinct force_id) as force_count,
        sum(crime_count)::bigint as crime_count
    from by_force
    group by town_name

)

select * from final
