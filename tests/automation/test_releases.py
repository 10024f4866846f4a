from police_assets.automation.releases import Cursor, contiguous_runs, decide, fingerprint, plan_release, run_key
from police_assets.core.months import month_range


def test_fingerprint_changes_with_crc_size_or_membership():
    base = {"2024-01/2024-01-kent-street.csv": ("0a0b0c0d", 100), "2024-01/2024-01-btp-street.csv": ("01020304", 7)}
    assert fingerprint(base) == fingerprint(dict(reversed(list(base.items()))))  # order does not matter
    assert fingerprint(base) != fingerprint({**base, "2024-01/2024-01-kent-street.csv": ("ffffffff", 100)})
    assert fingerprint(base) != fingerprint({**base, "2024-01/2024-01-kent-street.csv": ("0a0b0c0d", 101)})
    assert fingerprint(base) != fingerprint({**base, "2024-01/2024-01-gwent-street.csv": ("00000000", 1)})
    assert fingerprint(base) != fingerprint({k: v for k, v in base.items() if "btp" not in k})


def test_contiguous_runs():
    assert contiguous_runs(["2024-05", "2024-01", "2024-02", "2023-12"]) == [
        ["2023-12", "2024-01", "2024-02"],
        ["2024-05"],
    ]
    assert contiguous_runs([]) == []


def test_plan_new_revised_and_untouched():
    archive = {"2024-01": "a", "2024-02": "b", "2024-03": "c", "2024-04": "d"}
    loaded = {"2024-01": "a", "2024-02": "OLD"}
    plan = plan_release(archive, loaded, wanted_months={"2024-01", "2024-02", "2024-03", "2024-04"})
    assert plan.new == ["2024-03", "2024-04"] and plan.revised == ["2024-02"]


def test_plan_never_asks_for_months_the_archive_does_not_list_or_that_are_in_flight():
    archive = {"2024-01": "a", "2024-02": "b"}
    plan = plan_release(archive, {}, wanted_months={"2024-01", "2024-02", "2024-03"}, in_flight={"2024-02"})
    assert plan.new == ["2024-01"] and not plan.revised  # 2024-03 is wanted but not published


def test_cursor_round_trip_and_run_keys():
    c = Cursor("2024-05-01", {"k": ["2024-03"]}, {"2024-03": 1})
    assert Cursor.load(c.dump()) == c and Cursor.load(None) == Cursor()
    fps = {"2024-03": "abc"}
    assert run_key("2024-05-01", ["2024-03"], fps, 1) != run_key("2024-05-01", ["2024-03"], fps, 2)
    assert run_key("2024-05-01", ["2024-03"], fps, 1) != run_key("2024-05-01", ["2024-03"], {"2024-03": "x"}, 1)


def test_coverage_check_reports_what_the_coverage_mart_marks_and_the_newest_month():
    """The rule lives in the mart (its dbt unit test); the check lists every missing, empty and partial
    force-month, never 'never' (a dataset the force does not publish) nor 'complete'."""
    import duckdb

    from police_assets.core import config
    from police_assets.transform.checks import coverage_problems

    con = duckdb.connect()
    con.execute("CREATE SCHEMA marts")
    con.execute(
        """CREATE TABLE marts.fct_force_month_coverage AS SELECT * FROM (VALUES
            (DATE '2024-01-01', 'kent', 'street', 'complete', 100, 100.0),
            (DATE '2024-02-01', 'kent', 'street', 'partial', 40, 100.0),
            (DATE '2024-03-01', 'kent', 'street', 'missing', 0, 70.0),
            (DATE '2024-03-01', 'essex', 'street', 'empty', 0, 10.0),
            (DATE '2024-03-01', 'northern-ireland', 'outcomes', 'never', 0, NULL)
        ) v(file_month, force_id, dataset_name, coverage_status, record_count, reference_record_count)"""
    )
    seed = config.PROJECT_ROOT / "dbt" / "seeds" / "coverage_statuses.csv"  # the statuses' meanings, as dbt seeds them
    con.execute(f"CREATE TABLE marts.dim_coverage_statuses AS SELECT * FROM read_csv('{seed}')")
    newest, problems = coverage_problems(con)
    assert newest == "2024-03"
    assert [(p[0], p[1], p[3]) for p in problems] == [
        ("2024-02", "kent", "partial"),
        ("2024-03", "essex", "empty"),
        ("2024-03", "kent", "missing"),
    ]


# --- the sensor's decision, without Dagster -------------------------------------------------------------------

PARTITIONS = set(month_range("2010-12", "2024-12"))


def test_decide_requests_one_run_per_contiguous_stretch_of_new_and_revised_months():
    cursor = Cursor()
    archive = {"2024-01": "a", "2024-02": "b", "2024-03": "c", "2024-04": "d"}
    decision = decide(cursor, "2024-05-02", archive, {"2024-01": "a", "2024-02": "OLD"}, PARTITIONS)
    assert [(months, reason) for _, months, reason in decision.runs] == [
        (["2024-03", "2024-04"], "new"),
        (["2024-02"], "revised"),
    ]
    assert decision.skip_reason is None and cursor.last_updated == "2024-05-02"
    assert sorted(cursor.pending.values()) == [["2024-02"], ["2024-03", "2024-04"]]
    # the same release again, with those runs in flight: nothing more is asked for
    again = decide(cursor, "2024-05-02", archive, {"2024-01": "a", "2024-02": "OLD"}, PARTITIONS)
    assert again.runs == [] and "changes nothing" in again.skip_reason


def test_decide_keeps_months_that_aged_out_of_the_archive_and_never_requests_them():
    # loaded 2021-01..2024-01; the new archive holds 2021-02..2024-02: 2021-01 aged out of the source
    loaded = {m: f"fp-{m}" for m in month_range("2021-01", "2024-01")}
    archive = {m: f"fp-{m}" for m in month_range("2021-02", "2024-02")}
    decision = decide(Cursor(), "2024-04-01", archive, loaded, PARTITIONS)
    assert [(months, reason) for _, months, reason in decision.runs] == [(["2024-02"], "new")]


def test_decide_retries_failed_months_once_and_respects_the_start_month_and_partitions():
    cursor = Cursor(last_updated="2024-04-01", retry=["2023-06", "2024-01"])
    archive = {m: "x" for m in month_range("2023-05", "2024-02")}
    loaded = dict.fromkeys(month_range("2023-05", "2024-02"), "x")
    decision = decide(cursor, "2024-04-01", archive, loaded, PARTITIONS - {"2024-01"}, start="2023-07")
    # 2023-06 is before the start month and 2024-01 is no partition: neither is requested, both leave the list
    assert decision.runs == [] and cursor.retry == []
    cursor.retry = ["2023-08"]
    retried = decide(cursor, "2024-04-01", archive, loaded, PARTITIONS)
    assert [(months, reason) for _, months, reason in retried.runs] == [(["2023-08"], "retry")]
    # that run failed too: the next request of the month has a new run key, so Dagster launches it again
    cursor.pending.clear()
    cursor.retry = ["2023-08"]
    second = decide(cursor, "2024-04-01", archive, loaded, PARTITIONS)
    assert second.runs[0][0] == retried.runs[0][0] + " retry 1" and cursor.attempts["2023-08"] == 2
