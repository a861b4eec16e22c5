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
  What a job needs is facts/token_needs.py's reading, which `secposture fix` grants by too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from secposture.facts import workflows
from secposture.facts.interface import Facts
from secposture.facts.token_needs import TokenNeeds, is_write_all, write_scopes
from secposture.facts.workflow_expressions import config, resolvers
from secposture.facts.workflows import Job, Workflow
from secposture.model import Finding, Location, Outcome
from secposture.probes.interface import finding, probe_id, unanalysed

PROBE = probe_id(__name__)
_READ_ALL = "read-all"


def run(facts: Facts) -> list[Finding]:
    found = facts.get(workflows.collect)
    hidden = facts.get(workflows.unanalysed)
    if not found and not hidden:
        return [finding(PROBE, Outcome.NOT_APPLICABLE, "no GitHub Actions workflows")]
    out = [unanalysed(PROBE, p, "the permissions of its jobs are unknown") for p in hidden]
    judge = _Judge(TokenNeeds(config(), resolvers(facts)))
    callers = _local_callers(found)
    for workflow in found:
        out.extend(_workflow_level(workflow))
        inheriting = [job for job in workflow.jobs if job.permissions is None]
        for job in workflow.jobs:
            out.append(judge.job(workflow, job, len(inheriting), callers.get(workflow.path, [])))
    return out or [finding(PROBE, Outcome.NOT_APPLICABLE, "the workflows define no jobs")]


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
    if is_write_all(workflow.permissions) and all(job.permissions is None for job in workflow.jobs):
        return []  # each job's finding already says so
    if is_write_all(workflow.permissions):
        return [
            finding(
                PROBE,
                Outcome.NEGATIVE,
                f"{workflow.path} sets `permissions: write-all` for the whole workflow",
                Location(workflow.path, workflow.permissions_line),
            )
        ]
    return []


class _Judge:
    def __init__(self, token_needs: TokenNeeds) -> None:
        self.token_needs = token_needs
        self.resolve = token_needs.resolve

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
            writes = write_scopes(workflow.permissions)
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
        if is_write_all(value):
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
        writes = write_scopes(value)
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
        needs = self.token_needs.needs(job)
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
