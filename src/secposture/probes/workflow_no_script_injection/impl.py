"""Script injection: an attacker-controlled value expanded inline (`${{ ... }}`) in a `run:` script
or an input that an action runs as code.

Only values that can reach the expression's result count (`contains(github.event.issue.title, 'x')`
is a boolean); `with:`, `env:`, `if:` and `concurrency:` are not scripts. An untrusted value stays
untrusted through `env:` and through `with:` into the `inputs.*` of a called reusable workflow or
composite action, and the finding names that chain. `workflow_dispatch` inputs are not counted:
only people with write access can dispatch a workflow (data/workflow_security.toml says what is).
"""

from __future__ import annotations

from collections.abc import Iterator

from secposture.facts import workflows
from secposture.facts.interface import Facts
from secposture.facts.workflow_expressions import (
    Config,
    Expression,
    StepInContext,
    Taint,
    action_name,
    config,
    line_within,
    tainted_values,
)
from secposture.facts.workflows import Step, Workflow, WorkflowVisit
from secposture.model import Finding, Location, Outcome
from secposture.probes.interface import finding, probe_id, unanalysed
from secposture.text import clip

PROBE = probe_id(__name__)


def run(facts: Facts) -> list[Finding]:
    found = facts.get(workflows.collect)
    hidden = facts.get(workflows.unanalysed)
    if not found and not hidden:
        return [finding(PROBE, Outcome.NOT_APPLICABLE, "no GitHub Actions workflows")]
    cfg = config()
    out = [
        unanalysed(PROBE, p, "whether its scripts inject untrusted input is unknown")
        for p in hidden
    ]
    for visit in facts.get(workflows.visits):
        if visit.limit is not None:
            out.append(_too_wide(visit.workflow, visit.limit))
            continue
        out.extend(_judge(facts, visit, cfg) or [_clean(visit.workflow)])
    return out


def _judge(facts: Facts, visit: WorkflowVisit, cfg: Config) -> list[Finding]:
    workflow = visit.workflow
    bad: list[Finding] = []
    seen: set[tuple[str, int | None]] = set()
    for context in visit.values():
        for expr, taint, kind in _injections(context, cfg):
            if context.called and not any(" with: " in hop for hop in taint.chain):
                continue  # not from the caller: found where that workflow is read on its own
            line = line_within(facts, context.step.path, context.step.line, expr.text)
            if (context.step.path, line) in seen:
                continue
            seen.add((context.step.path, line))
            bad.append(_negative(workflow, context, expr, taint, kind, line))
    return bad


def _too_wide(workflow: Workflow, limit: str) -> Finding:
    return finding(
        PROBE,
        Outcome.UNKNOWN,
        f"{workflow.path}: {limit}, more than are followed: whether its scripts inject untrusted "
        "input is unknown",
        Location(workflow.path),
    )


def _scripts(step: Step, cfg: Config) -> Iterator[tuple[str, str]]:
    """(text that is run, what it is): `run:` and script inputs of script actions."""
    if step.run is not None:
        yield step.run, "run"
    if step.uses is not None and action_name(step.uses) in cfg.script_actions:
        for name in cfg.script_inputs:
            if name in step.with_:
                yield step.with_[name], f"{action_name(step.uses)} `{name}`"


def _injections(context: StepInContext, cfg: Config) -> Iterator[tuple[Expression, Taint, str]]:
    for text, kind in _scripts(context.step, cfg):
        for expr, taint in tainted_values(
            text, cfg.untrusted_contexts, context.inputs, context.env
        ):
            yield expr, taint, kind


def _negative(
    workflow: Workflow,
    context: StepInContext,
    expr: Expression,
    taint: Taint,
    kind: str,
    line: int | None,
) -> Finding:
    step = context.step
    shown = clip(expr.text, 120)
    how = (
        f"{taint.context} is attacker-controlled"
        if not taint.chain
        else f"it carries attacker-controlled {taint.described()}"
    )
    return finding(
        PROBE,
        Outcome.NEGATIVE,
        f"{workflow.path} {context.where} expands {shown} inline in {kind}: "
        f"{how}; pass it through `env:` and use the shell variable",
        Location(step.path, line),
    )


def _clean(workflow: Workflow) -> Finding:
    return finding(
        PROBE,
        Outcome.POSITIVE,
        f"{workflow.path} expands no attacker-controlled values inline in scripts",
        Location(workflow.path),
    )
