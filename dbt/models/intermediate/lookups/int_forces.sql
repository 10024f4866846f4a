{#- One row per police force: its id (as in file names) and name, from data.police.uk's /api/forces list as
    recorded with each loaded month (the newest name wins). -#}

with

force_files as (

    select * from {{ ref('stg_police__force_files') }}

),

final as (

    select
        force_id,
        arg_max(force_name, file_month) as force_name,
        min(file_month) as first_listed_month,
        max(file_month) as last_listed_month
    from force_files
    group by force_id

)

select * from final
