"""What the register tells a user who gave it something it cannot take. Each is a SecpostureError:
the command line prints one line and exits 2, and nothing of the failed change is written."""

from __future__ import annotations

from secposture.errors import SecpostureError


class RegisterError(SecpostureError):
    """A register operation was refused; the message names the record and field."""


class NotFound(RegisterError):
    """No such product, risk, issue, ..."""


class Duplicate(RegisterError):
    """The record already exists (same product name, same review on the same day, ...)."""


class InvalidField(RegisterError):
    """A value that cannot be stored: the message starts with the field's name."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.detail = message


class Conflict(RegisterError):
    """Someone else changed the record first (optimistic locking): reload and try again."""


class DatabaseError(RegisterError):
    """The database could not be opened, reached or migrated."""
