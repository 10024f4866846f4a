{#- One row per crime month x force x crime type x outcome status and latest known outcome: where the crimes
    of a month have got to, and what is not known (outcome_status). A view over the incremental counts
    (int_journey_counts) and the force's outcome files, so a new outcomes file turns earlier "No outcome data
    published" crimes into "Awaiting an outcome" without recomputing any count; the published snapshot holds
    it as a table. Anti-social behaviour has no outcomes and is not here. -#}

with

counts as (

    select * from {{ ref('int_journey_counts') }}

),

outcome_files as (

    select * from {{ ref('int_force_outcome_files') }}

),

classified as (

    select
        counts.*,
        {{ outcome_status(
            'counts.has_outcome', 'counts.has_crime_id', 'counts.crime_month',
            'outcome_files.last_outcomes_file_month', 'counts.last_outcome_name'
        ) }} as outcome_status
    from counts
    left join outcome_files
        on counts.force_id = outcome_files.force_id

),

final as (

    select
        crime_month,
        force_id,
        crime_type_name,
        outcome_status,
        {{ known_outcome('outcome_status', 'latest_outcome_group', 'last_outcome_group') }} as outcome_group,
        {{ known_outcome('outcome_status', 'latest_outcome_name', 'last_outcome_name') }} as outcome_name,
        sum(crime_count)::bigint as crime_count,
        sum(
            {{ known_outcome(
                'outcome_status', 'no_suspect_identified_count', 'last_outcome_no_suspect_identified_count', '0'
            ) }}
        )::bigint as no_suspect_identified_count,
        sum(months_to_outcome_sum) / sum(crime_count) filter (where has_outcome) as mean_months_to_outcome
    from classified
    group by all

)

select * from final
