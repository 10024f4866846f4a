{#- One row per month of each published table split by month: the month and a version that changes whenever
    anything a row of that month is built from changes. publish/marts_snapshot writes a month's file again only
    when its version differs from the one the previous snapshot recorded, and carries the others over as they
    are, so a release costs the months it touched, not the history held.

    A version is what the mart's rows of the month are computed from: how many rows and the newest refreshed_at
    of the month-incremental tables under it (macro month_stamps); for fct_street_crimes also the journeys of the
    month's crimes (a new outcomes file moves earlier crimes) and which forces have outcome data covering the
    month (it turns "No outcome data published" into "Awaiting an outcome", macro outcome_status). A model added
    under one of these marts must add what it changes here.

    A crime month changes far more often by its journeys than by its own rows: a release's outcomes reach crimes
    of every month back. So own_version is the version of the columns fct_street_crimes takes from the crime
    itself (int_street_crimes, whose columns it passes on under their own names), and later_columns names the
    others, the ones later months change; the dashboards key a result that reads none of those on own_version,
    and compute it again only when the month's crimes change. key_column identifies a row within its month, so a
    month whose own_version did not change is published by writing only its later columns, matched on that key
    to the rows of the previous snapshot's file. Null where every column follows month_version. -#}

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

later_columns as (

    -- the columns of fct_street_crimes that int_street_crimes does not hold: the journey's
    select list(crime_columns.column_name order by crime_columns.ordinal_position) as column_names
    from information_schema.columns as crime_columns
    where
        crime_columns.table_schema = '{{ ref('fct_street_crimes').schema }}'
        and crime_columns.table_name = '{{ ref('fct_street_crimes').identifier }}'
        and crime_columns.column_name not in (
            select own_columns.column_name from information_schema.columns as own_columns
            where
                own_columns.table_schema = '{{ ref('int_street_crimes').schema }}'
                and own_columns.table_name = '{{ ref('int_street_crimes').identifier }}'
        )

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
        ) as month_version,
        concat_ws('|', crimes.row_count, crimes.refreshed_at) as own_version,
        later_columns.column_names as later_columns,
        'street_crime_key' as key_column
    from crimes
    cross join later_columns
    left join journeys
        on crimes.data_month = journeys.data_month
    left join outcome_data
        on crimes.data_month = outcome_data.data_month

    union all

    select
        'fct_outcomes' as table_name,
        'outcome_month' as month_column,
        outcomes.data_month,
        concat_ws('|', outcomes.row_count, outcomes.refreshed_at) as month_version,
        null as own_version,
        null as later_columns,
        null as key_column
    from outcomes

    union all

    select
        'fct_stop_and_search' as table_name,
        'search_month' as month_column,
        searches.data_month,
        concat_ws('|', searches.row_count, searches.refreshed_at) as month_version,
        null as own_version,
        null as later_columns,
        null as key_column
    from searches

)

select * from final
