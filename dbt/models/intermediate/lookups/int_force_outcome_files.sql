{#- One row per force that published at least one outcomes file in the loaded months: the newest such month.
    A crime of a month up to it has outcome data published (outcome_status); later crimes, and every crime of
    a force without a row here, do not. Small (one row per force), rebuilt as a view. -#}

with

force_files as (

    select * from {{ ref('stg_police__force_files') }}

),

final as (

    select
        force_id,
        max(file_month) as last_outcomes_file_month
    from force_files
    where dataset_name = 'outcomes' and has_file
    group by force_id

)

select * from final
