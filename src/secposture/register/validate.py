"""Checks on what people type into the register. Each returns the clean value or raises
InvalidField naming the field, so the command line, CSV import and the dashboard refuse the same
things with the same words."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date
from urllib.parse import urlsplit

from secposture.register.errors import Conflict, InvalidField

MAX_TEXT = 20_000  # a description or scope: a few pages
MAX_LINE = 300  # a name, a title, a reference
MAX_ITEMS = 100  # participants, links, actions

# GitHub: owner 1-39 characters of letters, digits and single hyphens; name letters, digits, . _ -
_REPOSITORY = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}")
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _shown(value: str) -> str:
    return repr(value if len(value) <= 60 else value[:60] + "…")


def text(field: str, value: str | None, *, max_chars: int = MAX_TEXT) -> str:
    """Required free text: stripped, not empty, no control characters but new lines and tabs."""
    cleaned = (value or "").strip()
    if not cleaned:
        raise InvalidField(field, "required, and empty")
    if len(cleaned) > max_chars:
        raise InvalidField(field, f"too long ({len(cleaned)} characters; at most {max_chars})")
    if _CONTROL_CHARS.search(cleaned):
        raise InvalidField(field, "contains control characters")
    if max_chars <= MAX_LINE and ("\n" in cleaned or "\r" in cleaned):
        raise InvalidField(field, "must be one line")
    return cleaned


def line(field: str, value: str | None) -> str:
    """A required one-line value: a name, a title, a reference."""
    return text(field, value, max_chars=MAX_LINE)


def choice(field: str, value: str | None, options: Sequence[str]) -> str:
    """One of `options`, matched regardless of case; the error lists them."""
    given = (value or "").strip()
    for option in options:
        if given.lower() == option.lower():
            return option
    shown = _shown(given) if given else "nothing"
    raise InvalidField(field, f"{shown} is not one of {', '.join(options)}")


def url(field: str, value: str | None) -> str:
    """An http(s) link with a host: tickets, artefacts and conversations are web pages."""
    link = text(field, value, max_chars=2000)
    if any(ch.isspace() for ch in link):
        raise InvalidField(field, f"{_shown(link)} is not a link (https://...)")
    try:
        parts = urlsplit(link)
    except ValueError:
        raise InvalidField(field, f"{_shown(link)} is not a link (https://...)") from None
    if parts.scheme.lower() not in ("https", "http") or not parts.hostname:
        raise InvalidField(field, f"{_shown(link)} is not a link: give an https:// address")
    return link


def urls(field: str, values: Iterable[str], *, required: bool = True) -> list[str]:
    links = [url(field, v) for v in values if v.strip()]
    if required and not links:
        raise InvalidField(field, "required: give at least one link")
    return _capped(field, list(dict.fromkeys(links)))


def names(field: str, values: Iterable[str], *, required: bool = True) -> list[str]:
    """People or other short items; duplicates dropped, order kept."""
    items = [line(field, v) for v in values if v.strip()]
    if required and not items:
        raise InvalidField(field, "required: give at least one")
    return _capped(field, list(dict.fromkeys(items)))


def _capped(field: str, items: list[str]) -> list[str]:
    if len(items) > MAX_ITEMS:
        raise InvalidField(field, f"too many ({len(items)}; at most {MAX_ITEMS})")
    return items


def repository(field: str, value: str | None) -> str:
    """A GitHub repository as OWNER/REPO, lower case (GitHub names ignore case)."""
    given = (value or "").strip().removeprefix("https://github.com/").removesuffix(".git")
    if not _REPOSITORY.fullmatch(given) or given.endswith("/.") or given.endswith("/.."):
        raise InvalidField(field, f"{_shown(given)} is not a repository: write OWNER/REPO")
    return given.lower()


def likelihood_or_impact(field: str, value: int | str | None) -> int:
    """A 1-5 rating of a risk's likelihood or impact."""
    try:
        number = int(value) if value is not None and str(value).strip() else None
    except ValueError:
        number = None
    if number is None or not 1 <= number <= 5:
        raise InvalidField(field, f"{_shown(str(value or ''))} is not a whole number from 1 to 5")
    return number


def count(field: str, value: int | str | None) -> int:
    """A number of findings: a whole number from 0."""
    try:
        number = int(value) if value is not None and str(value).strip() else 0
    except ValueError:
        raise InvalidField(field, f"{_shown(str(value))} is not a whole number") from None
    if not 0 <= number <= 1_000_000:
        raise InvalidField(field, f"{number} is not a number of findings (0 or more)")
    return number


def parse_date(field: str, value: str | date | None) -> date:
    """A calendar date written YYYY-MM-DD."""
    if isinstance(value, date):
        return value
    given = (value or "").strip()
    try:
        if len(given) == 10:
            return date.fromisoformat(given)
    except ValueError:
        pass
    raise InvalidField(field, f"{_shown(given) if given else 'nothing'} is not a date (YYYY-MM-DD)")


def not_future(field: str, day: date, today: date) -> date:
    """Records say what happened: a review held in the future is a typo."""
    if day > today:
        raise InvalidField(field, f"{day} is in the future (today is {today})")
    return day


def after(field: str, day: date, earliest: date, what: str) -> date:
    if day < earliest:
        raise InvalidField(field, f"{day} is before {what} ({earliest})")
    return day


def version(label: str, current: int, expected: int | None) -> None:
    """A change made from an old copy (a dashboard form) must not overwrite a newer one."""
    if expected is not None and expected != current:
        raise Conflict(
            f"{label} was changed by someone else (now version {current}, you edited version "
            f"{expected}): reload it and make the change again"
        )
