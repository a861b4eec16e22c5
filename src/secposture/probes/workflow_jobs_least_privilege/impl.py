"""Least privilege for each job's GITHUB_TOKEN.

A job's token gets its own `permissions`, else its workflow's, else the repository default; a job of
a reusable workflow (`on: workflow_call` only) gets its caller's token, narrowed by its own blocks.
A write scope is least privilege only where the job may need it:

- granted at workflow level, it is inherited by every job that sets none: when more than one job
  inherits it, it is not least privilege (grant it on the jobs that need it);
- granted to one job (on the job, or at workflow level when that job is the only one inheriting
  it), it passes unless the job provably does not need it: every step is known (the table in
  data/workflow_security.toml) and none needs that scope. The table proves needs (SARIF upload needs
  `security-events: write`); it never proves their absence, so a step it does not know, a step
  handed the token, or a reusable workflow that could not be read leaves the grant standing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from secposture.facts import workflows
from secposture.facts.interface import Facts
from secposture.facts.workflow_expressions import (
    Config,
    Resolvers,
    TokenNeed,
    action_path,
    config,
    context_paths,
    expressions,
    resolvers,
)
from secposture.facts.workflows import Job, Step, Workflow
from secposture.model import Finding, Location, Outcome
from secposture.probes.interface import finding, probe_id, unanalysed

PROBE = probe_id(__name__)
_READ_ALL, _WRITE_ALL = "read-all", "write-all"
_MAX_CALL_DEPTH = 4  # reusable workflows nest at most 4 levels on GitHub
_TOKEN_CONTEXTS = {("secrets", "github_token"), ("github", "token")}


def run(facts: Facts) -> list[Finding]:
    found = facts.get(workflows.collect)
    hidden = facts.get(workflows.unanalysed)
    if not found and not hidden:
        return [finding(PROBE, Outcome.NOT_APPLICABLE, "no GitHub Actions workflows")]
    out = [unanalysed(PROBE, p, "the permissions of its jobs are unknown") for p in hidden]
    judge = _Judge(config(), resolvers(facts))
    callers = _local_callers(found)
    for workflow in found:
        out.extend(_workflow_level(workflow))
        inheriting = [job for job in workflow.jobs if job.permissions is None]
        for job in workflow.jobs:
            out.append(judge.job(workflow, job, len(inheriting), callers.get(workflow.path, [])))
    return out or [finding(PROBE, Outcome.NOT_APPLICABLE, "the workflows define no jobs")]


def job_needs(facts: Facts) -> Callable[[Job], Needs]:
    """What each job's token is needed for, as this probe judges it: for `secposture fix`, which
    grants each job gets (fix/generators/workflow_permissions.py)."""
    return _Judge(config(), resolvers(facts)).needs


def _local_callers(found: list[Workflow]) -> dict[str, list[tuple[Workflow, Job]]]:
    callers: dict[str, list[tuple[Workflow, Job]]] = {}
    for workflow in found:
        for job in workflow.jobs:
            if job.uses is not None and job.uses.startswith("./"):
                callee = job.uses[2:].split("@", 1)[0]
                callers.setdefault(callee, []).append((workflow, job))
    return callers


def _workflow_level(workflow: Workflow) -> list[Finding]:
    """write-all at the top is reported even when every job overrides it: a new job inherits it."""
    if _is_write_all(workflow.permissions) and all(
        job.permissions is None for job in workflow.jobs
    ):
        return []  # each job's finding already says so
    if _is_write_all(workflow.permissions):
        return [
            finding(
                PROBE,
                Outcome.NEGATIVE,
                f"{workflow.path} sets `permissions: write-all` for the whole workflow",
                Location(workflow.path, workflow.permissions_line),
            )
        ]
    return []


@dataclass
class Needs:
    """What a job's token is needed for: scopes proven by the table, and why any other scope may be
    needed too (None where every step is known)."""

    proven: dict[str, str] = field(default_factory=dict)  # scope -> evidence
    open: str | None = None
    # Scopes a script uses without being handed the token: `contents` through the credentials
    # actions/checkout leaves in .git/config, `id-token` through ACTIONS_ID_TOKEN_REQUEST_URL.
    implicit: dict[str, str] = field(default_factory=dict)

    def add(self, other: Needs) -> None:
        for scope, why in other.proven.items():
            self.proven.setdefault(scope, why)
        for scope, why in other.implicit.items():
            self.implicit.setdefault(scope, why)
        self.open = self.open or other.open

    def may_need(self, scope: str) -> str | None:
        """Why the scope may be needed, or None when it is provably not."""
        if scope in self.proven:
            return f"needed: {self.proven[scope]}"
        if self.open is not None:
            return f"may be needed: {self.open}"
        if scope in self.implicit:
            return f"may be needed: {self.implicit[scope]}"
        return None


class _Judge:
    def __init__(self, cfg: Config, resolve: Resolvers) -> None:
        self.cfg = cfg
        self.resolve = resolve
        self.callee_needs: dict[str, Needs] = {}  # each called workflow judged once: calls fan out

    def job(
        self,
        workflow: Workflow,
        job: Job,
        inheriting: int,
        callers: list[tuple[Workflow, Job]],
    ) -> Finding:
        name = f"job `{job.id}` in {workflow.path}"
        if job.permissions is not None:
            return self._judge(name, job, job.permissions, "job", Location(job.path, job.line))
        if workflow.permissions is not None:
            where = Location(workflow.path, workflow.permissions_line or job.line)
            writes = _writes(workflow.permissions)
            if writes and inheriting > 1:
                return finding(
                    PROBE,
                    Outcome.NEGATIVE,
                    f"{name} inherits the workflow-level write to {', '.join(writes)} "
                    f"({workflow.path}:{workflow.permissions_line}), as do {inheriting - 1} other "
                    "job(s) that set no `permissions`: grant each write on the job that needs it "
                    "and keep the workflow's at `contents: read`",
                    where,
                    job=job.id,
                )
            return self._judge(name, job, workflow.permissions, "workflow", where)
        if workflow.triggers == frozenset({"workflow_call"}):
            return _called(name, job, callers)
        callee = self.resolve.workflow(job) if job.uses is not None else None
        if callee is not None and all(
            inner.permissions is not None or callee.permissions is not None for inner in callee.jobs
        ):
            return finding(
                PROBE,
                Outcome.POSITIVE,
                f"{name} sets no `permissions`, but every job of the workflow it calls "
                f"({callee.path}) narrows its token with its own",
                Location(job.path, job.line),
                job=job.id,
            )
        return finding(
            PROBE,
            Outcome.NEGATIVE,
            f"{name} sets no `permissions` and neither does the workflow: the token gets the "
            "repository default, which may be write access to everything",
            Location(job.path, job.line),
            job=job.id,
        )

    def _judge(self, name: str, job: Job, value: Any, level: str, where: Location) -> Finding:
        if _is_write_all(value):
            return finding(
                PROBE,
                Outcome.NEGATIVE,
                f"{name} runs with `write-all` ({level} permissions)",
                where,
            )
        if isinstance(value, str) and value.strip() == _READ_ALL:
            return finding(
                PROBE, Outcome.POSITIVE, f"{name}: read-all ({level} permissions)", where
            )
        if not isinstance(value, Mapping):
            return finding(
                PROBE,
                Outcome.NEGATIVE,
                f"{name} has invalid permissions {str(value)[:60]!r} ({level} permissions): use a "
                "mapping of scopes, `read-all` or `{}`",
                where,
            )
        writes = _writes(value)
        if not value:
            return finding(
                PROBE,
                Outcome.POSITIVE,
                f"{name}: no permissions (`{{}}`) ({level} permissions)",
                where,
            )
        if not writes:
            return finding(
                PROBE,
                Outcome.POSITIVE,
                f"{name}: explicit read-only permissions ({level} permissions)",
                where,
            )
        needs = self.needs(job)
        unneeded = [scope for scope in writes if needs.may_need(scope) is None]
        if unneeded:
            return finding(
                PROBE,
                Outcome.NEGATIVE,
                f"{name} is granted write to {', '.join(unneeded)} ({level} permissions) but no "
                "step needs it: every step is one whose needs are known, and none writes there; "
                "drop the grant",
                where,
            )
        reasons = "; ".join(f"{scope}: {needs.may_need(scope)}" for scope in writes)
        return finding(
            PROBE,
            Outcome.POSITIVE,
            f"{name}: explicit permissions, with write to {', '.join(writes)} ({level} "
            f"permissions; {reasons})",
            where,
        )

    def needs(self, job: Job, depth: int = 0, seen: frozenset[str] = frozenset()) -> Needs:
        """What the job's token is needed for: its steps, or the reusable workflow it calls."""
        if job.uses is not None:
            return self.call_needs(job, self.resolve.workflow(job), depth, seen)
        found = Needs()
        self._steps(job.steps, found, depth)
        return found

    def call_needs(
        self, job: Job, callee: Workflow | None, depth: int = 0, seen: frozenset[str] = frozenset()
    ) -> Needs:
        """What a call job's token is needed for: what the called workflow's jobs ask for (their
        `permissions`), or need by their steps. An unread callee may need anything."""
        if callee is None or depth >= _MAX_CALL_DEPTH or callee.path in seen:
            return Needs(open=f"it calls {job.uses}, which could not be read")
        known = self.callee_needs.get(callee.path)
        if known is not None:
            return known
        found = self.callee_needs[callee.path] = Needs()
        for inner in callee.jobs:
            asked = inner.permissions if inner.permissions is not None else callee.permissions
            where = f"{callee.path}:{inner.line} job `{inner.id}`"
            if _is_write_all(asked):
                found.open = f"{where} asks for write-all"
            elif isinstance(asked, Mapping):
                for scope in _writes(asked):
                    found.proven.setdefault(scope, f"{where} asks for {scope}: write")
            else:
                found.add(self.needs(inner, depth + 1, seen | {callee.path}))
        return found

    def _steps(self, steps: list[Step], found: Needs, depth: int) -> None:
        checked_out = False
        for step in steps:
            where = f"{step.path}:{step.line}"
            token_handed = _hands_token(step)
            if step.uses is not None:
                uses = step.uses
                if uses.startswith("./"):
                    action = self.resolve.action(uses)
                    if action is None or action.problem is not None or depth >= _MAX_CALL_DEPTH:
                        found.open = found.open or f"{where} uses {uses}, which could not be read"
                    else:
                        self._steps(action.steps, found, depth + 1)
                    continue
                path = action_path(uses)
                matched = [need for need in self.cfg.token_needs if _need_matches(need, path, step)]
                listed = matched or _listed(path, self.cfg.token_free_actions)
                action = (
                    None if listed or uses.startswith("docker://") else self.resolve.action(uses)
                )
                if action is not None and action.problem is None and depth < _MAX_CALL_DEPTH:
                    self._steps(action.steps, found, depth + 1)  # another repository's composite
                    continue
                for need in matched:
                    for scope in need.scopes:
                        found.proven.setdefault(scope, f"{where} {uses.split('@')[0]} ({need.why})")
                if _listed(path, self.cfg.checkout_actions):
                    persist = step.with_.get("persist-credentials", "").strip().lower()
                    checked_out = checked_out or persist != "false"
                if matched or (uses.startswith("docker://") and not token_handed):
                    continue
                if _listed(path, self.cfg.token_free_actions):
                    continue
                if _listed(path, self.cfg.token_taking_actions) or token_handed:
                    found.open = found.open or f"{where} hands the token to {uses.split('@')[0]}"
                else:
                    found.open = found.open or (
                        f"{where} uses {uses.split('@')[0]}, whose needs are not in the table"
                    )
            if step.run is not None:
                for need in self.cfg.token_needs:
                    if need.run is not None and need.run.search(step.run):
                        for scope in need.scopes:
                            found.proven.setdefault(
                                scope, f"{where} runs a command that {need.why}"
                            )
                if token_handed:
                    found.open = found.open or f"{where} hands the token to a script"
                found.implicit.setdefault(
                    "id-token", f"{where} runs a script, which may ask for an OIDC token"
                )
                if checked_out:
                    found.implicit.setdefault(
                        "contents",
                        f"{where} runs a script after actions/checkout left the token in "
                        ".git/config",
                    )


def _called(name: str, job: Job, callers: list[tuple[Workflow, Job]]) -> Finding:
    """A job of a reusable workflow that sets no permissions runs with its caller's token."""
    where = Location(job.path, job.line)
    if not callers:
        return finding(
            PROBE,
            Outcome.NOT_APPLICABLE,
            f"{name} runs with the token of the workflow that calls it (`on: workflow_call`): "
            "each caller's `permissions` are judged in its own repository",
            where,
            job=job.id,
        )
    unset = [
        f"{caller.path}:{call.line} job `{call.id}`"
        for caller, call in callers
        if call.permissions is None and caller.permissions is None
    ]
    if unset:
        return finding(
            PROBE,
            Outcome.NEGATIVE,
            f"{name} runs with its caller's token, and {unset[0]} sets no `permissions`: "
            "the repository default",
            where,
            job=job.id,
        )
    named = ", ".join(f"{caller.path}:{call.line} job `{call.id}`" for caller, call in callers[:3])
    return finding(
        PROBE,
        Outcome.POSITIVE,
        f"{name} runs with the token its caller grants explicitly ({named})",
        where,
        job=job.id,
    )


def _writes(value: Any) -> list[str]:
    if not isinstance(value, Mapping):
        return []
    return sorted(str(k) for k, v in value.items() if str(v).strip().lower() == "write")


def _listed(path: str, names: tuple[str, ...]) -> bool:
    return any(path == name or path.startswith(name + "/") for name in names)


def _need_matches(need: TokenNeed, path: str, step: Step) -> bool:
    if not need.uses or not _listed(path, (need.uses,)):
        return False
    given = {key.lower(): value.strip() for key, value in step.with_.items()}
    for key, wanted in need.with_:
        value = given.get(key, "")
        if not value or (wanted != "*" and value.lower() != wanted.lower()):
            return False
    return True


def _hands_token(step: Step) -> bool:
    """Whether the step is given the job's token in `with:` or `env:` (or a script reads it)."""
    texts = [*step.with_.values(), *step.env.values()]
    if step.run is not None:
        texts.append(step.run)
    return any(
        path[:2] in _TOKEN_CONTEXTS
        for text in texts
        for expr in expressions(text)
        for path in context_paths(expr.text)
    )


def _is_write_all(value: Any) -> bool:
    return isinstance(value, str) and value.strip() == _WRITE_ALL
