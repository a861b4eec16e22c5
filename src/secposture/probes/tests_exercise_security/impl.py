from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from secposture import catalogue
from secposture.facts import languages, tools
from secposture.facts.interface import Facts, glob_matcher
from secposture.model import Finding, Location, Outcome
from secposture.probes.interface import finding

PROBE = "tests-exercise-security"
_SNIPPET = 80


@dataclass(frozen=True)
class Evidence:
    path: str
    line: int
    category: str
    snippet: str


@cache
def _config() -> dict[str, Any]:
    return catalogue.load("security_tests")


@cache
def _keywords() -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple((name, re.compile(p, re.IGNORECASE)) for name, p in _config()["keywords"].items())


# Escapes that mean the same in ASCII and in Unicode mode over ASCII text: \w \d \b and escaped
# punctuation; not \s (Unicode mode also matches \x1c-\x1f), nor \x \u \N or octal escapes.
_SAME_IN_ASCII = re.compile(r"(?:[^\\]|\\[wWdDbB]|\\[^0-9A-Za-z])*")
# Groups other than these may carry inline flags (`(?-i:...)`) or names: not lower-cased.
_PLAIN_GROUPS = ("(?:", "(?=", "(?!", "(?<=", "(?<!")


@cache
def _ascii_keywords() -> tuple[bool, tuple[tuple[str, re.Pattern[str]], ...]]:
    """(whether to lower-case the text first, the keyword patterns) for ASCII text.

    In ASCII mode the patterns are twice as fast as in Unicode mode (no Unicode case folding)
    and match the same there, when each is ASCII and uses only escapes that mean the same in
    both modes. Lower-cased, for lower-cased text, they need no IGNORECASE and are faster
    again; an ASCII letter matches the same either way, and lower-casing ASCII text keeps every
    offset.
    """
    patterns = _config()["keywords"]
    if not all(p.isascii() and _SAME_IN_ASCII.fullmatch(p) for p in patterns.values()):
        return False, _keywords()
    lowered = {name: _lower_cased(p) for name, p in patterns.items()}
    if all(p is not None for p in lowered.values()):
        return True, tuple((name, re.compile(str(p), re.ASCII)) for name, p in lowered.items())
    return False, tuple(
        (name, re.compile(p, re.IGNORECASE | re.ASCII)) for name, p in patterns.items()
    )


def _lower_cased(pattern: str) -> str | None:
    """The pattern with its letters (not its escapes) in lower case, or None where that could
    change what it matches case-insensitively: a range in a character class (`[A-z]` holds
    punctuation `[a-z]` does not), or a group that may carry flags or a name."""
    out: list[str] = []
    i, n = 0, len(pattern)
    class_start = -1  # index of the first member of the open character class, or -1
    while i < n:
        c = pattern[i]
        if c == "\\":
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if class_start >= 0:
            if c == "]" and i > class_start:
                class_start = -1
            elif c == "-" and i > class_start and pattern[i + 1 : i + 2] != "]":
                return None  # a range
        elif c == "[":
            class_start = i + 2 if pattern[i + 1 : i + 2] == "^" else i + 1
        elif c == "(" and pattern.startswith("(?", i) and not pattern.startswith(_PLAIN_GROUPS, i):
            return None
        out.append(c.lower())
        i += 1
    return "".join(out)


def test_files(facts: Facts) -> list[str]:
    """Test files that are code, the ones whose names suggest security first."""
    spec = _config()
    suffixes = tuple(spec["code_suffixes"])
    globs = spec["test_globs"]
    words = spec["priority_words"]
    is_test = glob_matcher(tuple(globs))
    found = [p for p in facts.paths if p.endswith(suffixes) and is_test(p)]
    priority = _priority(tuple(words))
    return sorted(found, key=lambda p: (priority(p.lower()) is None, p))


@cache
def _priority(words: tuple[str, ...]) -> Callable[[str], re.Match[str] | None]:
    """Whether a (lower-case) path has one of the priority words: one search for them all."""
    if not words:
        return lambda _path: None
    return re.compile("|".join(re.escape(w) for w in words)).search


def scan_text(path: str, text: str) -> Evidence | None:
    """The first security keyword in a test file (in catalogue order), with its line."""
    # One search per category, the earliest match winning (the first category on a tie): the
    # same answer as one alternation of them all, and faster, as each pattern alone can skip
    # ahead where the alternation tries every category at every position.
    start, name = len(text) + 1, None
    subject, patterns = text, _keywords()
    if text.isascii():
        lower, patterns = _ascii_keywords()
        subject = text.lower() if lower else text
    for category, pattern in patterns:
        match = pattern.search(subject)
        if match is not None and match.start() < start:
            start, name = match.start(), category
    if name is None:
        return None
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", start)
    line = text[line_start : line_end if line_end >= 0 else len(text)].strip()
    snippet = line if len(line) <= _SNIPPET else line[: _SNIPPET - 1] + "…"
    return Evidence(path, text.count("\n", 0, start) + 1, name, snippet)


def find_evidence(facts: Facts) -> tuple[list[Evidence], int, int]:
    """(evidence, files read, test files) reading at most the policy's limit, stopping early."""
    files = test_files(facts)
    enough = int(_config()["enough_files"])
    found: list[Evidence] = []
    read = 0
    for path in files[: facts.policy.max_test_files_read]:
        text = facts.read(path)
        read += 1
        if text is None:
            continue
        evidence = scan_text(path, text)
        if evidence is not None:
            found.append(evidence)
            if len(found) >= enough:
                break
    return found, read, len(files)


def run(facts: Facts) -> list[Finding]:
    if not facts.get(languages.collect):
        return [
            finding(
                PROBE,
                Outcome.NOT_APPLICABLE,
                "the repository has no code in a language secposture knows",
            )
        ]
    out: list[Finding] = []
    dast = [u for u in facts.get(tools.ci_uses) if u.has_purpose("dast")]
    for use in list({u.tool.id: u for u in dast}.values()):
        out.append(
            finding(
                PROBE, Outcome.POSITIVE, f"a DAST scan runs in CI: {use.describe()}", use.location
            )
        )
    evidence, read, total = find_evidence(facts)
    for item in evidence:
        message = (
            f"tests exercise security ({item.category}): {item.path}:{item.line} `{item.snippet}`"
        )
        out.append(finding(PROBE, Outcome.POSITIVE, message, Location(item.path, item.line)))
    if out:
        return out
    return [finding(PROBE, Outcome.NEGATIVE, _negative(facts, read, total))]


def _negative(facts: Facts, read: int, total: int) -> str:
    categories = ", ".join(name for name, _ in _keywords())
    if total == 0:
        return "no test files found (tests/, test/, __tests__/, spec/, *_test.go, test_*.py, *.test.ts, *Test.java, ...) and no DAST scan (such as OWASP ZAP) runs in CI"
    if facts.policy.max_test_files_read == 0:
        return f"{total} test files, none read (limits.max_test_files_read = 0), and no DAST scan runs in CI"
    limited = f" (the first {read} of {total}: limits.max_test_files_read)" if read < total else ""
    return f"none of the {read} test files read{limited} exercises security behaviour ({categories}), and no DAST scan (such as OWASP ZAP) runs in CI"
