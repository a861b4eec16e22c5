"""How the repository builds its container images: for each Dockerfile, the build context (and
target and build arguments) the repository itself uses, with the evidence.

Evidence, strongest first: a build the repository writes down, whether `docker build` /
`docker buildx build` / `podman build` in a workflow step, a GitLab or other CI script, a Makefile
recipe, a shell script or a package.json script (`-f`/`--file` and the context argument, relative
to where the command runs: a Makefile's folder, a step's `working-directory`, a script's own
folder after `cd "$(dirname "$0")"`), `docker/build-push-action`'s `context` and `file`, or a
compose file's `build:` (`context` relative to the compose file, `dockerfile` relative to the
context, anchors and `extends` followed); then the Dockerfile's COPY and ADD sources (the folder,
at or above the Dockerfile's, under which the most of them exist); then the Dockerfile's folder.

Everything is read as text and never run. A command whose paths hold a variable that cannot be
known, a URL context or stdin is not evidence. Builds in workflow steps also say what a scan step
added after them needs: the image's name and whether the job can be edited safely.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from dataclasses import dataclass, field
from typing import Any

from secposture.facts import ci as ci_facts
from secposture.facts import dockerfiles, workflows
from secposture.facts.interface import Facts
from secposture.facts.parsing import line_of, load_json, load_yaml
from secposture.facts.scripts import MAKEFILE_NAMES, parse_makefile

COMPOSE_FILES = (
    "compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml",
    "compose.*.yaml", "compose.*.yml", "docker-compose.*.yaml", "docker-compose.*.yml",
    "docker-compose-*.yaml", "docker-compose-*.yml",
)  # fmt: skip
BUILD_ACTIONS = ("docker/build-push-action",)
BUILDX_SETUP = "docker/setup-buildx-action"
MAX_FILES = 400  # scripts, Makefiles and compose files read for build commands
MAX_LINES = 20_000  # per file
MAX_EXTENDS = 5
_BUILDERS = ("docker", "podman", "nerdctl", "buildah")
_WRAPPERS = frozenset({"sudo", "time", "exec", "env", "nohup", "command", "-E"})
_OPERATORS = frozenset({"&&", "||", ";", "|", "&", "(", ")", "|&", ";;", "{", "}"})
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
# Options of `docker build`/`buildx build` that take a value as the next word; any other option
# is taken to stand alone (a command with two positional words is then left unread, not guessed).
_VALUE_OPTIONS = frozenset(
    {
        "-f", "--file", "-t", "--tag", "--target", "--build-arg", "--platform", "--label",
        "--cache-from", "--cache-to", "--secret", "--ssh", "-o", "--output", "--progress",
        "--network", "--add-host", "--iidfile", "--metadata-file", "--builder",
        "--build-context", "--shm-size", "-m", "--memory", "--memory-swap", "--ulimit",
        "--annotation", "--attest", "--cgroup-parent", "--isolation", "--cpu-period",
        "--cpu-quota", "--cpu-shares", "-c", "--cpuset-cpus", "--cpuset-mems",
        "--security-opt", "--allow", "--call", "--sbom", "--provenance", "--format",
    }
)  # fmt: skip
# Stand-ins for the places a path can start from, put in before a line is split into words.
_ROOT = "@@ROOT@@"
_HERE = "@@HERE@@"  # the script's own folder
_CWD = "@@CWD@@"
_SUBSTITUTIONS = (
    (re.compile(r"\$\{\{\s*github\.workspace\s*\}\}"), _ROOT),
    (
        re.compile(
            r"\$(?:\{(?:GITHUB_WORKSPACE|CI_PROJECT_DIR|BITBUCKET_CLONE_DIR)\}|(?:GITHUB_WORKSPACE|CI_PROJECT_DIR|BITBUCKET_CLONE_DIR)\b)"
        ),
        _ROOT,
    ),
    (re.compile(r"\$\(\s*git\s+rev-parse\s+--show-toplevel\s*\)"), _ROOT),
    (
        re.compile(
            r"\$\(\s*dirname\s+\"?\$(?:0|\{0\}|\{BASH_SOURCE(?:\[0\])?\}|BASH_SOURCE)\"?\s*\)"
        ),
        _HERE,
    ),
    (re.compile(r"\$\{0%/\*\}"), _HERE),
    (re.compile(r"\$(?:\(\s*pwd\s*\)|\(PWD\)|\{PWD\}|PWD\b|\(CURDIR\)|\{CURDIR\})"), _CWD),
)
_EXPRESSION = re.compile(r"\$\{\{.*?\}\}")
# `$(VAR)` (make), `${VAR}` and `$(cmd)` (shell), kept whole through the word split: what they
# stand for is not known, so a path holding one is not evidence (a tag keeps it).
_EXPANSION = re.compile(r"\$\{\{.*?\}\}|\$\([^()]*\)|\$\{[^{}]*\}")
_TAG_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
_SAFE_ARG = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}=[A-Za-z0-9_.:/@+-]{0,200}")


@dataclass(frozen=True)
class WorkflowStep:
    """Where a workflow builds an image: the step a scan step would follow."""

    workflow: str
    job: str
    index: int  # the step's position in the job's `steps`
    line: int | None
    condition: str | None  # the step's `if:`
    matrix: bool  # the job has a `strategy.matrix`
    reusable: bool  # the workflow runs only when another calls it (on: workflow_call)
    # The image's name as a later step can give it (`${{ env.IMAGE }}` for `$IMAGE` of the
    # job's env), or None with why not.
    image: str | None
    image_problem: str | None
    available: bool  # loaded into the runner's Docker, or pushed where it can be pulled


@dataclass(frozen=True)
class BuildEvidence:
    dockerfile: str  # the repository path of the Dockerfile
    context: str  # the repository path of the context ("" for the root)
    how: str  # for people: "`docker build -f docker/Dockerfile .` at Makefile:24"
    rank: int  # 0 CI workflow, 1 other CI, 2 compose, 3 Makefile / script
    source: str  # the file the build is written in
    target: str | None = None
    build_args: tuple[tuple[str, str], ...] = ()
    step: WorkflowStep | None = None


@dataclass(frozen=True)
class ContextDecision:
    dockerfile: str
    context: str
    how: str
    evidence: BuildEvidence | None  # None: inferred from COPY paths, or the Dockerfile's folder
    target: str | None = None
    build_args: tuple[tuple[str, str], ...] = ()


@dataclass
class _Line:
    """A command line and where it runs."""

    text: str
    path: str
    line: int | None
    base: str | None  # the folder it runs in ("" root); None: not known
    here: str  # the folder of the file it is in (a script's `$(dirname "$0")`)


@dataclass
class _Parsed:
    dockerfile: str
    context: str
    target: str | None
    tag: str | None
    build_args: list[tuple[str, str]] = field(default_factory=list)
    pushed: bool = False
    loaded: bool = False
    buildx: bool = False


# --- paths ---------------------------------------------------------------------------------------


def _join(base: str | None, rel: str, *, here: str, cwd: str | None) -> str | None:
    """`rel` (as written in a command) as a repository path, or None when it leaves the
    repository or holds something that cannot be known."""
    for marker, value in ((_ROOT, ""), (_HERE, here), (_CWD, cwd)):
        if rel.startswith(marker):
            if value is None:
                return None
            rel = rel[len(marker) :].lstrip("/")
            base = value
            break
    if "@@" in rel or "$" in rel or "`" in rel or "__EXPR_" in rel or base is None:
        return None
    if rel.startswith("/") or "://" in rel or rel.startswith("git@"):
        return None
    joined = posixpath.normpath(posixpath.join(base or ".", rel or "."))
    if joined == ".." or joined.startswith("../"):
        return None
    return "" if joined == "." else joined


def shown(path: str) -> str:
    """A repository folder as a build command names it from the root."""
    return path or "."


# --- shell lines ---------------------------------------------------------------------------------


def _logical_lines(text: str, first: int | None) -> list[tuple[int | None, str]]:
    out: list[tuple[int | None, str]] = []
    pending: list[str] = []
    start: int | None = first
    for offset, raw in enumerate(text.splitlines()[:MAX_LINES]):
        number = None if first is None else first + offset
        if not pending:
            start = number
        if raw.rstrip().endswith("\\"):
            pending.append(raw.rstrip()[:-1])
            continue
        pending.append(raw)
        out.append((start, " ".join(p.strip() for p in pending)))
        pending = []
    if pending:
        out.append((start, " ".join(p.strip() for p in pending)))
    return out


def _words(line: str) -> tuple[list[list[str]], list[str]] | None:
    """The simple commands of a line (words, GitHub expressions replaced by placeholders), and
    the expressions; None when the line cannot be split."""
    expressions: list[str] = []

    def keep(match: re.Match[str]) -> str:
        expressions.append(match.group(0))
        return f"__EXPR_{len(expressions) - 1}__"

    for pattern, marker in _SUBSTITUTIONS:
        line = pattern.sub(marker, line)
    line = _EXPANSION.sub(keep, line)
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|(){}")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    try:
        tokens = list(lexer)
    except ValueError:
        return None
    commands: list[list[str]] = [[]]
    for token in tokens:
        if token in _OPERATORS:
            commands.append([])
        else:
            commands[-1].append(token)
    return [c for c in commands if c], expressions


def _unwrap(words: list[str]) -> list[str]:
    index = 0
    while index < len(words) and (_ASSIGNMENT.match(words[index]) or words[index] in _WRAPPERS):
        index += 1
    return words[index:]


def _build_args(words: list[str]) -> list[str] | None:
    """The arguments of an image build command (`docker build ...`), or None for other commands."""
    if not words:
        return None
    tool = words[0].rpartition("/")[2]
    if tool not in _BUILDERS:
        return None
    rest = words[1:]
    if tool == "buildah":
        return rest[1:] if rest[:1] in (["bud"], ["build"]) else None
    if rest[:1] == ["build"]:
        return rest[1:]
    if rest[:2] in (["image", "build"], ["buildx", "build"], ["builder", "build"]):
        return ["--buildx", *rest[2:]] if rest[0] == "buildx" else rest[2:]
    return None


def _restore(text: str, expressions: list[str]) -> str:
    return re.sub(r"__EXPR_(\d+)__", lambda m: expressions[int(m.group(1))], text)


def _parse_build(
    args: list[str], expressions: list[str], line: _Line, cwd: str | None
) -> _Parsed | None:
    options: dict[str, list[str]] = {}
    positional: list[str] = []
    flags: set[str] = set()
    index = 0
    while index < len(args):
        word = args[index]
        if word.startswith("-") and word != "-":
            name, eq, value = word.partition("=")
            if eq and name.startswith("--"):
                options.setdefault(name, []).append(value)
            elif name in _VALUE_OPTIONS and index + 1 < len(args):
                options.setdefault(name, []).append(args[index + 1])
                index += 1
            else:
                flags.add(name)
        else:
            positional.append(word)
        index += 1
    if len(positional) != 1:
        return None
    context = _join(line.base, positional[0], here=line.here, cwd=cwd)
    if context is None:
        return None
    files = options.get("-f", []) + options.get("--file", [])
    if files:
        if files[-1] == "-":
            return None
        dockerfile = _join(line.base, files[-1], here=line.here, cwd=cwd)
    else:
        dockerfile = posixpath.join(context, "Dockerfile") if context else "Dockerfile"
    if dockerfile is None:
        return None
    tags = options.get("-t", []) + options.get("--tag", [])
    targets = options.get("--target", [])
    outputs = options.get("-o", []) + options.get("--output", [])
    parsed = _Parsed(
        dockerfile,
        context,
        targets[-1]
        if targets and "$" not in targets[-1] and "__EXPR_" not in targets[-1]
        else None,
        _restore(tags[0], expressions) if tags else None,
        buildx="--buildx" in flags,
    )
    parsed.pushed = "--push" in flags or any("type=registry" in o for o in outputs)
    parsed.loaded = (
        "--load" in flags
        or any("type=docker" in o for o in outputs)
        or (not parsed.buildx and not outputs)
    )
    for value in options.get("--build-arg", []):
        if _SAFE_ARG.fullmatch(value):
            name, _, arg = value.partition("=")
            parsed.build_args.append((name, arg))
    return parsed


def _cd(words: list[str], line: _Line, cwd: str | None) -> str | None:
    """The folder after `cd X` / `pushd X` (None: not known)."""
    if len(words) < 2 or words[1] == "-":
        return None
    return _join(cwd, words[1], here=line.here, cwd=cwd)


def _builds_in(lines: list[_Line], *, shared_shell: bool) -> list[tuple[_Line, _Parsed]]:
    """The image builds the lines run. `shared_shell`: one shell runs every line (a script, a
    workflow step), so `cd` carries over; else each line starts again (a Makefile recipe)."""
    out: list[tuple[_Line, _Parsed]] = []
    cwd: str | None = lines[0].base if lines else None
    for line in lines:
        if not shared_shell:
            cwd = line.base
        split = _words(line.text)
        if split is None:
            continue
        commands, expressions = split
        for raw in commands:
            words = _unwrap(raw)
            if not words:
                continue
            if words[0] in ("cd", "pushd"):
                cwd = _cd(words, line, cwd)
                continue
            if words[0] == "popd":
                cwd = None
                continue
            args = _build_args(words)
            if args is None:
                continue
            current = _Line(line.text, line.path, line.line, cwd, line.here)
            parsed = _parse_build(args, expressions, current, cwd)
            if parsed is not None:
                out.append((current, parsed))
    return out


def _command_text(parsed: _Parsed, line: _Line) -> str:
    where = f"{line.path}:{line.line}" if line.line else line.path
    shown_file = parsed.dockerfile
    return f"`docker build -f {shown_file} {shown(parsed.context)}` (as at {where})"


# --- workflows -----------------------------------------------------------------------------------


def _working_directory(*nodes: Any) -> str:
    for node in nodes:
        if isinstance(node, dict):
            value = node.get("working-directory")
            if isinstance(value, str):
                return value
            run = (
                node.get("defaults", {}).get("run")
                if isinstance(node.get("defaults"), dict)
                else None
            )
            if isinstance(run, dict) and isinstance(run.get("working-directory"), str):
                return str(run["working-directory"])
    return ""


def _env_image(
    tag: str | None, step: dict[str, Any], job: dict[str, Any], doc: dict[str, Any]
) -> tuple[str | None, str | None]:
    """The image name a later step can give, from the tag the build wrote: a variable of the
    job's or the workflow's `env:` becomes `${{ env.NAME }}`, one of the step's own `env:` its
    value; anything else the shell makes at run time leaves the name unknown."""
    if tag is None:
        return None, "the build gives the image no tag (-t), so a later step cannot name it"
    expressions: list[str] = []

    def keep(match: re.Match[str]) -> str:
        expressions.append(match.group(0))
        return f"__EXPR_{len(expressions) - 1}__"

    masked = _EXPRESSION.sub(keep, tag)
    unknown: list[str] = []

    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        for scope in (job, doc):
            env = scope.get("env")
            if isinstance(env, dict) and name in env:
                return "${{ env." + name + " }}"
        env = step.get("env")
        own = env.get(name) if isinstance(env, dict) else None
        if isinstance(own, str | int) and "$" not in _EXPRESSION.sub("", str(own)):
            return str(own)
        unknown.append(name)
        return match.group(0)

    resolved = _restore(_TAG_VAR.sub(value, masked), expressions)
    if unknown or "$" in _EXPRESSION.sub("", resolved):
        return None, f"the image's tag `{tag[:80]}` is made by the shell at run time"
    return resolved, None


def _workflow_builds(facts: Facts) -> list[BuildEvidence]:
    out: list[BuildEvidence] = []
    for workflow in facts.get(workflows.collect):
        doc = load_yaml(facts, workflow.path)
        if not isinstance(doc, dict) or not isinstance(doc.get("jobs"), dict):
            continue
        jobs = doc["jobs"]
        reusable = workflow.triggers == frozenset({"workflow_call"})
        for job_id, job in jobs.items():
            if not isinstance(job, dict) or not isinstance(job.get("steps"), list):
                continue
            strategy = job.get("strategy")
            matrix = isinstance(strategy, dict) and "matrix" in strategy
            steps = job["steps"]
            buildx_container = False
            for index, step in enumerate(steps):
                if not isinstance(step, dict):
                    continue
                context = _StepContext(workflow.path, str(job_id), index, steps, matrix, reusable)
                uses = str(step.get("uses") or "").strip().lower()
                if uses.startswith(BUILDX_SETUP):
                    driver = (
                        step.get("with", {}).get("driver")
                        if isinstance(step.get("with"), dict)
                        else None
                    )
                    buildx_container = driver not in ("docker",)
                if any(uses.startswith(a + "@") for a in BUILD_ACTIONS):
                    found = _action_build(facts, context, step, job, doc, buildx_container)
                    if found is not None:
                        out.append(found)
                run = step.get("run")
                if isinstance(run, str):
                    out.extend(_run_builds(context, step, job, doc, run))
    return out


@dataclass(frozen=True)
class _StepContext:
    workflow: str
    job: str
    index: int
    steps: list[Any]
    matrix: bool
    reusable: bool

    def step(
        self, image: str | None, problem: str | None, available: bool, raw: dict[str, Any]
    ) -> WorkflowStep:
        condition = raw.get("if")
        return WorkflowStep(
            self.workflow,
            self.job,
            self.index,
            line_of(self.steps, self.index),
            None if condition is None else str(condition),
            self.matrix,
            self.reusable,
            image,
            problem,
            available,
        )


def _run_builds(
    ctx: _StepContext, step: dict[str, Any], job: dict[str, Any], doc: dict[str, Any], run: str
) -> list[BuildEvidence]:
    directory = _working_directory(step, job, doc)
    base = _join("", directory, here="", cwd="") if directory else ""
    key_line = line_of(step, "run")
    # A block scalar's text starts on the line below `run: |`.
    first = key_line + 1 if key_line is not None and "\n" in run.rstrip("\n") else key_line
    lines = [_Line(text, ctx.workflow, n, base, "") for n, text in _logical_lines(run, first)]
    out = []
    for _, parsed in _builds_in(lines, shared_shell=True):
        image, problem = _env_image(parsed.tag, step, job, doc)
        where = f"{ctx.workflow} job `{ctx.job}`"
        out.append(
            BuildEvidence(
                parsed.dockerfile,
                parsed.context,
                f"`docker build -f {parsed.dockerfile} {shown(parsed.context)}` in {where}",
                0,
                ctx.workflow,
                parsed.target,
                tuple(parsed.build_args),
                ctx.step(image, problem, parsed.loaded or parsed.pushed, step),
            )
        )
    return out


def _action_build(
    facts: Facts,
    ctx: _StepContext,
    step: dict[str, Any],
    job: dict[str, Any],
    doc: dict[str, Any],
    buildx_container: bool,
) -> BuildEvidence | None:
    with_: dict[Any, Any] = step["with"] if isinstance(step.get("with"), dict) else {}
    raw_context = str(with_.get("context", "."))
    if raw_context.startswith("{{defaultContext}}"):
        raw_context = raw_context[len("{{defaultContext}}") :].lstrip(":") or "."
    context = _join("", raw_context.replace("${{ github.workspace }}", _ROOT), here="", cwd="")
    if context is None:
        return None
    raw_file = with_.get("file")
    dockerfile = (
        _join("", str(raw_file), here="", cwd="")
        if raw_file is not None
        else posixpath.join(context, "Dockerfile")
        if context
        else "Dockerfile"
    )
    if dockerfile is None:
        return None
    tags = [t.strip() for t in re.split(r"[\n,]", str(with_.get("tags", ""))) if t.strip()]
    push = str(with_.get("push", "false")).lower() == "true"
    load = str(with_.get("load", "false")).lower() == "true"
    available = push or load or not buildx_container
    image, problem = (tags[0], None) if tags else (None, "the build gives the image no tag")
    target = with_.get("target")
    args = [
        tuple(a.strip().partition("=")[::2])
        for a in str(with_.get("build-args", "")).splitlines()
        if _SAFE_ARG.fullmatch(a.strip())
    ]
    return BuildEvidence(
        dockerfile,
        context,
        f"docker/build-push-action (context {shown(context)}, file {dockerfile}) in "
        f"{ctx.workflow} job `{ctx.job}`",
        0,
        ctx.workflow,
        str(target) if isinstance(target, str) and "$" not in target else None,
        tuple((str(k), str(v)) for k, v in args),
        ctx.step(image, problem, available, step),
    )


# --- other CI, Makefiles, scripts, package.json ------------------------------------------------


def _other_ci_builds(facts: Facts) -> list[BuildEvidence]:
    ci = facts.get(ci_facts.collect)
    files = {f for f in ci.files if not f.startswith(".github/")}
    lines = [
        _Line(c.text, c.path, c.line, "", "")
        for c in ci.commands
        if c.path in files and c.anchor is None and not c.via
    ]
    return [
        BuildEvidence(
            p.dockerfile,
            p.context,
            _command_text(p, line),
            1,
            line.path,
            p.target,
            tuple(p.build_args),
        )
        for line, p in _builds_in(lines, shared_shell=False)
    ]


def _mentions_a_build(text: str) -> bool:
    return any(tool in text for tool in _BUILDERS)


def _file_builds(facts: Facts) -> list[BuildEvidence]:
    own = facts.paths
    candidates = [
        p
        for p in own
        if p.rpartition("/")[2] in MAKEFILE_NAMES
        or p.endswith((".mk", ".sh", ".bash"))
        or p.rpartition("/")[2] == "package.json"
    ][:MAX_FILES]
    out: list[BuildEvidence] = []
    for path in candidates:
        text = facts.read(path)
        if text is None or not _mentions_a_build(text):
            continue
        folder = path.rpartition("/")[0]
        name = path.rpartition("/")[2]
        found: list[tuple[_Line, _Parsed]] = []
        if name in MAKEFILE_NAMES or name.endswith(".mk"):
            makefile = parse_makefile(path, text)
            for target in makefile.targets.values():
                lines = [
                    _Line(recipe.lstrip("@-+ \t"), path, number, folder, folder)
                    for number, recipe in target.recipe
                ]
                found.extend(_builds_in(lines, shared_shell=False))
        elif name == "package.json":
            data = load_json(facts, path)
            scripts = data.get("scripts") if isinstance(data, dict) else None
            if isinstance(scripts, dict):
                lines = [
                    _Line(str(v), path, None, folder, folder)
                    for v in scripts.values()
                    if isinstance(v, str)
                ]
                found.extend(_builds_in(lines, shared_shell=False))
        else:
            # A script runs where it is called from: the root, unless it moves to its own folder.
            lines = [_Line(t, path, n, "", folder) for n, t in _logical_lines(text, 1)]
            found.extend(_builds_in(lines, shared_shell=True))
        out.extend(
            BuildEvidence(
                p.dockerfile,
                p.context,
                _command_text(p, line),
                3,
                path,
                p.target,
                tuple(p.build_args),
            )
            for line, p in found
        )
    return out


# --- compose -------------------------------------------------------------------------------------


def _service_build(
    facts: Facts, path: str, services: dict[Any, Any], name: str, depth: int = 0
) -> tuple[dict[str, Any], str] | None:
    """The `build:` of a service (its `extends` followed), as a mapping, and the compose file
    its context is relative to."""
    service = services.get(name)
    if not isinstance(service, dict) or depth > MAX_EXTENDS:
        return None
    build = service.get("build")
    own: dict[str, Any] | None = (
        {"context": build}
        if isinstance(build, str)
        else dict(build)
        if isinstance(build, dict)
        else None
    )
    base: tuple[dict[str, Any], str] | None = None
    extends = service.get("extends")
    if isinstance(extends, str):
        base = _service_build(facts, path, services, extends, depth + 1)
    elif isinstance(extends, dict) and isinstance(extends.get("service"), str):
        other = extends.get("file")
        if isinstance(other, str):
            folder = path.rpartition("/")[0]
            other_path = _join(folder, other, here=folder, cwd=folder)
            doc = load_yaml(facts, other_path) if other_path and facts.exists(other_path) else None
            if other_path and isinstance(doc, dict) and isinstance(doc.get("services"), dict):
                base = _service_build(
                    facts, other_path, doc["services"], extends["service"], depth + 1
                )
        else:
            base = _service_build(facts, path, services, extends["service"], depth + 1)
    if own is None:
        return base
    if base is not None and base[1] == path:
        merged = dict(base[0])
        merged.update(own)
        return merged, path
    return own, path


def _compose_args(node: Any) -> list[tuple[str, str]]:
    items: list[str] = []
    if isinstance(node, dict):
        items = [
            f"{k}={v}" for k, v in node.items() if v is not None and not isinstance(v, dict | list)
        ]
    elif isinstance(node, list):
        items = [str(v) for v in node if isinstance(v, str)]
    out = []
    for item in items:
        if _SAFE_ARG.fullmatch(item):
            name, _, value = item.partition("=")
            out.append((name, value))
    return out


def _compose_builds(facts: Facts) -> list[BuildEvidence]:
    out: list[BuildEvidence] = []
    for path in facts.matching(*COMPOSE_FILES, *(f"*/{n}" for n in COMPOSE_FILES))[:MAX_FILES]:
        doc = load_yaml(facts, path)
        services = doc.get("services") if isinstance(doc, dict) else None
        if not isinstance(services, dict):
            continue
        for name in services:
            found = _service_build(facts, path, services, str(name))
            if found is None:
                continue
            build, relative_to = found
            folder = relative_to.rpartition("/")[0]
            raw_context = build.get("context", ".")
            if not isinstance(raw_context, str) or "dockerfile_inline" in build:
                continue
            context = _join(folder, raw_context, here=folder, cwd=folder)
            raw_file = build.get("dockerfile", "Dockerfile")
            if context is None or not isinstance(raw_file, str):
                continue
            dockerfile = _join(context, raw_file, here=context, cwd=context)
            if dockerfile is None:
                continue
            target = build.get("target")
            out.append(
                BuildEvidence(
                    dockerfile,
                    context,
                    f"{path} service `{name}` (context {shown(context)})",
                    2,
                    path,
                    target if isinstance(target, str) and "$" not in target else None,
                    tuple(_compose_args(build.get("args"))),
                )
            )
    return out


# --- deciding ------------------------------------------------------------------------------------


def collect(facts: Facts) -> list[BuildEvidence]:
    """Every image build the repository writes down whose Dockerfile is in the repository."""
    found = (
        _workflow_builds(facts)
        + _other_ci_builds(facts)
        + _compose_builds(facts)
        + _file_builds(facts)
    )
    seen: set[tuple[str, str, str]] = set()
    out: list[BuildEvidence] = []
    # A base compose file (compose.yaml, docker-compose.yml) says how an image is built before an
    # override for development or tests does (docker-compose.dev.yml sets a `dev` target).
    base_names = set(COMPOSE_FILES[:4]) | set(MAKEFILE_NAMES)
    for evidence in sorted(
        found,
        key=lambda e: (e.rank, e.source.rpartition("/")[2] not in base_names, e.source),
    ):
        key = (evidence.dockerfile, evidence.context, evidence.how)
        if key in seen or not facts.exists(evidence.dockerfile):
            continue
        seen.add(key)
        out.append(evidence)
    return out


def infer_context(facts: Facts, dockerfile: str) -> tuple[str, str] | None:
    """The folder at or above the Dockerfile's under which the most of its COPY/ADD sources
    exist (the nearest on a tie), with why; None when its sources say nothing (none, or only
    `.`, or none found anywhere)."""
    text = facts.read(dockerfile)
    if text is None:
        return None
    parsed = dockerfiles.parse(text)
    specific = [s for s in parsed.sources if s.path]
    if not specific:
        return None
    folder = dockerfile.rpartition("/")[0]
    candidates = [folder]
    while folder:
        folder = folder.rpartition("/")[0]
        candidates.append(folder)
    best: tuple[int, str] | None = None
    for candidate in candidates:
        entries = dockerfiles.context_entries(candidate, facts.all_paths)
        score = sum(dockerfiles.exists(s, entries) for s in specific)
        if best is None or score > best[0]:
            best = (score, candidate)
    if best is None or best[0] == 0:
        return None
    score, context = best
    if context == dockerfile.rpartition("/")[0]:
        return context, f"its COPY sources are beside it ({score} of {len(specific)} found)"
    named = ", ".join(s.written for s in specific[:3])
    return context, f"its COPY sources ({named}) are under {shown(context)}"


def decide(facts: Facts, dockerfile: str, evidence: list[BuildEvidence]) -> ContextDecision:
    """The context to build `dockerfile` from: the repository's own build first, then its COPY
    sources, then its folder."""
    mine = [e for e in evidence if e.dockerfile == dockerfile]
    if mine:
        first = mine[0]
        return ContextDecision(
            dockerfile, first.context, first.how, first, first.target, first.build_args
        )
    inferred = infer_context(facts, dockerfile)
    if inferred is not None:
        return ContextDecision(dockerfile, inferred[0], inferred[1], None)
    folder = dockerfile.rpartition("/")[0]
    return ContextDecision(dockerfile, folder, "the Dockerfile's folder", None)
