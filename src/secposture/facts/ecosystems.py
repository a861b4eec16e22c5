"""Package ecosystems present, and the directories where their manifests are.

The catalogue (data/ecosystems.toml) decides which file names are manifests. File names decide,
except where a name alone says too little: a pyproject.toml counts only when it declares
dependencies, and a workspace root (npm `workspaces`, Cargo `workspace.members`) is read to know
which member folders its update entry covers.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase, translate
from functools import cache
from typing import Any

from secposture import catalogue
from secposture.facts import workflows
from secposture.facts.interface import Facts
from secposture.facts.parsing import load_json, load_toml

ROOT = "/"
_MAX_GLOB_SEGMENTS = 64  # a longer directory glob is hostile or broken: it matches nothing


@dataclass(frozen=True)
class Workspace:
    file: str
    format: str  # "json" or "toml"
    key: str  # dotted


@dataclass(frozen=True)
class EcosystemSpec:
    name: str
    label: str
    manifests: tuple[str, ...]
    dependabot: tuple[str, ...]  # catalogue order: the first is the one to suggest
    renovate: frozenset[str]
    renovate_default_enabled: bool = True
    ancestor_covers: tuple[str, ...] = ()
    workspace: Workspace | None = None
    root_only: bool = False
    declares: dict[str, tuple[str, ...]] = field(default_factory=dict)
    directory_aliases: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ManifestDir:
    """An ecosystem at one directory ("/" or "/frontend") and the manifests that put it there."""

    ecosystem: str
    directory: str
    manifests: tuple[str, ...]


def _spec(name: str, raw: dict[str, Any]) -> EcosystemSpec:
    ws = raw.get("workspace")
    return EcosystemSpec(
        name=name,
        label=str(raw.get("label", name)),
        manifests=tuple(raw.get("manifests", ())),
        dependabot=tuple(raw.get("dependabot", ())),
        renovate=frozenset(raw.get("renovate", ())),
        renovate_default_enabled=bool(raw.get("renovate_default_enabled", True)),
        ancestor_covers=tuple(raw.get("ancestor_covers", ())),
        workspace=Workspace(ws["file"], ws["format"], ws["key"]) if ws else None,
        root_only=bool(raw.get("root_only", False)),
        declares={k: tuple(v) for k, v in raw.get("declares", {}).items()},
        directory_aliases=dict(raw.get("directory_aliases", {})),
    )


@cache
def specs() -> dict[str, EcosystemSpec]:
    """The ecosystem catalogue, in catalogue order."""
    return {
        name: _spec(name, raw) for name, raw in catalogue.load("ecosystems")["ecosystems"].items()
    }


# --- directories and directory globs -------------------------------------------------------------


def normalise_dir(value: str) -> str:
    """'frontend/', './frontend', '/frontend' -> '/frontend'; '', '.', '/' -> '/'."""
    parts = [p for p in value.strip().replace("\\", "/").split("/") if p not in ("", ".")]
    return "/" + "/".join(parts)


def dir_segments(directory: str) -> tuple[str, ...]:
    return tuple(p for p in directory.split("/") if p)


def is_glob(pattern: str) -> bool:
    return any(c in pattern for c in "*?[")


def glob_matches(pattern: Sequence[str], path: Sequence[str]) -> bool:
    """Segment globs: `*` (and `?`, `[..]`) within one segment, `**` any number of segments.

    Dynamic programming over (pattern, path) positions, so no input can make it backtrack
    exponentially.
    """
    if len(pattern) > _MAX_GLOB_SEGMENTS:
        return False
    # reach[j]: the first i pattern segments can match the first j path segments
    reach = [True] + [False] * len(path)
    for seg in pattern:
        if seg == "**":
            nxt = reach[:]
            for j in range(1, len(path) + 1):
                nxt[j] = nxt[j] or nxt[j - 1]
        else:
            nxt = [False] * (len(path) + 1)
            for j in range(1, len(path) + 1):
                nxt[j] = reach[j - 1] and fnmatchcase(path[j - 1], seg)
        reach = nxt
        if not any(reach):
            return False
    return reach[len(path)]


def dir_glob_matches(pattern: str, directory: str) -> bool:
    """Whether a Dependabot-style directory glob ("/apps/*", "/**") matches a directory."""
    return glob_matches(dir_segments(normalise_dir(pattern)), dir_segments(directory))


# --- manifests -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Pattern:
    ecosystem: str
    segments: tuple[str, ...]
    regexes: tuple[re.Pattern[str], ...]


@dataclass(frozen=True)
class _Index:
    """Manifest patterns by literal file name, the rest by their last segment's regex."""

    by_name: dict[str, tuple[_Pattern, ...]]
    globbed: tuple[_Pattern, ...]
    quick: re.Pattern[str]  # any manifest's file name: most paths stop here
    last_segments: tuple[str, ...]  # every pattern's file name (glob): to find candidates


@cache
def _index() -> _Index:
    patterns = [
        _Pattern(
            spec.name,
            tuple(glob.split("/")),
            tuple(re.compile(translate(s)) for s in glob.split("/")),
        )
        for spec in specs().values()
        for glob in spec.manifests
    ]
    patterns.sort(
        key=lambda p: -len(p.segments)
    )  # the most specific first: it decides the directory
    by_name: dict[str, list[_Pattern]] = {}
    for p in patterns:
        if not is_glob(p.segments[-1]):
            by_name.setdefault(p.segments[-1], []).append(p)
    last = sorted({p.segments[-1] for p in patterns})
    return _Index(
        by_name={k: tuple(v) for k, v in by_name.items()},
        globbed=tuple(p for p in patterns if is_glob(p.segments[-1])),
        quick=re.compile("|".join(f"(?:{translate(s)})" for s in last)),
        last_segments=tuple(last),
    )


def _candidates(index: _Index, name: str) -> list[_Pattern]:
    found = list(index.by_name.get(name, ()))
    found.extend(p for p in index.globbed if p.regexes[-1].match(name))
    found.sort(key=lambda p: -len(p.segments))
    return found


def _match(pattern: _Pattern, parts: list[str]) -> str | None:
    """The manifest's directory when the path's last segments match the pattern."""
    n = len(pattern.segments)
    if len(parts) < n:
        return None
    tail = parts[-n:]
    if all(rx.match(part) for part, rx in zip(tail, pattern.regexes, strict=True)):
        return "/" + "/".join(parts[:-n])
    return None


def _dig(data: Any, dotted: str) -> Any:
    for key in dotted.split("."):
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def _declares(facts: Facts, spec: EcosystemSpec, path: str) -> bool:
    """For files named in `declares`: whether the file declares what makes it a manifest."""
    keys = spec.declares.get(path.rpartition("/")[2])
    if keys is None:
        return True
    data = load_toml(facts, path)
    if data is None:  # a Problem: it may declare dependencies, so it counts (and says why)
        return facts.problem_for(path) is not None
    return any(_dig(data, k) is not None for k in keys)


def _found(facts: Facts) -> dict[str, dict[str, list[str]]]:
    """ecosystem -> directory -> manifests there, from the tracked file names."""
    index = _index()
    found: dict[str, dict[str, list[str]]] = {}
    quick = index.quick.match
    # Only the product's paths whose file name may be a manifest's, found by name and extension:
    # a fixture's or an example's manifest is not a directory to keep up to date.
    for path in facts.index.product.named_like(index.last_segments):
        name = path.rpartition("/")[2]
        if not quick(name):
            continue
        parts = path.split("/")
        matched: set[str] = set()
        for pattern in _candidates(index, name):
            directory = _match(pattern, parts) if pattern.ecosystem not in matched else None
            if directory is None:
                continue
            matched.add(pattern.ecosystem)
            spec = specs()[pattern.ecosystem]
            if spec.root_only:
                directory = ROOT
            if _declares(facts, spec, path):
                found.setdefault(spec.name, {}).setdefault(directory, []).append(path)
    return found


def _action_dirs(facts: Facts) -> dict[str, list[str]]:
    """github-actions: "/" for workflows, plus each composite action folder that uses actions."""
    dirs: dict[str, list[str]] = {}
    for path in facts.matching(*workflows.WORKFLOW_GLOBS, among=facts.all_paths):
        if path.count("/") == 2:
            dirs.setdefault(ROOT, []).append(path)
    # The repository's own actions: a linter's test corpus of action.yml files is not among them.
    for folder, action in facts.get(workflows.collect_local_actions).items():
        if any(_external_use(step.uses) for step in action.steps):
            dirs.setdefault(normalise_dir(folder), []).append(action.path)
    return dirs


def _external_use(uses: str | None) -> bool:
    """A step that uses another repository's action, which Dependabot can update."""
    return uses is not None and bool(uses) and not uses.startswith(("./", "docker://"))


def _collapse_ancestors(spec: EcosystemSpec, dirs: dict[str, list[str]]) -> None:
    """Fold folders below a directory whose manifest covers them (a parent pom, a .sln) into it."""
    roots = {
        d
        for d, files in dirs.items()
        if any(fnmatchcase(f.rpartition("/")[2], g) for f in files for g in spec.ancestor_covers)
    }
    for directory in sorted(dirs):
        root = _topmost_ancestor(directory, roots)
        if root is not None and directory in dirs and root in dirs:
            dirs[root].extend(dirs.pop(directory))


def _topmost_ancestor(directory: str, roots: set[str]) -> str | None:
    """The highest directory in `roots` strictly above `directory` (checked from the top down)."""
    parts = dir_segments(directory)
    for i in range(len(parts)):
        candidate = "/" + "/".join(parts[:i])
        if candidate in roots:
            return candidate
    return None


def _members(facts: Facts, ws: Workspace, path: str) -> list[str]:
    """The member globs a workspace manifest lists (empty when it lists none or is malformed)."""
    data = load_json(facts, path) if ws.format == "json" else load_toml(facts, path)
    value = _dig(data, ws.key)
    if isinstance(value, dict):  # Yarn 1: {"packages": [...], "nohoist": [...]}
        value = value.get("packages")
    if not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, str) and v and not v.startswith("!")]


def _below(ordered: list[str], root: str) -> list[str]:
    """Directories strictly below `root` in a sorted list (they sort together after root + "/")."""
    if root == ROOT:
        return [d for d in ordered if d != ROOT]
    start = bisect_left(ordered, root + "/")
    out = []
    for d in ordered[start:]:
        if not d.startswith(root + "/"):
            break
        out.append(d)
    return out


def _collapse_workspaces(facts: Facts, spec: EcosystemSpec, dirs: dict[str, list[str]]) -> None:
    """Fold workspace members into the workspace root, whose update entry covers them."""
    ws = spec.workspace
    if ws is None:
        return
    ordered = sorted(dirs)
    for root in sorted(dirs, key=lambda d: d.count("/")):
        if root not in dirs:
            continue
        below = [d for d in _below(ordered, root) if d in dirs]  # less those already folded
        manifest = next((f for f in dirs[root] if f.rpartition("/")[2] == ws.file), None)
        if not below or manifest is None:
            continue  # only a manifest with folders below it can be a workspace root: read no other
        globs = [dir_segments(normalise_dir(g)) for g in _members(facts, ws, manifest)]
        base = dir_segments(root)
        for directory in below:
            rel = dir_segments(directory)[len(base) :]
            if any(glob_matches(g, rel) for g in globs):
                dirs[root].extend(dirs.pop(directory))


def collect(facts: Facts) -> dict[str, list[ManifestDir]]:
    """Ecosystem -> its directories, sorted ("/" first), in catalogue order."""
    found = _found(facts)
    actions = _action_dirs(facts)
    if actions:
        found["github-actions"] = actions
    result: dict[str, list[ManifestDir]] = {}
    for name, spec in specs().items():
        dirs = found.get(name)
        if not dirs:
            continue
        _collapse_workspaces(facts, spec, dirs)
        if spec.ancestor_covers:
            _collapse_ancestors(spec, dirs)
        result[name] = [
            ManifestDir(name, d, tuple(sorted(dirs[d], key=lambda p: (p.count("/"), p))))
            for d in sorted(dirs)
        ]
    return result
