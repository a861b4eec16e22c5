"""Regular expressions that come from a policy file run on RE2 (docs/adr/0011-*.md).

A policy's `[[tools]] commands` are searched over every command a repository's CI runs. Python's
engine backtracks: `^(a|aa)+$` against a line of sixty a's and a b takes hours. RE2 matches in time
linear in the text and bounds each pattern's memory, so a hostile (or careless) pattern cannot hang
a scan. What RE2 does not support (backreferences, lookaround) is a policy error, never a fallback.
The shipped catalogue's patterns are reviewed with the code and stay on `re` (one uses a lookahead).
"""

from __future__ import annotations

from typing import Any, Protocol

MAX_PATTERN_MEMORY = 256 * 1024  # bytes of RE2 program and cache per pattern
MAX_JOINED_MEMORY = 8 * 1024 * 1024  # for one search over a policy's patterns joined together


class Pattern(Protocol):
    """What the tool catalogue needs of a compiled pattern, from `re` or from RE2."""

    @property
    def pattern(self) -> str: ...

    @property
    def groups(self) -> int: ...

    def search(self, text: str) -> object: ...


def _options(re2: Any, max_mem: int) -> Any:
    options = re2.Options()
    options.log_errors = False  # RE2 would print each refused pattern on stderr
    options.max_mem = max_mem
    return options


def compile_pattern(pattern: str, *, max_mem: int = MAX_PATTERN_MEMORY) -> Pattern:
    """`pattern` compiled by RE2; ValueError with RE2's reason when it cannot be."""
    import re2  # only when a policy has patterns: a plain scan does not load it

    try:
        compiled: Pattern = re2.compile(pattern, options=_options(re2, max_mem))
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise ValueError(str(reason)) from None
    except (TypeError, UnicodeError) as exc:
        raise ValueError(str(exc)) from None
    return compiled
