"""CODEOWNERS: which file GitHub uses, and its rules and syntax errors, line by line.

GitHub reads the first of .github/CODEOWNERS, CODEOWNERS and docs/CODEOWNERS; a line is a pattern
followed by zero or more owners (@user, @org/team or an email address). Some gitignore syntax does
not work there (negation, character ranges), and GitHub ignores a file over 3 MB.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from secposture.facts.interface import Facts
from secposture.model import Problem

PLACES = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")
GITHUB_MAX_BYTES = 3 * 1024 * 1024

# Usernames: letters, digits, hyphens (underscore for managed users), at most 39 characters.
_USER = re.compile(r"@[A-Za-z0-9][A-Za-z0-9_-]{0,38}")
_TEAM = re.compile(r"@[A-Za-z0-9][A-Za-z0-9_-]{0,38}/[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
_EMAIL = re.compile(r"[^@\s]{1,200}@[^@\s.]{1,200}(?:\.[^@\s.]{1,200}){1,20}")


@dataclass(frozen=True)
class Rule:
    line: int
    pattern: str
    owners: tuple[str, ...]


@dataclass(frozen=True)
class LineError:
    line: int
    message: str


@dataclass
class Codeowners:
    """The CODEOWNERS file GitHub would use, parsed; `problem` is set when it could not be read."""

    path: str
    ignored: tuple[str, ...] = ()  # other CODEOWNERS files GitHub does not read
    problem: Problem | None = None
    rules: list[Rule] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)


def tokens(line: str) -> list[str]:
    """Split on whitespace, keeping backslash-escaped spaces inside a token (`docs/my\\ file`)."""
    out: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(line):
        ch = line[i]
        if ch == "\\" and i + 1 < len(line):
            current.append(line[i : i + 2])
            i += 2
            continue
        if ch.isspace():
            if current:
                out.append("".join(current))
                current = []
        else:
            current.append(ch)
        i += 1
    if current:
        out.append("".join(current))
    return out


def is_owner(token: str) -> bool:
    return any(rx.fullmatch(token) for rx in (_USER, _TEAM, _EMAIL))


def pattern_error(pattern: str) -> str | None:
    if pattern.startswith("!"):
        return f"pattern {pattern!r} uses `!` negation, which GitHub does not support"
    if "[" in pattern or "]" in pattern:
        return (
            f"pattern {pattern!r} uses `[ ]` (a character range or a GitLab section), "
            "which GitHub does not support"
        )
    if pattern.startswith("@"):
        return f"line starts with the owner {pattern!r}: a pattern must come first"
    return None


def parse_line(number: int, raw: str) -> Rule | LineError | None:
    """One line: a Rule, a LineError, or None for a blank or comment line."""
    parts = tokens(raw)
    if not parts or parts[0].startswith("#"):
        return None
    pattern, rest = parts[0], parts[1:]
    error = pattern_error(pattern)
    if error is not None:
        return LineError(number, error)
    owners: list[str] = []
    for token in rest:
        if token.startswith("#"):  # an inline comment ends the owners
            break
        if not is_owner(token):
            return LineError(
                number, f"owner {token[:80]!r} is not an @user, @org/team or email address"
            )
        owners.append(token)
    return Rule(number, pattern, tuple(owners))


def parse(path: str, text: str) -> Codeowners:
    found = Codeowners(path=path)
    for number, raw in enumerate(text.splitlines(), start=1):
        parsed = parse_line(number, raw)
        if isinstance(parsed, Rule):
            found.rules.append(parsed)
        elif isinstance(parsed, LineError):
            found.errors.append(parsed)
    return found


def collect(facts: Facts) -> Codeowners | None:
    """The CODEOWNERS file GitHub uses, or None when the repository has none."""
    present = [p for p in PLACES if facts.exists(p)]
    if not present:
        return None
    path, ignored = present[0], tuple(present[1:])
    text = facts.read(path)
    if text is None:
        problem = facts.problem_for(path) or facts.problem(path, "cannot be read")
        return Codeowners(path=path, ignored=ignored, problem=problem)
    if len(text.encode("utf-8", "surrogatepass")) > GITHUB_MAX_BYTES:
        problem = facts.problem(path, "is over 3 MB: GitHub ignores a CODEOWNERS file this large")
        return Codeowners(path=path, ignored=ignored, problem=problem)
    found = parse(path, text)
    found.ignored = ignored
    return found
