"""Credential values are never shown: one registry of the values this process holds, one function
that blanks them out of any text (ADR 0012, amending ADR 0005).

A value is registered when it is wrapped as a secret (`Secret` in sources/github/auth.py does it
for tokens, installation tokens and App JWTs; anything else holding a credential, such as an
OIDC client secret, calls `register`). `redact` is applied where text from outside comes in (every
answer GitHub sends, before it is decoded) and where text goes out (command-line errors and
warnings, log records of secposture and its HTTP client), so a server that echoes the
Authorization header cannot put the token on screen, in a report or in a log.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

MASK = "***"
_MASK_BYTES = MASK.encode()
# Shorter values are not credentials (GitHub's tokens are 40+ characters) and masking them
# would garble ordinary text.
MIN_SECRET_CHARS = 8
# Tokens are minted about hourly; a day's worth is far below this.
MAX_SECRETS = 1024

_lock = threading.Lock()
_values: dict[str, None] = {}  # insertion-ordered: the oldest are forgotten first
# Longest first, so a value that contains another is masked whole; replaced as a whole tuple so
# readers never need the lock.
_texts: tuple[str, ...] = ()
_bytes: tuple[bytes, ...] = ()


def register(value: str) -> None:
    """Blank `value` out of everything redacted from now on."""
    global _texts, _bytes
    if len(value) < MIN_SECRET_CHARS:
        return
    with _lock:
        if value in _values:
            return
        _values[value] = None
        while len(_values) > MAX_SECRETS:
            del _values[next(iter(_values))]
        ordered = tuple(sorted(_values, key=len, reverse=True))
        _texts, _bytes = ordered, tuple(v.encode() for v in ordered)


def redact(text: str) -> str:
    """`text` with every registered credential value replaced by ***."""
    for value in _texts:
        if value in text:
            text = text.replace(value, MASK)
    return text


def redact_bytes(data: bytes) -> bytes:
    """The same for raw bytes (an HTTP body before it is decoded)."""
    for value in _bytes:
        if value in data:
            data = data.replace(value, _MASK_BYTES)
    return data


def redact_tree(value: Any) -> Any:
    """Decoded JSON with every string (keys too) redacted; unchanged when nothing is registered."""
    if not _texts:
        return value
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [redact_tree(v) for v in value]
    if isinstance(value, dict):
        return {redact(str(k)): redact_tree(v) for k, v in value.items()}
    return value


def holds_secret(text: str) -> bool:
    return any(value in text for value in _texts)


class RedactingFilter(logging.Filter):
    """Formats the record's message and blanks credential values out of it (and its exception
    text), so no handler, whatever its format, can write one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _texts:
            return True
        message = record.getMessage()
        if holds_secret(message):
            record.msg = redact(message)
            record.args = None
        if record.exc_info and record.exc_text is None and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            if holds_secret(text):
                record.exc_text = redact(text)
        return True


_FILTER = RedactingFilter()


def guard_logger(name: str) -> None:
    """Redact every record logged on `name` (records of child loggers are guarded by guarding
    the child: a filter on a logger sees only records created there)."""
    logger = logging.getLogger(name)
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
