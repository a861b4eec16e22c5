"""GitHub Actions: workflows (.github/workflows/*.yml) and local composite actions, parsed into
typed jobs and steps with line numbers. Anything of the wrong shape is skipped with a Problem; a
file that could not be analysed at all is listed by `unanalysed`, so that the probes answer
`unknown` for it rather than leave it out."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from secposture.facts.interface import Facts
from secposture.facts.parsing import line_of, load_yaml
from secposture.model import Problem

if TYPE_CHECKING:
    from secposture.facts.workflow_expressions import StepInContext, StepInContexts

WORKFLOW_GLOBS = (".github/workflows/*.yml", ".github/workflows/*.yaml")
ACTION_FILES = ("action.yml", "action.yaml")

NOT_SET = None  # `permissions` absent: the job inherits the workflow's, or the repository default


@dataclass
class Step:
    path: str
    line: int | None
    name: str | None = None
    uses: str | None = None
    run: str | None = None
    with_: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    if_: str | None = None  # the step's `if:` as written (YAML true/false as `true`/`false`)


@dataclass
class Job:
    path: str
    id: str
    line: int | None
    permissions: Any = NOT_SET
    uses: str | None = None  # a reusable workflow call
    steps: list[Step] = field(default_factory=list)
    with_: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    if_: str | None = None


@dataclass
class Workflow:
    path: str
    triggers: frozenset[str]
    permissions: Any = NOT_SET
    permissions_line: int | None = None
    jobs: list[Job] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    # `on.workflow_call.inputs`: name (lower-case, as `inputs.*` reads it) -> declared type
    call_inputs: dict[str, str] = field(default_factory=dict)
    # their `default:` values, for a caller that leaves them out (facts/calls.py)
    call_defaults: dict[str, str] = field(default_factory=dict)


@dataclass
class LocalAction:
    """A composite action in the repository (`uses: ./path`), whose steps run in the caller's job."""

    path: str
    steps: list[Step]
    problem: Problem | None = None  # the file could not be analysed: its steps are unknown


def _str_map(node: Any) -> dict[str, str]:
    if not isinstance(node, dict):
        return {}
    return {str(k): "" if v is None else str(v) for k, v in node.items()}


def _triggers(node: Any) -> frozenset[str]:
    if isinstance(node, str):
        return frozenset([node])
    if isinstance(node, list):
        return frozenset(str(t) for t in node)
    if isinstance(node, dict):
        return frozenset(str(t) for t in node)
    return frozenset()


def _call_inputs(on: Any) -> dict[str, str]:
    call = on.get("workflow_call") if isinstance(on, dict) else None
    inputs = call.get("inputs") if isinstance(call, dict) else None
    if not isinstance(inputs, dict):
        return {}
    return {
        str(name).lower(): str(spec.get("type", "")) if isinstance(spec, dict) else ""
        for name, spec in inputs.items()
    }


def input_defaults(inputs: Any) -> dict[str, str]:
    """`inputs:` of a reusable workflow or an action: name (lower-case) -> its `default:`."""
    if not isinstance(inputs, dict):
        return {}
    return {
        str(name).lower(): _scalar(spec["default"])
        for name, spec in inputs.items()
        if isinstance(spec, dict) and spec.get("default") is not None
    }


def _scalar(value: Any) -> str:
    # YAML's true/false as an expression reads them (`str(True)` would be `True`).
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _condition(raw: Any) -> str | None:
    return None if raw is None or isinstance(raw, dict | list) else _scalar(raw)


def parse_steps(path: str, node: Any) -> list[Step]:
    steps: list[Step] = []
    if not isinstance(node, list):
        return steps
    for i, raw in enumerate(node):
        if not isinstance(raw, dict):
            continue
        uses = raw.get("uses")
        run = raw.get("run")
        steps.append(
            Step(
                path=path,
                line=line_of(node, i),
                name=str(raw["name"]) if raw.get("name") is not None else None,
                uses=str(uses).strip() if uses is not None else None,
                run=str(run) if run is not None else None,
                with_=_str_map(raw.get("with")),
                env=_str_map(raw.get("env")),
                if_=_condition(raw.get("if")),
            )
        )
    return steps


def parse_workflow(path: str, doc: Any) -> Workflow | None:
    if not isinstance(doc, dict):
        return None
    on = doc.get("on", doc.get(True))  # YAML 1.1 readers turn `on` into true
    workflow = Workflow(
        path=path,
        triggers=_triggers(on),
        permissions=doc.get("permissions", NOT_SET),
        permissions_line=line_of(doc, "permissions") if "permissions" in doc else None,
        env=_str_map(doc.get("env")),
        call_inputs=_call_inputs(on),
        call_defaults=input_defaults(
            on.get("workflow_call", {}).get("inputs")
            if isinstance(on, dict) and isinstance(on.get("workflow_call"), dict)
            else None
        ),
    )
    jobs = doc.get("jobs")
    if isinstance(jobs, dict):
        for job_id, raw in jobs.items():
            if not isinstance(raw, dict):
                continue
            workflow.jobs.append(
                Job(
                    path=path,
                    id=str(job_id),
                    line=line_of(jobs, job_id),
                    permissions=raw.get("permissions", NOT_SET),
                    uses=str(raw["uses"]).strip() if raw.get("uses") is not None else None,
                    steps=parse_steps(path, raw.get("steps")),
                    with_=_str_map(raw.get("with")),
                    env=_str_map(raw.get("env")),
                    if_=_condition(raw.get("if")),
                )
            )
    return workflow


@dataclass
class _Workflows:
    parsed: list[Workflow]
    unanalysed: list[Problem]  # files GitHub would run that could not be analysed


def _collect(facts: Facts) -> _Workflows:
    found = _Workflows([], [])
    # Sorted, so reports list workflows in the same order on every run.
    for path in sorted(facts.matching(*WORKFLOW_GLOBS, among=facts.all_paths)):
        if path.count("/") != 2:  # GitHub reads only .github/workflows/, not its subfolders
            continue
        doc = load_yaml(facts, path)
        if doc is None:
            problem = facts.problem_for(path)
            if problem is not None:  # an empty file runs nothing; anything else may run
                found.unanalysed.append(problem)
            continue
        workflow = parse_workflow(path, doc)
        if workflow is None:  # GitHub runs no workflow from a list or a scalar either
            facts.problem(path, "is not a workflow: expected a mapping with `on` and `jobs`")
            continue
        found.parsed.append(workflow)
    return found


def collect(facts: Facts) -> list[Workflow]:
    """Every workflow file GitHub would run, parsed and in path order; malformed ones become
    Problems."""
    return facts.get(_collect).parsed


def unanalysed(facts: Facts) -> list[Problem]:
    """Why each workflow file that GitHub would run, or local composite action that one calls,
    could not be analysed (malformed, beyond the parser's limits, unreadable): what it runs is
    unknown, and a probe that leaves it out could pass a repository that hides a dangerous one."""
    found = list(facts.get(_collect).unanalysed)
    actions = facts.get(collect_local_actions)
    called = {
        step.uses[2:].rstrip("/")
        for workflow in collect(facts)
        for job in workflow.jobs
        for step in job.steps
        if step.uses is not None and step.uses.startswith("./")
    }
    for folder in sorted(called):
        action = actions.get(folder)
        if action is not None and action.problem is not None:
            found.append(action.problem)
    return found


def collect_local_actions(facts: Facts) -> dict[str, LocalAction]:
    """The repository's own composite actions by the folder a `uses: ./folder` names (no leading
    ./). Those in test data or examples count only when a workflow (or an action it calls) calls
    them."""
    actions: dict[str, LocalAction] = {}
    # All tracked paths, not facts.paths: an action folder named `build/` is still the
    # repository's own action; installed dependencies and the policy's excludes are skipped.
    excluded = facts.policy.exclude
    aside: dict[str, str] = {}  # folder -> action file in test data or examples
    for path in facts.index.named(*ACTION_FILES):
        folder = path.rpartition("/")[0]
        if "node_modules/" in path:
            continue
        if any(fnmatchcase(path, g) for g in excluded):
            continue
        if facts.is_set_aside(path):
            aside[folder] = path  # a linter's test corpus: read only if called (below)
            continue
        action = _read_local_action(facts, path)
        if action is not None:
            actions[folder] = action
    if aside:
        _add_called(facts, actions, aside)
    return actions


def _read_local_action(facts: Facts, path: str) -> LocalAction | None:
    doc = load_yaml(facts, path)
    if not isinstance(doc, dict):
        problem = facts.problem_for(path) if doc is None else None
        return None if problem is None else LocalAction(path=path, steps=[], problem=problem)
    runs = doc.get("runs")
    steps = parse_steps(path, runs.get("steps")) if isinstance(runs, dict) else []
    return LocalAction(path=path, steps=steps)


def _add_called(facts: Facts, actions: dict[str, LocalAction], aside: dict[str, str]) -> None:
    """Add the actions in test data or examples that a workflow, or an action it reaches, calls:
    what a real workflow runs is the repository's own, wherever it lives."""
    steps = [s for w in collect(facts) for j in w.jobs for s in j.steps]
    steps += [s for action in actions.values() for s in action.steps]
    while steps:
        uses = steps.pop().uses
        if uses is None or not uses.startswith("./"):
            continue
        folder = uses[2:].rstrip("/")
        path = aside.pop(folder, None)
        action = None if path is None else _read_local_action(facts, path)
        if action is not None:
            actions[folder] = action
            steps.extend(action.steps)


def steps_with_callers(
    workflow: Workflow, actions: dict[str, LocalAction]
) -> Iterator[tuple[Step, str]]:
    """Each step of the workflow with where it runs, followed into the local composite actions
    it calls (their steps run in the calling job)."""
    for job in workflow.jobs:
        for step in job.steps:
            yield step, f"job `{job.id}`"
            if step.uses is not None and step.uses.startswith("./"):
                action = actions.get(step.uses[2:].rstrip("/"))
                if action is not None:
                    for inner in action.steps:
                        yield inner, f"composite action {action.path} used by job `{job.id}`"


# --- one walk shared by the workflow-security probes ---------------------------------------------


# The sets of untrusted values the shared walk tracks, in the order it is given them.
_REFS, _VALUES = 0, 1


@dataclass(frozen=True)
class WorkflowVisit:
    workflow: Workflow
    # Every step it runs, per job, followed into the reusable workflows and composite actions it
    # calls (here and, as the scan can read them, in other repositories: ADR 0014).
    steps: tuple[StepInContexts, ...]
    limit: str | None  # why the walk stopped short (its calls reach too many steps), else None

    def refs(self) -> Iterator[StepInContext]:
        """Each step with the refs of code an outsider wrote that reach it (which a privileged
        workflow must not check out)."""
        return (step.under(_REFS) for step in self.steps)

    def values(self) -> Iterator[StepInContext]:
        """Each step with the text an outsider wrote that reaches it (which a script must not
        expand inline)."""
        return (step.under(_VALUES) for step in self.steps)


def visits(facts: Facts) -> list[WorkflowVisit]:
    """Each workflow walked once, per job and step, for the workflow-security probes (untrusted
    checkout, script injection), which read this instead of each walking every workflow and
    every call, as zizmor's audits share one walk. Run once per scan through `facts.get`."""
    # Imported here: workflow_expressions builds on this module's types.
    from secposture.facts.workflow_expressions import (
        WalkLimit,
        config,
        resolvers,
        walk_steps_through,
    )

    cfg = config()
    resolve = resolvers(facts)
    lenses = [cfg.untrusted_refs, cfg.untrusted_contexts]  # in the order of _REFS, _VALUES
    out = []
    for workflow in collect(facts):
        try:
            steps = tuple(walk_steps_through(workflow, resolve, lenses))
        except WalkLimit as exc:
            out.append(WorkflowVisit(workflow, (), str(exc)))
            continue
        out.append(WorkflowVisit(workflow, steps, None))
    return out
