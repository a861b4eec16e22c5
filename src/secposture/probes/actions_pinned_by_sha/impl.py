from __future__ import annotations

import re
from collections.abc import Iterator

from secposture.facts import workflows
from secposture.facts.interface import Facts
from secposture.facts.workflow_expressions import line_within
from secposture.model import Finding, Location, Outcome
from secposture.probes.interface import finding, probe_id, unanalysed
from secposture.text import clip

PROBE = probe_id(__name__)
# owner/repo[/path]@<40 hex>: anything else after `@` (a tag or branch) can be moved.
_PINNED = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(?:/[^@\s]+)?@[0-9a-fA-F]{40}")
_DIGEST = re.compile(r"docker://[^@\s]+@sha256:[0-9a-fA-F]{64}")


def run(facts: Facts) -> list[Finding]:
    seen: set[tuple[str, int | None]] = set()
    out = [
        unanalysed(PROBE, p, "which actions it uses, and how they are pinned, is unknown")
        for p in facts.get(workflows.unanalysed)
    ]
    for path, line, uses in _references(facts):
        if uses.startswith("./") or uses == ".":
            continue  # local: pinned by this repository's own commit
        line = line_within(facts, path, line, uses)
        if (path, line) in seen:
            continue
        seen.add((path, line))
        out.append(_judge(path, line, uses))
    if not out:
        return [
            finding(
                PROBE,
                Outcome.NOT_APPLICABLE,
                "no third-party actions or reusable workflows are used",
            )
        ]
    return out


def _references(facts: Facts) -> Iterator[tuple[str, int | None, str]]:
    """(file, line, uses) of every step, reusable-workflow call and local composite action step."""
    for workflow in facts.get(workflows.collect):
        for job in workflow.jobs:
            if job.uses is not None:
                yield job.path, job.line, job.uses
            for step in job.steps:
                if step.uses is not None:
                    yield step.path, step.line, step.uses
    actions = facts.get(workflows.collect_local_actions)
    for folder in sorted(actions):
        for step in actions[folder].steps:
            if step.uses is not None:
                yield step.path, step.line, step.uses


def _judge(path: str, line: int | None, uses: str) -> Finding:
    where = Location(path, line)
    shown = clip(uses, 200)
    if uses.startswith("docker://"):
        if _DIGEST.fullmatch(uses):
            return finding(PROBE, Outcome.POSITIVE, f"`{shown}` is pinned by digest", where)
        return finding(
            PROBE,
            Outcome.NEGATIVE,
            f"Docker image `{shown}` is not pinned by its `@sha256:` digest",
            where,
        )
    if _PINNED.fullmatch(uses):
        return finding(PROBE, Outcome.POSITIVE, f"`{shown}` is pinned to a commit SHA", where)
    ref = uses.partition("@")[2]
    why = f"`@{clip(ref, 80)}` is a tag or branch" if ref else "it has no `@ref` at all"
    return finding(
        PROBE, Outcome.NEGATIVE, f"`{shown}` is not pinned to a commit SHA: {why}", where
    )
