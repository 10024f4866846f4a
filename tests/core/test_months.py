import pytest

from police_assets.core.months import (
    InvalidMonth,
    add_months,
    archive_month_for,
    month_range,
    months_between,
    parse_month,
)


@pytest.mark.parametrize("bad", ["2024-1", "2024-13", "2024-00", "24-01", "2024-01-01", "", "2024/01"])
def test_parse_month_rejects_other_forms(bad):
    with pytest.raises(InvalidMonth):
        parse_month(bad)


@pytest.mark.parametrize(
    "month,n,expected",
    [
        ("2024-01", 1, "2024-02"),
        ("2024-12", 1, "2025-01"),
        ("2024-01", -1, "2023-12"),
        ("2010-12", 36, "2013-12"),
        ("2024-03", 0, "2024-03"),
        ("2024-03", -27, "2021-12"),
    ],
)
def test_add_months(month, n, expected):
    assert add_months(month, n) == expected
    assert months_between(month, expected) == n


def test_month_range_inclusive_and_ordered():
    assert month_range("2023-11", "2024-02") == ["2023-11", "2023-12", "2024-01", "2024-02"]
    with pytest.raises(ValueError):
        month_range("2024-02", "2024-01")


@pytest.mark.parametrize(
    "month,latest,expected",
    [
        ("2024-03", "2024-03", "2024-03"),  # the newest month: the newest archive
        ("2021-04", "2024-03", "2024-03"),  # 35 months back: still in the newest archive (36-month window)
        ("2021-03", "2024-03", "2024-02"),  # 36 back: fell out; the newest archive still holding it
        ("2010-12", "2024-03", "2013-11"),  # the first month ever
    ],
)
def test_archive_month_for_picks_newest_archive_holding_the_month(month, latest, expected):
    assert archive_month_for(month, latest) == expected
    assert month in archive_holds(expected)


def archive_holds(archive: str) -> list[str]:
    """data.police.uk's rule, restated here as the tests' own oracle: an archive holds the 36 months ending at
    its own month, and nothing before 2010-12."""
    return [m for m in (add_months(archive, -i) for i in range(36)) if m >= "2010-12"][::-1]


def test_archive_month_for_refuses_unpublished_and_prehistoric_months():
    with pytest.raises(ValueError, match="not published yet"):
        archive_month_for("2024-04", "2024-03")
    with pytest.raises(ValueError, match="before the first"):
        archive_month_for("2010-11", "2024-03")


def test_every_month_of_an_archive_is_read_from_it_or_a_newer_one():
    assert len(archive_holds("2024-03")) == 36 and archive_holds("2024-03")[0] == "2021-04"
    assert archive_holds("2011-02") == ["2010-12", "2011-01", "2011-02"]
    for month in archive_holds("2024-03"):  # with 2024-03 the newest, all its months come from it
        assert archive_month_for(month, "2024-03") == "2024-03"
