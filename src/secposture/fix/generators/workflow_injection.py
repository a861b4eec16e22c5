"""dangerous-workflow: attacker-controlled `${{ ... }}` moved out of `run:` scripts into the
step's `env:`, and read there as a shell variable (docs/adr/0016-fix-edits-workflows.md).

The walk the probe (workflow-no-script-injection) reads, facts/workflows.py `visits`, finds
what to move: untrusted contexts (data/workflow_security.toml), and `inputs.*`/`env.*` that
carry them into reusable workflows and composite actions of this repository. Each expression becomes an environment variable of its
step (named after what it holds, never one the step, job, workflow or script already uses), and
its place in the script becomes a reference that fits where it stood (fix/shell_quoting.py):
`"${PR_TITLE}"` unquoted, `${PR_TITLE}` inside double quotes, `${env:PR_TITLE}` in PowerShell.

Left as they are, with a note: scripts for shells other than bash, sh and PowerShell (python,
cmd, a custom command), places the quoting cannot be read with confidence, `actions/github-script`
scripts, steps in other repositories, a workflow whose calls reach more steps than the walk
follows, and a checkout of pull-request code in a privileged workflow (that needs the workflow
split, not an edit).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from secposture.facts import calls, workflows
from secposture.facts.workflow_expressions import (
    Taint,
    action_name,
    config,
    dataflow_paths,
    expressions,
    matches_any,
    tainted_values,
)
from secposture.fix.generators import Workspace
from secposture.fix.shell_quoting import places, reference, shell_name
from secposture.fix.workflow_files import Change, apply_changes, jobs, steps
from secposture.fix.yaml_edit import (
    TextEdit,
    YamlEditError,
    compose_document,
    insert_entry,
    is_alias,
    mapping_entry,
    plain_data,
    scalar,
)
from secposture.model import Outcome
from secposture.probes.interface import load_probe

CONTROL = "dangerous-workflow"
# The probe's judgement decides what needs a person, through the probes' public interface.
CHECKOUT_PROBE = "workflow-no-untrusted-checkout"
CONTROLS = (CONTROL,)
_SHOWN = 8
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Names the runner, the shell or an action gives a meaning of their own.
_RESERVED = frozenset(
    {"PATH", "HOME", "SHELL", "PWD", "OLDPWD", "IFS", "CI", "USER", "LANG", "TERM", "TMPDIR"}
)
_RESERVED_PREFIXES = ("GITHUB_", "RUNNER_", "ACTIONS_", "INPUT_", "STATE_", "BASH_", "LC_")


@dataclass
class Wanted:
    """A step whose script expands untrusted values inline: which expressions, and how."""

    path: str
    line: int
    where: str  # "job `x`", for notes
    exprs: dict[str, Taint] = field(default_factory=dict)  # expression text -> its taint
    script_action: str = ""  # `actions/github-script` when the script is one of its inputs


def generate(ws: Workspace, targets: frozenset[str]) -> None:
    cfg = config()
    wanted: dict[tuple[str, int], Wanted] = {}
    # The walk the probes share, made once per snapshot: a workflow it stopped short in (its
    # calls reach too many steps) is left whole, as the probe leaves it unknown.
    for visit in ws.facts().get(workflows.visits):
        if visit.limit is not None:
            ws.skip(CONTROL, f"{visit.workflow.path}: {visit.limit}: its scripts were not changed")
            continue
        for context in visit.values():
            step = context.step
            if step.line is None:
                continue
            for text, kind in _scripts(step, cfg):
                for expr, taint in tainted_values(
                    text, cfg.untrusted_contexts, context.inputs, context.env
                ):
                    if context.called and not any(" with: " in hop for hop in taint.chain):
                        continue  # as the probe: found where that workflow is read alone
                    item = wanted.setdefault(
                        (step.path, step.line), Wanted(step.path, step.line, context.where)
                    )
                    item.exprs.setdefault(expr.text, taint)
                    if kind != "run":
                        item.script_action = kind
    left: list[str] = []
    by_path: dict[str, list[Wanted]] = {}
    for item in wanted.values():
        if calls.in_other_repository(item.path):
            left.append(f"{item.path}:{item.line} is in another repository: fix it there")
        elif item.script_action:
            left.append(
                f"{item.path}:{item.line} ({item.script_action}): pass the values through "
                "`env:` and read them as `process.env.NAME` by hand"
            )
        else:
            by_path.setdefault(item.path, []).append(item)
    for path, items in sorted(by_path.items()):
        _fix_file(ws, path, items, left)
    if left:
        shown = "; ".join(left[:_SHOWN]) + (
            f"; and {len(left) - _SHOWN} more" if len(left) > _SHOWN else ""
        )
        ws.note(CONTROL, f"dangerous-workflow: untrusted values left inline: {shown}")
    _checkouts(ws)


def _scripts(step: Any, cfg: Any) -> Iterator[tuple[str, str]]:
    if step.run is not None:
        yield step.run, "run"
    if step.uses is not None and action_name(step.uses) in cfg.script_actions:
        for name in cfg.script_inputs:
            if name in step.with_:
                yield step.with_[name], f"{action_name(step.uses)} `{name}`"


def _checkouts(ws: Workspace) -> None:
    """A privileged workflow that checks out pull-request code needs splitting by a person."""
    for found in load_probe(CHECKOUT_PROBE).run(ws.facts()):
        if found.probe == CHECKOUT_PROBE and found.outcome is Outcome.NEGATIVE:
            ws.skip(
                CONTROL,
                f"{found.message}: not changed (build the pull request's code in a "
                "`pull_request` workflow and pass results on as artifacts)",
            )


def _fix_file(ws: Workspace, path: str, items: list[Wanted], left: list[str]) -> None:
    usable, text = ws.existing_text(path, CONTROL)
    if not usable or text is None:
        return
    try:
        root = compose_document(text)
        data = plain_data(text)
    except YamlEditError as exc:
        left.extend(f"{path}:{item.line} ({exc})" for item in items)
        return
    located = dict(_step_nodes(root, path))
    changes: list[Change] = []
    for item in sorted(items, key=lambda i: i.line):
        found = located.get(item.line)
        if found is None:
            left.append(f"{path}:{item.line}: the step could not be found to edit (an alias?)")
            continue
        where, job_id, node = found
        try:
            change = _step_change(text, root, data, where, job_id, node, item, left)
        except YamlEditError as exc:
            left.append(f"{path}:{item.line} ({exc})")
            continue
        if change is not None:
            changes.append(change)
    edited, made, refused = apply_changes(text, changes)
    left.extend(f"{path}: {change.what} ({why})" for change, why in refused)
    if made:
        summary = "; ".join(c.what for c in made)
        ws.write(path, edited, CONTROL, f"untrusted values moved into `env:`: {summary}")


def _step_nodes(
    root: Any, path: str
) -> Iterator[tuple[int, tuple[tuple[str | int, ...], str | None, Any]]]:
    """(1-based line, (where in the document, job id, step node)) of every step of the file."""
    runs = mapping_entry(root, "runs")
    if runs is not None:
        for index, node in steps(runs[1]):
            yield int(node.start_mark.line) + 1, (("runs", "steps", index), None, node)
    for job_id, _, job in jobs(root):
        for index, node in steps(job):
            yield int(node.start_mark.line) + 1, (("jobs", job_id, "steps", index), job_id, node)


def _step_change(
    text: str,
    root: Any,
    data: Any,
    where: tuple[str | int, ...],
    job_id: str | None,
    node: Any,
    item: Wanted,
    left: list[str],
) -> Change | None:
    from ruamel.yaml.nodes import MappingNode, ScalarNode

    label = f"{item.path}:{item.line}"
    if node.flow_style:
        raise YamlEditError("the step is written in flow style (`{...}`): change it by hand")
    run = mapping_entry(node, "run")
    if run is None or not isinstance(run[1], ScalarNode) or is_alias(*run):
        raise YamlEditError("its `run:` is not a script written in place")
    step_data = _follow(data, where)
    shell = _shell(data, step_data, job_id)
    if shell is None or shell in ("python", "cmd"):
        said = step_data.get("shell") if isinstance(step_data, dict) else None
        if said is None and shell is None:
            left.append(
                f"{label}: which shell runs it cannot be told (the runner may be Windows or "
                "not): give the step a `shell:` and run fix again"
            )
        else:
            left.append(
                f"{label}: its shell ({str(said or shell)[:40]}) reads environment variables "
                "differently: move the values into `env:` by hand"
            )
        return None
    script = str(run[1].value)
    spans = [(e.start, e.start + len(e.text)) for e in expressions(script)]
    targets = [e for e in expressions(script) if e.text in item.exprs]
    if not targets:
        return None
    place = places(shell, script, spans, [e.start for e in targets])
    env_entry = mapping_entry(node, "env")
    existing = _env_values(env_entry)
    taken = _taken(data, step_data, job_id, script)
    names: dict[str, str] = {}
    replacements: list[tuple[int, int, str]] = []
    skipped: list[str] = []
    for expr in targets:
        name = names.get(expr.text) or existing.get(expr.text)
        if name is None:
            name = _env_name(expr.text, item.exprs[expr.text], taken)
            taken.add(name)
        ref = reference(shell, place[expr.start], name)
        if ref is None:
            skipped.append(f"{expr.text[:80]} ({place[expr.start].value})")
            continue
        names[expr.text] = name
        replacements.append((expr.start, expr.start + len(expr.text), ref))
    if skipped:
        left.append(
            f"{label}: {', '.join(skipped)}: where it stands in the {shell} script cannot be "
            "rewritten safely"
        )
    if not replacements:
        return None
    new_script = _replaced(script, replacements)
    edits = _run_edits(text, run[1], script, replacements)
    added = {name: expr for expr, name in names.items() if existing.get(expr) != name}
    if added:
        lines = [f"{name}: {scalar(expr)}" for name, expr in added.items()]
        if env_entry is None:
            edits.append(
                insert_entry(text, node, ["env:", *("  " + x for x in lines)], before=("run",))
            )
        else:
            key, value = env_entry
            if is_alias(key, value) or not isinstance(value, MappingNode) or value.flow_style:
                raise YamlEditError("its `env:` is not a block mapping written in place")
            edits.append(insert_entry(text, value, lines))

    def expect(doc: Any) -> None:
        step = _follow(doc, where)
        step["run"] = new_script
        if added:
            env = step.setdefault("env", {})
            env.update(added)

    moved = ", ".join(f"{expr} -> {name}" for expr, name in names.items())
    return Change(f"{label} ({item.where}): {moved}", edits, expect)


def _follow(data: Any, where: tuple[str | int, ...]) -> Any:
    for step in where:
        if isinstance(step, str) and isinstance(data, dict):
            data = next((v for k, v in data.items() if str(k) == step), None)
        elif isinstance(step, int) and isinstance(data, list) and 0 <= step < len(data):
            data = data[step]
        else:
            raise YamlEditError("the step could not be found in the document")
    return data


def _replaced(script: str, replacements: list[tuple[int, int, str]]) -> str:
    out = script
    for start, end, new in sorted(replacements, reverse=True):
        out = out[:start] + new + out[end:]
    return out


def _encoded(value: str, style: str | None) -> str:
    """How a piece of a scalar's value is written inside the scalar's own style."""
    if style == '"':
        return value.replace("\\", "\\\\").replace('"', '\\"')
    if style == "'":
        return value.replace("'", "''")
    return value


def _run_edits(
    text: str, node: Any, script: str, replacements: list[tuple[int, int, str]]
) -> list[TextEdit]:
    """The replacements made in the file's text of the scalar: the k-th expression written in
    the value is the k-th in the text, once the scalar's quoting is applied. Where the counts
    differ (an expression folded over lines, escapes) nothing is guessed."""
    start, end = int(node.start_mark.index), int(node.end_mark.index)
    raw = text[start:end]
    style = node.style
    edits: list[TextEdit] = []
    by_text: dict[str, list[tuple[int, str]]] = {}
    for begin, finish, new in sorted(replacements):
        by_text.setdefault(script[begin:finish], []).append((begin, new))
    for expr, uses in by_text.items():
        written = _encoded(expr, style)
        in_value = [m.start() for m in re.finditer(re.escape(expr), script)]
        in_text = [m.start() for m in re.finditer(re.escape(written), raw)]
        if len(in_value) != len(in_text):
            raise YamlEditError(f"{expr[:60]} is not written in the script as it is read")
        order = {offset: k for k, offset in enumerate(in_value)}
        for begin, new in uses:
            at = start + in_text[order[begin]]
            edits.append(TextEdit(at, at + len(written), _encoded(new, style)))
    if style is None and any(e.start == start for e in edits):
        raise YamlEditError("the script starts with the expression: quote it by hand")
    return edits


def _env_values(entry: tuple[Any, Any] | None) -> dict[str, str]:
    """The step's `env:` entries by their value (an expression already passed by name)."""
    from ruamel.yaml.nodes import MappingNode, ScalarNode

    if entry is None or not isinstance(entry[1], MappingNode):
        return {}
    return {
        str(value.value).strip(): str(key.value)
        for key, value in entry[1].value
        if isinstance(value, ScalarNode) and isinstance(key, ScalarNode)
    }


def _taken(data: Any, step: Any, job_id: str | None, script: str) -> set[str]:
    """Names the new variables must not take: any env of the workflow, job or step (compared
    without case, as GitHub's `env` context reads them), and any word of the script outside
    its expressions (a shell variable it sets or reads; the shell compares them with case)."""
    outside = script
    for expr in expressions(script):
        outside = outside.replace(expr.text, " ")
    taken = set(_WORD.findall(outside))
    levels = [data, step]
    if job_id is not None:
        jobs_data = data.get("jobs") if isinstance(data, dict) else None
        if isinstance(jobs_data, dict):
            levels.append(next((v for k, v in jobs_data.items() if str(k) == job_id), None))
    for level in levels:
        env = level.get("env") if isinstance(level, dict) else None
        if isinstance(env, dict):
            taken.update(str(k).upper() for k in env)
    return taken


def _free(name: str, taken: set[str]) -> bool:
    return name not in taken


def _env_name(expr: str, taint: Taint, taken: set[str]) -> str:
    """An environment variable name for what the expression holds (`PULL_REQUEST_TITLE` for
    github.event.pull_request.title, `BRANCH` for inputs.branch), made unique."""
    paths = dataflow_paths(expr)
    chosen = next(
        (p for p in paths if p[0] in ("inputs", "env") and len(p) > 1),
        next((p for p in paths if matches_any(p, [tuple(taint.context.split("."))])), None),
    )
    parts = [p for p in (chosen or tuple(taint.context.split("."))) if p not in ("*",)]
    parts = [p for p in parts if p not in ("github", "event", "inputs", "env")]
    base = "_".join(parts[-2:]).upper() or "UNTRUSTED"
    base = re.sub(r"[^A-Z0-9_]", "_", base)
    if base[0].isdigit() or base in _RESERVED or base.startswith(_RESERVED_PREFIXES):
        base = f"UNTRUSTED_{base}"
    name, n = base, 2
    while not _free(name, taken):
        name, n = f"{base}_{n}", n + 1
    return name


def _shell(data: Any, step: Any, job_id: str | None) -> str | None:
    """The shell that runs the step's script: its own `shell:`, the job's or the workflow's
    `defaults.run.shell`, else the runner's default (pwsh on Windows, bash elsewhere); None
    when it cannot be told (a runner chosen by an expression over mixed systems)."""
    job = None
    if job_id is not None and isinstance(data, dict) and isinstance(data.get("jobs"), dict):
        job = next((v for k, v in data["jobs"].items() if str(k) == job_id), None)
    for level in (step, job, data):
        if not isinstance(level, dict):
            continue
        if level is step:
            said = level.get("shell")
        else:
            defaults = level.get("defaults")
            run = defaults.get("run") if isinstance(defaults, dict) else None
            said = run.get("shell") if isinstance(run, dict) else None
        if said is not None:
            return shell_name(str(said))
    if job_id is None:
        return None  # a composite action's step must name its shell
    return _runner_shell(job if isinstance(job, dict) else {})


def _runner_shell(job: Mapping[str, Any]) -> str | None:
    labels = _labels(job.get("runs-on"), job)
    if labels is None:
        return None
    windows = ["windows" in label.lower() for label in labels]
    if all(windows) and windows:
        return "pwsh"
    if not any(windows):
        return "bash"
    return None


def _labels(runs_on: Any, job: Mapping[str, Any]) -> list[str] | None:
    """The runner labels a job may run on; None when they cannot be known."""
    if isinstance(runs_on, dict):
        runs_on = runs_on.get("labels")
    if isinstance(runs_on, str):
        match = re.fullmatch(r"\$\{\{\s*matrix\.([A-Za-z0-9_-]+)\s*\}\}", runs_on.strip())
        if match is not None:
            return _matrix_values(job, match.group(1))
        return None if "${{" in runs_on else [runs_on]
    if isinstance(runs_on, list) and all(isinstance(x, str) and "${{" not in x for x in runs_on):
        return [" ".join(runs_on)] if runs_on else None
    return None


def _matrix_values(job: Mapping[str, Any], name: str) -> list[str] | None:
    strategy = job.get("strategy")
    matrix = strategy.get("matrix") if isinstance(strategy, dict) else None
    if not isinstance(matrix, dict):
        return None
    values: list[Any] = []
    listed = matrix.get(name)
    if isinstance(listed, list):
        values.extend(listed)
    elif listed is not None:
        return None
    for extra in matrix.get("include") or []:
        if isinstance(extra, dict) and name in extra:
            values.append(extra[name])
    if not values or not all(isinstance(v, str) and "${{" not in v for v in values):
        return None
    return [str(v) for v in values]
