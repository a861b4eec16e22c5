"""Month arithmetic for review intervals: clamped to the month's end, leap years included."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secposture.dates import add_months, as_date


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2027, 1, 31), 1, date(2027, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),  # leap year
        (date(2028, 2, 29), 12, date(2029, 2, 28)),
        (date(2028, 2, 29), 48, date(2032, 2, 29)),
        (date(2026, 8, 31), 6, date(2027, 2, 28)),
        (date(2026, 3, 31), 1, date(2026, 4, 30)),
        (date(2026, 11, 29), 6, date(2027, 5, 29)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 1, 15), -1, date(2025, 12, 15)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 5, 5), 0, date(2026, 5, 5)),
        (date(2026, 5, 5), 120, date(2036, 5, 5)),
        (date(9999, 12, 1), 1, date.max),  # past the calendar's end: clamped, not an error
        (date(1, 1, 1), -1, date.min),
    ],
)
def test_add_months(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


@settings(max_examples=100, deadline=None)
@given(st.dates(min_value=date(1000, 1, 1), max_value=date(8000, 12, 31)), st.integers(-1200, 1200))
def test_add_months_properties(day: date, months: int) -> None:
    moved = add_months(day, months)
    assert (moved.year * 12 + moved.month) - (day.year * 12 + day.month) == months
    assert moved.day == day.day or (
        moved.day < day.day and (moved + (date(2000, 1, 2) - date(2000, 1, 1))).day == 1
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (date(2026, 1, 2), date(2026, 1, 2)),
        (datetime(2026, 1, 2, 23, 59, tzinfo=UTC), date(2026, 1, 2)),
        ("2026-01-02", date(2026, 1, 2)),
        (" 2026-01-02T10:00:00Z ", date(2026, 1, 2)),
        ("2026-01-02 10:00:00+01:00", date(2026, 1, 2)),
        ("2026-02-30", None),
        ("02/01/2026", None),
        ("2026-1-2", None),
        (20260102, None),
        (None, None),
        (True, None),
        (["2026-01-02"], None),
    ],
)
def test_as_date(value: object, expected: date | None) -> None:
    assert as_date(value) == expected


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=60) | st.integers() | st.floats() | st.none())
def test_as_date_never_raises(value: object) -> None:
    result = as_date(value)
    assert result is None or isinstance(result, date)
