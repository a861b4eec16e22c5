"""GitHub Actions expressions (`${{ ... }}`): finding them in text, the context paths they read,
and whether a path is one an outsider controls. Shared by the workflow-security probes.

Scanning is linear in the text (str.find, and regexes without nested quantifiers): workflow files
are hostile input and may be large.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache, lru_cache

from secposture import catalogue
from secposture.facts.interface import Facts

_OPEN, _CLOSE = "${{", "}}"
_MAX_EXPRESSION = 4096  # a longer "expression" is not one GitHub would accept

# A context path: `github` then `.name`, `['name']`, `[0]` or `.*` parts; each part starts with a
# distinct delimiter, so there is nothing to backtrack over.
_CONTEXT = re.compile(
    r"(?<![\w.])((?i:github|env))"
    r"((?:\.[A-Za-z_][\w-]*|\.\*|\[\s*'[^'\]]*'\s*\]|\[\s*\"[^\"\]]*\"\s*\]|\[\s*[\d*]+\s*\])*)"
)
_PART = re.compile(
    r"\.([A-Za-z_][\w-]*|\*)|\[\s*'([^'\]]*)'\s*\]|\[\s*\"([^\"\]]*)\"\s*\]|\[\s*[\d*]+\s*\]"
)


@dataclass(frozen=True)
class Expression:
    text: str  # the whole `${{ ... }}`
    start: int  # offset in the scanned text


@dataclass(frozen=True)
class Config:
    privileged_triggers: frozenset[str]
    checkout_actions: tuple[str, ...]
    checkout_ref_inputs: tuple[str, ...]
    untrusted_refs: tuple[tuple[str, ...], ...]
    untrusted_ref_literals: tuple[str, ...]
    checkout_commands: tuple[re.Pattern[str], ...]
    always_untrusted_commands: tuple[re.Pattern[str], ...]
    untrusted_contexts: tuple[tuple[str, ...], ...]
    script_actions: tuple[str, ...]
    script_inputs: tuple[str, ...]


def _paths(items: Iterable[str]) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(item.lower().split(".")) for item in items)


@cache
def config() -> Config:
    raw = catalogue.load("workflow_security")
    return Config(
        privileged_triggers=frozenset(raw["privileged_triggers"]),
        checkout_actions=tuple(a.lower() for a in raw["checkout_actions"]),
        checkout_ref_inputs=tuple(raw["checkout_ref_inputs"]),
        untrusted_refs=_paths(raw["untrusted_refs"]),
        untrusted_ref_literals=tuple(raw["untrusted_ref_literals"]),
        checkout_commands=tuple(re.compile(p) for p in raw["checkout_commands"]),
        always_untrusted_commands=tuple(re.compile(p) for p in raw["always_untrusted_commands"]),
        untrusted_contexts=_paths(raw["untrusted_contexts"]),
        script_actions=tuple(a.lower() for a in raw["script_actions"]),
        script_inputs=tuple(raw["script_inputs"]),
    )


def expressions(text: str) -> Iterator[Expression]:
    """Every `${{ ... }}` in text, in order; an unclosed one ends the search."""
    pos = 0
    while True:
        start = text.find(_OPEN, pos)
        if start < 0:
            return
        end = text.find(_CLOSE, start + len(_OPEN))
        if end < 0:
            return
        end += len(_CLOSE)
        if end - start <= _MAX_EXPRESSION:
            yield Expression(text[start:end], start)
        pos = end


def context_paths(expression: str) -> list[tuple[str, ...]]:
    """The `github.*` and `env.*` paths an expression reads, lower-cased, indexes as `*`."""
    out = []
    for match in _CONTEXT.finditer(expression):
        parts = [match.group(1).lower()]
        for part in _PART.finditer(match.group(2)):
            name = part.group(1) or part.group(2) or part.group(3)
            parts.append(name.lower() if name is not None else "*")
        out.append(tuple(parts))
    return out


def _segments_match(path: tuple[str, ...], pattern: tuple[str, ...]) -> bool:
    # Equal, an ancestor (an object holding the field) or a descendant: all carry the value.
    return all(a == b or "*" in (a, b) for a, b in zip(path, pattern, strict=False))


def matches_any(path: tuple[str, ...], patterns: Iterable[tuple[str, ...]]) -> bool:
    return path[0] == "github" and any(_segments_match(path, p) for p in patterns)


def untrusted_in(text: str, patterns: Iterable[tuple[str, ...]]) -> list[tuple[Expression, str]]:
    """Expressions in text that read an untrusted path, with the path as written (dotted)."""
    patterns = tuple(patterns)
    found = []
    for expr in expressions(text):
        for path in context_paths(expr.text):
            if matches_any(path, patterns):
                found.append((expr, ".".join(path)))
                break
    return found


def env_names(expression: str) -> list[str]:
    """The `env.NAME` variables an expression reads."""
    return [p[1] for p in context_paths(expression) if p[0] == "env" and len(p) > 1]


def action_name(uses: str) -> str:
    """`owner/repo` (lower-case) of a `uses:` reference, without path and ref."""
    ref = uses.split("@", 1)[0]
    return "/".join(ref.split("/")[:2]).lower()


_SEARCH_LINES = 5000  # how far below a step its text may be (a long `run:` block)


@lru_cache(maxsize=16)
def _lines(text: str) -> list[str]:
    # Cached: several findings in one file search the same text (str hashes are cached too).
    return text.splitlines()


def line_within(facts: Facts, path: str, start_line: int | None, needle: str) -> int | None:
    """The first line at or after start_line whose text contains needle (the first line of it)."""
    if start_line is None:
        return None
    text = facts.read(path)
    if text is None:
        return start_line
    first = needle.splitlines()[0] if needle.strip() else needle
    lines = _lines(text)
    for index in range(start_line - 1, min(len(lines), start_line - 1 + _SEARCH_LINES)):
        if first in lines[index]:
            return index + 1
    return start_line
