{#- Large month-local models (config built_by_month: {column: <month column>, months_from: <model it reads>})
    are built one month at a time: the table is created from the first month of `months_from`, then one insert
    for each further month (every month on a first build or a full refresh; the run's window otherwise), each
    selecting that month only (macro in_build_month). Why: in one statement over many months DuckDB
    deduplicates every row at once, which spills past the memory limit, and sorts every row to store them in
    month order (stored_by_month); a month at a time fits in memory and appends the months in order. The same
    rows either way, and faster (docs/benchmarks.md, run I). A model's rows must depend on its own month only.

    Each month's statement still ends with the model's stored_by_month: a sort of one month is cheap, and
    without it the month's rows arrive from two threads in pieces that DuckDB merges after the commit,
    leaving their first copy as free space inside the warehouse file. -#}

{#- True for the rows of the month being built; every row outside a month-by-month build (a unit test, a
    preview). DuckDB binds the variable as a constant, so the test reaches the scan of the month's files. -#}
{% macro in_build_month(column) -%}
    (getvariable('police_build_month') is null or {{ column }} = getvariable('police_build_month'))
{%- endmacro %}

{#- The months a month-by-month build covers, first days, oldest first. -#}
{% macro months_to_build(by_month) -%}
    {%- set column = by_month['column'] -%}
    {%- set query -%}
        select distinct strftime({{ column }}, '%Y-%m-%d') from {{ ref(by_month['months_from']) }}
        {% if is_incremental() %}where {{ in_month_window(column) }}{% endif %}
        order by 1
    {%- endset -%}
    {{ return(run_query(query).columns[0].values() | list) }}
{%- endmacro %}

{#- dbt-duckdb's create_table_as, month by month for a model configured built_by_month. The variable is set
    before each statement and reset after the last, and only month-by-month models read it. -#}
{% macro duckdb__create_table_as(
    temporary, relation, compiled_code, language='sql', partitioned_by=none, sorted_by=none
) -%}
    {%- set by_month = config.get('built_by_month') if language == 'sql' else none -%}
    {%- if not by_month -%}
        {{ return(dbt.duckdb__create_table_as(
            temporary, relation, compiled_code, language, partitioned_by, sorted_by
        )) }}
    {%- endif -%}
    {%- set target = relation.include(database=(not temporary), schema=(not temporary)) -%}
    {%- set months = months_to_build(by_month) -%}
    {#- The table is created from the first month's rows, never empty: DuckDB 2.0.0 answered filters and
        GROUP BYs over a table created empty and then filled by large inserts in the same transaction (as dbt
        runs a model) as if it held no rows, so the month went missing downstream (seen at national size only;
        `0001-01-01` matches no month, for a window with none). -#}
    set variable police_build_month = cast('{{ months[0] if months else "0001-01-01" }}' as date);
    {{ dbt.duckdb__create_table_as(temporary, relation, compiled_code, language, partitioned_by, sorted_by) }}
    {% for month in months[1:] %}
    set variable police_build_month = cast('{{ month }}' as date);
    insert into {{ target }} select * from ({{ compiled_code }}) as month_rows;
    {% endfor %}
    reset variable police_build_month;
{%- endmacro %}
