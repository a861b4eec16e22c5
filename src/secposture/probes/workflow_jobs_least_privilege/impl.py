from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from secposture.facts import workflows
from secposture.facts.interface import Facts
from secposture.facts.workflows import Job, Workflow
from secposture.model import Finding, Location, Outcome
from secposture.probes.interface import finding, unanalysed

PROBE = "workflow-jobs-least-privilege"
_READ_ALL, _WRITE_ALL = "read-all", "write-all"


def run(facts: Facts) -> list[Finding]:
    found = facts.get(workflows.collect)
    hidden = facts.get(workflows.unanalysed)
    if not found and not hidden:
        return [finding(PROBE, Outcome.NOT_APPLICABLE, "no GitHub Actions workflows")]
    out = [unanalysed(PROBE, p, "the permissions of its jobs are unknown") for p in hidden]
    for workflow in found:
        out.extend(_workflow_level(workflow))
        out.extend(_job(workflow, job) for job in workflow.jobs)
    return out or [finding(PROBE, Outcome.NOT_APPLICABLE, "the workflows define no jobs")]


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


def _job(workflow: Workflow, job: Job) -> Finding:
    name = f"job `{job.id}` in {workflow.path}"
    if job.permissions is not None:
        return _judge(name, job.permissions, "job", Location(job.path, job.line))
    if workflow.permissions is not None:
        where = Location(workflow.path, workflow.permissions_line or job.line)
        return _judge(name, workflow.permissions, "workflow", where)
    return finding(
        PROBE,
        Outcome.NEGATIVE,
        f"{name} sets no `permissions` and neither does the workflow: the token gets the "
        "repository default, which may be write access to everything",
        Location(job.path, job.line),
        job=job.id,
    )


def _judge(name: str, value: Any, level: str, where: Location) -> Finding:
    if _is_write_all(value):
        return finding(
            PROBE, Outcome.NEGATIVE, f"{name} runs with `write-all` ({level} permissions)", where
        )
    if isinstance(value, str) and value.strip() == _READ_ALL:
        return finding(PROBE, Outcome.POSITIVE, f"{name}: read-all ({level} permissions)", where)
    if isinstance(value, Mapping):
        writes = sorted(str(k) for k, v in value.items() if str(v).strip().lower() == "write")
        if not value:
            detail = "no permissions (`{}`)"
        elif writes:
            detail = f"explicit permissions, with write to {', '.join(writes)}"
        else:
            detail = "explicit read-only permissions"
        return finding(PROBE, Outcome.POSITIVE, f"{name}: {detail} ({level} permissions)", where)
    return finding(
        PROBE,
        Outcome.NEGATIVE,
        f"{name} has invalid permissions {str(value)[:60]!r} ({level} permissions): use a "
        "mapping of scopes, `read-all` or `{}`",
        where,
    )


def _is_write_all(value: Any) -> bool:
    return isinstance(value, str) and value.strip() == _WRITE_ALL
