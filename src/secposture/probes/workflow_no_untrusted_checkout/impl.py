"""Untrusted checkout: a `pull_request_target` or `workflow_run` workflow (secrets, a token that
may write) that checks out the pull request's or triggering run's code. Followed into the reusable
workflows it calls and the composite actions it uses (their `github.event` is the caller's), with
the refs passed through `with:` -> `inputs.*` and `env:`; the finding names the chain. A workflow
that checks out nothing, or the base branch, is safe."""

from __future__ import annotations

import re
from collections.abc import Mapping

from secposture.facts import calls, workflows
from secposture.facts.interface import Facts
from secposture.facts.workflow_expressions import (
    Config,
    StepInContext,
    Taint,
    action_name,
    config,
    line_within,
    tainted_values,
)
from secposture.facts.workflows import Workflow
from secposture.model import Finding, Location, Outcome
from secposture.probes.interface import finding, probe_id, unanalysed
from secposture.probes.interface import unread as reference_unread

PROBE = probe_id(__name__)
_SHELL_VAR = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")


def run(facts: Facts) -> list[Finding]:
    found = facts.get(workflows.collect)
    hidden = facts.get(workflows.unanalysed)
    if not found and not hidden:
        return [finding(PROBE, Outcome.NOT_APPLICABLE, "no GitHub Actions workflows")]
    cfg = config()
    out = [unanalysed(PROBE, p, "whether it checks out untrusted code is unknown") for p in hidden]
    for visit in facts.get(workflows.visits):
        workflow = visit.workflow
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
        if visit.limit is not None:
            message = (
                f"{workflow.path}: {visit.limit}, more than are followed: whether it checks out "
                "untrusted code is unknown"
            )
            out.append(finding(PROBE, Outcome.UNKNOWN, message, Location(workflow.path)))
            continue
        bad = [
            _negative(facts, workflow, context, why, privileged)
            for context in visit.refs()
            if (why := _untrusted_checkout(context, cfg)) is not None
        ]
        unread = calls.walk(facts).get(workflow.path)
        if not bad and unread is not None and unread.unread:
            # A called workflow or action of another repository that was not read may check
            # the pull request out: unknown, naming it (ADR 0014), never "checks out nothing".
            consequence = (
                f"{workflow.path} runs on {', '.join(privileged)}: whether it checks out "
                "untrusted code is unknown"
            )
            out.append(reference_unread(PROBE, unread.unread, consequence))
            continue
        out.extend(bad or [_clean(workflow, privileged)])
    return out


def _untrusted_checkout(context: StepInContext, cfg: Config) -> tuple[str, str, str] | None:
    """(what, the text naming untrusted code, how it got there) when the step checks out
    untrusted code."""
    step = context.step
    if step.uses is not None and action_name(step.uses) in cfg.checkout_actions:
        for name in cfg.checkout_ref_inputs:
            ref = step.with_.get(name, "")
            how = _untrusted_ref(ref, context, cfg)
            if how is not None:
                what = f"{step.uses.split('@')[0]} with `{name}: {ref.strip()[:120]}`"
                return what, ref.strip(), how
    if step.run is not None:
        for line in step.run.splitlines():
            if any(rx.search(line) for rx in cfg.always_untrusted_commands):
                return f"`{line.strip()[:120]}`", line.strip(), ""
            if any(rx.search(line) for rx in cfg.checkout_commands):
                how = _untrusted_command(line, context, cfg)
                if how is not None:
                    return f"`{line.strip()[:120]}`", line.strip(), how
    return None


def _untrusted_ref(text: str, context: StepInContext, cfg: Config) -> str | None:
    """How the text names untrusted code ("" for a literal such as refs/pull/), or None."""
    if any(lit in text for lit in cfg.untrusted_ref_literals):
        return ""
    hits = tainted_values(text, cfg.untrusted_refs, context.inputs, context.env)
    return _how(hits[0][1]) if hits else None


def _how(taint: Taint) -> str:
    return "" if not taint.chain else f" ({taint.described()})"


def _untrusted_command(line: str, context: StepInContext, cfg: Config) -> str | None:
    how = _untrusted_ref(line, context, cfg)
    if how is not None:
        return how
    # `git checkout "$HEAD_SHA"` with `env: HEAD_SHA: ${{ github.event.pull_request.head.sha }}`
    env: Mapping[str, Taint] = context.env
    for name in _SHELL_VAR.findall(line):
        taint = env.get(name.lower())
        if taint is not None:
            return _how(taint)
    return None


def _negative(
    facts: Facts,
    workflow: Workflow,
    context: StepInContext,
    why: tuple[str, str, str],
    triggers: list[str],
) -> Finding:
    what, needle, how = why
    step = context.step
    line = line_within(facts, step.path, step.line, needle)
    inside = (
        ""
        if step.path == workflow.path
        else f" (in {step.path}: {context.where}, called from {workflow.path})"
    )
    return finding(
        PROBE,
        Outcome.NEGATIVE,
        f"{workflow.path} runs on {', '.join(triggers)} and checks out "
        f"untrusted pull-request code with {what}{how}{inside}",
        Location(step.path, line),
    )


def _clean(workflow: Workflow, triggers: list[str]) -> Finding:
    return finding(
        PROBE,
        Outcome.POSITIVE,
        f"{workflow.path} runs on {', '.join(triggers)} but checks out no pull-request code",
        Location(workflow.path),
    )
