"""`secposture fix --org ORG [--pr]`: the fix across an estate, one pull request per repository.

The repositories are read and scanned with the GitHub source (batched, as `scan --org` does);
each one's fixes are planned on its GitHub snapshot with the same generators as a local fix. A
dry run (no `--pr`, the default for an estate) reads whether a secposture pull request is open
and up to date, and says what would be opened or updated; with `--pr` the pull requests are
opened or updated one repository at a time (writes are few and spaced; see pull_request.py).
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from secposture.errors import SecpostureError
from secposture.fix.action_pins import GitHubPins, PinSource, TablePins
from secposture.fix.interface import FileChange, FixPlan
from secposture.fix.plan import check_codeowner, plan_fixes, selected_controls
from secposture.fix.pull_request import (
    FixTarget,
    WorkflowAccess,
    publish,
    refused_workflows,
    touches_workflows,
    workflow_access,
)
from secposture.model import EstateRepository
from secposture.policy import Policy
from secposture.probes.interface import probe_reads
from secposture.scan import scan_github
from secposture.sources.github.fetch import (
    GitHubFetcher,
    Progress,
    RepoFilter,
    RepoState,
    no_progress,
)
from secposture.sources.github.transport import GitHubClient
from secposture.text import plural

logger = logging.getLogger("secposture.fix")

OPENED = "opened"
UPDATED = "updated"
UNCHANGED = "unchanged"
WOULD_OPEN = "would-open"
WOULD_UPDATE = "would-update"
NOTHING_TO_FIX = "nothing-to-fix"
FAILED = "failed"
ACTIONS = (OPENED, UPDATED, UNCHANGED, WOULD_OPEN, WOULD_UPDATE, NOTHING_TO_FIX, FAILED)
MAX_PLAN_ROUNDS = 6  # fetch rounds for files the generators ask for beyond the scan's
FORMATS = ("text", "json")


@dataclass(frozen=True)
class PlanOptions:
    """What `secposture fix` passes on to the generators for every repository."""

    force: bool = False
    only: tuple[str, ...] | None = None
    codeowner: str | None = None
    pins: PinSource | None = None  # the tags of `uses:` resolved for the whole estate


@dataclass(frozen=True)
class RepoFix:
    repository: str  # "owner/name"
    action: str  # one of ACTIONS
    url: str | None  # the pull request, when there is one
    changes: tuple[FileChange, ...]
    detail: str


def fix_org(
    client: GitHubClient,
    org: str,
    repo_filter: RepoFilter,
    policy: Policy,
    *,
    open_prs: bool,
    progress: Progress = no_progress,
    today: date | None = None,
    concurrency: int = 4,
    force: bool = False,
    only: Sequence[str] | None = None,
    codeowner: str | None = None,
) -> list[RepoFix]:
    """Every repository of `org` the filter accepts: its fix planned, and with `open_prs` a pull
    request opened or updated; without it nothing is written. `policy` is the operator's: each
    repository's own file lies over it as for a scan (docs/adr/0011-*.md). `force`, `only` and
    `codeowner` are the generators' options, as for a checkout."""
    options = _plan_options(policy, force, only, codeowner)
    fetcher = GitHubFetcher(
        client,
        policy,
        concurrency=concurrency,
        progress=progress,
        today=today,
        reads=probe_reads,
    )
    states = fetcher.list_org(org, repo_filter)
    return _fix_states(fetcher, states, options, open_prs=open_prs)


def fix_repo(
    client: GitHubClient,
    owner: str,
    name: str,
    policy: Policy,
    *,
    open_prs: bool,
    progress: Progress = no_progress,
    today: date | None = None,
    force: bool = False,
    only: Sequence[str] | None = None,
    codeowner: str | None = None,
) -> RepoFix:
    """One repository read from GitHub, as fix_org does for each of an organisation's."""
    options = _plan_options(policy, force, only, codeowner)
    fetcher = GitHubFetcher(
        client,
        policy,
        concurrency=1,
        progress=progress,
        today=today,
        reads=probe_reads,
    )
    state = fetcher.get_repo(owner, name)
    (fix,) = _fix_states(fetcher, [state], options, open_prs=open_prs)
    return fix


def _plan_options(
    policy: Policy, force: bool, only: Sequence[str] | None, codeowner: str | None
) -> PlanOptions:
    """The options, checked once before anything is read (a bad --only names the controls)."""
    if only:
        selected_controls(policy, only)
    return PlanOptions(force, tuple(only) if only else None, check_codeowner(codeowner))


# -- planning ------------------------------------------------------------------------------------


def _fix_states(
    fetcher: GitHubFetcher, states: Sequence[RepoState], options: PlanOptions, *, open_prs: bool
) -> list[RepoFix]:
    entries = scan_github(fetcher, states, fetcher.today)
    if options.pins is None:
        # One batched query for every tag the estate's workflows name (actions-pinned).
        options = replace(options, pins=GitHubPins(fetcher.client, fallback=TablePins()))
    plans = _plan_all(fetcher, states, entries, options)
    fixes: dict[int, RepoFix] = {}
    jobs: list[tuple[int, RepoState, FixPlan]] = []
    for index, (state, entry) in enumerate(zip(states, entries, strict=True)):
        plan = plans.get(index)
        if isinstance(plan, str) or plan is None:
            error = plan or entry.error or "not scanned"
            fixes[index] = RepoFix(state.full_name, FAILED, None, (), error)
        elif plan.empty:
            fixes[index] = RepoFix(state.full_name, NOTHING_TO_FIX, None, (), _why_nothing(plan))
        else:
            jobs.append((index, state, plan))
    publish_one = _publisher(fetcher, open_prs)
    if open_prs:
        # Writes one repository at a time: GitHub asks for serial writes (secondary limits).
        results = []
        for done, job in enumerate(jobs, 1):
            results.append(publish_one(job))
            fetcher.progress("opening pull requests", done, len(jobs))
    else:
        results = _parallel(fetcher, publish_one, jobs)
    for (index, _, _), fix in zip(jobs, results, strict=True):
        fixes[index] = fix
    return [fixes[i] for i in range(len(states))]


def _plan_all(
    fetcher: GitHubFetcher,
    states: Sequence[RepoState],
    entries: Sequence[EstateRepository],
    options: PlanOptions,
) -> dict[int, FixPlan | str]:
    """Each scanned repository's plan (or why there is none). A generator may read a file the
    scan did not: those are fetched in batched rounds and the plan is made again."""
    plans: dict[int, FixPlan | str] = {}
    pending = [
        i for i, e in enumerate(entries) if e.report is not None and states[i].snapshot is not None
    ]
    if options.pins is not None:
        options.pins.prepare(_wanted_pins(fetcher, states, pending))
    for _ in range(MAX_PLAN_ROUNDS):
        if not pending:
            break
        incomplete = []
        for index in pending:
            plans[index] = _plan_one(fetcher, states[index], entries[index], options)
            snapshot = states[index].snapshot
            if snapshot is not None and not snapshot.complete():
                incomplete.append(index)
        if incomplete:
            fetcher.fetch_round([states[i] for i in incomplete])
        pending = incomplete
    for index in pending:
        plans[index] = "could not read every file the fix needs from GitHub"
    return plans


def _wanted_pins(
    fetcher: GitHubFetcher, states: Sequence[RepoState], indexes: Sequence[int]
) -> list[tuple[str, str]]:
    """Every (repository, tag) the scanned repositories' workflows name, asked of GitHub at once
    before any plan is made (a plan asks only for what is left)."""
    from secposture.facts.interface import Facts
    from secposture.fix.generators.workflow_pins import wanted_refs
    from secposture.fix.overlay import OverlaySnapshot

    wanted: list[tuple[str, str]] = []
    for index in indexes:
        state = states[index]
        if state.snapshot is None:
            continue
        try:
            policy = fetcher.policy_for(state)
            facts = Facts(OverlaySnapshot(state.snapshot, {}), policy, fetcher.today)
            wanted.extend(wanted_refs(facts))
        except SecpostureError:
            continue  # its plan says why
    return wanted


def _plan_one(
    fetcher: GitHubFetcher, state: RepoState, entry: EstateRepository, options: PlanOptions
) -> FixPlan | str:
    snapshot = state.require_snapshot()
    if entry.report is None:
        return entry.error or "not scanned"
    try:
        policy = fetcher.policy_for(state)
        return plan_fixes(
            snapshot,
            policy,
            entry.report,
            force=options.force,
            only=options.only,
            today=fetcher.today,
            codeowner=options.codeowner,
            pins=options.pins,
        )
    except SecpostureError as exc:
        return f"cannot plan the fix: {exc}"
    except Exception as exc:
        # A generator fault on one repository's content must not cost the whole estate run:
        # that repository fails, saying so, and the others go on.
        logger.debug("planning %s failed", state.full_name, exc_info=True)
        return f"cannot plan the fix (a fault in secposture: {type(exc).__name__}: {exc})"


def _why_nothing(plan: FixPlan) -> str:
    if not plan.skipped:
        return "no failing control needs a file"
    controls = ", ".join(dict.fromkeys(s.control for s in plan.skipped))
    return (
        f"no file to add; needs other action (`secposture fix` in a checkout says why): {controls}"
    )


# -- publishing ----------------------------------------------------------------------------------

Job = tuple[int, RepoState, FixPlan]


def _publisher(fetcher: GitHubFetcher, open_prs: bool) -> Callable[[Job], RepoFix]:
    access: list[WorkflowAccess] = []  # the credentials' workflow access, read once a run
    lock = threading.Lock()

    def workflows_allowed(target: FixTarget) -> WorkflowAccess:
        with lock:
            if not access:
                try:
                    access.append(workflow_access(fetcher.client, target))
                except SecpostureError as exc:
                    access.append(WorkflowAccess(None, f"could not be read ({exc})"))
            return access[0]

    def publish_one(job: Job) -> RepoFix:
        _, state, plan = job
        changes = tuple(plan.changes)
        target = _target(state)
        if isinstance(target, str):
            return RepoFix(state.full_name, FAILED, None, changes, target)
        notes: list[str] = []
        if any(touches_workflows(c) for c in changes):
            allowed = workflows_allowed(target)
            if allowed.allowed is False:
                changes, note = _without_workflows(changes, allowed.why)
                notes.append(note)
        if not changes:
            return RepoFix(state.full_name, FAILED, None, tuple(plan.changes), notes[0])
        try:
            published = publish(fetcher.client, target, changes, dry_run=not open_prs, notes=notes)
        except SecpostureError as exc:
            if not (refused_workflows(exc) and any(touches_workflows(c) for c in changes)):
                return RepoFix(state.full_name, FAILED, None, changes, str(exc))
            changes, note = _without_workflows(changes, f"GitHub refused them: {exc}")
            notes.append(note)
            if not changes:
                return RepoFix(state.full_name, FAILED, None, tuple(plan.changes), note)
            try:
                published = publish(
                    fetcher.client, target, changes, dry_run=not open_prs, notes=notes
                )
            except SecpostureError as again:
                return RepoFix(state.full_name, FAILED, None, changes, str(again))
        detail = "; ".join([published.detail, *notes])
        return RepoFix(state.full_name, published.action, published.url, changes, detail)

    return publish_one


def _without_workflows(
    changes: tuple[FileChange, ...], why: str
) -> tuple[tuple[FileChange, ...], str]:
    """The changes less those to .github/workflows/, and the note that says so."""
    kept = tuple(c for c in changes if not touches_workflows(c))
    left = [c.path for c in changes if touches_workflows(c)]
    note = (
        f"the changes to {len(left)} workflow file(s) ({', '.join(left[:5])}"
        f"{', ...' if len(left) > 5 else ''}) are left out: {why}; give the token that scope "
        "(or the App that permission) and run again to add them"
    )
    return kept, note


def _target(state: RepoState) -> FixTarget | str:
    """Where the pull request goes, or why it cannot be opened."""
    rest = state.rest or {}
    if rest.get("archived") or (state.graph or {}).get("isArchived"):
        return "the repository is archived (read-only): unarchive it to fix it"
    snapshot = state.require_snapshot()
    commit = snapshot.target.commit
    branch_ref = (state.graph or {}).get("defaultBranchRef")
    branch = branch_ref.get("name") if isinstance(branch_ref, Mapping) else None
    if commit is None or not isinstance(branch, str):
        return "the repository is empty: there is no default branch to open a pull request on"
    modes = {path: entry.mode for path, entry in snapshot.tree.items()}
    return FixTarget(state.owner, state.name, branch, commit, modes)


def _parallel(
    fetcher: GitHubFetcher, fn: Callable[[Job], RepoFix], jobs: Sequence[Job]
) -> list[RepoFix]:
    """A dry run only reads: several repositories at once."""
    if fetcher.concurrency <= 1 or len(jobs) <= 1:
        results = [fn(job) for job in jobs]
    else:
        with ThreadPoolExecutor(max_workers=fetcher.concurrency) as pool:
            results = list(pool.map(fn, jobs))
    fetcher.progress("checking pull requests", len(jobs), len(jobs))
    return results


# -- rendering -----------------------------------------------------------------------------------


def render_fixes(
    fixes: Sequence[RepoFix], fmt: str = "text", *, dry_run: bool | None = None
) -> str:
    """What was opened, updated or left, per repository; or, after a dry run, what would be.
    `dry_run` None: inferred from the actions (a "would-" action means a dry run)."""
    if dry_run is None:
        dry_run = any(f.action in (WOULD_OPEN, WOULD_UPDATE) for f in fixes)
    if fmt == "json":
        return json.dumps(_as_json(fixes, dry_run), indent=2) + "\n"
    if fmt != "text":
        raise SecpostureError(
            f"unknown format {fmt!r} for the fix summary: use {' or '.join(FORMATS)}"
        )
    return _as_text(fixes, dry_run)


def _as_json(fixes: Sequence[RepoFix], dry_run: bool) -> dict[str, Any]:
    return {
        "summary": {a: n for a, n in _counts(fixes).items() if n},
        "dry_run": dry_run,
        "repositories": [
            {
                "repository": f.repository,
                "action": f.action,
                "url": f.url,
                "detail": f.detail,
                "changes": [
                    {
                        "path": c.path,
                        "new": c.before is None,
                        "control": c.control,
                        "summary": c.summary,
                        "guidance": c.guidance,
                    }
                    for c in f.changes
                ],
            }
            for f in fixes
        ],
    }


def _as_text(fixes: Sequence[RepoFix], dry_run: bool) -> str:
    if not fixes:
        return "No repositories matched.\n"
    width = min(48, max(len(_clean(f.repository)) for f in fixes))
    lines = []
    for fix in fixes:
        head = f"{_clean(fix.repository):<{width}}  {fix.action:<14}"
        where = _clean(fix.url) if fix.url else _clean(fix.detail)
        lines.append(f"{head}  {where}".rstrip())
        if fix.url and fix.detail:
            lines.append(f"    {_clean(fix.detail)}")
        for change in fix.changes:
            sign = "+" if change.before is None else "~"
            lines.append(
                f"    {sign} {_clean(change.path)} ({_clean(change.control)}): "
                f"{_clean(change.summary)}"
            )
    lines += ["", _summary_line(fixes, dry_run)]
    return "\n".join(lines) + "\n"


def _summary_line(fixes: Sequence[RepoFix], dry_run: bool) -> str:
    counts = _counts(fixes)
    words = {
        OPENED: "pull requests opened",
        UPDATED: "updated",
        UNCHANGED: "up to date",
        WOULD_OPEN: "pull requests would be opened",
        WOULD_UPDATE: "would be updated",
        NOTHING_TO_FIX: "with nothing to fix",
        FAILED: "failed",
    }
    parts = [f"{counts[a]} {words[a]}" for a in ACTIONS if counts[a]]
    line = plural(len(fixes), "repository", "repositories") + ": " + ", ".join(parts) + "."
    if dry_run:
        line += " Dry run: nothing was written (--pr opens or updates the pull requests)."
    return line


def _counts(fixes: Sequence[RepoFix]) -> Counter[str]:
    counts: Counter[str] = Counter(dict.fromkeys(ACTIONS, 0))
    counts.update(f.action for f in fixes)
    return counts


def _clean(text: str) -> str:
    """Names, paths and messages from GitHub made safe for one terminal line."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(cleaned.split())[:500]
