"""Calendar arithmetic for review intervals (threat models now, the register's records later)."""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime

# ISO dates as people write them in front matter: 2026-11-29, optionally with a time part.
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ][0-9:.+\-Z]{0,40})?")


def add_months(day: date, months: int) -> date:
    """`day` moved by `months` calendar months, clamped to the month's end (Jan 31 + 1 = Feb 28/29)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(index, 12)
    if not date.min.year <= year <= date.max.year:  # a far-off due date: the calendar's edge
        return date.max if year > date.max.year else date.min
    last = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(day.day, last))


def as_date(value: object) -> date | None:
    """A date from a YAML/TOML value (date, datetime or ISO string); None when it is not one."""
    if isinstance(value, datetime):  # a datetime is a date too: keep only its calendar day
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        return None
    match = _ISO_DATE.fullmatch(value.strip())
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:  # 2026-02-30 and the like
        return None
