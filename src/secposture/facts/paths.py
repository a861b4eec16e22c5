"""The tracked paths of a snapshot, split and grouped once per scan.

Many collectors look for files by name (`package.json`, `action.yml`) or by folder (an ADR log, the
issue template folder). Each of them looping over every path, splitting and testing it, was most of
a small repository's scan time; grouped once, they look names and folders up instead.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase, translate
from functools import cache, cached_property, lru_cache

from secposture import catalogue
from secposture.model import SetAside, SetAsideFolder

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


# --- test data, examples and development environments ---------------------------------------------

TEST_DATA = "test data"
EXAMPLES = "examples"
DEVELOPMENT = "development environment"


@dataclass(frozen=True)
class SetAsideRules:
    """What of a repository's own files is not the product (data/defaults.toml `[set_aside]`).

    Folder names are compared in lower case; `keep` and `include` are path globs (`*` crosses
    folders); `test_dirs`, `files_in_tests`, `manifests` and `development_files` globs over one
    name."""

    test_data_dirs: frozenset[str]
    example_dirs: frozenset[str]
    top_example_dirs: frozenset[str]
    package_dirs: frozenset[str]
    test_dirs: tuple[str, ...]
    dirs_in_tests: frozenset[str]
    files_in_tests: tuple[str, ...]
    manifests: tuple[str, ...]  # package manifests: in a test folder's subfolder, a fixture project
    development_dirs: frozenset[str]
    development_files: tuple[str, ...]
    keep: tuple[str, ...]
    include: tuple[str, ...] = ()  # the policy's: put back what the rules above set aside


@cache
def _default_rules() -> SetAsideRules:
    raw = catalogue.load("defaults")["set_aside"]
    manifests: tuple[str, ...] = ()
    if raw.get("manifests_in_test_subfolders", False):
        ecosystems = catalogue.load("ecosystems")["ecosystems"].values()
        globs = [g for e in ecosystems for g in e["manifests"]]
        # A glob of several segments names its file by the last one when that is literal
        # (`.devcontainer/devcontainer.json`), else it says too little (`requirements/*.txt`).
        names = {g.rpartition("/")[2] for g in globs if "/" not in g or not _wild(g)}
        manifests = tuple(sorted(names))
    return SetAsideRules(
        test_data_dirs=frozenset(d.lower() for d in raw["test_data_dirs"]),
        example_dirs=frozenset(d.lower() for d in raw["example_dirs"]),
        top_example_dirs=frozenset(d.lower() for d in raw["top_example_dirs"]),
        package_dirs=frozenset(d.lower() for d in raw["package_dirs"]),
        test_dirs=tuple(d.lower() for d in raw["test_dirs"]),
        dirs_in_tests=frozenset(d.lower() for d in raw["dirs_in_tests"]),
        files_in_tests=tuple(raw["files_in_tests"]),
        manifests=manifests,
        development_dirs=frozenset(d.lower() for d in raw["development_dirs"]),
        development_files=tuple(raw["development_files"]),
        keep=tuple(raw["keep"]),
    )


def set_aside_rules(include: tuple[str, ...] = ()) -> SetAsideRules:
    """The shipped rules with the policy's `include` globs."""
    rules = _default_rules()
    return replace(rules, include=include) if include else rules


def _wild(glob: str) -> bool:
    return any(c in glob.rpartition("/")[2] for c in _WILD)


@lru_cache(maxsize=256)
def _any_of(globs: tuple[str, ...]) -> Callable[[str], object] | None:
    """One full-match test for "matches one of these fnmatch globs"; None for no globs. Cached:
    every scan of an estate uses the same rules."""
    if not globs:
        return None
    return re.compile("|".join(f"(?:{translate(g)})" for g in globs), re.DOTALL).match


@dataclass(frozen=True)
class _Folder:
    """What a folder's path says of the files in it."""

    aside: tuple[str, str] | None  # (the folder that decides, kind): all of its files
    test_root: str | None = None  # the nearest test folder at or above it
    below: str | None = None  # the subfolder of test_root it is in (None: test_root itself)
    development: str | None = None  # the development environment folder at or above it

    @property
    def plain(self) -> bool:
        """Nothing in it is set aside, whatever the file's name (most folders)."""
        return self.aside is None and self.test_root is None and self.development is None


_PRODUCT_FOLDER = _Folder(None)


class _Classifier:
    """Decides, path by path, what is set aside; counts what it set aside, by folder."""

    def __init__(self, rules: SetAsideRules) -> None:
        self.rules = rules
        self._folders: dict[str, _Folder] = {}
        self._test_dir = _any_of(rules.test_dirs)
        self._in_tests = _any_of(rules.files_in_tests)
        self._manifest = _any_of(rules.manifests)
        self._development = _any_of(rules.development_files)
        self._keep = _any_of(rules.keep)
        self._include = _any_of(rules.include)
        self.kinds: dict[str, str] = {}  # the folder that decided -> why
        self.files: dict[str, int] = {}  # the folder that decided -> files set aside
        self.included = 0

    def _classify(self, folder: str) -> _Folder:
        if not folder:
            return _PRODUCT_FOLDER
        rules = self.rules
        parts = folder.split("/")
        test_at = development = -1
        for i, part in enumerate(parts):
            low = part.lower()
            if i >= 2 and parts[i - 2] == "src" and low in rules.package_dirs:
                break  # package names below: a `fixtures` package is code, not test data
            kind = None
            if low in rules.test_data_dirs or (test_at >= 0 and low in rules.dirs_in_tests):
                kind = TEST_DATA
            elif low in rules.example_dirs or (i == 0 and low in rules.top_example_dirs):
                kind = EXAMPLES
            if kind is not None:
                return _Folder(("/".join(parts[: i + 1]), kind))
            if self._test_dir is not None and self._test_dir(low):
                test_at = i
            if low in rules.development_dirs:
                development = i
        if test_at < 0 and development < 0:
            return _PRODUCT_FOLDER
        test_root = "/".join(parts[: test_at + 1]) if test_at >= 0 else None
        below = "/".join(parts[: test_at + 2]) if 0 <= test_at < len(parts) - 1 else None
        dev = "/".join(parts[: development + 1]) if development >= 0 else None
        return _Folder(None, test_root, below, dev)

    def folder(self, folder: str) -> _Folder:
        info = self._folders.get(folder)
        if info is None:
            info = self._folders[folder] = self._classify(folder)
        return info

    def sets_aside(self, path: str, folder: str, name: str) -> bool:
        """Whether a kept path is set aside (not the product); counted when it is."""
        info = self.folder(folder)
        if info.plain:
            return False
        hit = info.aside
        if hit is None and info.test_root is not None:
            if self._in_tests is not None and self._in_tests(name):
                hit = (info.below or info.test_root, TEST_DATA)
            elif info.below is not None and self._manifest is not None and self._manifest(name):
                hit = (info.below, TEST_DATA)
        dev, in_dev = info.development, self._development
        if hit is None and dev is not None and in_dev is not None and in_dev(name):
            hit = (dev, DEVELOPMENT)
        if hit is None or (self._keep is not None and self._keep(path)):
            return False
        if self._include is not None and self._include(path):
            self.included += 1
            return False
        where, kind = hit
        self.kinds[where] = kind
        self.files[where] = self.files.get(where, 0) + 1
        return True

    def summary(self) -> SetAside:
        folders = tuple(
            SetAsideFolder(path, self.kinds[path], files)
            for path, files in sorted(self.files.items())
        )
        return SetAside(sum(f.files for f in folders), folders, self.included)


class PathView:
    """A sorted list of paths with their file names, looked up by name, extension or glob."""

    def __init__(self, paths: tuple[str, ...], names: tuple[str, ...]) -> None:
        self.paths = paths
        self.names = names  # the file name of each path

    @cached_property
    def as_set(self) -> frozenset[str]:
        return frozenset(self.paths)

    @property
    def by_name(self) -> dict[str, list[str]]:
        """Paths by file name, each list sorted."""
        return self._by_name_and_ext[0]

    @property
    def by_ext(self) -> dict[str, list[str]]:
        """Paths by extension (the text after the file name's last dot), each list sorted."""
        return self._by_name_and_ext[1]

    @cached_property
    def _by_name_and_ext(self) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        # One pass for both: most scans use both.
        by_name: dict[str, list[str]] = {}
        by_ext: dict[str, list[str]] = {}
        for path, name in zip(self.paths, self.names, strict=True):
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
    def _names_sorted(self) -> list[str]:
        """The distinct file names, sorted."""
        return sorted(self.by_name)

    def named_like(self, globs: tuple[str, ...]) -> list[str]:
        """Paths whose file name may match one of these file-name globs, sorted: a superset (the
        caller tests each), found by name, extension or name prefix rather than by testing every
        path."""
        plan = _plan(globs, by_name=True)
        if plan is None:
            return list(self.paths)
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
        """Paths that may match one of these path globs (`*` crosses folders), sorted: a superset
        (the caller tests each), found by extension or literal beginning."""
        plan = _plan(globs, by_name=False)
        if plan is None:
            return list(self.paths)
        _, exts, prefixes = plan
        found: set[str] = set()
        for ext in self.by_ext.keys() & exts:
            found.update(self.by_ext[ext])
        for prefix in prefixes:
            found.update(self.paths[i] for i in _starting_with(self.paths, prefix))
        return sorted(found)


class PathIndex:
    """Tracked paths, sorted, grouped by folder and by file name, in three tiers.

    - all: every tracked path. Files GitHub reads wherever they are (workflows, templates,
      actions) are looked up among these.
    - kept: the repository's own files: less vendored and generated folders and the policy's
      `exclude` globs. Evidence of a practice (tests, tool configurations) is looked for here.
    - product: kept less test data, examples and development environments (SetAsideRules) unless
      the policy's `include` puts them back. What the product is (its languages, ecosystems,
      container images, infrastructure) is decided from these.
    """

    def __init__(
        self,
        paths: Iterable[str],
        excluded_dirs: frozenset[str],
        exclude: tuple[str, ...] = (),
        set_aside: SetAsideRules | None = None,
    ) -> None:
        """Paths are excluded by a folder's name (`excluded_dirs`, anywhere on the way) and by
        the policy's `exclude` globs over the whole path (`*` crosses folders); `set_aside`
        (None: nothing) says what of the rest is not the product."""
        # Every source lists its paths sorted already (sorting sorted input is one pass): path
        # order is sorted order.
        self.all: tuple[str, ...] = tuple(sorted(paths))
        self.all_set = frozenset(self.all)
        # Every tracked path by folder ("" for the root); kept paths by folder; each list sorted.
        self.folders: dict[str, list[str]] = {}
        self.kept_folders: dict[str, list[str]] = {}
        kept: list[str] = []
        kept_names: list[str] = []
        aside_paths: list[str] = []
        aside = _Classifier(set_aside) if set_aside is not None else None
        plain_folder: str | None = None  # the last folder seen with nothing to set aside
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
            if aside is not None and folder != plain_folder:
                if aside.folder(folder).plain:
                    plain_folder = folder  # its next files need no test: paths come by folder
                elif aside.sets_aside(path, folder, name):
                    aside_paths.append(path)
        for folder in [f for f, found in kept_folders.items() if not found]:
            del kept_folders[folder]  # every file excluded by the policy's globs
        self.kept: tuple[str, ...] = tuple(kept)
        self.kept_names: tuple[str, ...] = tuple(kept_names)  # the file name of each kept path
        self.own = PathView(self.kept, self.kept_names)
        self.set_aside_paths = frozenset(aside_paths)
        self.set_aside: SetAside = aside.summary() if aside is not None else SetAside()
        # Nothing set aside: the same view, so its lookups are built once.
        self.product = self.own
        if aside_paths:
            out = self.set_aside_paths
            pairs = [(p, n) for p, n in zip(kept, kept_names, strict=True) if p not in out]
            self.product = PathView(tuple(p for p, _ in pairs), tuple(n for _, n in pairs))

    @property
    def by_name(self) -> dict[str, list[str]]:
        """Kept paths by file name, each list sorted."""
        return self.own.by_name

    @property
    def by_ext(self) -> dict[str, list[str]]:
        """Kept paths by extension (the text after the file name's last dot), each list sorted."""
        return self.own.by_ext

    @property
    def kept_set(self) -> frozenset[str]:
        return self.own.as_set

    def named_like(self, globs: tuple[str, ...]) -> list[str]:
        """Kept paths whose file name may match one of these file-name globs (see PathView)."""
        return self.own.named_like(globs)

    def like(self, globs: tuple[str, ...]) -> list[str]:
        """Kept paths that may match one of these path globs (see PathView)."""
        return self.own.like(globs)

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
