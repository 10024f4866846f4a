"""The small pure helpers around dbt: the month window passed as vars, the argv, target housekeeping."""

import json

import pytest

from police_assets.transform.assets import dbt_build_args, dbt_month_vars


@pytest.mark.parametrize(
    "first,last,expected",
    [
        ("2024-01", "2024-01", {"min_month": "2024-01-01", "max_month": "2024-02-01"}),
        ("2023-11", "2024-02", {"min_month": "2023-11-01", "max_month": "2024-03-01"}),  # across a year end
        ("2010-12", "2010-12", {"min_month": "2010-12-01", "max_month": "2011-01-01"}),
    ],
)
def test_dbt_month_vars_are_a_half_open_window_of_first_days(first, last, expected):
    assert dbt_month_vars(first, last) == expected


def test_dbt_build_args():
    args = dbt_build_args("2024-01", "2024-03")
    assert args[:2] == ["build", "--vars"] and json.loads(args[2]) == dbt_month_vars("2024-01", "2024-03")
    assert "--full-refresh" not in args
    assert dbt_build_args("2024-01", "2024-03", full_refresh=True)[-1] == "--full-refresh"


def test_prune_run_targets_keeps_the_newest(tmp_path):
    import os

    from police_assets.transform.assets import prune_run_targets

    for i in range(8):
        d = tmp_path / f"police_dbt_assets-{i:07d}-abc"
        d.mkdir()
        (d / "run_results.json").write_text("{}")
        os.utime(d, (1000 + i, 1000 + i))
    (tmp_path / "manifest.json").write_text("{}")
    assert prune_run_targets(tmp_path, keep=3) == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "manifest.json",
        "police_dbt_assets-0000005-abc",
        "police_dbt_assets-0000006-abc",
        "police_dbt_assets-0000007-abc",
    ]
