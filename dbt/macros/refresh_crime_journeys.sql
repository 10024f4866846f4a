{#- Post-hook of fct_street_crimes on incremental runs: bring the journey of crimes OUTSIDE the run's month
    window up to date with the outcomes now loaded. A crime is touched when an outcome of the window refers to
    it, or when its current latest outcome came from a window month (a revision may have removed it). Its
    latest outcome is recomputed from every loaded month by latest_outcome_order; none left means no outcome. Narrow in-place updates instead of re-inserting whole
    crime rows: on 36 national months this is what keeps adding a month cheap. -#}
{% macro refresh_crime_journeys(relation) %}
    update {{ relation }} as crimes
    set
        latest_outcome_name = latest.outcome_name,
        latest_outcome_group = latest.outcome_group,
        latest_outcome_month = latest.outcome_month,
        months_to_outcome = date_diff('month', crimes.crime_month, latest.outcome_month),
        has_outcome = latest.outcome_month is not null,
        is_outcome_final = coalesce(latest.is_final_outcome, false),
        is_no_suspect_identified = coalesce(latest.is_no_suspect_identified, false)
    from (
        select
            touched.crime_id,
            outcomes.outcome_month,
            outcomes.outcome_name,
            outcomes.outcome_group,
            outcomes.is_final_outcome,
            outcomes.is_no_suspect_identified
        from (
            select crime_id from {{ ref('fct_outcomes') }}
            where {{ in_month_window('outcome_month') }} and crime_id is not null
            union
            select crime_id from {{ relation }}
            where {{ in_month_window('latest_outcome_month') }} and not {{ in_month_window('crime_month') }}
        ) as touched
        left join {{ ref('fct_outcomes') }} as outcomes
            on touched.crime_id = outcomes.crime_id
        qualify row_number() over (
            partition by touched.crime_id
            order by {{ latest_outcome_order('outcomes') }}
        ) = 1
    ) as latest
    where crimes.crime_id = latest.crime_id and not {{ in_month_window('crimes.crime_month') }}
{% endmacro %}
