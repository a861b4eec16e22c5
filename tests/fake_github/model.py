"""What the fake GitHub serves: organisations, repositories, their files, history and settings.

Plain mutable dataclasses, so a test can build or reshape one by hand. The Git objects (blob, tree
and commit ids) are computed the way Git computes them, so the same files give the same ids.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .alerts import FakeAlert

DEFAULT_DATE = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
CREATED_DATE = datetime(2023, 3, 14, 9, 30, tzinfo=UTC)

SETTING_NAMES = (
    "dependabot_security_updates",
    "secret_scanning",
    "secret_scanning_push_protection",
)
VISIBILITIES = ("public", "private", "internal")
ACTOR_TYPES = ("User", "Team", "Integration", "OrganizationAdmin", "RepositoryRole", "DeployKey")
BYPASS_MODES = ("always", "pull_request", "exempt")
ENFORCEMENTS = ("active", "evaluate", "disabled")
TARGETS = ("branch", "tag", "push")
# Ruleset rules that carry no parameters (REST type names).
PLAIN_RULES = (
    "creation",
    "update",
    "deletion",
    "required_linear_history",
    "required_signatures",
    "non_fast_forward",
)


def stable_id(*parts: str) -> int:
    """A positive database id derived from names, stable across runs (unlike hash())."""
    return zlib.crc32("/".join(parts).encode()) % 900_000_000 + 1_000_000


def iso(moment: datetime) -> str:
    """GitHub's timestamp form: UTC with a Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class BypassActor:
    """Who may bypass a rule: a classic protection bypass allowance or a ruleset bypass actor.

    `actor_type` uses the REST names ("User", "Team", "Integration" for an app,
    "OrganizationAdmin", "RepositoryRole", "DeployKey"); `name` is the login, team slug, app slug
    or role name. `bypass_mode` only matters for rulesets.
    """

    actor_type: str
    name: str = ""
    actor_id: int | None = None
    bypass_mode: str = "always"

    def __post_init__(self) -> None:
        if self.actor_type not in ACTOR_TYPES:
            raise ValueError(f"actor_type must be one of {ACTOR_TYPES}, not {self.actor_type!r}")
        if self.bypass_mode not in BYPASS_MODES:
            raise ValueError(f"bypass_mode must be one of {BYPASS_MODES}, not {self.bypass_mode!r}")
        if self.actor_id is None and self.actor_type in ("User", "Team", "Integration"):
            self.actor_id = stable_id(self.actor_type, self.name)
        if self.actor_type == "RepositoryRole" and self.actor_id is None:
            self.actor_id = {"maintain": 2, "write": 4, "admin": 5}.get(self.name, 5)


@dataclass
class BranchRule:
    """A classic branch protection rule. `required_approving_review_count` 0 = no review needed."""

    pattern: str = "main"
    required_approving_review_count: int = 1
    dismisses_stale_reviews: bool = False
    requires_code_owner_reviews: bool = False
    is_admin_enforced: bool = False
    bypass_actors: list[BypassActor] = field(default_factory=list)
    requires_status_checks: bool = False

    @property
    def requires_approving_reviews(self) -> bool:
        return self.required_approving_review_count > 0


@dataclass
class PullRequestRule:
    """The parameters of a ruleset's pull_request rule."""

    required_approving_review_count: int = 1
    dismiss_stale_reviews_on_push: bool = False
    require_code_owner_review: bool = False
    require_last_push_approval: bool = False
    required_review_thread_resolution: bool = False


@dataclass
class Ruleset:
    """A repository (or organisation) ruleset.

    `include`/`exclude` are ref patterns as GitHub stores them: "~DEFAULT_BRANCH", "~ALL",
    "refs/heads/main", "refs/heads/release/*". `pull_request` None = no pull request rule;
    `other_rules` are parameterless rule types such as "deletion" or "non_fast_forward".
    """

    id: int
    name: str
    enforcement: str = "active"
    target: str = "branch"
    include: list[str] = field(default_factory=lambda: ["~DEFAULT_BRANCH"])
    exclude: list[str] = field(default_factory=list)
    pull_request: PullRequestRule | None = field(default_factory=PullRequestRule)
    other_rules: list[str] = field(default_factory=lambda: ["deletion", "non_fast_forward"])
    bypass_actors: list[BypassActor] = field(default_factory=list)
    created_at: datetime = CREATED_DATE
    updated_at: datetime = DEFAULT_DATE

    def __post_init__(self) -> None:
        if self.enforcement not in ENFORCEMENTS:
            raise ValueError(f"enforcement must be one of {ENFORCEMENTS}, not {self.enforcement!r}")
        if self.target not in TARGETS:
            raise ValueError(f"target must be one of {TARGETS}, not {self.target!r}")
        unknown = [r for r in self.other_rules if r not in PLAIN_RULES]
        if unknown:
            raise ValueError(f"other_rules must be among {PLAIN_RULES}, not {unknown}")

    def rule_types(self) -> list[str]:
        """REST rule type names in the order GitHub lists them."""
        types = list(self.other_rules)
        if self.pull_request is not None:
            types.append("pull_request")
        return types


def _default_settings() -> dict[str, str]:
    return dict.fromkeys(SETTING_NAMES, "disabled")


@dataclass
class FakeRepo:
    """One repository. `default_branch` None = an empty repository (no commits; `files` ignored).

    `files` maps paths to contents; `file_dates` gives the date of the last commit touching a
    path (default: `committed_date`, itself defaulting to `pushed_at`).
    `security_and_analysis` holds "enabled"/"disabled" for dependabot_security_updates,
    secret_scanning and secret_scanning_push_protection.
    """

    owner: str
    name: str
    default_branch: str | None = "main"
    files: dict[str, bytes] = field(default_factory=dict)
    archived: bool = False
    fork: bool = False
    visibility: str = "private"
    topics: list[str] = field(default_factory=list)
    description: str | None = None
    pushed_at: datetime = DEFAULT_DATE
    created_at: datetime = CREATED_DATE
    committed_date: datetime | None = None
    file_dates: dict[str, datetime] = field(default_factory=dict)
    security_and_analysis: dict[str, str] = field(default_factory=_default_settings)
    vulnerability_alerts: bool = False
    # Dependabot alerts (alerts.py), whatever their state; none are shown while alerts are off.
    alerts: list[FakeAlert] = field(default_factory=list)
    branch_rules: list[BranchRule] = field(default_factory=list)
    rulesets: list[Ruleset] = field(default_factory=list)
    id: int = 0
    # Secret scanning can be turned on (public repositories, or GitHub Advanced Security).
    secret_scanning_available: bool = True
    # Written through the API (the fix command): branches other than the default one
    # (name -> commit oid), the Git objects created, and pull requests.
    branches: dict[str, str] = field(default_factory=dict)
    git_objects: dict[str, GitBlob | GitTree | FakeCommit] = field(default_factory=dict)
    pulls: list[FakePull] = field(default_factory=list)
    # Tags naming other contents than the default branch's head: tag -> its files (a shared
    # workflow repository's `v1` and `v2`). `annotated_tags` are tag objects, the rest
    # lightweight (a name for the commit itself).
    tags: dict[str, dict[str, bytes]] = field(default_factory=dict)
    annotated_tags: set[str] = field(default_factory=set)
    _git_cache: tuple[object, GitSnapshot | None] | None = field(
        default=None, init=False, repr=False, compare=False
    )
    _tag_cache: dict[str, GitSnapshot] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if self.visibility not in VISIBILITIES:
            raise ValueError(f"visibility must be one of {VISIBILITIES}, not {self.visibility!r}")
        if not self.id:
            self.id = stable_id("repo", self.owner.lower(), self.name.lower())
        for key in SETTING_NAMES:
            self.security_and_analysis.setdefault(key, "disabled")
        bad = {
            k: v for k, v in self.security_and_analysis.items() if v not in ("enabled", "disabled")
        }
        if bad:
            raise ValueError(f"security_and_analysis values must be 'enabled'/'disabled': {bad}")

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def private(self) -> bool:
        return self.visibility != "public"

    @private.setter
    def private(self, value: bool) -> None:
        self.visibility = "private" if value else "public"

    @property
    def is_empty(self) -> bool:
        return self.default_branch is None

    @property
    def head_date(self) -> datetime:
        return self.committed_date or self.pushed_at

    def git(self) -> GitSnapshot | None:
        """The Git objects of the default branch's head, or None for an empty repository.

        Cached until `files`, `default_branch` or the dates change (the key holds the content
        objects themselves, so comparing it is cheap and exact).
        """
        key = (
            self.default_branch,
            self.head_date,
            tuple(self.files.items()),
            tuple(self.file_dates.items()),
        )
        if self._git_cache is not None and self._git_cache[0] == key:
            return self._git_cache[1]
        snapshot = None if self.default_branch is None else GitSnapshot.build(self)
        self._git_cache = (key, snapshot)
        return snapshot

    def date_of(self, path: str) -> datetime:
        return self.file_dates.get(path, self.head_date)

    def tag_snapshot(self, tag: str) -> GitSnapshot | None:
        """The commit a tag names (its own files), or None when there is no such tag."""
        if tag not in self.tags or self.default_branch is None:
            return None
        if tag not in self._tag_cache:
            files = {p: c.encode() if isinstance(c, str) else c for p, c in self.tags[tag].items()}
            tagged = FakeRepo(
                self.owner, f"{self.name}@{tag}", files=files, pushed_at=self.pushed_at
            )
            self._tag_cache[tag] = GitSnapshot.build(tagged)
        return self._tag_cache[tag]

    def snapshot_for(self, revision: str) -> GitSnapshot | None:
        """The commit a revision names: HEAD, the default branch, a tag, or a commit id (7 or
        more hex digits of the head or of a tag's commit)."""
        head = self.git()
        if head is None:
            return None
        branch = self.default_branch
        if revision in ("HEAD", "", branch, f"refs/heads/{branch}"):
            return head
        tagged = self.tag_snapshot(revision.removeprefix("refs/tags/"))
        if tagged is not None:
            return tagged
        lowered = revision.lower()
        if len(lowered) >= 7 and all(c in "0123456789abcdef" for c in lowered):
            if head.commit_oid.startswith(lowered):
                return head
            for tag in self.tags:
                snap = self.tag_snapshot(tag)
                if snap is not None and snap.commit_oid.startswith(lowered):
                    return snap
        return None


@dataclass
class FakeOrg:
    """An organisation and its repositories; `rulesets` apply to every repository in it."""

    login: str
    repos: list[FakeRepo] = field(default_factory=list)
    rulesets: list[Ruleset] = field(default_factory=list)
    name: str | None = None
    description: str | None = None
    created_at: datetime = datetime(2019, 5, 2, 8, 0, tzinfo=UTC)
    id: int = 0

    def __post_init__(self) -> None:
        if not self.id:
            self.id = stable_id("org", self.login.lower())

    def check(self) -> None:
        """Every repository must be owned by this organisation and named once."""
        seen: set[str] = set()
        for repo in self.repos:
            if repo.owner.lower() != self.login.lower():
                raise ValueError(f"repository {repo.full_name} is not owned by {self.login}")
            if repo.name.lower() in seen:
                raise ValueError(f"repository {repo.full_name} appears twice in {self.login}")
            seen.add(repo.name.lower())

    def repo(self, name: str) -> FakeRepo | None:
        lowered = name.lower()
        for repo in self.repos:
            if repo.name.lower() == lowered:
                return repo
        return None


@dataclass
class FakePull:
    """A pull request from a branch of the same repository."""

    number: int
    title: str
    body: str | None
    head: str  # branch name
    base: str
    user: str  # login of the caller who opened it
    user_id: int
    created_at: datetime
    updated_at: datetime
    state: str = "open"
    draft: bool = False
    maintainer_can_modify: bool = True


# --- Git objects ----------------------------------------------------------------------------

FILE_MODE = 0o100644
EXEC_MODE = 0o100755
TREE_MODE = 0o040000


def _git_hash(kind: str, data: bytes) -> bytes:
    return hashlib.sha1(
        b"%s %d\0" % (kind.encode(), len(data)) + data, usedforsecurity=False
    ).digest()


@dataclass(frozen=True)
class GitBlob:
    oid: str
    data: bytes
    mode: int

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class GitTree:
    oid: str
    path: str
    entries: tuple[tuple[str, GitBlob | GitTree], ...]


GitObject = GitBlob | GitTree


@dataclass(frozen=True)
class FakeCommit:
    """A commit written through the Git Data API (the default branch's head is built from
    `files` instead, see GitSnapshot)."""

    oid: str
    tree: GitTree
    parents: tuple[str, ...]
    message: str
    author_name: str
    author_email: str
    when: datetime


def commit_oid(
    tree_oid: str, parents: tuple[str, ...], name: str, email: str, when: datetime, message: str
) -> str:
    """The commit's id, hashed from the text Git would store."""
    stamp = f"{name} <{email}> {int(when.timestamp())} +0000"
    lines = [f"tree {tree_oid}", *(f"parent {p}" for p in parents)]
    body = "\n".join([*lines, f"author {stamp}", f"committer {stamp}", "", message]).encode()
    return _git_hash("commit", body).hex()


def blob_of(data: bytes, mode: int = 0o100644) -> GitBlob:
    return GitBlob(_blob_oid(data), data, mode)


def tree_of(blobs: dict[str, GitBlob]) -> tuple[GitTree, dict[str, GitObject]]:
    """The tree (and every object in it, by path) holding `blobs` at their paths."""
    nested: dict[str, object] = {}
    for path, blob in blobs.items():
        parts = [p for p in path.split("/") if p]
        node = nested
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ValueError(f"{path} is below a file")
            node = child
        if isinstance(node.get(parts[-1]), dict):
            raise ValueError(f"{path} is a folder")
        node[parts[-1]] = blob
    objects: dict[str, GitObject] = {}
    root = _build_tree(nested, "", objects, executable=None)
    return root, objects


def blobs_of(tree: GitTree, prefix: str = "") -> dict[str, GitBlob]:
    """Every file below `tree`, by path."""
    out: dict[str, GitBlob] = {}
    for name, obj in tree.entries:
        if isinstance(obj, GitTree):
            out.update(blobs_of(obj, f"{prefix}{name}/"))
        else:
            out[f"{prefix}{name}"] = obj
    return out


@lru_cache(maxsize=65_536)
def _blob_oid(data: bytes) -> str:
    return _git_hash("blob", data).hex()


def _sort_key(item: tuple[str, object]) -> bytes:
    # Git orders a tree's entries by name, comparing a directory as if its name ended in "/".
    name, obj = item
    return (name + "/" if isinstance(obj, dict) else name).encode()


@dataclass(frozen=True)
class GitSnapshot:
    """The head commit of the default branch: its tree, every object by path, and its oid."""

    root: GitTree
    objects: dict[str, GitObject]
    commit_oid: str
    tree_oid: str

    @staticmethod
    def build(repo: FakeRepo) -> GitSnapshot:
        nested: dict[str, object] = {}
        for path, content in repo.files.items():
            data = content.encode() if isinstance(content, str) else content
            parts = [p for p in path.split("/") if p]
            node = nested
            for part in parts[:-1]:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    raise ValueError(f"{repo.full_name}: {path} is below a file")
                node = child
            if parts:
                node[parts[-1]] = data
        objects: dict[str, GitObject] = {}
        root = _build_tree(nested, "", objects, executable=lambda p: p.endswith(".sh"))
        when = int(repo.head_date.timestamp())
        body = (
            f"tree {root.oid}\n"
            f"author Fake Dev <dev@example.org> {when} +0000\n"
            f"committer Fake Dev <dev@example.org> {when} +0000\n\n"
            f"Update {repo.name}\n"
        ).encode()
        return GitSnapshot(root, objects, _git_hash("commit", body).hex(), root.oid)

    def lookup(self, path: str) -> GitObject | None:
        return self.objects.get(path.strip("/"))


def _build_tree(
    nested: dict[str, object],
    prefix: str,
    objects: dict[str, GitObject],
    executable: object,
) -> GitTree:
    entries: list[tuple[str, GitObject]] = []
    raw = bytearray()
    for name, value in sorted(nested.items(), key=_sort_key):
        path = f"{prefix}{name}"
        obj: GitObject
        if isinstance(value, dict):
            obj = _build_tree(value, path + "/", objects, executable)
            mode = TREE_MODE
        elif isinstance(value, GitBlob):
            obj, mode = value, value.mode
        else:
            assert isinstance(value, bytes)
            mode = EXEC_MODE if callable(executable) and executable(path) else FILE_MODE
            obj = GitBlob(_blob_oid(value), value, mode)
        objects[path] = obj
        entries.append((name, obj))
        raw += b"%o %s\0" % (mode, name.encode()) + bytes.fromhex(obj.oid)
    tree = GitTree(_git_hash("tree", bytes(raw)).hex(), prefix.rstrip("/"), tuple(entries))
    if not prefix:
        objects[""] = tree
    return tree


def history_dates(repo: FakeRepo, path: str | None) -> list[datetime]:
    """Dates of the commits touching `path` (a file or folder; None = the whole repository),
    newest first: one commit per distinct date."""
    snapshot = repo.git()
    if snapshot is None:
        return []
    if path:
        clean = path.strip("/")
        obj = snapshot.lookup(clean)
        if obj is None:
            return []
        if isinstance(obj, GitBlob):
            dates = {repo.date_of(clean)}
        else:
            dates = {repo.date_of(p) for p in repo.files if p.startswith(clean + "/")}
    else:
        dates = {repo.date_of(p) for p in repo.files} | {repo.head_date}
    return sorted(dates, reverse=True)


def commit_oid_at(repo: FakeRepo, when: datetime) -> str:
    snapshot = repo.git()
    if snapshot is not None and when == repo.head_date:
        return snapshot.commit_oid
    return hashlib.sha1(f"{repo.full_name}@{iso(when)}".encode(), usedforsecurity=False).hexdigest()


# --- Which rules apply to a branch ----------------------------------------------------------


@lru_cache(maxsize=1024)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """GitHub's branch patterns (fnmatch with FNM_PATHNAME): `*` stops at "/", `**` does not."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(char))
            else:
                out.append("[" + pattern[i + 1 : end].replace("\\", "\\\\") + "]")
                i = end
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("".join(out) + r"\Z")


def glob_match(pattern: str, name: str) -> bool:
    return _glob_regex(pattern).match(name) is not None


def branch_rule_for(repo: FakeRepo, branch: str) -> BranchRule | None:
    """The classic protection rule governing `branch`: an exact pattern wins over a wildcard."""
    for rule in repo.branch_rules:
        if rule.pattern == branch:
            return rule
    for rule in repo.branch_rules:
        if glob_match(rule.pattern, branch):
            return rule
    return None


def _ref_pattern_matches(pattern: str, ref: str, default_ref: str | None) -> bool:
    if pattern == "~ALL":
        return True
    if pattern == "~DEFAULT_BRANCH":
        return ref == default_ref
    return glob_match(pattern, ref)


def ruleset_applies(ruleset: Ruleset, repo: FakeRepo, branch: str) -> bool:
    if ruleset.target != "branch":
        return False
    ref = f"refs/heads/{branch}"
    default_ref = f"refs/heads/{repo.default_branch}" if repo.default_branch else None
    included = any(_ref_pattern_matches(p, ref, default_ref) for p in ruleset.include)
    excluded = any(_ref_pattern_matches(p, ref, default_ref) for p in ruleset.exclude)
    return included and not excluded
