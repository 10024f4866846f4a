{#- One row per force x month x dataset: did the force publish a file, and how many records made it to the
    marts. A force-month without a file is a gap in the data, never "no crime": dashboards must show it as such.
    Small (45 forces x months x 3), so a full rebuild each run. -#}

with

force_files as (

    select * from {{ ref('stg_police__force_files') }}

),

street as (

    -- the monthly aggregate holds the same count in ~1/100th of the rows of the crimes themselves
    select
        force_id,
        crime_month as file_month,
        sum(crime_count)::bigint as record_count
    from {{ ref('agg_street_crimes_monthly') }}
    group by all

),

outcomes as (

    select
        force_id,
        outcome_month as file_month,
        count(*) as record_count
    from {{ ref('fct_outcomes') }}
    group by all

),

searches as (

    select
        force_id,
        search_month as file_month,
        count(*) as record_count
    from {{ ref('fct_stop_and_search') }}
    group by all

),

records as (

    select
        *,
        'street' as dataset_name
    from street
    union all
    select
        *,
        'outcomes' as dataset_name
    from outcomes
    union all
    select
        *,
        'stop-and-search' as dataset_name
    from searches

),

final as (

    select
        md5(concat_ws('|', force_files.force_id, force_files.file_month, force_files.dataset_name)) as coverage_key,
        force_files.file_month,
        force_files.force_id,
        force_files.force_name,
        force_files.dataset_name,
        force_files.has_file,
        force_files.file_bytes,
        coalesce(records.record_count, 0) as record_count,
        not force_files.has_file or coalesce(records.record_count, 0) = 0 as is_gap
    from force_files
    left join records
        on
            force_files.force_id = records.force_id
            and force_files.file_month = records.file_month
            and force_files.dataset_name = records.dataset_name

)

select * from final
