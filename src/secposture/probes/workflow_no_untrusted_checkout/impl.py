from __future__ import annotations

import re

from secposture.facts import workflows
from secposture.facts.interface import Facts
from secposture.facts.workflow_expressions import (
    Config,
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

PROBE = "workflow-no-untrusted-checkout"
_SHELL_VAR = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")


def run(facts: Facts) -> list[Finding]:
    found = facts.get(workflows.collect)
    hidden = facts.get(workflows.unanalysed)
    if not found and not hidden:
        return [finding(PROBE, Outcome.NOT_APPLICABLE, "no GitHub Actions workflows")]
    cfg = config()
    actions = facts.get(workflows.collect_local_actions)
    out = [unanalysed(PROBE, p, "whether it checks out untrusted code is unknown") for p in hidden]
    for workflow in found:
        privileged = sorted(workflow.triggers & cfg.privileged_triggers)
        if not privileged:
            out.append(
                finding(
                    PROBE,
                    Outcome.POSITIVE,
                    f"{workflow.path} is not triggered by "
                    + " or ".join(sorted(cfg.privileged_triggers)),
                    Location(workflow.path),
                )
            )
            continue
        bad = [
            _negative(facts, workflow, step, why, privileged)
            for step, _where in workflows.steps_with_callers(workflow, actions)
            if (why := _untrusted_checkout(step, cfg)) is not None
        ]
        out.extend(bad or [_clean(workflow, privileged)])
    return out


def _untrusted_checkout(step: Step, cfg: Config) -> tuple[str, str] | None:
    """(what, the text naming untrusted code) when the step checks out untrusted code."""
    if step.uses is not None and action_name(step.uses) in cfg.checkout_actions:
        for name in cfg.checkout_ref_inputs:
            ref = step.with_.get(name, "")
            if _untrusted_ref(ref, cfg):
                return f"{step.uses.split('@')[0]} with `{name}: {ref.strip()[:120]}`", ref.strip()
    if step.run is not None:
        for line in step.run.splitlines():
            if any(rx.search(line) for rx in cfg.always_untrusted_commands):
                return f"`{line.strip()[:120]}`", line.strip()
            if any(rx.search(line) for rx in cfg.checkout_commands) and _untrusted_command(
                line, step, cfg
            ):
                return f"`{line.strip()[:120]}`", line.strip()
    return None


def _untrusted_ref(text: str, cfg: Config) -> bool:
    return any(lit in text for lit in cfg.untrusted_ref_literals) or bool(
        untrusted_in(text, cfg.untrusted_refs)
    )


def _untrusted_command(line: str, step: Step, cfg: Config) -> bool:
    if _untrusted_ref(line, cfg):
        return True
    # `git checkout "$HEAD_SHA"` with `env: HEAD_SHA: ${{ github.event.pull_request.head.sha }}`
    names = {name.lower() for name in _SHELL_VAR.findall(line)}
    for expr in expressions(line):
        names.update(env_names(expr.text))
    env = {key.lower(): value for key, value in step.env.items()}
    return any(_untrusted_ref(env.get(name, ""), cfg) for name in names)


def _negative(
    facts: Facts, workflow: Workflow, step: Step, why: tuple[str, str], triggers: list[str]
) -> Finding:
    what, needle = why
    line = line_within(facts, step.path, step.line, needle)
    inside = "" if step.path == workflow.path else f" (in {step.path}, called from {workflow.path})"
    return finding(
        PROBE,
        Outcome.NEGATIVE,
        f"{step.path}:{line}: {workflow.path} runs on {', '.join(triggers)} and checks out "
        f"untrusted pull-request code with {what}{inside}",
        Location(step.path, line),
    )


def _clean(workflow: Workflow, triggers: list[str]) -> Finding:
    return finding(
        PROBE,
        Outcome.POSITIVE,
        f"{workflow.path} runs on {', '.join(triggers)} but checks out no pull-request code",
        Location(workflow.path),
    )
