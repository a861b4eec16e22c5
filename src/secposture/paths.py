"""Tests on repository paths that every stage uses: which paths match a set of globs, and which
are excluded from a scan. Kept apart from the stages so that a source need not import the facts
(or the facts a source) to ask."""

from __future__ import annotations

import re
from collections.abc import Callable
from fnmatch import fnmatchcase, translate
from functools import cache

_WILD = frozenset("*?[")


def _literal(text: str) -> bool:
    return _WILD.isdisjoint(text)


@cache
def glob_matcher(globs: tuple[str, ...]) -> Callable[[str], bool]:
    """One test for "matches any of these fnmatch globs" (`*` crosses folders, as in fnmatch):
    a scan tests thousands of paths against dozens of globs. The usual shapes (`name`, `dir/*`,
    `*.ext`, `*/dir/*`) are string tests; the rest are one compiled regex."""
    exact: set[str] = set()
    prefixes: list[str] = []
    suffixes: list[str] = []
    inner: list[str] = []
    rest: list[str] = []
    for glob in globs:
        core = glob.strip("*")
        if not _literal(core):
            rest.append(glob)
        elif not core and glob:
            return lambda _path: True  # `*` (or `**`) matches every path
        else:
            head, tail = glob.startswith("*"), glob.endswith("*")
            if head and tail:
                inner.append(core)
            elif head:
                suffixes.append(core)
            elif tail:
                prefixes.append(core)
            else:
                exact.add(core)
    starts, ends = tuple(prefixes), tuple(suffixes)
    if not (exact or inner or rest):
        # One string test alone (`*.tf`, `docs/*`): called directly, it costs a third.
        if not starts:
            return lambda path: path.endswith(ends)
        if not ends:
            return lambda path: path.startswith(starts)
    contains = re.compile("|".join(re.escape(c) for c in inner)).search if inner else None
    anchored = [g for g in rest if not g.startswith("*")]
    # `*a*b.py` matches where `a*b.py` matches from some position: searched for, the regex
    # skips ahead to its literal beginning, where matching `.*a.*b\.py` backtracks.
    floating = [g.lstrip("*") for g in rest if g.startswith("*")]
    regex = _joined(anchored).match if anchored else None
    search = _joined(floating).search if floating else None

    def match(path: str) -> bool:
        return (
            path in exact
            or (bool(starts) and path.startswith(starts))
            or (bool(ends) and path.endswith(ends))
            or (contains is not None and contains(path) is not None)
            or (regex is not None and regex(path) is not None)
            or (search is not None and search(path) is not None)
        )

    return match


def _joined(globs: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{translate(g)})" for g in globs))


def is_excluded(path: str, excluded_dirs: frozenset[str], exclude_globs: tuple[str, ...]) -> bool:
    """Whether a repository path is vendored/generated (by folder name) or excluded by policy."""
    parts = path.split("/")
    if any(part in excluded_dirs for part in parts[:-1]):
        return True
    return any(fnmatchcase(path, g) for g in exclude_globs)
