"""Files of other repositories that the repository's CI and hooks run: reading them through the
snapshot's reader, the catalogue of well-known ones for scans that cannot read them, and the
references that stayed unread (docs/adr/0014-following-references-to-other-repositories.md).

A referenced file, once read, is a file of this scan under its key `owner/repo@ref:path`
(`Facts.read` gives it), so the parsers, line lookups and problems that serve the repository's
own files serve it too, with the same limits. What could not be read is an `Unread`: the probes
that depend on what CI or pre-commit runs say `unknown` naming it and how to read it, never
`fail`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import cache
from typing import Any

from secposture import catalogue
from secposture.facts.interface import Facts
from secposture.model import Location, Problem
from secposture.sources.interface import too_large
from secposture.sources.references.interface import (
    ABSENT,
    PENDING,
    READ,
    UNREAD,
    Fetched,
    Reference,
    reference,
    valid_path,
    valid_ref,
    valid_repo,
)
from secposture.text import clip

MAX_DEPTH = 4  # hops from the repository's own file: caller -> callee -> ... (ADR 0014)
MAX_PER_SCAN = 100  # distinct referenced files one repository's scan may ask for
ACTION_FILES = ("action.yml", "action.yaml")
HOOKS_FILE = ".pre-commit-hooks.yaml"
WORKFLOW_KIND, ACTION_KIND, HOOKS_KIND = "reusable workflow", "action", "pre-commit hook repository"
SCRIPT_KIND, PRESET_KIND = "hook script", "Renovate preset"
OUTSIDE_KIND = "Makefile outside the repository"
CATALOGUE_LABEL = "as secposture's catalogue of shared actions says; not read"


@dataclass(frozen=True)
class Unread:
    """A reference whose file could not be read: what was asked, where, why, and what would
    read it. `anchor` is the line of this repository where the chain starts."""

    uses: str  # as written by the caller
    kind: str
    path: str  # the file holding the reference (this repository's, or a referenced one's key)
    line: int | None
    why: str
    how: str
    anchor: Location
    via: tuple[str, ...] = ()

    def where(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path

    def describe(self, *, placed: bool = True) -> str:
        """What was not read and why; `placed=False` leaves out where, for a line that already
        starts with the same place (a problem's `path:line:`)."""
        chain = f" (via {' -> '.join(self.via)})" if self.via else ""
        how = f"; to read it, {self.how}" if self.how else ""
        at = f" at {self.where()}" if placed else ""
        return f"{self.kind} `{clip(self.uses, 160)}`{at}{chain} was not read: {self.why}{how}"

    def problem(self) -> Problem:
        path, line = self.anchor.path or self.path, self.anchor.line
        # Said once: a problem is shown as `path:line: message`.
        placed = (path, line) != (self.path, self.line)
        return Problem(path, self.describe(placed=placed), line)


@dataclass(frozen=True)
class Read:
    """A referenced file that was read: `key` is what `Facts.read` knows it by."""

    reference: Reference
    key: str
    text: str
    commit: str | None

    @property
    def label(self) -> str:
        return f"{self.reference.repo}@{self.reference.ref}"


@dataclass
class _State:
    memo: dict[Reference, Fetched] = field(default_factory=dict)
    asked: int = 0
    unread: list[Unread] = field(default_factory=list)
    seen_unread: set[tuple[str, str, int | None]] = field(default_factory=set)


def _state(facts: Facts) -> _State:
    return _State()


def read_first(facts: Facts, candidates: Sequence[Reference]) -> Read | Fetched:
    """The first candidate that exists, read (`Read`); else why none could be (a `Fetched`:
    UNREAD or PENDING when one of them could not be decided, ABSENT when none exists). The
    candidates are asked together, so a batched reader fetches them in one round."""
    state = facts.get(_state)
    todo = [c for c in candidates if c not in state.memo]
    if todo:
        if state.asked + len(todo) > MAX_PER_SCAN:
            for ref in todo:
                state.memo[ref] = Fetched(
                    ref,
                    UNREAD,
                    why=f"this repository already asked for {MAX_PER_SCAN} referenced files, the "
                    "limit for one repository",
                    how="",
                )
        else:
            state.asked += len(todo)
            for found in facts.snapshot.references.read(todo):
                state.memo[found.reference] = _checked(facts, found)
    answers = [state.memo[c] for c in candidates]
    for answer in answers:
        if answer.state == READ and answer.text is not None:
            facts.add_referenced(answer.reference.key, answer.text)
            return Read(answer.reference, answer.reference.key, answer.text, answer.commit)
        if answer.state in (UNREAD, PENDING):
            return answer
    return answers[-1] if answers else Fetched(Reference("", "", ""), ABSENT)


def _checked(facts: Facts, found: Fetched) -> Fetched:
    """The policy's size limit applies to a referenced file as to a tracked one."""
    if found.state != READ or found.text is None:
        return found
    size = len(found.text.encode("utf-8", "surrogatepass"))
    if size > facts.policy.max_file_bytes:
        why = too_large(size, facts.policy.max_file_bytes)
        return Fetched(found.reference, UNREAD, commit=found.commit, why=why, how="")
    return found


def repository_owner(facts: Facts) -> str:
    """The scanned repository's owner (lower case), when the scan knows it ("" otherwise)."""
    repository = facts.snapshot.target.repository or ""
    return repository.partition("/")[0].lower() if "/" in repository else ""


def significant(facts: Facts, unread: Unread) -> bool:
    """Whether an unread reference may hold what a control looks for, so that the control is
    `unknown` rather than decided: a reusable workflow (a whole job graph) or a Renovate preset
    (it may enable or disable any manager) always; an action or
    a hook repository of the scanned repository's own owner (where teams keep their shared
    pipeline), or of any owner when the owner is not known. Another owner's action is known by
    its name to the tool catalogue or not at all, as a leaf is (ADR 0014)."""
    if unread.kind in (WORKFLOW_KIND, PRESET_KIND, OUTSIDE_KIND):
        return True
    owner = repository_owner(facts)
    return not owner or unread.uses.partition("/")[0].lower() == owner


def record_unread(facts: Facts, unread: Unread) -> Unread:
    """Keep an unread reference for the report (a problem on the caller's file) and the
    probes, when it is significant; each (reference, caller line) once."""
    state = facts.get(_state)
    key = (unread.uses, unread.path, unread.line)
    if key not in state.seen_unread and significant(facts, unread):
        state.seen_unread.add(key)
        state.unread.append(unread)
        facts.problems.append(unread.problem())
    return unread


def unread(facts: Facts) -> list[Unread]:
    """Every reference this scan could not read, so far (collectors add them as they resolve)."""
    return list(facts.get(_state).unread)


def why_unread(found: Fetched, default_how: str = "") -> tuple[str, str]:
    if found.state == PENDING:
        return "it is being fetched (this scan runs again when it is)", ""
    if found.state == ABSENT:
        return "no such file at that ref", "fix the reference"
    return found.why or "it could not be read", found.how or default_how


# --- `uses:` --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Uses:
    """A `uses:` of another repository: `owner/repo[/path]@ref`, checked."""

    repo: str
    path: str  # "" for the repository's top
    ref: str
    written: str

    @property
    def name(self) -> str:
        return f"{self.repo}/{self.path}" if self.path else self.repo


def parse_uses(text: str) -> Uses | None:
    """`owner/repo[/path]@ref` when every part is valid; None otherwise (local, docker, an
    expression, a name that is not OWNER/REPO, a ref with revision syntax)."""
    written = text.strip()
    name, at, ref = written.partition("@")
    if not at or name.startswith(("./", "/", "docker://")) or "${{" in written:
        return None
    owner, _, rest = name.partition("/")
    repo_name, _, path = rest.partition("/")
    repo = valid_repo(f"{owner}/{repo_name}")
    good_ref = valid_ref(ref)
    if repo is None or good_ref is None:
        return None
    if path:
        clean = valid_path(path)
        if clean is None:
            return None
        path = clean
    return Uses(repo, path, good_ref, written)


def action_candidates(uses: Uses) -> list[Reference]:
    out = []
    for name in ACTION_FILES:
        found = reference(uses.repo, uses.ref, f"{uses.path}/{name}" if uses.path else name)
        if found is not None:
            out.append(found)
    return out


def workflow_reference(uses: Uses) -> Reference | None:
    """A reusable workflow lives in `.github/workflows/` as `.yml` or `.yaml`."""
    path = uses.path
    if path.count("/") != 2 or not path.startswith(".github/workflows/"):
        return None
    if not path.endswith((".yml", ".yaml")):
        return None
    return reference(uses.repo, uses.ref, path)


def hooks_reference(repo: str, rev: str) -> Reference | None:
    return reference(repo, rev, HOOKS_FILE)


# --- the catalogue of well-known shared actions, workflows and hook repositories ---------------


@dataclass(frozen=True)
class CatalogueEntry:
    uses: str  # owner/repo[/path], lower case
    runs: tuple[dict[str, Any], ...]
    inputs: dict[str, str]
    hooks: dict[str, str]  # hook repositories: hook id -> command
    origin: str  # "secposture's catalogue of shared actions" or the policy file


@dataclass(frozen=True)
class SharedCatalogue:
    leaf_actions: tuple[str, ...]
    leaf_names: tuple[str, ...]
    leaf_hook_repos: tuple[str, ...]
    entries: dict[str, CatalogueEntry]
    hook_repos: dict[str, CatalogueEntry]
    tool_actions: tuple[str, ...]  # actions tools.toml (and the policy) name
    tool_hook_repos: frozenset[str]
    tool_hooks: frozenset[str]

    def entry(self, name: str) -> CatalogueEntry | None:
        return self.entries.get(name.lower())

    def leaf(self, name: str) -> bool:
        """An action known to run nothing worth fetching: a leaf, or one the tool catalogue names
        (itself or a folder above it)."""
        lowered = name.lower()
        if any(fnmatchcase(lowered, glob) for glob in self.leaf_actions):
            return True
        last = lowered.rstrip("/").rpartition("/")[2]
        if any(fnmatchcase(last, glob) for glob in self.leaf_names):
            return True
        return any(lowered == a or lowered.startswith(a + "/") for a in self.tool_actions)

    def known_hook(self, repo: str, hook_id: str) -> bool:
        return (
            any(fnmatchcase(repo, glob) for glob in self.leaf_hook_repos)
            or repo in self.tool_hook_repos
            or hook_id in self.tool_hooks
            or repo in self.hook_repos
        )


_SHIPPED = "secposture's catalogue of shared actions"


def shared_catalogue(facts: Facts) -> SharedCatalogue:
    """The shipped catalogue with the policy's entries over it, once per scan."""
    return facts.get(_build)


def _build(facts: Facts) -> SharedCatalogue:
    leaves, hook_leaves, shipped = _shipped()
    entries: dict[str, CatalogueEntry] = {}
    hook_repos: dict[str, CatalogueEntry] = {}
    for entry in shipped:
        (hook_repos if entry.hooks else entries)[entry.uses] = entry
    for shared in facts.policy.shared_actions:  # the policy's entries, over the shipped ones
        entry = CatalogueEntry(
            shared.uses.lower().strip("/"),
            tuple({"run": r} for r in shared.runs),
            {k.lower(): v for k, v in shared.inputs},
            dict(shared.hooks),
            shared.origin or "the policy file",
        )
        (hook_repos if entry.hooks else entries)[entry.uses] = entry
    tools = facts.policy.tools
    return SharedCatalogue(
        leaf_actions=leaves,
        leaf_names=_leaf_names(),
        leaf_hook_repos=hook_leaves,
        entries=entries,
        hook_repos=hook_repos,
        tool_actions=tuple(a.lower().rstrip("/") for t in tools for a in t.actions),
        tool_hook_repos=frozenset(r.lower() for t in tools for r in t.precommit_repos),
        tool_hooks=frozenset(h for t in tools for h in t.precommit_hooks),
    )


@cache
def _leaf_names() -> tuple[str, ...]:
    return tuple(
        str(p).lower() for p in catalogue.load("shared_actions").get("leaf_name_patterns", ())
    )


@cache
def _shipped() -> tuple[tuple[str, ...], tuple[str, ...], tuple[CatalogueEntry, ...]]:
    raw = catalogue.load("shared_actions")
    entries = [_entry(item, _SHIPPED) for item in raw.get("references", ())]
    entries += [_hook_entry(item, _SHIPPED) for item in raw.get("hooks", ())]
    leaves = tuple(str(a).lower() for a in raw.get("leaf_actions", ()))
    hook_leaves = tuple(str(r).lower() for r in raw.get("leaf_hook_repos", ()))
    return leaves, hook_leaves, tuple(e for e in entries if e is not None)


def _entry(item: dict[str, Any], origin: str) -> CatalogueEntry | None:
    uses = str(item.get("uses", "")).lower().strip("/")
    if not uses:
        return None
    runs = tuple(r for r in item.get("runs", ()) if isinstance(r, dict))
    inputs = {str(k).lower(): str(v) for k, v in (item.get("inputs") or {}).items()}
    return CatalogueEntry(uses, runs, inputs, {}, origin)


def _hook_entry(item: dict[str, Any], origin: str) -> CatalogueEntry | None:
    repo = str(item.get("repo", "")).lower().strip("/")
    hooks = item.get("hooks") or {}
    if not repo or not isinstance(hooks, dict):
        return None
    return CatalogueEntry(repo, (), {}, {str(k): str(v) for k, v in hooks.items()}, origin)


# --- nested references, for a batched reader to fetch before a scan asks -----------------------


def nested(found: Reference, text: str) -> list[Reference]:
    """The references inside a fetched workflow or action (its `uses:`), or a hook repository's
    scripts, so that a batched reader fetches the next level at once. Best effort: the scan
    asks for what it needs anyway, and a reference this misses costs one more round."""
    if not found.path.endswith((".yml", ".yaml")):
        return []
    if found.path == HOOKS_FILE:
        return _hook_scripts(found, _parsed(text))
    return _uses_in(text, found, _leaf_by_name(()))


def prefetch(path: str, text: str, tools: tuple[Any, ...]) -> list[Reference]:
    """The references a repository's own workflow, composite action or pre-commit config names,
    for a batched reader to fetch before the repository's first scan (an estate's repositories
    are then scanned once). `tools`: the policy's, whose actions and hooks need no reading."""
    if not path.endswith((".yml", ".yaml")):
        return []
    if path.endswith((".pre-commit-config.yaml", ".pre-commit-config.yml")):
        return _hook_repositories(_parsed(text), tools)
    if "uses:" not in text:
        return []
    return _uses_in(text, None, _leaf_by_name(tools))


def _parsed(text: str) -> Any:
    from secposture.facts.parsing import parse_yaml

    try:
        return parse_yaml(text)
    except ValueError:
        return None


def _leaf_by_name(tools: tuple[Any, ...]) -> Any:
    leaves, _, _ = _shipped()
    named = tuple(a.lower().rstrip("/") for t in tools for a in t.actions)

    names = _leaf_names()

    def leaf(name: str) -> bool:
        last = name.rstrip("/").rpartition("/")[2]
        return (
            any(fnmatchcase(name, g) for g in leaves)
            or any(fnmatchcase(last, g) for g in names)
            or any(name == a or name.startswith(a + "/") for a in named)
        )

    return leaf


# `uses: owner/repo/...@ref` (a step's or a job's), found by line: discovery needs no parse.
_USES_LINE = re.compile(r"""^[ \t]*(?:-[ \t]+)?uses:[ \t]*['"]?([^'"\s#]{1,500})""", re.MULTILINE)
_MAX_USES = 500


def _uses_in(text: str, found: Reference | None, leaf: Any) -> list[Reference]:
    out: list[Reference] = []
    for match in itertools.islice(_USES_LINE.finditer(text), _MAX_USES):
        uses = match.group(1)
        parsed = parse_uses(uses)
        workflow = workflow_reference(parsed) if parsed is not None else None
        if uses.startswith("./") or workflow is not None:
            out.extend(_job_uses(found, uses))
        elif parsed is not None and not leaf(parsed.name):
            out.extend(action_candidates(parsed))
    return out


def _hook_repositories(doc: Any, tools: tuple[Any, ...]) -> list[Reference]:
    from secposture.facts.precommit import repo_name

    _, hook_leaves, _ = _shipped()
    repos = doc.get("repos") if isinstance(doc, dict) else None
    known_repos = {r.lower() for t in tools for r in t.precommit_repos}
    known_hooks = {h for t in tools for h in t.precommit_hooks}
    out: list[Reference] = []
    for item in repos[:200] if isinstance(repos, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("repo"), str):
            continue
        repo = repo_name(item["repo"])
        hooks = item.get("hooks")
        ids = (
            {str(h.get("id")) for h in hooks[:500] if isinstance(h, dict)}
            if isinstance(hooks, list)
            else set()
        )
        if repo in known_repos or any(fnmatchcase(repo, g) for g in hook_leaves):
            continue
        if ids and ids <= known_hooks:
            continue
        found = hooks_reference(repo, str(item.get("rev") or ""))
        if found is not None:
            out.append(found)
    return out


def _hook_scripts(found: Reference, doc: Any) -> list[Reference]:
    """The scripts of `language: script` hooks in a .pre-commit-hooks.yaml."""
    out: list[Reference] = []
    for hook in doc[:500] if isinstance(doc, list) else []:
        entry = hook.get("entry") if isinstance(hook, dict) else None
        if isinstance(entry, str) and entry.split() and hook.get("language") == "script":
            path = valid_path(entry.split()[0])
            script = reference(found.repo, found.ref, path) if path else None
            if script is not None:
                out.append(script)
    return out


def _job_uses(found: Reference | None, uses: str) -> list[Reference]:
    if uses.startswith("./"):
        path = valid_path(uses[2:])
        if found is None or path is None or not path.startswith(".github/workflows/"):
            return []  # this repository's own file (or a local action): among its files
        local = reference(found.repo, found.ref, path)
        return [local] if local is not None else []
    parsed = parse_uses(uses)
    ref = workflow_reference(parsed) if parsed is not None else None
    return [ref] if ref is not None else []
