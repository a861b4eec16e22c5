"""Reading what a form posted: text fields only (no uploads), turned into the types the
register's API takes. Bad values raise the register's InvalidField, so a form answers with the
same words as the command line; the page shows them beside the form, with what was typed."""

from __future__ import annotations

import re
from datetime import date

from starlette.datastructures import FormData

from secposture.register import validate
from secposture.register.errors import InvalidField

_LIST_SEPARATORS = re.compile(r"[\r\n]+")


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
        value = self.text(name).strip()
        return validate.parse_date(name, value) if value else None

    def required_day(self, name: str) -> date:
        return validate.parse_date(name, self.text(name))

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
