"""Fetch many repositories from GitHub in few requests, and scan them with the local probes.

The plan, per organisation:
1. REST `GET /orgs/{org}/repos`, 100 a page: names, archived/fork, topics and, for admins,
   `security_and_analysis`.
2. Round one, batched GraphQL (one alias per repository): settings, protection rules, rulesets and
   the file tree four folders deep. A batch GitHub cannot answer in time (502/504, resource
   limits) is halved and retried; connections with more pages are followed.
3. Later rounds, batched across repositories by size: deeper folder listings, the texts of the
   files the enabled probes declare they read, and anything a scan asked for that was not
   foreseen (see snapshot.py), until every repository's scan is complete.

Every step is bounded by the client's limits (limits.py, ADR 0012): listing pages, follow-up
pages per connection and per run (a repeated cursor is noticed), the file list and file bytes per
repository, and the run's bytes. What a limit cuts is recorded: per repository as a `Cut` (its
report then says so and the controls that read it are `unknown`, see cuts.py), per run in `cut`
(the estate's usage line).
"""

from __future__ import annotations

import fnmatch
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol, TypeVar
from urllib.parse import quote

from secposture.model import ScanReport, Target
from secposture.paths import glob_matcher, is_excluded
from secposture.policy import Policy, resolve_policy
from secposture.sources.github import queries
from secposture.sources.github.cuts import Cut, Part, ProbeReads, apply_cuts
from secposture.sources.github.limits import size
from secposture.sources.github.settings import settings_from
from secposture.sources.github.snapshot import Blob, GitHubSnapshot, TreeFile
from secposture.sources.github.transport import (
    GitHubClient,
    GitHubError,
    GraphQLTooLarge,
    LimitReached,
    RunBudgetExhausted,
    next_link,
    page_items,
)
from secposture.sources.interface import Settings
from secposture.sources.references.cache import ReferenceCache
from secposture.sources.references.github import GitHubReferences, ReferenceStore

T = TypeVar("T")

BATCH_REPOS = 50  # repositories per round-one query, halved while GitHub times out
BATCH_BYTES = 2_000_000  # file bytes per content query
BATCH_ALIASES = 600  # objects per content query
POLICY_FILES = ("secposture.toml", "pyproject.toml")
RESOURCE_ERRORS = {"MAX_NODE_LIMIT_EXCEEDED", "RESOURCE_LIMITS_EXCEEDED", "TIMEOUT"}


class Progress(Protocol):
    def __call__(self, stage: str, done: int, total: int) -> None: ...


def no_progress(stage: str, done: int, total: int) -> None:
    return None


@dataclass(frozen=True)
class RepoFilter:
    include_archived: bool = False
    include_forks: bool = False
    topics: tuple[str, ...] = ()
    name_globs: tuple[str, ...] = ()

    def accepts(self, item: Mapping[str, Any]) -> bool:
        if item.get("archived") and not self.include_archived:
            return False
        if item.get("fork") and not self.include_forks:
            return False
        topics = item.get("topics") or []
        if self.topics and not set(self.topics) & set(topics):
            return False
        name = str(item.get("name", ""))
        return not self.name_globs or any(fnmatch.fnmatchcase(name, g) for g in self.name_globs)


@dataclass
class RepoState:
    owner: str
    name: str
    rest: Mapping[str, Any] | None = None
    graph: Mapping[str, Any] | None = None
    forbidden: set[str] = field(default_factory=set)
    snapshot: GitHubSnapshot | None = None
    folders: list[str] = field(default_factory=list)  # listed only to the depth limit so far
    planned: bool = False
    automated_fixes: bool | None = None  # from the per-repository endpoint, when asked
    error: str | None = None
    # What limits cut, by kind (a later cut of the same kind replaces the message): ADR 0012.
    cuts: dict[str, Cut] = field(default_factory=dict)
    file_bytes: int = 0  # bytes of file text asked for so far

    def cut(self, key: str, part: Part, message: str) -> None:
        self.cuts[key] = Cut(part, message)

    def review_cut(self) -> str:
        return "; ".join(c.message for c in self.cuts.values() if c.part is Part.REVIEW)

    def alerts_cut(self) -> str:
        return "; ".join(c.message for c in self.cuts.values() if c.part is Part.ALERTS)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def key(self) -> tuple[str, str]:
        return (self.owner, self.name)

    def require_snapshot(self) -> GitHubSnapshot:
        if self.snapshot is None:
            raise RuntimeError(f"{self.full_name}: no snapshot yet (round one not run)")
        return self.snapshot


class GitHubFetcher:
    def __init__(
        self,
        client: GitHubClient,
        base_policy: Policy,
        *,
        concurrency: int = 4,
        progress: Progress = no_progress,
        today: date | None = None,
        references: bool = True,
        cache: ReferenceCache | None = None,
        reads: ProbeReads | None = None,
    ) -> None:
        """`references`: follow workflows, actions and hooks into other repositories (ADR 0014),
        each distinct file fetched once for the run, inside the content rounds; `cache`: read
        them from (and keep them in) an on-disk cache too. `reads`: what each probe declares it
        reads (probes.interface.probe_reads), to fetch their files and to know which controls a
        cut leaves unknown; needed to scan, not to read settings alone."""
        self.client = client
        self.base_policy = base_policy
        self._reads = reads
        self.concurrency = concurrency
        self.progress = progress
        self.today = today or date.today()
        self.batch_repos = BATCH_REPOS
        self.limits = client.limits
        self._follow_ups = 0
        self._lock = threading.Lock()
        self.references: ReferenceStore | None = None
        if references:
            from secposture.facts.references import nested

            self.references = ReferenceStore(
                client, cache, max_file_bytes=base_policy.max_file_bytes, discover=nested
            )

    @property
    def cut(self) -> tuple[str, ...]:
        """What the run's limits cut so far (the estate shows it with the usage)."""
        return self.client.usage().cut

    def note(self, message: str) -> None:
        """A run-level cut, said once."""
        self.client.note_cut(message)

    # -- listing ---------------------------------------------------------------------------

    def list_org(self, org: str, repo_filter: RepoFilter) -> list[RepoState]:
        """The organisation's repositories that pass the filter. A listing that does not end (a
        page cap, a repeated page, a page adding no repository) is cut and said in `cut`."""
        states = []
        seen: set[str] = set()
        path = f"/orgs/{quote(org, safe='')}/repos"
        try:
            for number, page in enumerate(
                self.client.rest_page_responses(path, {"type": "all"}), 1
            ):
                new = 0
                for item in page_items(page, path):
                    if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
                        continue
                    owner = item.get("owner")
                    login = owner.get("login") if isinstance(owner, Mapping) else None
                    key = f"{login or org}/{item['name']}".lower()
                    if key in seen:
                        continue  # listed twice (repositories created while listing shift pages)
                    seen.add(key)
                    new += 1
                    if repo_filter.accepts(item):
                        states.append(RepoState(str(login or org), str(item["name"]), rest=item))
                self.progress("listing repositories", len(states), 0)
                if new == 0 and next_link(page.headers.get("link")) is not None:
                    self.note(
                        f"the repository listing of {org} was stopped at page {number:,}: GitHub "
                        "linked to more pages that added no repository"
                    )
                    break
        except LimitReached as exc:
            self.note(f"the repository listing of {org} was cut: {exc}")
        return states

    def get_repo(self, owner: str, name: str) -> RepoState:
        """One repository by name; a missing or invisible one is a clear error."""
        response = self.client.rest_get(
            f"/repos/{quote(owner, safe='')}/{quote(name, safe='')}", allow=(404,)
        )
        if response.status == 404 or not isinstance(response.json, Mapping):
            raise GitHubError(
                f"GitHub repository {owner}/{name} not found, or not visible to this token",
                method="GET",
                path=f"/repos/{owner}/{name}",
                status=response.status,
            )
        return RepoState(owner=owner, name=name, rest=response.json)

    def fetch_settings(self, owner: str, name: str) -> Settings:
        """Settings alone, for a checkout that has its files: one REST and one GraphQL request."""
        state = self.get_repo(owner, name)
        result = self.client.graphql(queries.repositories_query([state.key], depth=0))
        repo = (result.data or {}).get("r0")
        state.forbidden = _forbidden(_errors_by_alias(result.errors).get("r0", []))
        if not isinstance(repo, Mapping) and "branchProtectionRules" in state.forbidden:
            query = queries.repositories_query([state.key], depth=0, protection=False)
            result = self.client.graphql(query)
            repo = (result.data or {}).get("r0")
        if not isinstance(repo, Mapping):
            message = _describe(list(result.errors)) or "no answer"
            raise GitHubError(f"GitHub repository {owner}/{name}: {message}")
        state.graph = repo
        self._follow_connections(state)
        return settings_from(
            state.graph,
            state.rest,
            state.forbidden,
            review_cut=state.review_cut(),
            alerts_cut=state.alerts_cut(),
        )

    # -- round one -------------------------------------------------------------------------

    def fetch_round_one(self, states: Sequence[RepoState]) -> None:
        batches = _chunks(list(states), self.batch_repos)
        done = 0

        def run(batch: list[RepoState]) -> int:
            self._round_one(batch)
            return len(batch)

        for count in self._parallel(run, batches):
            done += count
            self.progress("reading settings and trees", done, len(states))

        def follow(state: RepoState) -> int:
            self._follow_connections(state)
            return 1

        # Further pages (rules, rulesets, alerts) of the few repositories that have them, side by
        # side: each is a round trip of its own.
        for _ in self._parallel(follow, [s for s in states if s.error is None]):
            pass

    def _round_one(self, batch: list[RepoState], protection: bool = True) -> None:
        query = queries.repositories_query([s.key for s in batch], protection=protection)
        try:
            result = self.client.graphql(query, retry_server_errors=False)
        except RunBudgetExhausted as exc:
            self._spent(exc)
            for state in batch:
                state.error = f"not read: {_budget_words(self.limits.run_bytes)}"
            return
        except GraphQLTooLarge:
            if len(batch) == 1:
                batch[0].error = "GitHub could not answer for this repository (timeout)"
                return
            self._halve(batch, protection)
            return
        if _resource_error(result.errors) and len(batch) > 1:
            self._halve(batch, protection)
            return
        data = result.data or {}
        errors = _errors_by_alias(result.errors)
        refused: list[RepoState] = []
        for i, state in enumerate(batch):
            alias = f"r{i}"
            repo = data.get(alias)
            alias_errors = errors.get(alias, [])
            forbidden = _forbidden(alias_errors)
            if not isinstance(repo, Mapping):
                if protection and "branchProtectionRules" in forbidden:
                    # The refusal nulls the whole repository (the field is non-null): ask again
                    # without classic protection, which this token cannot read.
                    refused.append(state)
                else:
                    state.error = (
                        _describe(alias_errors) or "not found, or not visible to this token"
                    )
                continue
            state.graph = repo
            state.forbidden |= forbidden
            state.snapshot = self._snapshot(state, repo)
        if refused:
            for state in refused:
                state.forbidden.add("branchProtectionRules")
            self._round_one(refused, protection=False)

    def _halve(self, batch: list[RepoState], protection: bool) -> None:
        """GitHub could not answer in time: smaller batches from now on."""
        self.batch_repos = max(1, min(self.batch_repos, len(batch) // 2))
        half = len(batch) // 2
        self._round_one(batch[:half], protection)
        self._round_one(batch[half:], protection)

    def _snapshot(self, state: RepoState, repo: Mapping[str, Any]) -> GitHubSnapshot:
        tree: dict[str, TreeFile] = {}
        root = repo.get("tree")
        if isinstance(root, Mapping):
            excluded = self.base_policy.excluded_dirs
            state.folders = _flatten(root.get("entries"), tree, queries.TREE_DEPTH, excluded)
        branch_ref = repo.get("defaultBranchRef")
        commit = None
        if isinstance(branch_ref, Mapping) and isinstance(branch_ref.get("target"), Mapping):
            commit = branch_ref["target"].get("oid")
        target = Target(
            name=state.full_name,
            source="github",
            path=str(repo.get("url") or "") or None,
            commit=str(commit) if commit else None,
            repository=state.full_name,
        )
        snapshot = GitHubSnapshot(target, tree, max_file_bytes=self.base_policy.max_file_bytes)
        if self.references is not None:
            snapshot.references = GitHubReferences(self.references, eager=False)
        return snapshot

    def _follow_connections(self, state: RepoState) -> None:
        """Every page of the protection rules and rulesets: a rule on page two still protects.
        A connection that does not end (a repeated cursor, no cursor, the page caps) is cut:
        review is then unknown, never decided on the pages read."""
        graph = dict(state.graph or {})
        for name in ("branchProtectionRules", "rulesets", "vulnerabilityAlerts"):
            connection = graph.get(name)
            if not isinstance(connection, Mapping):
                continue
            if (
                name == "vulnerabilityAlerts"
                and graph.get("hasVulnerabilityAlertsEnabled") is False
            ):
                continue  # alerts off: the control does not apply, whatever the page says
            nodes = list(connection.get("nodes") or [])
            page = connection.get("pageInfo") or {}
            cut = self._follow(state, name, page, nodes)
            if cut:
                part = Part.ALERTS if name == "vulnerabilityAlerts" else Part.REVIEW
                state.cut(name, part, f"{name}: {cut}")
            graph[name] = {"nodes": nodes, "totalCount": connection.get("totalCount")}
        state.graph = graph

    def _follow(
        self, state: RepoState, name: str, page: Mapping[str, Any], nodes: list[Any]
    ) -> str:
        """Add the connection's further pages to `nodes`; why it stopped early, or ""."""
        cursors: set[str] = set()
        while isinstance(page, Mapping) and page.get("hasNextPage"):
            followed = len(cursors)
            cursor = page.get("endCursor")
            if not isinstance(cursor, str) or not cursor:
                return "GitHub said there were more pages but gave no cursor to ask for them"
            if cursor in cursors:
                return (
                    "GitHub said there were more pages but repeated the same cursor; stopped "
                    f"after {_pages(followed)}"
                )
            if followed >= self.limits.connection_pages:
                return (
                    f"GitHub still said there were more pages; stopped after {_pages(followed)}, "
                    "the limit per connection"
                )
            if not self._take_follow_up():
                return f"not read past page one: {self._run_pages_words()}"
            cursors.add(cursor)
            try:
                result = self.client.graphql(queries.connection_query(state.key, name, cursor))
            except LimitReached as exc:
                self._spent(exc)
                return str(exc)
            answer = (result.data or {}).get("r0")
            more = answer.get(name) if isinstance(answer, Mapping) else None
            if not isinstance(more, Mapping):
                return "GitHub did not answer for the next page"
            nodes.extend(more.get("nodes") or [])
            page = more.get("pageInfo") or {}
        return ""

    def _take_follow_up(self) -> bool:
        with self._lock:
            if self._follow_ups >= self.limits.run_connection_pages:
                exhausted = True
            else:
                self._follow_ups += 1
                exhausted = False
        if exhausted:
            self.note(
                f"GitHub connections: {self._run_pages_words()}; protection rules, rulesets and "
                "Dependabot alerts past it were not read (review or patching is unknown there)"
            )
        return not exhausted

    def _run_pages_words(self) -> str:
        return f"this run reached its limit of {self.limits.run_connection_pages:,} follow-up pages"

    def _spent(self, exc: LimitReached) -> None:
        if isinstance(exc, RunBudgetExhausted):
            self.note(
                f"{_budget_words(self.limits.run_bytes)}; what was not read yet is unknown "
                "(see each repository)"
            )

    # -- content rounds --------------------------------------------------------------------

    def fetch_round(self, states: Sequence[RepoState]) -> bool:
        """One batched round of whatever the repositories still need; False when none need any."""
        requests: list[tuple[RepoState, queries.ContentRequest]] = []
        for state in states:
            if state.snapshot is not None and state.error is None:
                request = self._next_request(state)
                if request is not None:
                    requests.append((state, request))
        # Files of other repositories the last scans asked for, and those found inside them:
        # one query for the whole estate (each distinct file once), in the same round.
        referenced = self.references is not None and self.references.pending()
        if referenced and self.references is not None:
            self.progress("reading referenced workflows, actions and hooks", 0, 0)
            self.references.fetch()
        if not requests:
            return referenced
        batches = _content_batches(requests)
        done = 0
        for count in self._parallel(self._contents_batch, batches):
            done += count
            self.progress("reading files", done, len(requests))
        self._prefetch_references(requests)
        return True

    def _prefetch_references(
        self, requests: Sequence[tuple[RepoState, queries.ContentRequest]]
    ) -> None:
        """Queue the references the fetched workflows, actions and pre-commit configs name, so
        that they are fetched before the repositories' first scan (each is then scanned once)."""
        if self.references is None:
            return
        from secposture.facts.references import prefetch

        tools = self.base_policy.tools
        for state, request in requests:
            blobs = state.require_snapshot().blobs
            for path in request.blobs:
                if not path.endswith((".yml", ".yaml")) or not _names_references(path):
                    continue
                blob = blobs.get(path)
                if blob is not None and blob.text is not None and not blob.is_binary:
                    self.references.want(prefetch(path, blob.text, tools))

    def _next_request(self, state: RepoState) -> queries.ContentRequest | None:
        snap = state.require_snapshot()
        oid = snap.target.commit
        if oid is None or snap.starved:
            return None
        if state.folders and len(snap.tree) >= self.limits.repo_files:
            state.cut(
                "file list",
                Part.FILES,
                f"file list: stopped at {len(snap.tree):,} files, the limit per repository; "
                f"{len(state.folders):,} deeper folders not listed",
            )
            state.folders = []
        if state.folders:
            folders, state.folders = state.folders, []
            return queries.ContentRequest(state.key, oid, folders=folders)
        blobs: set[str] = set()
        if not state.planned:
            state.planned = True
            blobs.update(self._planned(snap))
        blobs.update(p for p in snap.wanted if snap.fetchable(p))
        blobs.difference_update(snap.blobs)
        snap.wanted.clear()
        chosen = self._within_file_budget(state, sorted(blobs))
        if not chosen:
            return None
        return queries.ContentRequest(state.key, oid, blobs=chosen)

    def _within_file_budget(self, state: RepoState, paths: list[str]) -> list[str]:
        """The files that fit the repository's budget of file text; the rest are withheld."""
        snap = state.require_snapshot()
        budget = self.limits.repo_file_bytes
        chosen: list[str] = []
        for path in paths:
            weight = snap.tree[path].size if path in snap.tree else 0
            if state.file_bytes + weight > budget:
                snap.withheld[path] = (
                    f"this repository's budget of {size(budget)} of file text was used up"
                )
                continue
            state.file_bytes += weight
            chosen.append(path)
        if snap.withheld:
            state.cut(
                "file bytes",
                Part.FILES,
                f"files: {len(snap.withheld):,} not fetched: this repository's budget of "
                f"{size(budget)} of file text was used up",
            )
        return chosen

    def _planned(self, snap: GitHubSnapshot) -> list[str]:
        """The files the enabled probes declare they read (from each probe's def.toml)."""
        policy = self.base_policy
        match = glob_matcher(declared_reads(policy, self.reads))
        wanted = [
            p
            for p in snap.paths
            if match(p)
            and snap.fetchable(p)
            and not is_excluded(p, policy.excluded_dirs, policy.exclude)
        ]
        wanted.extend(p for p in POLICY_FILES if snap.fetchable(p))
        return wanted

    def _contents_batch(self, batch: list[tuple[RepoState, queries.ContentRequest]]) -> int:
        query = queries.contents_query([r for _, r in batch])
        try:
            result = self.client.graphql(query, retry_server_errors=False)
        except RunBudgetExhausted as exc:
            self._spent(exc)
            why = _budget_words(self.limits.run_bytes)
            for state, _ in batch:
                state.require_snapshot().starved = why
                state.cut("run bytes", Part.FILES, f"files: not all fetched: {why}")
            return len(batch)
        except GraphQLTooLarge:
            if len(batch) == 1:
                _split_one(self, batch[0])
                return 0
            half = len(batch) // 2
            self._contents_batch(batch[:half])
            self._contents_batch(batch[half:])
            return 0
        data = result.data or {}
        for i, (state, request) in enumerate(batch):
            _store_contents(state, request, data.get(f"r{i}"), self.base_policy.excluded_dirs)
        return len(batch)

    # -- scanning --------------------------------------------------------------------------

    @property
    def reads(self) -> ProbeReads:
        if self._reads is None:
            raise RuntimeError("GitHubFetcher needs `reads` (what the probes read) to scan")
        return self._reads

    def account_for_cuts(self, state: RepoState, report: ScanReport, policy: Policy) -> ScanReport:
        """The report, saying what limits cut for this repository (see cuts.py)."""
        return apply_cuts(report, state.cuts.values(), policy, self.reads)

    def policy_for(self, state: RepoState) -> Policy:
        """The policy a repository is scanned with: its own file over the operator's, as an
        untrusted one, exactly as the scan resolves it (docs/adr/0011-*.md)."""
        snap = state.require_snapshot()
        policy = resolve_policy(snap, self.base_policy).policy
        snap.max_file_bytes = policy.max_file_bytes
        return policy

    def attach_settings(self, states: Sequence[RepoState]) -> None:
        """Settings for every repository read; where the listing left out security_and_analysis
        for an admin token, the per-repository endpoints are asked (one or two requests each)."""
        missing = [s for s in states if _needs_security_lookup(s)]
        for _ in self._parallel(self._security_lookup, missing):
            pass
        for state in states:
            if state.snapshot is not None and state.graph is not None:
                state.snapshot.settings = settings_from(
                    state.graph,
                    state.rest,
                    state.forbidden,
                    automated_fixes=state.automated_fixes,
                    review_cut=state.review_cut(),
                    alerts_cut=state.alerts_cut(),
                )

    def _security_lookup(self, state: RepoState) -> int:
        try:
            return self._look_up_security(state)
        except LimitReached as exc:
            self._spent(exc)
            state.cut("security", Part.SECURITY, f"security settings: not read: {exc}")
            return 1

    def _look_up_security(self, state: RepoState) -> int:
        path = f"/repos/{quote(state.owner, safe='')}/{quote(state.name, safe='')}"
        full = self.client.rest_get(path, allow=(403, 404))
        if full.status == 200 and isinstance(full.json, Mapping):
            state.rest = full.json
            if isinstance(full.json.get("security_and_analysis"), Mapping):
                return 1
        if state.graph is not None and state.graph.get("hasVulnerabilityAlertsEnabled") is False:
            state.automated_fixes = False  # security updates need alerts: off without asking
            return 1
        fixes = self.client.rest_get(f"{path}/automated-security-fixes", allow=(403, 404))
        if fixes.status == 200 and isinstance(fixes.json, Mapping):
            enabled = fixes.json.get("enabled")
            state.automated_fixes = enabled if isinstance(enabled, bool) else None
        return 1

    def _parallel(self, fn: Callable[[T], int], items: Iterable[T]) -> Iterable[int]:
        items = list(items)
        if self.concurrency <= 1 or len(items) <= 1:
            yield from (fn(item) for item in items)
            return
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            yield from pool.map(fn, items)


def _names_references(path: str) -> bool:
    """A file that may name workflows, actions or hook repositories of other repositories."""
    name = path.rpartition("/")[2]
    return (
        path.startswith(".github/workflows/")
        or name in ("action.yml", "action.yaml")
        or path in (".pre-commit-config.yaml", ".pre-commit-config.yml")
    )


def _pages(n: int) -> str:
    return f"{n:,} more {'page' if n == 1 else 'pages'}"


def _budget_words(run_bytes: int) -> str:
    return f"this run read its budget of {size(run_bytes)} of GitHub answers"


def _needs_security_lookup(state: RepoState) -> bool:
    graph = state.graph
    return (
        graph is not None
        and graph.get("viewerPermission") == "ADMIN"
        and not isinstance((state.rest or {}).get("security_and_analysis"), Mapping)
    )


def declared_reads(policy: Policy, reads: ProbeReads) -> tuple[str, ...]:
    """Union of the file globs the enabled controls' probes declare in their def.toml."""
    globs: dict[str, None] = {}
    for control in policy.controls.values():
        if not control.enabled:
            continue
        for probe_id in control.probes:
            for glob in reads(probe_id):
                if not glob.startswith(("api:", "register:")):
                    globs[glob] = None
    return tuple(globs)


def _flatten(
    entries: object, tree: dict[str, TreeFile], depth: int, excluded: frozenset[str]
) -> list[str]:
    """Add the listing's files to `tree`; return the folders cut off at the depth limit."""
    cut: list[str] = []
    if not isinstance(entries, list):
        return cut
    for entry in entries:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("path"), str):
            continue
        path = entry["path"]
        kind = entry.get("type")
        if kind == "tree":
            child = entry.get("object")
            if isinstance(child, Mapping) and "entries" in child:
                cut.extend(_flatten(child.get("entries"), tree, depth - 1, excluded))
            elif entry.get("name") not in excluded:
                cut.append(path)  # listed in a later round, unless vendored
        elif kind in ("blob", "commit"):
            size = entry.get("size")
            mode = entry.get("mode")
            tree[path] = TreeFile(
                size if isinstance(size, int) else 0, mode if isinstance(mode, int) else 0
            )
    return cut


def _store_contents(
    state: RepoState,
    request: queries.ContentRequest,
    answer: object,
    excluded: frozenset[str],
) -> None:
    snap = state.require_snapshot()
    answer = answer if isinstance(answer, Mapping) else {}
    listed: dict[str, TreeFile] = {}
    for j in range(len(request.folders)):
        listing = answer.get(f"t{j}")
        if isinstance(listing, Mapping):
            state.folders.extend(
                _flatten(listing.get("entries"), listed, queries.TREE_DEPTH, excluded)
            )
    if listed:
        snap.add_files(listed)
    for j, path in enumerate(request.blobs):
        blob = answer.get(f"b{j}")
        if isinstance(blob, Mapping):
            text = blob.get("text")
            snap.blobs[path] = Blob(
                text=text if isinstance(text, str) else None,
                byte_size=int(blob.get("byteSize") or 0),
                is_binary=bool(blob.get("isBinary")),
            )
        else:
            snap.blobs[path] = Blob(text=None, byte_size=0, is_binary=False)


def _split_one(fetcher: GitHubFetcher, item: tuple[RepoState, queries.ContentRequest]) -> None:
    """One repository's request was too large: ask for its objects one by one."""
    state, request = item
    singles = [
        queries.ContentRequest(request.repo, request.oid, blobs=[b]) for b in request.blobs
    ] + [queries.ContentRequest(request.repo, request.oid, folders=[f]) for f in request.folders]
    if len(singles) <= 1:
        state.error = "GitHub could not answer for this repository's files (timeout)"
        return
    for single in singles:
        fetcher._contents_batch([(state, single)])


def _content_batches(
    requests: list[tuple[RepoState, queries.ContentRequest]],
) -> list[list[tuple[RepoState, queries.ContentRequest]]]:
    batches: list[list[tuple[RepoState, queries.ContentRequest]]] = []
    current: list[tuple[RepoState, queries.ContentRequest]] = []
    size = aliases = 0
    for state, request in requests:
        snap = state.require_snapshot()
        weight = sum(snap.tree[p].size for p in request.blobs if p in snap.tree)
        count = len(request.blobs) + len(request.folders) * 10
        if current and (size + weight > BATCH_BYTES or aliases + count > BATCH_ALIASES):
            batches.append(current)
            current, size, aliases = [], 0, 0
        current.append((state, request))
        size += weight
        aliases += count
    if current:
        batches.append(current)
    return batches


def _chunks(items: list[T], size: int) -> list[list[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _errors_by_alias(
    errors: Iterable[Mapping[str, Any]] | None,
) -> dict[str, list[Mapping[str, Any]]]:
    out: dict[str, list[Mapping[str, Any]]] = {}
    for error in errors or ():
        path = error.get("path")
        if isinstance(path, list) and path:
            out.setdefault(str(path[0]), []).append(error)
    return out


def _resource_error(errors: Iterable[Mapping[str, Any]] | None) -> bool:
    return any(e.get("type") in RESOURCE_ERRORS and not e.get("path") for e in errors or ())


def _forbidden(errors: Iterable[Mapping[str, Any]]) -> set[str]:
    """The fields of one alias that GitHub refused to this token."""
    return {
        str(e["path"][1])
        for e in errors
        if e.get("type") == "FORBIDDEN" and isinstance(e.get("path"), list) and len(e["path"]) > 1
    }


def _describe(errors: list[Mapping[str, Any]]) -> str:
    return "; ".join(str(e.get("message", "error")) for e in errors)
