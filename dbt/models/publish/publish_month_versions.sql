{#- One row per month of each published table split by month: the month and a version that changes whenever
    anything a row of that month is built from changes. publish/marts_snapshot writes a month's file again only
    when its version differs from the one the previous snapshot recorded, and carries the others over as they
    are, so a release costs the months it touched, not the history held.

    A version is what the mart's rows of the month are computed from: how many rows and the newest refreshed_at
    of the month-incremental tables under it (macro month_stamps); for fct_street_crimes also the journeys of the
    month's crimes (a new outcomes file moves earlier crimes) and which forces have outcome data covering the
    month (it turns "No outcome data published" into "Awaiting an outcome", macro outcome_status). A model added
    under one of these marts must add what it changes here. -#}

with

crimes as (

    {{ month_stamps(ref('int_street_crimes'), 'crime_month') }}

),

journeys as (

    {{ month_stamps(ref('int_crime_journeys'), 'crime_month') }}

),

outcome_files as (

    select * from {{ ref('int_force_outcome_files') }}

),

outcome_data as (

    select
        crimes.data_month,
        string_agg(outcome_files.force_id, ',' order by outcome_files.force_id) as force_ids
    from crimes
    inner join outcome_files
        on {{ outcome_data_published('crimes.data_month', 'outcome_files.last_outcomes_file_month') }}
    group by crimes.data_month

),

outcomes as (

    {{ month_stamps(ref('int_outcomes'), 'outcome_month') }}

),

searches as (

    {{ month_stamps(ref('fct_stop_and_search'), 'search_month') }}

),

final as (

    select
        'fct_street_crimes' as table_name,
        'crime_month' as month_column,
        crimes.data_month,
        concat_ws(
            '|', crimes.row_count, crimes.refreshed_at, journeys.row_count, journeys.refreshed_at,
            outcome_data.force_ids
        ) as month_version
    from crimes
    left join journeys
        on crimes.data_month = journeys.data_month
    left join outcome_data
        on crimes.data_month = outcome_data.data_month

    union all

    select
        'fct_outcomes' as table_name,
        'outcome_month' as month_column,
        outcomes.data_month,
        concat_ws('|', outcomes.row_count, outcomes.refreshed_at) as month_version
    from outcomes

    union all

    select
        'fct_stop_and_search' as table_name,
        'search_month' as month_column,
        searches.data_month,
        concat_ws('|', searches.row_count, searches.refreshed_at) as month_version
    from searches

)

select * from final
