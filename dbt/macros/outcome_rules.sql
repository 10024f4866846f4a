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
        when {{ has_outcome }} then 'Outcome recorded'
        when {{ has_crime_id }} and {{ outcome_data_published(crime_month, outcomes_until) }} then 'Awaiting an outcome'
        when {{ last_outcome_name }} is not null then 'Outcome from the street file'
        else 'No outcome data published'
    end
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
        when 'Outcome recorded' then {{ recorded }}
        when 'Outcome from the street file' then {{ street }}
        else {{ status if otherwise is none else otherwise }}
    end
{%- endmacro %}
