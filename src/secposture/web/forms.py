"""Reading what a form posted: text fields only (no uploads), turned into the types the
register's API takes. Bad values raise the register's InvalidField, so a form answers with the
same words as the command line; the page shows them beside the form, with what was typed.

Dates come as GOV.UK's date input: three boxes, NAME-day, NAME-month and NAME-year, each checked
so that the message says which part is wrong (31 February, a 2-digit year, a missing month).
A single NAME=YYYY-MM-DD, as scripts and older pages post it, is still read."""

from __future__ import annotations

import calendar
import re
from datetime import date

from starlette.datastructures import FormData

from secposture.register import validate
from secposture.register.errors import InvalidField

_LIST_SEPARATORS = re.compile(r"[\r\n]+")
DATE_PARTS = ("day", "month", "year")
_DAY = re.compile(r"[0-9]{1,2}")
_YEAR = re.compile(r"[1-9][0-9]{3}")
# A month may be typed as its number or its English name ("feb", "February", "sept").
_MONTHS = {
    **{name.lower(): number for number, name in enumerate(calendar.month_name) if name},
    **{name.lower(): number for number, name in enumerate(calendar.month_abbr) if name},
    "sept": 9,
}


class DateFieldError(InvalidField):
    """A date typed into the three boxes that is not a real date; `part` is the box to fix
    (day, month or year), or None when it is the whole date."""

    def __init__(self, field: str, message: str, part: str | None) -> None:
        super().__init__(field, message)
        self.part = part


def parse_day_month_year(field: str, day: str, month: str, year: str) -> date | None:
    """The date in GOV.UK's three boxes; None when all three are empty."""
    given = {"day": day.strip(), "month": month.strip(), "year": year.strip()}
    if not any(given.values()):
        return None
    missing = [part for part in DATE_PARTS if not given[part]]
    if missing:
        raise DateFieldError(field, "must include a " + " and a ".join(missing), missing[0])
    if not _DAY.fullmatch(given["day"]):
        raise DateFieldError(field, "the day must be a number, like 27", "day")
    month_number = _month(given["month"])
    if month_number is None:
        raise DateFieldError(
            field, "the month must be a number from 1 to 12, or its name, like 3 or March", "month"
        )
    if not 1 <= month_number <= 12:
        raise DateFieldError(field, "the month must be from 1 to 12", "month")
    if not _YEAR.fullmatch(given["year"]):
        raise DateFieldError(field, "the year must have 4 numbers, like 2026", "year")
    day_number, year_number = int(given["day"]), int(given["year"])
    days_in_month = calendar.monthrange(year_number, month_number)[1]
    if not 1 <= day_number <= days_in_month:
        name = calendar.month_name[month_number]
        raise DateFieldError(
            field,
            f"{day_number} {name} {year_number} is not a real date: "
            f"{name} {year_number} has {days_in_month} days",
            "day",
        )
    return date(year_number, month_number, day_number)


def _month(text: str) -> int | None:
    if _DAY.fullmatch(text):
        return int(text)
    return _MONTHS.get(text.lower().rstrip("."))


class Form:
    def __init__(self, data: FormData) -> None:
        self._data = data

    def text(self, name: str) -> str:
        value = self._data.get(name)
        if not isinstance(value, str):
            return ""
        # Browsers send a textarea's new lines as CRLF: store them as the command line does.
        return value.replace("\r\n", "\n").replace("\r", "\n")

    def optional(self, name: str) -> str | None:
        value = self.text(name).strip()
        return value or None

    def day(self, name: str) -> date | None:
        """A date from the three boxes NAME-day, NAME-month, NAME-year (None when all are
        empty), or from one NAME=YYYY-MM-DD field."""
        if any(f"{name}-{part}" in self._data for part in DATE_PARTS):
            return parse_day_month_year(name, *(self.text(f"{name}-{p}") for p in DATE_PARTS))
        value = self.text(name).strip()
        return validate.parse_date(name, value) if value else None

    def required_day(self, name: str) -> date:
        found = self.day(name)
        if found is None:
            raise DateFieldError(name, "required: enter a day, month and year", "day")
        return found

    def number(self, name: str) -> int | None:
        value = self.text(name).strip()
        if not value:
            return None
        try:
            return int(value)
        except ValueError:
            raise InvalidField(name, f"{value[:20]!r} is not a whole number") from None

    def lines(self, name: str) -> list[str]:
        """One item a line (participants, links, actions)."""
        return [item.strip() for item in _LIST_SEPARATORS.split(self.text(name)) if item.strip()]

    def checked(self, name: str) -> bool:
        return self.text(name) in ("on", "1", "true", "yes")

    def values(self) -> dict[str, str]:
        """What was typed, to fill the form again after an error (never a password)."""
        return {
            key: value
            for key, value in self._data.items()
            if isinstance(value, str) and "password" not in key and key != "csrf_token"
        }
