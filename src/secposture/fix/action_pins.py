"""The commit a `uses:` tag names, for pinning it (actions-pinned; docs/adr/0016-*.md).

Two sources, one interface:

- `GitHubPins` asks GitHub what each tag (or branch) names now: every (repository, ref) a run
  wants goes into one batched GraphQL query (aliases per repository, `ref(qualifiedName:)` for
  `refs/tags/REF` and `refs/heads/REF`; an annotated tag is a tag object and is peeled to the
  commit it names). A tag wins over a branch of the same name, as git resolves it.
- `TablePins` reads data/action_pins.toml: well-known actions' tags, recorded from their
  repositories' histories. A ref that is not listed is never guessed: it is left, with why.

`prepare` names everything a run will ask for (the GitHub source asks once); `pin` answers a
`Pin` or the reason there is none, for a person.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

from secposture import catalogue
from secposture.sources.references.interface import valid_ref, valid_repo

FULL_SHA = re.compile(r"[0-9a-f]{40}")
_SHORT_SHA = re.compile(r"[0-9a-fA-F]{7,39}")
_RELEASE = re.compile(r"v?\d+\.\d+\.\d+")  # a full release: one commit for good
REPOS_PER_QUERY = 50  # repositories (aliases) in one query; refs per repository are few
_PEEL_DEPTH = 3  # a tag of a tag of a tag: more is not a release


@dataclass(frozen=True)
class Pin:
    sha: str
    source: str  # where the SHA came from, for the fix's summary
    branch: bool = False  # the ref is a branch (pinned to its commit now; no release to follow)
    moving: bool = False  # offline: a major tag pinned to what it named when the table was made


class PinSource(Protocol):
    def prepare(self, wanted: Iterable[tuple[str, str]]) -> None:
        """Everything the run will ask `pin` for: (owner/repo, ref)."""

    def pin(self, repo: str, ref: str) -> Pin | str:
        """The commit `ref` of `repo` names, or why it cannot be known."""


def _checked(repo: str, ref: str) -> str | None:
    """Why (repo, ref) cannot be pinned before anything is asked; None when it can be asked."""
    if valid_repo(repo) is None:
        return f"{repo[:80]!r} is not an owner/repository name"
    if valid_ref(ref) is None:
        return f"`@{ref[:80]}` is not a ref that can be pinned"
    if _SHORT_SHA.fullmatch(ref):
        return f"`@{ref}` is a short commit id: write the full 40-character SHA by hand"
    return None


@cache
def _table() -> tuple[str, dict[str, tuple[str, dict[str, str]]]]:
    raw = catalogue.load("action_pins")
    repos: dict[str, tuple[str, dict[str, str]]] = {}
    for name, entry in raw.get("repositories", {}).items():
        tags = {str(t): str(s).lower() for t, s in entry.get("tags", {}).items()}
        repos[str(name).lower()] = (str(entry.get("as_of", "")), tags)
    return str(raw.get("recorded_on", "")), repos


class TablePins:
    """Offline: the shipped table (data/action_pins.toml)."""

    def prepare(self, wanted: Iterable[tuple[str, str]]) -> None:
        return None

    def pin(self, repo: str, ref: str) -> Pin | str:
        why = _checked(repo, ref)
        if why is not None:
            return why
        _, repos = _table()
        entry = repos.get(repo.lower())
        if entry is None:
            return f"{repo} is not in secposture's pin table (a token lets fix ask GitHub)"
        as_of, tags = entry
        sha = tags.get(ref)
        if sha is None:
            return (
                f"`@{ref}` of {repo} is not in secposture's pin table (a token lets fix ask GitHub)"
            )
        moving = not _RELEASE.fullmatch(ref)
        when = f"what `{ref}` named on {as_of}" if moving else f"recorded {as_of}"
        return Pin(sha, f"secposture's pin table ({when})", moving=moving)


class GitHubPins:
    """With a token: GitHub's answer, one query a run; `fallback` (the table) where GitHub
    cannot be asked at all (its error is kept for the notes)."""

    def __init__(self, client: Any, fallback: PinSource | None = None) -> None:
        self.client = client  # a GitHubClient: its graphql() is all that is used
        self.fallback = fallback
        self.failure = ""  # why GitHub could not be asked, when it could not
        self._known: dict[tuple[str, str], Pin | str] = {}
        self._lock = threading.Lock()

    def prepare(self, wanted: Iterable[tuple[str, str]]) -> None:
        with self._lock:
            missing = sorted(
                {
                    (repo, ref)
                    for repo, ref in wanted
                    if (repo.lower(), ref) not in self._known and _checked(repo, ref) is None
                }
            )
        if not missing or self.failure:
            return
        by_repo: dict[str, list[str]] = {}
        for repo, ref in missing:
            by_repo.setdefault(repo.lower(), [])
            if ref not in by_repo[repo.lower()]:
                by_repo[repo.lower()].append(ref)
        names = sorted(by_repo)
        for start in range(0, len(names), REPOS_PER_QUERY):
            chunk = {name: by_repo[name] for name in names[start : start + REPOS_PER_QUERY]}
            self._ask(chunk)

    def _ask(self, chunk: Mapping[str, list[str]]) -> None:
        from secposture.sources.github.transport import GitHubError

        query = pins_query(chunk)
        try:
            answer = self.client.graphql(query)
        except GitHubError as exc:
            self.failure = f"GitHub could not be asked ({exc})"
            return
        data = answer.data or {}
        missing = _missing_aliases(answer.errors)
        with self._lock:
            for i, (repo, refs) in enumerate(chunk.items()):
                node = data.get(f"r{i}")
                for j, ref in enumerate(refs):
                    if not isinstance(node, Mapping):
                        why = (
                            f"{repo} was not found on GitHub, or this token cannot read it"
                            if f"r{i}" in missing or node is None
                            else f"GitHub gave no answer for {repo}"
                        )
                        self._known[(repo, ref)] = why
                        continue
                    self._known[(repo, ref)] = _answer(repo, ref, node, j)

    def pin(self, repo: str, ref: str) -> Pin | str:
        why = _checked(repo, ref)
        if why is not None:
            return why
        with self._lock:
            known = self._known.get((repo.lower(), ref))
        if known is None:
            self.prepare([(repo, ref)])
            with self._lock:
                known = self._known.get((repo.lower(), ref))
        if known is None and self.fallback is not None:
            found = self.fallback.pin(repo, ref)
            if isinstance(found, str) and self.failure:
                return f"{self.failure}; {found}"
            return found
        return known if known is not None else f"GitHub did not answer for {repo}@{ref}"


def pins_query(chunk: Mapping[str, list[str]]) -> str:
    """One query: per repository an alias `rI`, per ref `tJ` (its tag) and `bJ` (its branch)."""
    from secposture.sources.github.queries import literal

    peel = "__typename oid"
    for _ in range(_PEEL_DEPTH):
        peel = f"__typename oid ... on Tag {{ target {{ {peel} }} }}"
    parts = []
    for i, (repo, refs) in enumerate(chunk.items()):
        owner, name = repo.split("/", 1)
        fields = " ".join(
            f"t{j}: ref(qualifiedName: {literal('refs/tags/' + ref)}) {{ target {{ {peel} }} }} "
            f"b{j}: ref(qualifiedName: {literal('refs/heads/' + ref)}) "
            "{ target { __typename oid } }"
            for j, ref in enumerate(refs)
        )
        parts.append(
            f"r{i}: repository(owner: {literal(owner)}, name: {literal(name)}) {{ {fields} }}"
        )
    return "query { " + " ".join(parts) + " }"


def _peeled(target: Any) -> str | None:
    """The commit a ref's target names: itself, or through up to _PEEL_DEPTH tag objects."""
    for _ in range(_PEEL_DEPTH + 1):
        if not isinstance(target, Mapping):
            return None
        if target.get("__typename") == "Commit":
            oid = target.get("oid")
            return oid if isinstance(oid, str) and FULL_SHA.fullmatch(oid) else None
        if target.get("__typename") != "Tag":
            return None
        target = target.get("target")
    return None


def _answer(repo: str, ref: str, node: Mapping[str, Any], j: int) -> Pin | str:
    tag = node.get(f"t{j}")
    if isinstance(tag, Mapping):
        sha = _peeled(tag.get("target"))
        if sha is None:
            return f"tag `{ref}` of {repo} does not name a commit"
        return Pin(sha, "GitHub")
    branch = node.get(f"b{j}")
    if isinstance(branch, Mapping):
        sha = _peeled(branch.get("target"))
        if sha is None:
            return f"branch `{ref}` of {repo} does not name a commit"
        return Pin(sha, "GitHub", branch=True)
    return f"`{ref}` is not a tag or branch of {repo}"


def _missing_aliases(errors: Iterable[Mapping[str, Any]]) -> set[str]:
    out = set()
    for error in errors:
        path = error.get("path")
        if isinstance(path, list) and path and error.get("type") == "NOT_FOUND":
            out.add(str(path[0]))
    return out
