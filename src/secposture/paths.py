"""Tests on repository paths that every stage uses: which paths match a set of globs, and which
are excluded from a scan. Kept apart from the stages so that a source need not import the facts
(or the facts a source) to ask."""

from __future__ import annotations

import re
from collections.abc import Callable
from fnmatch import fnmatchcase, translate
from functools import cache, lru_cache

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


@lru_cache(maxsize=1024)
def folder_glob_regex(pattern: str, *, double_star: bool) -> re.Pattern[str]:
    """A glob whose `*` and `?` stay within a folder, as a regex over a relative path: Go's
    filepath.Match as BuildKit matches a COPY source (`double_star=False`), or a gitignore
    pattern, where `**/`, `/**/` and a trailing `/**` also cross folders (`double_star=True`).
    `[...]` is a class (`!` or `^` negates it) and a backslash escapes; a pattern that does not
    compile as such matches only itself."""
    out: list[str] = []
    i = 0
    if double_star and pattern.startswith("**/"):
        out.append("(?:.*/)?")
        i = 3
    while i < len(pattern):
        if double_star and pattern.startswith("/**/", i):
            out.append("/(?:.*/)?")
            i += 4
            continue
        if double_star and pattern.startswith("/**", i) and i + 3 == len(pattern):
            out.append("/.*")
            break
        ch = pattern[i]
        if ch == "*":
            crosses = double_star and pattern.startswith("**", i)
            out.append(".*" if crosses else "[^/]*")
            i += 2 if crosses else 1
            continue
        if ch == "?":
            out.append("[^/]")
        elif ch == "[":
            end = pattern.find("]", i + 2)
            if end < 0:
                out.append(re.escape(ch))
            else:
                body = pattern[i + 1 : end]
                negate = body.startswith(("!", "^"))
                body = body[1:] if negate else body
                out.append("[" + ("^" if negate else "") + body.replace("\\", "\\\\") + "]")
                i = end
        elif ch == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(ch))
        i += 1
    try:
        return re.compile("".join(out))
    except re.error:
        return re.compile(re.escape(pattern))
