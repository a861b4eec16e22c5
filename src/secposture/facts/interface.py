"""The facts stage: typed views of a snapshot (languages, workflows, pre-commit hooks, ADRs, ...).

A collector is a plain function `collect(facts) -> T`; `Facts.get(collect)` runs it at most once per
scan, so probes share parsed files and a scan parses only what its enabled probes need. A file that
cannot be used (malformed, binary, too large, a link out) becomes a Problem that the report shows
and that the probes relying on it cite as evidence; it never stops the scan.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable
from datetime import date
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from secposture.facts.paths import PathIndex, set_aside_rules
from secposture.model import Problem, SetAside
from secposture.paths import glob_matcher
from secposture.policy import Policy
from secposture.sources.interface import Snapshot, UnreadableFile

if TYPE_CHECKING:
    from secposture.register.scan_context import RepositoryRecords

T = TypeVar("T")


@cache
def _literal_prefixes(globs: tuple[str, ...]) -> tuple[str, ...]:
    """The globs' literal beginnings (before any wildcard), or () when one has none."""
    out: list[str] = []
    for glob in globs:
        end = min((glob.find(c) for c in "*?[" if c in glob), default=len(glob))
        if end == 0:
            return ()
        out.append(glob[:end])
    return tuple(out)


class Facts:
    def __init__(self, snapshot: Snapshot, policy: Policy, today: date) -> None:
        self.snapshot = snapshot
        self.policy = policy
        self.today = today
        self.problems: list[Problem] = list(snapshot.problems)
        self._cache: dict[Callable[[Facts], Any], Any] = {}
        self._texts: dict[str, str | None] = {}
        self._problem_by_path: dict[str, Problem] = {}
        # Parsed documents by (format, path), shared by the collectors that read the same file.
        self.parsed: dict[tuple[str, str], Any] = {}
        # What the register holds for this repository; None when no register is connected.
        self.records: RepositoryRecords | None = None

    def get(self, collector: Callable[[Facts], T]) -> T:
        """The collector's result for this snapshot, computed on first use."""
        if collector not in self._cache:
            self._cache[collector] = collector(self)
        result: T = self._cache[collector]
        return result

    @cached_property
    def index(self) -> PathIndex:
        """The tracked paths grouped by folder and file name, once per scan."""
        return PathIndex(
            self.snapshot.paths,
            self.policy.excluded_dirs,
            self.policy.exclude,
            set_aside_rules(self.policy.include),
        )

    @property
    def paths(self) -> tuple[str, ...]:
        """The repository's own paths: tracked, less vendored/generated folders and the policy's
        `exclude` globs. Evidence of a practice (tests, tool configurations) is looked for here;
        what the product is, in `product_paths`."""
        return self.index.kept

    @property
    def product_paths(self) -> tuple[str, ...]:
        """What the product is: `paths` less test data, examples and development environments
        (data/defaults.toml `[set_aside]`) unless the policy's `include` puts them back. Languages,
        ecosystems, container images, infrastructure and actions to pin are decided from these;
        tests stay (they are evidence), and so does what GitHub runs (.github/)."""
        return self.index.product.paths

    def in_product(self, path: str) -> bool:
        return path in self.index.product.as_set

    def is_set_aside(self, path: str) -> bool:
        """Whether one of the repository's own paths is test data, an example or a development
        environment (excluded and vendored paths are not: they are not its own at all)."""
        return path in self.index.set_aside_paths

    @property
    def set_aside(self) -> SetAside:
        """What of the repository's own paths is not the product, by folder, for the report."""
        return self.index.set_aside

    @property
    def by_name(self) -> dict[str, list[str]]:
        """Paths (not excluded) by file name, each list in path order."""
        return self.index.by_name

    @property
    def all_paths(self) -> frozenset[str]:
        """Every tracked path, excluded ones too: for files looked up by exact name."""
        return self.index.all_set

    def exists(self, path: str) -> bool:
        return path in self.all_paths

    def matching(self, *globs: str, among: Iterable[str] | None = None) -> list[str]:
        """Paths (not excluded) that match any of the globs; `*` crosses folders, as in fnmatch.
        `among` narrows them: `facts.all_paths`, `facts.product_paths` or any paths.

        Among all tracked paths, the result is in path order."""
        match = glob_matcher(globs)
        prefixes = _literal_prefixes(globs)
        if among is self.all_paths and prefixes:
            # Globs that start with a literal folder or name (`.github/workflows/*.yml`): only
            # the paths sorted under those prefixes can match.
            ordered = self._sorted_all_paths
            found: set[int] = set()
            for prefix in prefixes:
                i = bisect_left(ordered, prefix)
                while i < len(ordered) and ordered[i].startswith(prefix):
                    found.add(i)
                    i += 1
            return [ordered[i] for i in sorted(found) if match(ordered[i])]
        if among is self.all_paths:
            among = self._sorted_all_paths
        elif among is None:
            among = self.index.like(globs)  # those that may match, found without testing all
        elif among is self.product_paths:
            among = self.index.product.like(globs)
        return [p for p in among if match(p)]

    @property
    def _sorted_all_paths(self) -> tuple[str, ...]:
        return self.index.all

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

    def add_referenced(self, key: str, text: str) -> None:
        """A file of another repository, read by its reference (`owner/repo@ref:path`, which no
        tracked path is): `read(key)` gives it, so parsers and line lookups treat it as a file
        (docs/adr/0014-following-references-to-other-repositories.md)."""
        self._texts[key] = text

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
