{#- The run's month window [min_month, max_month), first days of months. Dagster passes it in the environment
    (POLICE_DBT_MIN_MONTH, POLICE_DBT_MAX_MONTH), read only when dbt executes, never while it parses: a change of
    --vars, or of a variable read while parsing, makes dbt parse the whole project again on every run. Without
    them (a plain `dbt build`, a unit test's vars) the vars, whose defaults in dbt_project.yml cover every month. -#}
{% macro month_window() -%}
    {%- if execute -%}
        {{ return([env_var('POLICE_DBT_MIN_MONTH', var('min_month')), env_var('POLICE_DBT_MAX_MONTH', var('max_month'))]) }}
    {%- endif -%}
    {{ return([var('min_month'), var('max_month')]) }}
{%- endmacro %}

{#- True for rows whose month falls in the run's window (month_window). -#}
{% macro in_month_window(column) -%}
    {%- set window = month_window() -%}
    ({{ column }} >= cast('{{ window[0] }}' as date) and {{ column }} < cast('{{ window[1] }}' as date))
{%- endmacro %}

{#- Pre-hook of the month-incremental models: remove the run's months before appending them again. Cheaper
    than delete+insert's delete-by-key subquery, and a month that lost rows in a revision loses them here too. -#}
{% macro delete_month_window(column) -%}
    {% if is_incremental() %}delete from {{ this }} where {{ in_month_window(column) }}{% endif %}
{%- endmacro %}

{#- How many months the run's window spans (zero or less for an empty or reversed window; the defaults in
    dbt_project.yml, every date, give 35,976). -#}
{% macro window_month_count() -%}
    {%- set window = month_window() -%}
    {%- set first = window[0].split("-") | map("int") | list -%}
    {%- set last = window[1].split("-") | map("int") | list -%}
    {{ return((last[0] - first[0]) * 12 + last[1] - first[1]) }}
{%- endmacro %}

{#- The same test as in_month_window, written as `column in (date '2024-01-01', ...)` when the window is at most
    five years of months. Why: DuckDB estimates a range filter at a fixed fraction of the table but an IN list
    from the column's distinct count, and the estimate picks the build side of a hash join. With the range, matching a
    month's touched Crime IDs against every crime hashed all the crimes instead of the IDs (docs/benchmarks.md). -#}
{% macro in_month_list(column) -%}
    {%- set count = window_month_count() -%}
    {%- if 0 < count <= 60 -%}
        {%- set first = month_window()[0].split("-") | map("int") | list -%}
        {{ column }} in (
        {%- for i in range(count) -%}
            {%- set n = first[0] * 12 + first[1] - 1 + i -%}
            cast('{{ "%04d-%02d-01" | format(n // 12, n % 12 + 1) }}' as date){{ ", " if not loop.last }}
        {%- endfor -%}
        )
    {%- else -%}
        {{ in_month_window(column) }}
    {%- endif -%}
{%- endmacro %}

{#- The dbt invocation's start time as a timestamp literal (UTC): stamped on rows a run recomputes, so a later
    model can tell which rows changed since it was last built (agg_outcomes_by_crime_type). -#}
{% macro run_started_at_literal() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro %}

{#- Pre-hook of agg_outcomes_by_crime_type: drop the crime months that no longer have any journey (delete+insert
    on crime_month only replaces months that still have rows). -#}
{% macro delete_months_without_journeys() -%}
    {% if is_incremental() %}
        delete from {{ this }}
        where crime_month not in (select distinct crime_month from {{ ref('int_crime_journeys') }})
    {% endif %}
{%- endmacro %}

{#- The rows a data test reads (dbt's get_where_subquery, for this adapter), besides any `where` of its own:
    - `meta: {month_window: <column>}`: only the run's months of that column. For tests of rows a month's build
      cannot change in other months (keys that include the month).
    - `meta: {refreshed_rows: true}`: only the rows the model's latest build wrote (its newest refreshed_at), for
      a model that rewrites rows of any month (the journeys); the rows it left alone were checked when written.
    - `meta: {refreshed_keys: <column>}`: every row whose <column> value the latest build wrote, old rows too, so
      a key written again beside an old copy of itself is still caught (a unique key).
    A test that names none of these reads the scope its model declares, `config: {meta: {month_window: <column>}}`
    on a month-local model: one whose build of the run's months rewrites only those months' rows, and whose keys
    hold their month, so no other month's rows can break a test.
    So a release checks what it wrote, not the whole history again; a plain `dbt build` (all months, every row
    written by that build) checks every row. -#}
{% macro duckdb__get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set meta = config.get('meta') or {} -%}
    {%- if not (meta.get('month_window') or meta.get('refreshed_rows') or meta.get('refreshed_keys')) -%}
        {%- set meta = model_test_scope() -%}
    {%- endif -%}
    {%- set latest = 'refreshed_at = (select max(refreshed_at) from ' ~ relation ~ ')' -%}
    {%- set scopes = [] -%}
    {%- if meta.get('month_window') -%}
        {%- do scopes.append(in_month_window(meta['month_window'])) -%}
    {%- endif -%}
    {%- if meta.get('refreshed_rows') -%}
        {%- do scopes.append(latest) -%}
    {%- endif -%}
    {%- if meta.get('refreshed_keys') -%}
        {%- set key = meta['refreshed_keys'] -%}
        {%- do scopes.append(key ~ ' in (select ' ~ key ~ ' from ' ~ relation ~ ' where ' ~ latest ~ ')') -%}
    {%- endif -%}
    {%- if where -%}
        {%- do scopes.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- set where = scopes | join(' and ') -%}
    {%- if where -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {{ return(filtered) }}
    {%- endif -%}
    {{ return(relation) }}
{%- endmacro %}

{#- The scope a month-local model declares for its tests (its `meta: {month_window: <column>}`), as a test's meta; {}
    for any other model, or outside a test. -#}
{% macro model_test_scope() -%}
    {%- set tested = graph.nodes.get(model.attached_node) if model.attached_node else none -%}
    {%- set declared = (tested.config.meta or {}).get('month_window') if tested else none -%}
    {{ return({'month_window': declared} if declared else {}) }}
{%- endmacro %}

{#- The last clause of a large month-incremental model: its rows stored in month order. A build of many months
    (a backfill) otherwise leaves them in the order of its hash work, every row group holding every month, and a
    reader of one month (publish/marts_snapshot writes the facts month by month) scans them all; in month order
    DuckDB's per-row-group min/max skip the other months. A month's own build is one month already, and a
    model built a month at a time (macro built_by_month) sorts one month a statement. -#}
{% macro stored_by_month(column) -%}
    order by {{ column }}
{%- endmacro %}

{#- What a month of a month-incremental table says about its rows without reading them: how many there are and
    the newest refreshed_at (the dbt run that last recomputed one), per month of `month_column`, as data_month,
    row_count and refreshed_at. A month whose rows were replaced, added to or removed changes one of the two;
    publish_month_versions builds each month's version from them. -#}
{% macro month_stamps(relation, month_column) -%}
    select
        {{ month_column }} as data_month,
        count(*) as row_count,
        max(refreshed_at) as refreshed_at
    from {{ relation }}
    group by {{ month_column }}
{%- endmacro %}
