"""What a workflow runs once its `uses:` are followed: reusable workflows (this repository's and
other repositories'), composite actions (local and other repositories'), with the caller's
`with:` written in where the callee reads `inputs.*` (docs/adr/0014-*.md).

`walk(facts)` resolves every workflow of the repository once per scan:

- `steps`: every step that runs, in order, each with the chain that reaches it (`via`, the
  caller's file and line first, then each callee's) and the line of this repository where the
  chain starts (`anchor`). A step's `run`, `with`, `env` and `if` have the inputs substituted; a
  step whose `if:` is certainly false with those inputs (`scan_type: fs` against
  `if: inputs.scan_type == 'image'`) is kept with `runs=False` and not followed.
- `calls`: every reusable-workflow call, with the callee parsed and the inputs mapped (the
  caller's `with:` text, the callee's defaults for what it leaves out), for the workflow probes'
  taint tracking (`reusable_calls`).
- `unread`: references that could not be read (no token, not found, too large, a cycle's end is
  not one, the depth limit): the probes say `unknown` naming each.

Docker and JavaScript actions are leaves: what they run is their own code, known by name to the
tool catalogue or not at all. Actions the catalogue of shared actions calls leaves (set-up,
caching, notifications) are never fetched. A reference the scan cannot read falls back to that
catalogue's entry for it, when there is one; a file that was read always wins over the entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from secposture.facts import workflows
from secposture.facts.inputs import definitely_false, substitute, substitute_condition
from secposture.facts.interface import Facts
from secposture.facts.parsing import load_yaml
from secposture.facts.references import (
    ACTION_KIND,
    CATALOGUE_LABEL,
    MAX_DEPTH,
    WORKFLOW_KIND,
    CatalogueEntry,
    Read,
    Unread,
    action_candidates,
    parse_uses,
    read_first,
    record_unread,
    shared_catalogue,
    why_unread,
    workflow_reference,
)
from secposture.facts.workflows import Job, Step, Workflow
from secposture.model import Location
from secposture.sources.references.interface import (
    ABSENT,
    Reference,
    reference,
    valid_path,
    valid_ref,
    valid_repo,
)

MAX_HOPS = 8  # local composite actions and workflows included
MAX_STEPS = 5000  # steps one workflow's walk yields: a hostile fan-out cannot make a scan slow
# Jobs and calls one workflow's walk visits: 60 jobs each calling a workflow of 60 jobs, three
# levels deep, would be 216,000 visits; past this the rest is unknown, said once.
MAX_VISITS = 20_000


@dataclass(frozen=True)
class ResolvedStep:
    """A step that a workflow of this repository runs, directly or through calls."""

    step: Step  # inputs substituted; `path` is this repository's file or a reference's key
    workflow: Workflow  # the repository's own workflow where the chain starts
    job: Job  # the job of that workflow where the chain starts
    where: str  # "job `build`", "composite action … used by job `build`", ...
    via: tuple[str, ...]  # the hops that reach the step's file, outermost first
    origin: str  # "" for this repository's files, else "owner/repo@ref"
    anchor: Location  # the line of this repository where the chain starts
    inputs: dict[str, str]  # the inputs in effect in the step's file (as the caller wrote them)
    runs: bool = True  # False: its `if:` is certainly false with these inputs
    catalogued: bool = False  # from the catalogue of shared actions, not from a file
    run_line: int | None = None  # the line where its `run:` text starts (as written)


@dataclass(frozen=True)
class ResolvedCall:
    """A job that calls a reusable workflow (`jobs.<id>.uses`), and what it calls."""

    workflow: Workflow  # the repository's own workflow where the chain starts
    caller: Job  # the calling job (in that workflow, or in a callee for a nested call)
    callee: Workflow | None  # None when it could not be read (`unread` says why)
    # callee input (lower-case) -> the value it gets: the caller's `with:` text as written (with
    # the caller's own inputs substituted, so untrusted text stays visible), else the default
    inputs: dict[str, str]
    origin: str  # the callee's "owner/repo@ref", or "" for this repository
    via: tuple[str, ...]  # hops before the call
    anchor: Location
    depth: int  # 1 for a call from the repository's own workflow
    unread: Unread | None = None
    catalogued: CatalogueEntry | None = None


@dataclass
class Walk:
    steps: list[ResolvedStep] = field(default_factory=list)
    calls: list[ResolvedCall] = field(default_factory=list)
    unread: list[Unread] = field(default_factory=list)


@dataclass(frozen=True)
class _Place:
    """Where the file being walked lives: this repository (`read` None) or a referenced one."""

    read: Read | None = None

    @property
    def origin(self) -> str:
        return self.read.label if self.read is not None else ""


@dataclass(frozen=True)
class _Context:
    workflow: Workflow
    job: Job
    anchor: Location
    via: tuple[str, ...]
    place: _Place
    inputs: dict[str, str]
    hops: int
    reads: int  # references of other repositories followed so far
    chain: frozenset[str]


def walk(facts: Facts) -> dict[str, Walk]:
    """Every workflow's resolved steps, calls and unread references, by workflow path."""
    return facts.get(_walk_all)


def _walk_all(facts: Facts) -> dict[str, Walk]:
    return {wf.path: _Walker(facts, wf).run() for wf in facts.get(workflows.collect)}


def resolved_steps(facts: Facts) -> list[ResolvedStep]:
    """Every step of every workflow, calls followed (see `walk`)."""
    return [s for w in walk(facts).values() for s in w.steps]


def reusable_calls(facts: Facts) -> list[ResolvedCall]:
    """Every reusable-workflow call, nested ones too, with the callee and the mapped inputs: for
    following untrusted `with:` values into `inputs.*` (the workflow probes)."""
    return [c for w in walk(facts).values() for c in w.calls]


def unread_calls(facts: Facts) -> list[Unread]:
    """The references of the workflows (reusable workflows, actions) that could not be read."""
    return [u for w in walk(facts).values() for u in w.unread]


class _Walker:
    def __init__(self, facts: Facts, workflow: Workflow) -> None:
        self.facts = facts
        self.workflow = workflow
        self.local = facts.get(workflows.collect_local_actions)
        self.catalogue = shared_catalogue(facts)
        self.out = Walk()
        self.visits = 0
        # Each called workflow parsed once per walk, however many jobs call it.
        self._parsed: dict[str, Workflow | None] = {}

    def run(self) -> Walk:
        for job in self.workflow.jobs:
            start = _uses_line(self.facts, job.path, job.line) if job.uses else job.line
            context = _Context(
                self.workflow,
                job,
                Location(job.path, start),
                (),
                _Place(),
                {},
                0,
                0,
                frozenset({self.workflow.path}),
            )
            self._job(job, context)
        return self.out

    # -- jobs and reusable workflows --------------------------------------------------------

    def _job(self, job: Job, ctx: _Context) -> None:
        self.visits += 1
        if self.visits > MAX_VISITS:
            if self.visits == MAX_VISITS + 1:  # said once, where the walk stopped
                why = f"its calls fan out past {MAX_VISITS:,} jobs, the limit; the rest is not followed"
                line = _uses_line(self.facts, job.path, job.line) if job.uses else job.line
                self._unread(
                    Unread(
                        job.uses or job.id,
                        WORKFLOW_KIND,
                        job.path,
                        line,
                        why,
                        "",
                        ctx.anchor,
                        ctx.via,
                    )
                )
            return
        if job.if_ is not None and definitely_false(substitute_condition(job.if_, ctx.inputs)):
            return
        if job.uses is not None:
            self._call(job, ctx)
            return
        where = f"job `{ctx.job.id}`" if not ctx.via else f"job `{job.id}` of {job.path}"
        if ctx.via:
            where += f", called by job `{ctx.job.id}`"
        self._steps(job.steps, ctx, where)

    def _call(self, job: Job, ctx: _Context) -> None:
        uses = job.uses or ""
        with_ = {k.lower(): substitute(v, ctx.inputs) for k, v in job.with_.items()}
        hop = f"`uses: {uses[:120]}` at {_where(job.path, _uses_line(self.facts, job.path, job.line))}"
        found = self._read_workflow(job, ctx)
        call = ResolvedCall(
            self.workflow, job, None, dict(with_), "", ctx.via, ctx.anchor, ctx.hops + 1
        )
        if isinstance(found, Unread):
            entry = self._entry_for(uses)
            if entry is not None:
                self.out.calls.append(
                    replace(call, catalogued=entry, inputs={**entry.inputs, **with_})
                )
                self._catalogued(entry, with_, job, ctx, hop)
                return
            self._unread(found, call)
            return
        if found is None:
            return  # a cycle: what it runs is walked already
        key, place, callee = found
        inputs = {**callee.call_defaults, **with_}
        self.out.calls.append(replace(call, callee=callee, inputs=inputs, origin=place.origin))
        inner = replace(
            ctx,
            via=(*ctx.via, hop),
            place=place,
            inputs=inputs,
            hops=ctx.hops + 1,
            reads=ctx.reads + (1 if place.read is not None else 0),
            chain=ctx.chain | {key},
        )
        for callee_job in callee.jobs:
            self._job(callee_job, inner)

    def _read_workflow(
        self, job: Job, ctx: _Context
    ) -> tuple[str, _Place, Workflow] | Unread | None:
        """The called workflow (its key, where it lives, parsed); an Unread saying why not; None
        for a call already on the chain (a cycle)."""
        uses = job.uses or ""
        line = _uses_line(self.facts, job.path, job.line)
        base = Unread(uses, WORKFLOW_KIND, job.path, line, "", "", ctx.anchor, ctx.via)
        if ctx.hops >= MAX_HOPS or ctx.reads >= MAX_DEPTH:
            return replace(base, why=f"it is more than {MAX_DEPTH} references deep, the limit")
        if uses.startswith("./"):
            path = valid_path(uses[2:])
            if path is None or not path.startswith(".github/workflows/"):
                return replace(base, why="it is not a workflow file of .github/workflows/", how="")
            if ctx.place.read is None:
                if path in ctx.chain:
                    return None
                if not self.facts.exists(path):
                    return replace(base, why="no such file in the repository", how="")
                return self._parse_workflow(path, _Place(), base)
            ref = reference(ctx.place.read.reference.repo, ctx.place.read.reference.ref, path)
            return self._fetch_workflow(ref, base, ctx)
        parsed = parse_uses(uses)
        ref = workflow_reference(parsed) if parsed is not None else None
        if ref is None:
            return replace(
                base,
                why="it is not a reusable workflow reference (OWNER/REPO/.github/workflows/FILE@REF)",
            )
        return self._fetch_workflow(ref, base, ctx)

    def _fetch_workflow(
        self, ref: Reference | None, base: Unread, ctx: _Context
    ) -> tuple[str, _Place, Workflow] | Unread | None:
        if ref is None:
            return replace(base, why="it is not a valid reference")
        if ref.key in ctx.chain:
            return None
        found = read_first(self.facts, [ref])
        if not isinstance(found, Read):
            why, how = why_unread(found)
            return replace(base, why=why, how=how)
        return self._parse_workflow(found.key, _Place(found), base)

    def _parse_workflow(
        self, key: str, place: _Place, base: Unread
    ) -> tuple[str, _Place, Workflow] | Unread:
        if key not in self._parsed:
            doc = load_yaml(self.facts, key)
            self._parsed[key] = workflows.parse_workflow(key, doc) if doc is not None else None
        parsed = self._parsed[key]
        if parsed is None:
            problem = self.facts.problem_for(key)
            why = (
                f"{key} cannot be analysed ({problem.message})"
                if problem
                else f"{key} is not a workflow"
            )
            return replace(base, why=why, how="")
        return key, place, parsed

    # -- steps and actions ------------------------------------------------------------------

    def _steps(self, steps: list[Step], ctx: _Context, where: str) -> None:
        for step in steps:
            if len(self.out.steps) >= MAX_STEPS:
                return
            sub = _substituted(step, ctx.inputs)
            runs = not definitely_false(sub.if_)
            run_line = _text_line(self.facts, step.path, step.line, step.run) if step.run else None
            self.out.steps.append(
                ResolvedStep(
                    sub,
                    ctx.workflow,
                    ctx.job,
                    where,
                    ctx.via,
                    ctx.place.origin,
                    ctx.anchor if ctx.via else Location(step.path, step.line),
                    ctx.inputs,
                    runs,
                    run_line=run_line,
                )
            )
            if runs and sub.uses is not None:
                at = Location(step.path, _uses_line(self.facts, step.path, step.line))
                self._action(sub, ctx if ctx.via else replace(ctx, anchor=at))

    def _action(self, step: Step, ctx: _Context) -> None:
        uses = (step.uses or "").strip()
        if uses.startswith("docker://") or ctx.hops >= MAX_HOPS:
            return
        with_ = {k.lower(): v for k, v in step.with_.items()}
        if uses.startswith("./"):
            # A local action is read from the workspace: this repository's checkout, also when
            # a called workflow or action names it.
            action = self.local.get(uses[2:].rstrip("/"))
            if action is None or action.path in ctx.chain or action.problem is not None:
                return
            hop = f"local action `{uses[:120]}` at {step.path}:{step.line} ({action.path})"
            inputs = {**self._local_defaults(action.path), **with_}
            inner = replace(
                ctx,
                via=(*ctx.via, hop),
                place=_Place(),
                inputs=inputs,
                hops=ctx.hops + 1,
                chain=ctx.chain | {action.path},
            )
            self._steps(
                action.steps, inner, f"composite action {action.path} used by job `{ctx.job.id}`"
            )
            return
        parsed = parse_uses(uses)
        if parsed is None or self.catalogue.leaf(parsed.name):
            return
        line = _uses_line(self.facts, step.path, step.line)
        hop = f"`uses: {uses[:120]}` at {_where(step.path, line)}"
        base = Unread(uses, ACTION_KIND, step.path, line, "", "", ctx.anchor, ctx.via)
        if ctx.reads >= MAX_DEPTH:
            self._unread(
                replace(base, why=f"it is more than {MAX_DEPTH} references deep, the limit")
            )
            return
        candidates = action_candidates(parsed)
        if any(c.key in ctx.chain for c in candidates):
            return
        found = read_first(self.facts, candidates)
        if not isinstance(found, Read):
            entry = self.catalogue.entry(parsed.name)
            if entry is not None:
                self._catalogued(entry, with_, step, ctx, hop)
                return
            why, how = why_unread(found)
            if found.state == ABSENT:
                why = "no action.yml or action.yaml at that ref"
            self._unread(replace(base, why=why, how=how))
            return
        doc = load_yaml(self.facts, found.key)
        runs = doc.get("runs") if isinstance(doc, dict) else None
        if not isinstance(doc, dict) or not isinstance(runs, dict):
            problem = self.facts.problem_for(found.key)
            why = problem.message if problem else "it has no `runs:`"
            self._unread(replace(base, why=f"{found.key} cannot be analysed ({why})", how=""))
            return
        if str(runs.get("using", "")).lower() != "composite":
            return  # a JavaScript or Docker action: a leaf, known by its name or not at all
        defaults = workflows.input_defaults(doc.get("inputs"))
        inner = replace(
            ctx,
            via=(*ctx.via, hop),
            place=_Place(found),
            inputs={**defaults, **with_},
            hops=ctx.hops + 1,
            reads=ctx.reads + 1,
            chain=ctx.chain | {found.key},
        )
        steps = workflows.parse_steps(found.key, runs.get("steps"))
        self._steps(steps, inner, f"composite action {found.key} used by job `{ctx.job.id}`")

    def _local_defaults(self, path: str) -> dict[str, str]:
        doc = load_yaml(self.facts, path)
        return workflows.input_defaults(doc.get("inputs")) if isinstance(doc, dict) else {}

    # -- the catalogue and what stayed unread -----------------------------------------------

    def _entry_for(self, uses: str) -> CatalogueEntry | None:
        parsed = parse_uses(uses)
        return self.catalogue.entry(parsed.name) if parsed is not None else None

    def _catalogued(
        self,
        entry: CatalogueEntry,
        with_: dict[str, str],
        caller: Job | Step,
        ctx: _Context,
        hop: str,
    ) -> None:
        """What the catalogue says an unread reference runs, as steps (marked `catalogued`)."""
        label = f"{entry.uses} ({CATALOGUE_LABEL}, from {entry.origin})"
        inputs = {**entry.inputs, **with_}
        steps = [
            Step(
                path=label,
                line=None,
                uses=str(item["uses"]) if item.get("uses") is not None else None,
                run=str(item["run"]) if item.get("run") is not None else None,
                with_={str(k): str(v) for k, v in (item.get("with") or {}).items()},
                if_=str(item["if"]) if item.get("if") is not None else None,
            )
            for item in entry.runs
        ]
        inner = replace(
            ctx,
            via=(*ctx.via, hop),
            place=_Place(),
            inputs=inputs,
            hops=ctx.hops + 1,
            reads=ctx.reads + 1,
            chain=ctx.chain | {label},
        )
        start = len(self.out.steps)
        self._steps(steps, inner, f"{entry.uses} ({CATALOGUE_LABEL}) used by job `{ctx.job.id}`")
        for i in range(start, len(self.out.steps)):
            self.out.steps[i] = replace(self.out.steps[i], catalogued=True)

    def _unread(self, unread: Unread, call: ResolvedCall | None = None) -> None:
        kept = record_unread(self.facts, unread)
        self.out.unread.append(kept)
        if call is not None:
            self.out.calls.append(replace(call, unread=kept))


# --- resolvers for the workflow probes (facts/workflow_expressions.py `Resolvers`) ---------------


def resolve_workflow(facts: Facts, job: Job) -> Workflow | None:
    """The workflow a call job (`jobs.<id>.uses`) runs, read from another repository when it is
    one (`owner/repo/.github/workflows/f.yml@ref`), or the called repository's own
    `./.github/workflows/f.yml` when the calling job is itself in a referenced file (its path
    is then that file's key, `owner/repo@ref:path`). None when it cannot be read: the
    reference is then among `unread_calls` and `references.unread`, saying why."""
    uses = (job.uses or "").strip()
    memo = facts.get(_resolved_memo)
    key = ("workflow", job.path, uses)
    if key not in memo:
        memo[key] = _resolve_workflow(facts, job, uses)
    found = memo[key]
    return found if isinstance(found, Workflow) else None


def resolve_action(facts: Facts, uses: str) -> workflows.LocalAction | None:
    """The composite action a step of another repository's action runs (`owner/repo[/path]@ref`),
    as a LocalAction whose path is the file's key. None for a JavaScript or Docker action (a
    leaf), a leaf of the catalogue, or one that cannot be read (see `resolve_workflow`)."""
    memo = facts.get(_resolved_memo)
    key = ("action", "", uses.strip())
    if key not in memo:
        memo[key] = _resolve_action(facts, uses.strip())
    found = memo[key]
    return found if isinstance(found, workflows.LocalAction) else None


def _resolved_memo(facts: Facts) -> dict[tuple[str, str, str], object]:
    return {}


def _resolve_workflow(facts: Facts, job: Job, uses: str) -> Workflow | None:
    if uses.startswith("./"):
        origin = _key_origin(job.path)
        path = valid_path(uses[2:])
        if origin is None or path is None or not path.startswith(".github/workflows/"):
            return None  # this repository's own: the probes have it
        ref = reference(origin[0], origin[1], path)
    else:
        parsed = parse_uses(uses)
        ref = workflow_reference(parsed) if parsed is not None else None
    if ref is None:
        return None
    found = read_first(facts, [ref])
    if not isinstance(found, Read):
        why, how = why_unread(found)
        record_unread(
            facts,
            Unread(uses, WORKFLOW_KIND, job.path, job.line, why, how, Location(job.path, job.line)),
        )
        return None
    doc = load_yaml(facts, found.key)
    return workflows.parse_workflow(found.key, doc) if doc is not None else None


def _resolve_action(facts: Facts, uses: str) -> workflows.LocalAction | None:
    parsed = parse_uses(uses)
    if parsed is None or shared_catalogue(facts).leaf(parsed.name):
        return None
    found = read_first(facts, action_candidates(parsed))
    if not isinstance(found, Read):
        return None
    doc = load_yaml(facts, found.key)
    runs = doc.get("runs") if isinstance(doc, dict) else None
    if not isinstance(runs, dict) or str(runs.get("using", "")).lower() != "composite":
        problem = facts.problem_for(found.key) if doc is None else None
        if problem is not None:
            return workflows.LocalAction(found.key, [], problem)
        return None
    return workflows.LocalAction(found.key, workflows.parse_steps(found.key, runs.get("steps")))


def in_other_repository(path: str) -> bool:
    """Whether a step's or job's path is the key of a referenced file, not a tracked path."""
    return _key_origin(path) is not None


def _key_origin(path: str) -> tuple[str, str] | None:
    """(repo, ref) of a referenced file's key `owner/repo@ref:path`; None for a tracked path."""
    head, at, rest = path.partition("@")
    ref, colon, _ = rest.partition(":")
    if not at or not colon or valid_repo(head) is None or valid_ref(ref) is None:
        return None
    return head.lower(), ref


def _substituted(step: Step, inputs: dict[str, str]) -> Step:
    if not inputs:
        return step
    return replace(
        step,
        run=substitute(step.run, inputs) if step.run is not None else None,
        with_={k: substitute(v, inputs) for k, v in step.with_.items()},
        env={k: substitute(v, inputs) for k, v in step.env.items()},
        if_=substitute_condition(step.if_, inputs) if step.if_ is not None else None,
    )


_USES_SEARCH = 60  # lines below a job's or step's first line where its `uses:` may be


def _uses_line(facts: Facts, path: str, line: int | None) -> int | None:
    """The line of the `uses:` key of the job or step starting at `line` (the evidence names the
    reference's own line, not the job's or step's first)."""
    if line is None:
        return None
    text = facts.read(path)
    if text is None:
        return line
    lines = text.splitlines()
    for index in range(line - 1, min(len(lines), line - 1 + _USES_SEARCH)):
        stripped = lines[index].lstrip(" -\t")
        if stripped.startswith("uses:"):
            return index + 1
    return line


def _text_line(facts: Facts, path: str, start: int | None, text: str) -> int | None:
    """The line at or below `start` where the first line of `text` (as written) appears."""
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    content = facts.read(path) if start is not None and first else None
    if content is None or start is None:
        return start
    lines = content.splitlines()
    for index in range(start - 1, min(len(lines), start - 1 + 5000)):
        if first in lines[index]:
            return index + 1
    return start


def _where(path: str, line: int | None) -> str:
    return f"{path}:{line}" if line else path


__all__ = [
    "ResolvedCall",
    "ResolvedStep",
    "Walk",
    "in_other_repository",
    "resolve_action",
    "resolve_workflow",
    "resolved_steps",
    "reusable_calls",
    "unread_calls",
    "walk",
]
