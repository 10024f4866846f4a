from police_assets.releases import Cursor, contiguous_runs, fingerprint, plan_release, run_key


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


def test_coverage_problems_flags_missing_empty_and_sharp_drops_against_the_force_own_level():
    from police_assets.checks import coverage_problems

    months = {f"2024-{m:02d}": (True, 100) for m in range(1, 7)}
    months["2024-07"] = (True, 40)  # under half of its median (100)
    months["2024-08"] = (False, 0)  # no file
    months["2024-09"] = (True, 60)  # above half: fine
    small = {"2024-01": (True, 3), "2024-02": (True, 1)}  # too little history to judge a drop
    problems = coverage_problems({("street", "kent"): months, ("street", "city-of-london"): small})
    assert [(p[0], p[1], p[3]) for p in problems] == [
        ("2024-07", "kent", "below 50% of its median"),
        ("2024-08", "kent", "no file"),
    ]
