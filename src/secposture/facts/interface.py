"""The facts stage: typed views of a snapshot (languages, workflows, pre-commit hooks, ADRs, ...).

A collector is a plain function `collect(facts) -> T`; `Facts.get(collect)` runs it at most once per
scan, so probes share parsed files and a scan parses only what its enabled probes need. A file that
cannot be used (malformed, binary, too large, a link out) becomes a Problem that the report shows
and that the probes relying on it cite as evidence; it never stops the scan.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date
from fnmatch import translate
from functools import cache, cached_property
from typing import Any, TypeVar

from secposture.model import Problem
from secposture.policy import Policy
from secposture.sources.interface import Snapshot, UnreadableFile
from secposture.sources.local import is_excluded

T = TypeVar("T")


@cache
def glob_matcher(globs: tuple[str, ...]) -> Callable[[str], re.Match[str] | None]:
    """One compiled test for "matches any of these fnmatch globs": a scan tests thousands of
    paths against dozens of globs, and one regex is many times faster than a loop of fnmatch."""
    if not globs:
        return lambda _path: None
    return re.compile("|".join(f"(?:{translate(g)})" for g in globs)).match


class Facts:
    def __init__(self, snapshot: Snapshot, policy: Policy, today: date) -> None:
        self.snapshot = snapshot
        self.policy = policy
        self.today = today
        self.problems: list[Problem] = []
        self._cache: dict[Callable[[Facts], Any], Any] = {}
        self._texts: dict[str, str | None] = {}
        self._problem_by_path: dict[str, Problem] = {}

    def get(self, collector: Callable[[Facts], T]) -> T:
        """The collector's result for this snapshot, computed on first use."""
        if collector not in self._cache:
            self._cache[collector] = collector(self)
        result: T = self._cache[collector]
        return result

    @cached_property
    def paths(self) -> tuple[str, ...]:
        """Tracked paths, less vendored/generated folders and the policy's `exclude` globs."""
        p = self.policy
        return tuple(
            path
            for path in self.snapshot.paths
            if not is_excluded(path, p.excluded_dirs, p.exclude)
        )

    @cached_property
    def all_paths(self) -> frozenset[str]:
        """Every tracked path, excluded ones too: for files looked up by exact name."""
        return frozenset(self.snapshot.paths)

    def exists(self, path: str) -> bool:
        return path in self.all_paths

    def matching(self, *globs: str, among: Iterable[str] | None = None) -> list[str]:
        """Paths (not excluded) that match any of the globs; `*` crosses folders, as in fnmatch."""
        match = glob_matcher(globs)
        return [p for p in (self.paths if among is None else among) if match(p)]

    def matching_re(self, pattern: str) -> list[str]:
        rx = re.compile(pattern)
        return [p for p in self.paths if rx.search(p)]

    def read(self, path: str) -> str | None:
        """The text of a tracked file, or None (recording a Problem) when it cannot be used."""
        if path in self._texts:
            return self._texts[path]
        text: str | None
        try:
            text = self.snapshot.read_text(path)
        except UnreadableFile as exc:
            self.problem(path, str(exc))
            text = None
        self._texts[path] = text
        return text

    def files_read(self) -> list[str]:
        """The paths this scan has read so far (for benchmarks and the GitHub fetch plan)."""
        return list(self._texts)

    def problem(self, path: str, message: str, line: int | None = None) -> Problem:
        """Record that a file could not be used; the first problem per file is kept."""
        if path in self._problem_by_path:
            return self._problem_by_path[path]
        found = Problem(path=path, message=message, line=line)
        self._problem_by_path[path] = found
        self.problems.append(found)
        return found

    def problem_for(self, path: str) -> Problem | None:
        return self._problem_by_path.get(path)
