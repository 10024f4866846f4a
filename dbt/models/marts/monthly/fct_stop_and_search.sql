{{ config(pre_hook="{{ delete_month_window('search_month') }}") }}

{#- One row per stop and search record as published. There is no record id, so rows are never merged:
    two identical rows are two searches as far as anyone can tell. The force comes from the file name. -#}

with

searches as (

    select * from {{ ref('stg_police__stop_and_search') }}
    {% if is_incremental() %}
    where {{ in_month_window('search_month') }}
    {% endif %}

),

forces as (

    select * from {{ ref('int_forces') }}

),

outcomes as (

    select * from {{ ref('stop_and_search_outcomes') }}

),

final as (

    select
        md5(concat_ws('|', searches.source_file, searches.source_row)) as search_key,
        searches.search_month,
        searches.searched_at,
        searches.force_id,
        coalesce(forces.force_name, searches.force_id) as force_name,
        searches.search_type,
        searches.is_part_of_policing_operation,
        searches.policing_operation,
        searches.latitude,
        searches.longitude,
        coalesce(searches.gender, {{ unknown_label() }}) as gender,
        coalesce(searches.age_range, {{ unknown_label() }}) as age_range,
        coalesce(searches.self_defined_ethnicity, {{ unknown_label() }}) as self_defined_ethnicity,
        -- "Black/African/Caribbean/Black British - African" -> "Black/African/Caribbean/Black British"
        coalesce(
            nullif(trim(split_part(searches.self_defined_ethnicity, ' - ', 1)), ''), {{ unknown_label() }}
        ) as self_defined_ethnic_group,
        coalesce(searches.officer_defined_ethnicity, {{ unknown_label() }}) as officer_defined_ethnicity,
        searches.legislation,
        coalesce(searches.object_of_search, {{ unknown_label() }}) as object_of_search,
        searches.outcome_source,
        -- the outcome's common name (seed stop_and_search_outcomes), else as published
        coalesce(outcomes.outcome_name, searches.outcome_source, {{ unknown_label() }}) as outcome_name,
        coalesce(outcomes.is_arrest, false) as is_arrest,
        coalesce(outcomes.is_no_further_action, false) as is_no_further_action,
        searches.is_outcome_linked_to_object,
        -- a find: the outcome is linked to what was searched for; null, not false, when the force left the
        -- field blank (the Met leaves it blank in every row), so find rates divide by the searches that say
        searches.is_outcome_linked_to_object as is_object_found,
        searches.is_removal_of_more_than_outer_clothing,
        searches.source_file,
        searches.source_row,
        -- warehouse bookkeeping (publish_month_versions), left out of the published snapshot
        {{ run_started_at_literal() }} as refreshed_at
    from searches
    left join forces
        on searches.force_id = forces.force_id
    left join outcomes
        on searches.outcome_source = outcomes.outcome_source

)

select * from final
{{ stored_by_month('search_month') }}
