{#- One row per outcome recorded for a crime in a month, deduplicated: a view over int_outcomes, where the
    dedup rule and the month-incremental load live. -#}

-- refreshed_at is the warehouse's bookkeeping (publish_month_versions)
select * exclude (refreshed_at) from {{ ref('int_outcomes') }}
