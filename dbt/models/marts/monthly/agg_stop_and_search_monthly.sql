{{ config(pre_hook="{{ delete_month_window('search_month') }}") }}

{#- One row per month x force x self-defined ethnic group x officer-defined ethnicity x age x gender x
    object x outcome: searches, arrests and finds, so arrest and find rates can be computed at any level.
    Rates divide by the searches whose field was recorded, never by all searches: find rate =
    object_found_count / outcome_link_known_count, arrest rate = arrest_count / outcome_known_count. -#}

with

searches as (

    select * from {{ ref('fct_stop_and_search') }}
    {% if is_incremental() %}
    where {{ in_month_window('search_month') }}
    {% endif %}

),

final as (

    select
        search_month,
        force_id,
        self_defined_ethnic_group,
        officer_defined_ethnicity,
        age_range,
        gender,
        object_of_search,
        outcome_name,
        count(*) as search_count,
        count(*) filter (where is_arrest) as arrest_count,
        count(*) filter (where is_object_found) as object_found_count,
        count(is_outcome_linked_to_object) as outcome_link_known_count,
        count(outcome_source) as outcome_known_count
    from searches
    group by all

)

select * from final
