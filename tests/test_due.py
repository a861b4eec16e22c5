"""When duties fall due: month arithmetic, major changes, never-recorded duties and time zones."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secposture.register.due import (
    NEVER_RECORDED,
    DueDate,
    add_months,
    due_status,
    local_today,
    next_due,
)

# --- add_months -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),  # leap year
        (date(2026, 8, 31), -6, date(2026, 2, 28)),
        (date(2028, 8, 31), -6, date(2028, 2, 29)),
        (date(2028, 2, 29), 12, date(2029, 2, 28)),
        (date(2028, 2, 29), 48, date(2032, 2, 29)),
        (date(2028, 2, 29), -12, date(2027, 2, 28)),
        (date(2026, 3, 31), 1, date(2026, 4, 30)),
        (date(2026, 11, 29), 6, date(2027, 5, 29)),
        (date(2026, 12, 31), 1, date(2027, 1, 31)),
        (date(2026, 1, 15), -1, date(2025, 12, 15)),
        (date(2026, 5, 5), 0, date(2026, 5, 5)),
        (date(9999, 12, 1), 1, date.max),  # past the calendar: "not in any lifetime"
        (date(1, 1, 1), -1, date.min),
    ],
)
def test_add_months_clamps_to_the_months_end(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


IN_RANGE_DAYS = st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31))
IN_RANGE_MONTHS = st.integers(min_value=-1200, max_value=1200)


@settings(max_examples=300, deadline=None)
@given(IN_RANGE_DAYS, IN_RANGE_MONTHS)
def test_add_months_moves_exactly_n_months_never_past_the_day(day: date, months: int) -> None:
    moved = add_months(day, months)  # never raises for dates in range
    assert (moved.year * 12 + moved.month) - (day.year * 12 + day.month) == months
    assert moved.day <= day.day
    if moved.day < day.day:  # clamped: it is the last day of its month
        assert (moved + timedelta(days=1)).day == 1


@settings(max_examples=300, deadline=None)
@given(IN_RANGE_DAYS, IN_RANGE_MONTHS, IN_RANGE_MONTHS)
def test_add_months_is_monotone_in_months(day: date, first: int, second: int) -> None:
    low, high = sorted((first, second))
    assert add_months(day, low) <= add_months(day, high)


# --- next_due ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("last", "interval", "change", "expected"),
    [
        (
            date(2026, 5, 1),
            6,
            None,
            DueDate(date(2026, 11, 1), "reviewed 2026-05-01, every 6 months"),
        ),
        (
            date(2026, 8, 31),
            6,
            None,
            DueDate(date(2027, 2, 28), "reviewed 2026-08-31, every 6 months"),
        ),
        (
            date(2026, 5, 1),
            1,
            None,
            DueDate(date(2026, 6, 1), "reviewed 2026-05-01, every month"),
        ),
        # A major change after the review makes it due on the change's date.
        (
            date(2026, 5, 1),
            6,
            date(2026, 9, 1),
            DueDate(
                date(2026, 9, 1), "major change 2026-09-01 after the last review on 2026-05-01"
            ),
        ),
        # A change before the review, or on its day, was covered by it.
        (
            date(2026, 5, 1),
            12,
            date(2026, 4, 1),
            DueDate(date(2027, 5, 1), "reviewed 2026-05-01, every 12 months"),
        ),
        (
            date(2026, 5, 1),
            12,
            date(2026, 5, 1),
            DueDate(date(2027, 5, 1), "reviewed 2026-05-01, every 12 months"),
        ),
        # Already due by the interval before the change: the earlier date counts.
        (
            date(2025, 1, 1),
            6,
            date(2026, 9, 1),
            DueDate(
                date(2025, 7, 1),
                "reviewed 2025-01-01, every 6 months; major change 2026-09-01 since",
            ),
        ),
        # Never recorded: due now; with a change, due since the change.
        (None, 6, None, DueDate(None, NEVER_RECORDED)),
        (
            None,
            12,
            date(2026, 9, 1),
            DueDate(date(2026, 9, 1), "never recorded; major change 2026-09-01"),
        ),
    ],
)
def test_next_due(last: date | None, interval: int, change: date | None, expected: DueDate) -> None:
    assert next_due(last, interval, change) == expected


@pytest.mark.parametrize("interval", [0, -6, True, 6.0])
def test_an_interval_must_be_whole_months_of_at_least_one(interval: int) -> None:
    with pytest.raises(ValueError, match="month"):
        next_due(date(2026, 5, 1), interval)


# --- due_status -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("due_on", "today", "within", "status"),
    [
        (date(2026, 11, 28), date(2026, 11, 29), 30, "overdue"),
        (date(2026, 11, 29), date(2026, 11, 29), 30, "due_soon"),  # the last day, not yet overdue
        (date(2026, 12, 29), date(2026, 11, 29), 30, "due_soon"),
        (date(2026, 12, 30), date(2026, 11, 29), 30, "ok"),
        (date(2026, 11, 30), date(2026, 11, 29), 0, "ok"),
        (date(2026, 11, 29), date(2026, 11, 29), 0, "due_soon"),
        (None, date(2026, 11, 29), 30, "overdue"),  # never recorded
    ],
)
def test_due_status(due_on: date | None, today: date, within: int, status: str) -> None:
    assert due_status(due_on, today, within) == status


def test_due_status_looks_30_days_ahead_by_default() -> None:
    assert due_status(date(2026, 12, 29), date(2026, 11, 29)) == "due_soon"
    assert due_status(date(2026, 12, 30), date(2026, 11, 29)) == "ok"


@pytest.mark.parametrize("within", [-1, True, 1.5])
def test_a_bad_window_is_refused(within: int) -> None:
    with pytest.raises(ValueError, match="within_days"):
        due_status(date(2026, 11, 29), date(2026, 11, 29), within)


def test_a_threat_model_review_cycle() -> None:
    """Reviewed on 1 May every 6 months: fine in summer, due soon in October, overdue after
    1 November, and overdue at once after a major change."""
    due = next_due(date(2026, 5, 1), 6)
    assert due_status(due.due_on, date(2026, 7, 1)) == "ok"
    assert due_status(due.due_on, date(2026, 10, 15)) == "due_soon"
    assert due_status(due.due_on, date(2026, 11, 2)) == "overdue"
    changed = next_due(date(2026, 5, 1), 6, major_change=date(2026, 7, 10))
    assert due_status(changed.due_on, date(2026, 7, 11)) == "overdue"
    assert due_status(next_due(None, 6).due_on, date(2026, 7, 11)) == "overdue"


# --- local_today ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "tz", "today"),
    [
        # British Summer Time: 23:30 UTC is 00:30 the next day in London.
        (datetime(2026, 6, 30, 23, 30, tzinfo=UTC), "Europe/London", date(2026, 7, 1)),
        # Greenwich Mean Time in winter: the same calendar day as UTC.
        (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "Europe/London", date(2026, 12, 31)),
        # The clocks go forward at 01:00 UTC on 29 March 2026.
        (datetime(2026, 3, 28, 23, 30, tzinfo=UTC), "Europe/London", date(2026, 3, 28)),
        (datetime(2026, 3, 29, 23, 30, tzinfo=UTC), "Europe/London", date(2026, 3, 30)),
        # A naive time is UTC.
        (datetime(2026, 6, 30, 23, 30), "Europe/London", date(2026, 7, 1)),
        (datetime(2026, 6, 30, 23, 30, tzinfo=UTC), "UTC", date(2026, 6, 30)),
        (datetime(2026, 6, 30, 12, 30, tzinfo=UTC), "Pacific/Auckland", date(2026, 7, 1)),
        # A time given in another offset is converted, not read as London time.
        (
            datetime(2026, 7, 1, 0, 30, tzinfo=timezone(timedelta(hours=2))),
            "Europe/London",
            date(2026, 6, 30),
        ),
    ],
)
def test_local_today(now: datetime, tz: str, today: date) -> None:
    assert local_today(tz, now) == today


def test_local_today_defaults_to_london_now() -> None:
    before = datetime.now(UTC).date()
    today = local_today()
    assert abs((today - before).days) <= 1


@pytest.mark.parametrize(
    "tz", ["Mars/Olympus_Mons", "../etc/passwd", "/etc/localtime", "", "Europe/"]
)
def test_an_unknown_time_zone_is_named(tz: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(tz))):
        local_today(tz)


def test_a_huge_time_zone_name_is_cut_short() -> None:
    with pytest.raises(ValueError) as caught:
        local_today("X" * 5000)
    assert len(str(caught.value)) < 200
