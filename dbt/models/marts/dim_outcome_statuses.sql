{#- One row per outcome status, in the order charts list them: the value the marts hold, what it means for
    counting, and its short key. Rendered from the macro outcome_statuses, the one list of them; the dashboards
    read the vocabulary from here. -#}

{% for status in outcome_statuses() %}
    select
        '{{ status.label }}' as outcome_status,
        '{{ status.key }}' as outcome_status_key,
        {{ status.order }} as outcome_status_order,
        {{ 'true' if status.has_outcome_files else 'false' }} as is_force_publishing_outcome_files,
        {{ 'true' if status.has_outcome_data else 'false' }} as has_outcome_data,
        {{ 'true' if status.is_awaiting else 'false' }} as is_awaiting
    {% if not loop.last %}union all{% endif %}
{% endfor %}
