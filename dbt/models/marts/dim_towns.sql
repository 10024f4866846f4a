{#- One row per town (the local authority part of the LSOA name) seen in street-level crime, with the force
    that records most of its crime; "(unknown)" gathers the rows with no LSOA. -#}

with

crimes as (

    select * from {{ ref('fct_street_crimes') }}

),

by_force as (

    select
        town_name,
        force_id,
        count(*) as crime_count
    from crimes
    group by town_name, force_id

),

final as (

    select
        town_name,
        town_name <> {{ unknown_label() }} as is_town_known,
        arg_max(force_id, crime_count) as main_force_id,
        count(distinct force_id) as force_count,
        sum(crime_count) as crime_count
    from by_force
    group by town_name

)

select * from final
