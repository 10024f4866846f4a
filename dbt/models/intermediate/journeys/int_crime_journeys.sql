{#- The key with its month (the key holds the month): dbt-duckdb then deletes the rows being replaced by a join on
    both, and DuckDB reads only the stored months within the replaced rows' range (the table is in month order),
    not every journey's key. -#}
{{
    config(
        unique_key=['crime_month', 'street_crime_key'],
        pre_hook="{{ delete_month_window('crime_month') }}",
    )
}}

{#- One row per street-level crime (anti-social behaviour has no outcomes and is left out): its journey so far,
    i.e. the latest outcome recorded for its Crime ID in ANY loaded month (latest_outcome_order: newest month, a
    final outcome before an interim one, then by name). Crimes without a Crime ID never get one.

    Outcomes mostly arrive months after the crime, so this cannot be incremental by crime month alone. A run over
    months [min_month, max_month) recomputes, from every loaded month, the journey of each crime it touches:
    the crimes OF the window (the pre-hook removed their old rows), every earlier crime an outcome of the window
    refers to, and every crime whose latest outcome came from a window month (a revised release may have
    removed it). The rows are narrow, so a month's ~300k changed journeys of earlier crimes are a delete and an
    append of a few columns, not an update of the wide crime rows (DuckDB rewrites the updated columns
    of every row group they touch: docs/benchmarks.md, design 2). -#}

{%- set crime_columns = [
    'street_crime_key', 'crime_id', 'crime_month', 'force_id', 'crime_type_name', 'last_outcome_name',
    'last_outcome_group', 'is_last_outcome_no_suspect_identified',
] %}

with

selected as (

    select {{ crime_columns | join(', ') }} from {{ ref('int_street_crimes') }}
    where
        not is_anti_social_behaviour
    {% if is_incremental() %}
        and {{ in_month_window('crime_month') }}
    {% endif %}

    {% if is_incremental() %}
        -- further scans rather than `or crime_id in (...)` above, which made DuckDB materialise all 13M crimes
        union all
        (
            -- earlier crimes an outcome of the window refers to: by Crime ID, the only link an outcome has
            select {{ crime_columns | join(', ') }} from {{ ref('int_street_crimes') }}
            where
                not is_anti_social_behaviour
                and not {{ in_month_list('crime_month') }}
                and crime_id in (
                    select outcomes.crime_id from {{ ref('int_outcomes') }} as outcomes
                    where {{ in_month_list('outcomes.outcome_month') }} and outcomes.crime_id is not null
                )
            union
            -- earlier crimes whose latest outcome came from a window month (a revised release may have removed
            -- it): by the key and month the journeys keep (they keep no Crime ID, the widest column), so the
            -- scan reads only those crimes' months. Matched by Crime ID instead, DuckDB hashed every crime.
            select crimes.{{ crime_columns | join(', crimes.') }}
            from {{ ref('int_street_crimes') }} as crimes
            inner join (
                select journeys.street_crime_key, journeys.crime_month from {{ this }} as journeys
                where {{ in_month_list('journeys.latest_outcome_month') }}
            ) as rebuilt
                on
                    crimes.street_crime_key = rebuilt.street_crime_key
                    and crimes.crime_month = rebuilt.crime_month
            where not {{ in_month_list('crimes.crime_month') }}
        )
    {% endif %}

),

latest_outcomes as (

    select
        outcomes.crime_id,
        outcomes.outcome_month,
        outcomes.outcome_name,
        outcomes.outcome_group,
        outcomes.is_final_outcome,
        outcomes.is_no_suspect_identified
    from {{ ref('int_outcomes') }} as outcomes
    where
        outcomes.crime_id is not null
    {% if is_incremental() %}
        and outcomes.crime_id in (select selected.crime_id from selected)
    {% endif %}
    qualify row_number() over (
        partition by outcomes.crime_id
        order by {{ latest_outcome_order('outcomes') }}
    ) = 1

),

final as (

    select
        selected.street_crime_key,
        selected.crime_id is not null as has_crime_id,
        selected.crime_month,
        selected.force_id,
        selected.crime_type_name,
        latest_outcomes.outcome_name as latest_outcome_name,
        latest_outcomes.outcome_group as latest_outcome_group,
        latest_outcomes.outcome_month as latest_outcome_month,
        date_diff('month', selected.crime_month, latest_outcomes.outcome_month) as months_to_outcome,
        latest_outcomes.crime_id is not null as has_outcome,
        coalesce(latest_outcomes.is_final_outcome, false) as is_outcome_final,
        coalesce(latest_outcomes.is_no_suspect_identified, false) as is_no_suspect_identified,
        -- the street file's snapshot, the fallback where the force published no outcomes (outcome_status)
        selected.last_outcome_name,
        selected.last_outcome_group,
        selected.is_last_outcome_no_suspect_identified,
        {{ run_started_at_literal() }} as refreshed_at
    from selected
    left join latest_outcomes
        on selected.crime_id = latest_outcomes.crime_id

)

select * from final
{{ stored_by_month('crime_month') }}
