#!/bin/bash
# The microbatch evaluation of docs/decisions/0004-month-incremental-models.md: int_street_crimes rebuilt and
# given one month, as today's model (append + pre-hook + window vars) and as a dbt microbatch model, on a copy of
# the national-size warehouse bench/dbt_incremental.py leaves (run that first). Prints dbt's own timings.
#   bash bench/microbatch_eval.sh [/tmp/police-bench-dbt/warehouse.duckdb]
set -euo pipefail
SOURCE=${1:-/tmp/police-bench-dbt/warehouse.duckdb}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir "$WORK/dbt" && (cd "$ROOT/dbt" && tar cf - --exclude=target --exclude=logs .) | (cd "$WORK/dbt" && tar xf -)
cp "$SOURCE" "$WORK/wh.duckdb"
export POLICE_WAREHOUSE=$WORK/wh.duckdb DBT_SEND_ANONYMOUS_USAGE_STATS=false
DBT=$ROOT/.venv/bin/dbt
cd "$WORK/dbt"
run() { "$DBT" run --profiles-dir . -s int_street_crimes "$@" | grep -E "Finished running" || true; }
echo "== today's scheme"
run --full-refresh
run --vars '{"min_month": "2024-01-01", "max_month": "2024-02-01"}'
run --vars '{"min_month": "2024-01-01", "max_month": "2024-02-01"}'
"$ROOT/.venv/bin/python" - <<'PY'
from pathlib import Path
model = Path("models/intermediate/int_street_crimes.sql")
s = model.read_text()
s = s.replace("""        incremental_strategy='append',
        pre_hook="{{ delete_month_window('crime_month') }}",""", """        incremental_strategy='microbatch',
        event_time='crime_month',
        batch_size='month',
        begin='2010-12-01',""")
s = s.replace("""    select * from crimes
    {% if is_incremental() %}
        where {{ in_month_window('crime_month') }}
    {% endif %}""", "    select * from crimes")
assert "microbatch" in s and "in_month_window" not in s.split("selected as")[1].split("keyed as")[0]
model.write_text(s)
staging = Path("models/staging/_staging.yml")
staging.write_text(staging.read_text().replace(
    "  - name: stg_police__street_crimes\n", "  - name: stg_police__street_crimes\n    config:\n      event_time: crime_month\n", 1))
PY
echo "== microbatch"
run --full-refresh
run --event-time-start 2024-01-01 --event-time-end 2024-02-01
run --event-time-start 2024-01-01 --event-time-end 2024-02-01
