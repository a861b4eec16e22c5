"""The tracked paths of a snapshot, split and grouped once per scan.

Many collectors look for files by name (`package.json`, `action.yml`) or by folder (an ADR log, the
issue template folder). Each of them looping over every path, splitting and testing it, was most of
a small repository's scan time; grouped once, they look names and folders up instead.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from fnmatch import fnmatchcase
from functools import cache, cached_property

_WILD = "*?["


def _literal_prefix(glob: str) -> str:
    """The glob's beginning before its first wildcard (all of it when it has none)."""
    return glob[: min((glob.find(c) for c in _WILD if c in glob), default=len(glob))]


def _literal_extension(glob: str) -> str | None:
    """The extension every path the glob matches has (`*.tf`, `requirements*.txt`: the text after
    the file name's last dot), or None when the glob does not fix one."""
    name = glob.rpartition("/")[2]
    _, dot, ext = name.rpartition(".")
    if not dot or not ext or "[" in name or "]" in name or any(c in ext for c in _WILD):
        return None
    return ext


@cache
def _plan(
    globs: tuple[str, ...], by_name: bool
) -> tuple[frozenset[str], frozenset[str], tuple[str, ...]] | None:
    """How to find what may match the globs: (exact names, extensions, literal beginnings), or
    None when one glob fixes none of them (every path is a candidate). Worked out once per glob
    set."""
    names: list[str] = []
    exts: list[str] = []
    prefixes: list[str] = []
    for glob in globs:
        ext = _literal_extension(glob)
        prefix = _literal_prefix(glob)
        if by_name and prefix == glob:
            names.append(glob)
        elif ext is not None:
            exts.append(ext)
        elif prefix:
            prefixes.append(prefix)
        else:
            return None
    return frozenset(names), frozenset(exts), tuple(prefixes)


def _starting_with(ordered: Sequence[str], prefix: str) -> Iterable[int]:
    """Positions of the entries of a sorted sequence that start with `prefix`."""
    i = bisect_left(ordered, prefix)
    while i < len(ordered) and ordered[i].startswith(prefix):
        yield i
        i += 1


class PathIndex:
    """Tracked paths, sorted, grouped by folder and by file name.

    "Kept" paths are the ones not excluded (vendored folders, the policy's `exclude` globs): facts
    about the repository's own code use those; files GitHub reads wherever they are (workflows,
    templates, actions) are looked up among all paths.
    """

    def __init__(
        self, paths: Iterable[str], excluded_dirs: frozenset[str], exclude: tuple[str, ...] = ()
    ) -> None:
        """Paths are excluded by a folder's name (`excluded_dirs`, anywhere on the way) and by
        the policy's `exclude` globs over the whole path (`*` crosses folders)."""
        # Every source lists its paths sorted already (sorting sorted input is one pass): path
        # order is sorted order.
        self.all: tuple[str, ...] = tuple(sorted(paths))
        self.all_set = frozenset(self.all)
        # Every tracked path by folder ("" for the root); kept paths by folder; each list sorted.
        self.folders: dict[str, list[str]] = {}
        self.kept_folders: dict[str, list[str]] = {}
        kept: list[str] = []
        kept_names: list[str] = []
        folders, kept_folders = self.folders, self.kept_folders
        for path in self.all:
            folder, _, name = path.rpartition("/")
            in_folder = folders.get(folder)
            if in_folder is None:
                in_folder = folders[folder] = []
                # A folder's name decides for all of its files: tested once per folder.
                if not folder or excluded_dirs.isdisjoint(folder.split("/")):
                    kept_folders[folder] = []
            in_folder.append(path)
            kept_here = kept_folders.get(folder)
            if kept_here is None or (exclude and any(fnmatchcase(path, g) for g in exclude)):
                continue
            kept_here.append(path)
            kept.append(path)
            kept_names.append(name)
        for folder in [f for f, found in kept_folders.items() if not found]:
            del kept_folders[folder]  # every file excluded by the policy's globs
        self.kept: tuple[str, ...] = tuple(kept)
        self.kept_names: tuple[str, ...] = tuple(kept_names)  # the file name of each kept path

    @property
    def by_name(self) -> dict[str, list[str]]:
        """Kept paths by file name, each list sorted."""
        return self._by_name_and_ext[0]

    @property
    def by_ext(self) -> dict[str, list[str]]:
        """Kept paths by extension (the text after the file name's last dot), each list sorted."""
        return self._by_name_and_ext[1]

    @cached_property
    def _by_name_and_ext(self) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        # One pass for both: most scans use both.
        by_name: dict[str, list[str]] = {}
        by_ext: dict[str, list[str]] = {}
        for path, name in zip(self.kept, self.kept_names, strict=True):
            found = by_name.get(name)
            if found is None:
                by_name[name] = [path]
            else:
                found.append(path)
            _, dot, ext = name.rpartition(".")
            if dot:
                found = by_ext.get(ext)
                if found is None:
                    by_ext[ext] = [path]
                else:
                    found.append(path)
        return by_name, by_ext

    @cached_property
    def kept_set(self) -> frozenset[str]:
        return frozenset(self.kept)

    @cached_property
    def _names_sorted(self) -> list[str]:
        """The kept paths' distinct file names, sorted."""
        return sorted(self.by_name)

    def named_like(self, globs: tuple[str, ...]) -> list[str]:
        """Kept paths whose file name may match one of these file-name globs, sorted: a superset
        (the caller tests each), found by name, extension or name prefix rather than by testing
        every path."""
        plan = _plan(globs, by_name=True)
        if plan is None:
            return list(self.kept)
        names, exts, prefixes = plan
        found: set[str] = set()
        for name in self.by_name.keys() & names:  # the few present of many names
            found.update(self.by_name[name])
        for ext in self.by_ext.keys() & exts:
            found.update(self.by_ext[ext])
        if prefixes:
            sorted_names = self._names_sorted
            for prefix in prefixes:
                for i in _starting_with(sorted_names, prefix):
                    found.update(self.by_name[sorted_names[i]])
        return sorted(found)

    def like(self, globs: tuple[str, ...]) -> list[str]:
        """Kept paths that may match one of these path globs (`*` crosses folders), sorted: a
        superset (the caller tests each), found by extension or literal beginning."""
        plan = _plan(globs, by_name=False)
        if plan is None:
            return list(self.kept)
        _, exts, prefixes = plan
        found: set[str] = set()
        for ext in self.by_ext.keys() & exts:
            found.update(self.by_ext[ext])
        for prefix in prefixes:
            found.update(self.kept[i] for i in _starting_with(self.kept, prefix))
        return sorted(found)

    def named(self, *names: str) -> list[str]:
        """Tracked paths (excluded ones too) with one of these file names, sorted: a lookup per
        folder and name rather than a test of every path."""
        found = {
            f"{folder}/{name}" if folder else name for folder in self.folders for name in names
        }
        return sorted(found & self.all_set)

    def in_folders(self, wanted: Callable[[str], bool]) -> list[str]:
        """Tracked paths (excluded ones too) in the folders `wanted(folder)` accepts, sorted."""
        return sorted(p for folder, paths in self.folders.items() if wanted(folder) for p in paths)
