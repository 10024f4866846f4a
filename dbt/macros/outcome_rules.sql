{#- What is known about a crime's outcome, one rule for every model that shows it (fct_street_crimes and
    agg_outcomes_by_crime_type). Unknown is never "no outcome yet":

    * 'Outcome recorded': an outcomes file of some loaded month names the crime (its latest such outcome);
    * 'Awaiting an outcome': the force published outcomes for the crime's month or a later one, the crime has a
      Crime ID to be matched by, and no outcome has arrived for it yet;
    * 'Outcome from the street file': no outcome data for it, but the street file's "Last outcome category"
      (a snapshot at publication) says where it stood;
    * 'No outcome data published': none of the above (a force without outcome files, a crime without an ID).

    Arguments are SQL expressions; `outcomes_until` is the force's newest month with an outcomes file
    (int_force_outcome_files), null when it has none. -#}
{% macro outcome_status(has_outcome, has_crime_id, crime_month, outcomes_until, last_outcome_name) -%}
    case
        when {{ has_outcome }} then {{ status_label('recorded') }}
        when {{ has_crime_id }} and {{ outcome_data_published(crime_month, outcomes_until) }}
            then {{ status_label('awaiting') }}
        when {{ last_outcome_name }} is not null then {{ status_label('street') }}
        else {{ status_label('unpublished') }}
    end
{%- endmacro %}

{#- The outcome statuses, the one list of them (in chart order): the label the marts hold, and what each means
    for counting. outcome_status assigns them; dim_outcome_statuses publishes them for the dashboards;
    relationships tests hold the marts to them.

    * has_outcome_files: the crime's force published outcome files covering its month (only then can a crime
      be awaiting one: a force that publishes none says nothing about what its crimes await);
    * has_outcome_data: something is known of the outcome (all but 'No outcome data published');
    * is_awaiting: no outcome yet, although the force publishes them. -#}
{% macro outcome_statuses() -%}
    {{ return([
        {'key': 'recorded', 'label': 'Outcome recorded', 'order': 1,
         'has_outcome_files': true, 'has_outcome_data': true, 'is_awaiting': false},
        {'key': 'awaiting', 'label': 'Awaiting an outcome', 'order': 2,
         'has_outcome_files': true, 'has_outcome_data': true, 'is_awaiting': true},
        {'key': 'street', 'label': 'Outcome from the street file', 'order': 3,
         'has_outcome_files': false, 'has_outcome_data': true, 'is_awaiting': false},
        {'key': 'unpublished', 'label': 'No outcome data published', 'order': 4,
         'has_outcome_files': false, 'has_outcome_data': false, 'is_awaiting': false},
    ]) }}
{%- endmacro %}

{#- The label of the status with `key`, as a SQL string literal. -#}
{% macro status_label(key) -%}
    {%- for status in outcome_statuses() if status.key == key -%}'{{ status.label }}'{%- endfor -%}
{%- endmacro %}

{#- True when the force published outcome data covering crimes of `crime_month`: an outcomes file for that month
    or a later one (`outcomes_until`, as in outcome_status). publish_month_versions versions a crime month
    by it, since it changes the month's statuses. -#}
{% macro outcome_data_published(crime_month, outcomes_until) -%}
    ({{ crime_month }} <= {{ outcomes_until }})
{%- endmacro %}

{#- The value that goes with a status: `recorded` for an outcome from the outcomes files, `street` for one from
    the street file, and `otherwise` (by default the status itself, so charts group "Awaiting an outcome" and
    "No outcome data published" as their own categories, never as an outcome). -#}
{% macro known_outcome(status, recorded, street, otherwise=none) -%}
    case {{ status }}
        when {{ status_label('recorded') }} then {{ recorded }}
        when {{ status_label('street') }} then {{ street }}
        else {{ status if otherwise is none else otherwise }}
    end
{%- endmacro %}
