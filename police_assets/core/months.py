"""Month arithmetic for data.police.uk.

data.police.uk names every month ``YYYY-MM`` (the month the data describes), in file names, archive names and
API answers alike. These helpers keep months as those strings at the edges and as ``(year, month)`` maths
inside, so partition keys, archive names and dbt vars all agree without any date-library surprises.
"""

from __future__ import annotations

import re

# The first month data.police.uk published street-level crime for.
FIRST_MONTH = "2010-12"

# A bulk archive `YYYY-MM.zip` holds the 36 months ending at its own month.
ARCHIVE_SPAN_MONTHS = 36

_MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class InvalidMonth(ValueError):
    """A string that is not a month in data.police.uk's ``YYYY-MM`` form."""


def parse_month(month: str) -> tuple[int, int]:
    """``"2024-01"`` -> ``(2024, 1)``; anything else raises :class:`InvalidMonth`."""
    m = _MONTH_RE.match(month or "")
    if not m:
        raise InvalidMonth(f"not a month in YYYY-MM form: {month!r}")
    return int(m.group(1)), int(m.group(2))


def is_month(text: str) -> bool:
    """Whether ``text`` is a month in ``YYYY-MM`` form (a folder or file name, say)."""
    try:
        parse_month(text)
    except InvalidMonth:
        return False
    return True


def add_months(month: str, n: int) -> str:
    """The month ``n`` months after ``month`` (``n`` may be negative)."""
    year, mon = parse_month(month)
    index = year * 12 + (mon - 1) + n
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def months_between(start: str, end: str) -> int:
    """How many months ``end`` is after ``start`` (negative when it is before)."""
    (y1, m1), (y2, m2) = parse_month(start), parse_month(end)
    return (y2 * 12 + m2) - (y1 * 12 + m1)


def month_range(start: str, end: str) -> list[str]:
    """Every month from ``start`` to ``end``, both included, oldest first."""
    n = months_between(start, end)
    if n < 0:
        raise ValueError(f"month range runs backwards: {start}...{end}")
    return [add_months(start, i) for i in range(n + 1)]


def archive_month_for(month: str, latest: str) -> str:
    """The bulk archive to read ``month`` from, given the newest published month ``latest``.

    Every archive holds the 36 months ending at its own month, so any archive from ``month`` to ``month + 35``
    holds it. We take the newest of those that exists: the newest archive carries the latest revisions of a
    month (forces re-publish up to a year back), and older archives are the only ones that still hold a month
    that has dropped out of the newest one's 36-month window.
    """
    if months_between(month, latest) < 0:
        raise ValueError(f"{month} is not published yet: the newest month on data.police.uk is {latest}")
    if months_between(FIRST_MONTH, month) < 0:
        raise ValueError(f"{month} is before the first published month, {FIRST_MONTH}")
    return min(latest, add_months(month, ARCHIVE_SPAN_MONTHS - 1), key=lambda m: parse_month(m))
