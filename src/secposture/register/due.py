"""When process duties fall due: threat-model reviews, ITHCs, risk reviews, waivers, patches.

Pure date arithmetic; the register decides which records to ask about. The rules:

- A duty done on `last` with an interval of N months falls due N calendar months later,
  clamped to the month's end (reviewed 31 August, every 6 months: due 28 February, or the 29th
  in a leap year).
- A major change recorded after the last review makes the duty due on the change's date.
- A duty never recorded is due now. `DueDate.due_on` is then the date it became due if one is
  known (a major change), else None with the reason "never recorded"; `due_status` treats None
  as overdue. A missing record must never look fine.
- "Today" is a calendar date in the team's time zone (Europe/London by default), not in UTC:
  at 23:30 UTC on 30 June it is already 1 July in London.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from secposture import dates

NEVER_RECORDED = "never recorded"


@dataclass(frozen=True)
class DueDate:
    """When a duty falls due, and why, in words a person can check.

    `due_on` None means due now with no date to count from: the duty was never recorded
    (`reason` is "never recorded"). `due_status(None, ...)` is "overdue". Examples of `reason`:
    "reviewed 2026-05-01, every 6 months"; "major change 2026-09-01 after the last review on
    2026-05-01"; "never recorded"; "never recorded; major change 2026-09-01".
    """

    due_on: date | None
    reason: str


def add_months(d: date, months: int) -> date:
    """`d` moved by `months` calendar months (negative moves back), clamped to the month's end.

    Jan 31 + 1 month is Feb 28 (29 in a leap year); Aug 31 - 6 months is Feb 28/29. Never
    raises: a result past the calendar's edge (after 9999 or before year 1) is date.max or
    date.min, which for a due date reads as "not in any lifetime".
    """
    return dates.add_months(d, months)


def next_due(last: date | None, interval_months: int, major_change: date | None = None) -> DueDate:
    """When a duty done on `last` (None: never recorded) every `interval_months` is next due.

    - Never recorded: due on the major change's date if there is one, else `due_on` None
      (due now, reason "never recorded").
    - Recorded, no major change after it: due `interval_months` after `last`.
    - A major change after `last` (strictly later: a review on the day of the change is taken
      to cover it): due on whichever comes first, the change's date or the interval's end.

    `interval_months` must be at least 1 (ValueError otherwise).
    """
    if isinstance(interval_months, bool) or not isinstance(interval_months, int):
        raise ValueError(f"the interval is a whole number of months, not {interval_months!r}")
    if interval_months < 1:
        raise ValueError(f"the interval must be at least 1 month, not {interval_months}")
    if last is None:
        if major_change is None:
            return DueDate(None, NEVER_RECORDED)
        return DueDate(major_change, f"{NEVER_RECORDED}; major change {major_change}")
    interval_end = add_months(last, interval_months)
    by_interval = DueDate(interval_end, f"reviewed {last}, every {_months(interval_months)}")
    if major_change is None or major_change <= last:
        return by_interval
    if interval_end <= major_change:  # already due before the change: the earlier date counts
        return DueDate(interval_end, f"{by_interval.reason}; major change {major_change} since")
    return DueDate(major_change, f"major change {major_change} after the last review on {last}")


def due_status(due_on: date | None, today: date, within_days: int = 30) -> str:
    """ "overdue" after `due_on`, "due_soon" from `within_days` days before it, else "ok".

    On `due_on` itself the duty is "due_soon", not yet overdue (a patch-by date is the last day
    to patch). None (never recorded, see `next_due`) is "overdue". `within_days` must be >= 0.
    """
    if isinstance(within_days, bool) or not isinstance(within_days, int) or within_days < 0:
        raise ValueError(f"within_days is a whole number of days >= 0, not {within_days!r}")
    if due_on is None or due_on < today:
        return "overdue"
    if (due_on - today) <= timedelta(days=within_days):
        return "due_soon"
    return "ok"


def local_today(tz: str = "Europe/London", now: datetime | None = None) -> date:
    """Today's date in the time zone `tz` (an IANA name such as "Europe/London" or "UTC").

    `now` defaults to the current time; a naive `now` is taken to be UTC. An unknown or
    malformed time-zone name raises ValueError naming it.
    """
    zone = _zone(tz)
    moment = datetime.now(UTC) if now is None else now
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).date()


def _zone(tz: str) -> ZoneInfo:
    name = tz if isinstance(tz, str) else repr(tz)
    shown = repr(name[:60] + ("…" if len(name) > 60 else ""))
    if not isinstance(tz, str) or not tz.strip():
        raise ValueError(f"time zone {shown} is not a time-zone name such as Europe/London")
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(
            f"unknown time zone {shown}: use an IANA name such as Europe/London or UTC"
        ) from None


def _months(count: int) -> str:
    return "month" if count == 1 else f"{count} months"
