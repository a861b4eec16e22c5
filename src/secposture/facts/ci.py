"""Everything CI runs: shell commands (with their Makefile, package.json, tox, nox and script
indirection expanded) and uses of actions, GitLab templates and CircleCI orbs, each with file and line.

Sources: GitHub workflows (following local composite actions; local reusable workflows are in the
workflow list anyway), GitLab CI (following local includes), CircleCI, and the plain text of
Jenkinsfile, Azure Pipelines, Bitbucket Pipelines, Travis, Drone and Buildkite files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from secposture.facts import calls, workflows
from secposture.facts.interface import Facts
from secposture.facts.parsing import line_of, load_yaml
from secposture.facts.references import OUTSIDE_KIND, Unread, record_unread, significant
from secposture.facts.scripts import Command, Expander, PreCommitRun
from secposture.model import Location, Problem

GITLAB_FILE = ".gitlab-ci.yml"
CIRCLECI_FILES = (".circleci/config.yml", ".circleci/config.yaml")
TEXT_FILES = (
    "Jenkinsfile", "azure-pipelines.yml", "azure-pipelines.yaml", "bitbucket-pipelines.yml",
    ".travis.yml", ".drone.yml", ".buildkite/pipeline.yml", ".buildkite/pipeline.yaml",
)  # fmt: skip
_GROOVY_SH = re.compile(
    r"""\b(?:sh|bat|powershell|pwsh)\s*\(?\s*(?:script\s*:\s*)?(['"])([^'"\n]{1,2000})\1"""
)
PRECOMMIT_ACTIONS = ("pre-commit/action", "pre-commit-ci/lite-action")
_GITLAB_SCRIPT_KEYS = ("before_script", "script", "after_script")
_GITLAB_NOT_JOBS = {
    "stages",
    "variables",
    "include",
    "workflow",
    "image",
    "services",
    "cache",
    "spec",
}
_MAX_INCLUDES = 50
_SEARCH_LINES = 80
# Plain-text CI files: the YAML/Groovy wrapping around a command, removed before looking for
# `make lint`-style invocations (the whole line is still matched against the catalogue).
_TEXT_PREFIX = re.compile(
    r"""^\s*(?:-\s+)?(?:(?:script|run|bash|sh|pwsh|powershell|cmd|command|inline(?:Script)?)\s*:\s*[|>]?\s*)?(?:sh\s*\(?\s*(?:script\s*:\s*)?)?["']{0,3}"""
)


@dataclass(frozen=True)
class ActionUse:
    """A reusable unit CI runs by name: a GitHub action or remote workflow, a Docker action, a
    GitLab include template or component, a CircleCI orb command or job."""

    kind: str  # "action" | "workflow" | "docker" | "template" | "orb"
    name: (
        str  # lower case, without @ref: "github/codeql-action/init", "security/sast.gitlab-ci.yml"
    )
    ref: str | None
    inputs: dict[str, str]  # `with:` and `env:` of the step
    path: str
    line: int | None
    via: tuple[str, ...] = ()
    # Where the chain starts in this repository when the use is in another repository's file.
    anchor: tuple[str, int | None] | None = None

    def where(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path

    def located(self) -> tuple[str, int | None]:
        """The file and line of this repository that a finding about the use points at."""
        return self.anchor if self.anchor is not None else (self.path, self.line)


@dataclass
class CiFacts:
    files: list[str] = field(default_factory=list)  # CI configuration files read
    commands: list[Command] = field(default_factory=list)
    uses: list[ActionUse] = field(default_factory=list)
    precommit_runs: list[PreCommitRun] = field(default_factory=list)
    # CI configuration that could not be analysed (malformed, beyond the parser's limits,
    # unreadable): what it runs is unknown.
    unanalysed: list[Problem] = field(default_factory=list)
    # Reusable workflows and actions of other repositories that could not be read (ADR 0014):
    # what they run is unknown.
    unread: list[Unread] = field(default_factory=list)


def collect(facts: Facts) -> CiFacts:
    ci = CiFacts()
    expander = Expander(facts)
    _github(facts, expander, ci)
    _gitlab(facts, expander, ci)
    _circleci(facts, expander, ci)
    _plain_text(facts, expander, ci)
    ci.precommit_runs.extend(expander.precommit_runs)
    for command, makefile in expander.outside:
        path, line = command.located()
        why = (
            f"{makefile[:160]} is not in the repository (it is installed where CI runs), so what "
            "its targets run cannot be read"
        )
        outside = Unread(
            command.text,
            OUTSIDE_KIND,
            command.path,
            command.line,
            why,
            "",
            Location(path, line),
            command.via,
        )
        ci.unread.append(record_unread(facts, outside))
    return ci


# --- GitHub ------------------------------------------------------------------------------------


def _github(facts: Facts, expander: Expander, ci: CiFacts) -> None:
    """Every step the workflows run, reusable workflows and composite actions followed, in this
    repository and in others (facts/calls.py), with `with:` values written into `inputs.*`."""
    ci.unanalysed.extend(facts.get(workflows.unanalysed))
    for workflow in facts.get(workflows.collect):
        ci.files.append(workflow.path)
    for walked in calls.walk(facts).values():
        for call in walked.calls:
            uses = call.caller.uses or ""
            if not uses.startswith("./"):
                name, ref = _split_ref(uses)
                anchor = _anchor(call.caller.path, call.anchor.path, call.anchor.line)
                inputs = dict(call.inputs)
                where = (call.caller.path, call.caller.line)
                ci.uses.append(ActionUse("workflow", name, ref, inputs, *where, call.via, anchor))
        for resolved in walked.steps:
            if resolved.runs:
                _github_step(facts, expander, ci, resolved)
        ci.unread.extend(u for u in walked.unread if significant(facts, u))


# `bash -lc "${GRADLE_COMMAND}"`, `sh -c "$CMD"`, `eval "$CMD"`: a shared workflow runs the
# command its caller handed in through a step's `env:`. The whole word must be the variable.
_ENV_COMMAND = re.compile(
    r"""\b(?:(?:ba|z|da)?sh[ \t]+-[a-z]*c[a-z]*|eval)[ \t]+(["']?)\$\{?([A-Za-z_]\w{0,63})\}?\1(?=[ \t]*(?:$|[;&|]))""",
    re.MULTILINE,
)


def _run_env_commands(run: str, env: dict[str, str]) -> str:
    """The script with each `bash -c "$VAR"` (or `eval "$VAR"`) of a step `env:` variable
    replaced by the variable's command, so that what the caller handed in is what is read."""
    if not env or "$" not in run:
        return run

    def value(match: re.Match[str]) -> str:
        command = env.get(match.group(2))
        return command if command and "\n" not in command else match.group(0)

    return _ENV_COMMAND.sub(value, run)


def _anchor(path: str, anchor_path: str | None, line: int | None) -> tuple[str, int | None] | None:
    """The anchor of a command or use in another repository's file (None in this one's)."""
    return None if anchor_path is None or path == anchor_path else (anchor_path, line)


def _github_step(
    facts: Facts, expander: Expander, ci: CiFacts, resolved: calls.ResolvedStep
) -> None:
    step, via = resolved.step, resolved.via
    elsewhere = bool(resolved.origin) or resolved.catalogued  # not a file of this repository
    anchor = (resolved.anchor.path or step.path, resolved.anchor.line) if elsewhere else None
    if step.run is not None:
        line = resolved.run_line if not resolved.catalogued else None
        run = _run_env_commands(step.run, step.env)
        ci.commands.extend(expander.expand(run, step.path, line, via, anchor=anchor))
    if step.uses is None:
        return
    uses = step.uses.strip()
    if uses.startswith("./"):
        return  # a local action: its steps are among the resolved ones
    inputs = {**step.env, **step.with_}
    if uses.startswith("docker://"):
        image = uses[len("docker://") :]
        name = re.split(r"[@:]", image, maxsplit=1)[0].lower()
        ci.uses.append(
            ActionUse("docker", f"docker://{name}", None, inputs, step.path, step.line, via, anchor)
        )
        if "args" in step.with_:
            ci.commands.extend(
                expander.expand(step.with_["args"], step.path, step.line, via, anchor=anchor)
            )
        return
    name, ref = _split_ref(uses)
    use = ActionUse("action", name, ref, inputs, step.path, step.line, via, anchor)
    ci.uses.append(use)
    if name in PRECOMMIT_ACTIONS:
        command = Command(f"uses: {uses[:200]}", step.path, step.line, via, anchor)
        expander.record_precommit(["run", *step.with_.get("extra_args", "").split()], command)


def _unanalysed(facts: Facts, ci: CiFacts, path: str) -> None:
    """Note a CI file that could not be read or parsed (an empty one runs nothing)."""
    problem = facts.problem_for(path)
    if problem is not None:
        ci.unanalysed.append(problem)


def _split_ref(uses: str) -> tuple[str, str | None]:
    name, at, ref = uses.partition("@")
    return name.strip().lower(), (ref.strip() if at else None)


def _first_line(facts: Facts, path: str, start: int | None, text: str) -> int | None:
    """The line where the first line of a multi-line value appears, at or after `start`."""
    if start is None:
        return None
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    content = facts.read(path)
    if not first or content is None:
        return start
    lines = content.splitlines()
    for index in range(start - 1, min(len(lines), start - 1 + _SEARCH_LINES)):
        if first in lines[index]:
            return index + 1
    return start


# --- GitLab ------------------------------------------------------------------------------------


def _gitlab(facts: Facts, expander: Expander, ci: CiFacts) -> None:
    pending = [GITLAB_FILE] if facts.exists(GITLAB_FILE) else []
    seen: set[str] = set()
    while pending and len(seen) < _MAX_INCLUDES:
        path = pending.pop(0)
        if path in seen:
            continue
        seen.add(path)
        doc = load_yaml(facts, path)
        if not isinstance(doc, dict):
            if doc is not None:
                facts.problem(path, "is not a GitLab CI config: expected a mapping of jobs")
            else:
                _unanalysed(facts, ci, path)
            continue
        ci.files.append(path)
        pending.extend(_gitlab_includes(facts, path, doc, ci))
        for key, job in doc.items():
            if str(key) in _GITLAB_NOT_JOBS or not isinstance(job, dict):
                continue
            for script_key in _GITLAB_SCRIPT_KEYS:
                _gitlab_script(facts, expander, ci, path, job.get(script_key))
        for script_key in ("before_script", "after_script"):  # the old global form
            _gitlab_script(facts, expander, ci, path, doc.get(script_key))


def _gitlab_script(facts: Facts, expander: Expander, ci: CiFacts, path: str, node: Any) -> None:
    if isinstance(node, str):
        ci.commands.extend(
            expander.expand(node, path, _first_line(facts, path, line_of(node) or 1, node))
        )
        return
    if not isinstance(node, list):
        return
    for index, item in enumerate(node):
        if isinstance(item, list):  # GitLab flattens nested lists (YAML anchors of scripts)
            _gitlab_script(facts, expander, ci, path, item)
        elif isinstance(item, str | int | float):
            text = str(item)
            ci.commands.extend(
                expander.expand(text, path, _first_line(facts, path, line_of(node, index), text))
            )


def _gitlab_includes(facts: Facts, path: str, doc: dict[Any, Any], ci: CiFacts) -> list[str]:
    """Record template/component/project includes; return the local files to read next."""
    raw = doc.get("include")
    items = raw if isinstance(raw, list) else [raw] if raw is not None else []
    local: list[str] = []
    for index, item in enumerate(items):
        line = line_of(raw, index) if isinstance(raw, list) else line_of(doc, "include")
        if isinstance(item, str):
            if item.startswith(("http://", "https://")):
                continue
            local.append(item.lstrip("/"))
            continue
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("local"), str):
            local.append(item["local"].lstrip("/"))
        for key in ("template", "component"):
            if isinstance(item.get(key), str):
                name = _template_name(item[key])
                ci.uses.append(ActionUse("template", name, None, _inputs(item), path, line))
        if isinstance(item.get("project"), str):
            files = item.get("file")
            for file in files if isinstance(files, list) else [files]:
                if isinstance(file, str):
                    name = f"{item['project'].strip('/')}/{file.lstrip('/')}".lower()
                    ci.uses.append(ActionUse("template", name, None, {}, path, line))
    return [p for p in local if facts.exists(p) and "*" not in p]


def _template_name(raw: str) -> str:
    """`Jobs/SAST.gitlab-ci.yml` as is; a component without its host and version."""
    name = raw.strip().partition("@")[0]
    head, _, rest = name.partition("/")
    if rest and ("." in head or head.startswith("$")):  # gitlab.com/…, $CI_SERVER_FQDN/…
        name = rest
    return name.lower()


def _inputs(item: dict[Any, Any]) -> dict[str, str]:
    inputs = item.get("inputs")
    if not isinstance(inputs, dict):
        return {}
    return {str(k): str(v) for k, v in inputs.items() if not isinstance(v, dict | list)}


# --- CircleCI ----------------------------------------------------------------------------------


def _circleci(facts: Facts, expander: Expander, ci: CiFacts) -> None:
    path = next((p for p in CIRCLECI_FILES if facts.exists(p)), None)
    if path is None:
        return
    doc = load_yaml(facts, path)
    if not isinstance(doc, dict):
        if doc is not None:
            facts.problem(path, "is not a CircleCI config: expected a mapping")
        else:
            _unanalysed(facts, ci, path)
        return
    ci.files.append(path)
    orbs = _orbs(doc.get("orbs"))
    for section in ("jobs", "commands"):
        table = doc.get(section)
        if not isinstance(table, dict):
            continue
        for job in table.values():
            if isinstance(job, dict):
                _circleci_steps(facts, expander, ci, path, job.get("steps"), orbs)
    flows = doc.get("workflows")
    if isinstance(flows, dict):
        for flow in flows.values():
            jobs = flow.get("jobs") if isinstance(flow, dict) else None
            if isinstance(jobs, list):
                for index, job in enumerate(jobs):
                    name = (
                        job
                        if isinstance(job, str)
                        else next(iter(job), None)
                        if isinstance(job, dict) and len(job) == 1
                        else None
                    )
                    _orb_use(
                        ci,
                        orbs,
                        str(name) if name is not None else "",
                        path,
                        line_of(jobs, index),
                        job,
                    )


def _orbs(node: Any) -> dict[str, str]:
    if not isinstance(node, dict):
        return {}
    return {
        str(alias): str(ref).partition("@")[0].lower()
        for alias, ref in node.items()
        if isinstance(ref, str)
    }


def _circleci_steps(
    facts: Facts, expander: Expander, ci: CiFacts, path: str, steps: Any, orbs: dict[str, str]
) -> None:
    if not isinstance(steps, list):
        return
    for index, step in enumerate(steps):
        line = line_of(steps, index)
        if isinstance(step, str):
            _orb_use(ci, orbs, step, path, line, None)
            continue
        if not isinstance(step, dict) or len(step) != 1:
            continue
        key, value = next(iter(step.items()))
        if key == "run":
            command = value.get("command") if isinstance(value, dict) else value
            if isinstance(command, str):
                ci.commands.extend(
                    expander.expand(command, path, _first_line(facts, path, line, command))
                )
        else:
            _orb_use(ci, orbs, str(key), path, line, value)


def _orb_use(
    ci: CiFacts, orbs: dict[str, str], name: str, path: str, line: int | None, params: Any
) -> None:
    alias, slash, command = name.partition("/")
    if not slash or alias not in orbs:
        return
    inputs = (
        {str(k): str(v) for k, v in params.items() if not isinstance(v, dict | list)}
        if isinstance(params, dict)
        else {}
    )
    if (
        isinstance(params, dict)
        and len(params) == 1
        and isinstance(next(iter(params.values())), dict)
    ):
        inner = next(iter(params.values()))  # workflow jobs: `- snyk/scan: {params}`
        inputs = {str(k): str(v) for k, v in inner.items() if not isinstance(v, dict | list)}
    ci.uses.append(ActionUse("orb", f"{orbs[alias]}/{command.lower()}", None, inputs, path, line))


# --- plain text --------------------------------------------------------------------------------


def _plain_text(facts: Facts, expander: Expander, ci: CiFacts) -> None:
    for path in TEXT_FILES:
        if not facts.exists(path):
            continue
        text = facts.read(path)
        if text is None:
            _unanalysed(facts, ci, path)
            continue
        ci.files.append(path)
        for number, raw in enumerate(text.splitlines(), 1):
            raw = raw[:4000]
            inline = _GROOVY_SH.search(raw)  # Jenkins: `steps { sh 'make lint' }`
            line = (
                inline.group(2)
                if inline
                else _TEXT_PREFIX.sub("", raw).rstrip().rstrip("'\")").strip()
            )
            if line:
                ci.commands.extend(expander.expand(line, path, number))
