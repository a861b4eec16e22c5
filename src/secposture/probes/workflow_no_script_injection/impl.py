from __future__ import annotations

from collections.abc import Iterator

from secposture.facts import workflows
from secposture.facts.interface import Facts
from secposture.facts.workflow_expressions import (
    Config,
    Expression,
    action_name,
    config,
    env_names,
    expressions,
    line_within,
    untrusted_in,
)
from secposture.facts.workflows import Step, Workflow
from secposture.model import Finding, Location, Outcome
from secposture.probes.interface import finding, unanalysed

PROBE = "workflow-no-script-injection"


def run(facts: Facts) -> list[Finding]:
    found = facts.get(workflows.collect)
    hidden = facts.get(workflows.unanalysed)
    if not found and not hidden:
        return [finding(PROBE, Outcome.NOT_APPLICABLE, "no GitHub Actions workflows")]
    cfg = config()
    actions = facts.get(workflows.collect_local_actions)
    out = [
        unanalysed(PROBE, p, "whether its scripts inject untrusted input is unknown")
        for p in hidden
    ]
    for workflow in found:
        bad: list[Finding] = []
        seen: set[tuple[str, int | None]] = set()
        for step, where in workflows.steps_with_callers(workflow, actions):
            for expr, context, kind in _injections(step, cfg):
                line = line_within(facts, step.path, step.line, expr.text)
                if (step.path, line) in seen:
                    continue
                seen.add((step.path, line))
                bad.append(_negative(workflow, step, where, expr, context, kind, line))
        out.extend(bad or [_clean(workflow)])
    return out


def _scripts(step: Step, cfg: Config) -> Iterator[tuple[str, str]]:
    """(text that is run, what it is): `run:` and script inputs of script actions."""
    if step.run is not None:
        yield step.run, "run"
    if step.uses is not None and action_name(step.uses) in cfg.script_actions:
        for name in cfg.script_inputs:
            if name in step.with_:
                yield step.with_[name], f"{action_name(step.uses)} `{name}`"


def _injections(step: Step, cfg: Config) -> Iterator[tuple[Expression, str, str]]:
    env = {key.lower(): value for key, value in step.env.items()}
    for text, kind in _scripts(step, cfg):
        for expr, context in untrusted_in(text, cfg.untrusted_contexts):
            yield expr, context, kind
        # `${{ env.TITLE }}` inline is as bad as the value it was set from.
        for expr in expressions(text):
            for name in env_names(expr.text):
                hits = untrusted_in(env.get(name, ""), cfg.untrusted_contexts)
                if hits:
                    yield expr, f"env.{name} (set from {hits[0][1]})", kind


def _negative(
    workflow: Workflow,
    step: Step,
    where: str,
    expr: Expression,
    context: str,
    kind: str,
    line: int | None,
) -> Finding:
    shown = expr.text if len(expr.text) <= 120 else expr.text[:117] + "..."
    return finding(
        PROBE,
        Outcome.NEGATIVE,
        f"{step.path}:{line}: {workflow.path} {where} expands {shown} inline in {kind}: "
        f"{context} is attacker-controlled; pass it through `env:` and use the shell variable",
        Location(step.path, line),
    )


def _clean(workflow: Workflow) -> Finding:
    return finding(
        PROBE,
        Outcome.POSITIVE,
        f"{workflow.path} expands no attacker-controlled values inline in scripts",
        Location(workflow.path),
    )
