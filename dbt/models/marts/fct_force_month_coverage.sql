{#- One row per force x month x dataset of the API's force list: did the force publish a file, how many
    records reached the marts, and what that makes the force-month (coverage_status). The one owner of the
    coverage rule: the dashboards, the force_month_coverage check and SQL users all read coverage_status.

    * 'missing': no file, although the force published this dataset in some other loaded month, or a file the
      lake set aside unread (set_aside_reason: its header was not the published layout);
    * 'empty': a file without records;
    * 'partial': records below a share of the force's median over the months around it (the thresholds are
      project vars, partial_*; macro partial_rule says the rule in words): a file that holds a fraction of the
      force's usual volume;
    * 'complete': anything else with records;
    * 'never': the force published this dataset in no loaded month (e.g. no outcomes from some forces): not
      expected, so not counted as a hole in trends.

    A force-month without records is a gap in the data, never "no crime". Small (45 forces x months x 3), so
    a full rebuild each run. -#}


{%- set window_months = var('partial_window_months') %}

with

force_files as (

    select * from {{ ref('stg_police__force_files') }}

),

statuses as (

    select * from {{ ref('coverage_statuses') }}

),

street as (

    -- the monthly aggregate holds the same count in ~1/100th of the rows of the crimes themselves
    select
        force_id,
        crime_month as file_month,
        sum(crime_count)::bigint as record_count,
        sum(location_missing_count)::bigint as location_missing_count,
        coalesce(sum(crime_count) filter (where town_name = {{ unknown_label() }}), 0)::bigint as lsoa_missing_count
    from {{ ref('agg_street_crimes_monthly') }}
    group by all

),

outcomes as (

    select
        force_id,
        outcome_month as file_month,
        count(*) as record_count,
        -- location shares are street's (what the crime pages map and rank): a plain count stays cheap here
        null::bigint as location_missing_count,
        null::bigint as lsoa_missing_count
    from {{ ref('int_outcomes') }}
    group by all

),

searches as (

    select
        force_id,
        search_month as file_month,
        count(*) as record_count,
        null::bigint as location_missing_count,
        null::bigint as lsoa_missing_count
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

joined as (

    select
        force_files.file_month,
        force_files.force_id,
        force_files.force_name,
        force_files.dataset_name,
        force_files.has_file,
        force_files.file_bytes,
        force_files.set_aside_reason,
        coalesce(records.record_count, 0) as record_count,
        records.location_missing_count,
        records.lsoa_missing_count
    from force_files
    left join records
        on
            force_files.force_id = records.force_id
            and force_files.file_month = records.file_month
            and force_files.dataset_name = records.dataset_name

),

referenced as (

    select
        *,
        median(record_count) filter (where record_count > 0) over surrounding as reference_record_count,
        count(*) filter (where record_count > 0) over surrounding as reference_month_count,
        bool_or(has_file) over (partition by force_id, dataset_name) as force_publishes_dataset
    from joined
    window surrounding as (
        partition by force_id, dataset_name
        order by file_month
        range between interval {{ window_months }} month preceding and interval {{ window_months }} month following
        exclude current row
    )

),

final as (

    select
        md5(concat_ws('|', force_id, file_month, dataset_name)) as coverage_key,
        file_month,
        force_id,
        force_name,
        dataset_name,
        has_file,
        file_bytes,
        record_count,
        case
            when not force_publishes_dataset then 'never'
            when not has_file or set_aside_reason is not null then 'missing'
            when record_count = 0 then 'empty'
            when
                reference_month_count >= {{ var('partial_min_months') }}
                and record_count < {{ var('partial_share') }} * reference_record_count
                then 'partial'
            else 'complete'
        end as coverage_status,
        reference_record_count,
        set_aside_reason,
        location_missing_count,
        lsoa_missing_count,
        location_missing_count / nullif(record_count, 0) as location_missing_share,
        lsoa_missing_count / nullif(record_count, 0) as lsoa_missing_share
    from referenced

),

with_meaning as (

    select
        final.*,
        statuses.is_gap
    from final
    inner join statuses
        on final.coverage_status = statuses.coverage_status

)

select * from with_meaning
