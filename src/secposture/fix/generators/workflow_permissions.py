"""workflow-permissions: each job's GITHUB_TOKEN gets what its steps need, no more
(docs/adr/0016-fix-edits-workflows.md).

Only workflows the probe finds fault with are changed, in place:

- A workflow with no top-level `permissions` gets `contents: read` (a reusable workflow, run
  only through `workflow_call`, keeps its caller's token and is left alone).
- Writes granted at the top (or `write-all`) move to the jobs that need them; the top keeps
  their read access.
- A job that needs a write gets it on the job: the needs come from the reading the probe
  judges by too (facts/token_needs.py, after data/workflow_security.toml: SARIF upload needs
  `security-events: write`, `gh pr comment` needs `pull-requests: write`, OIDC needs
  `id-token: write`, ...).
- A job's write that the probe proves no step uses is lowered to read.
- Where a job's needs cannot be known (a step the table does not know, the token handed to a
  script, a called workflow that could not be read), nothing is guessed: the job keeps what it
  had explicitly (a top-level write becomes its own), and a `# secposture: review` comment says
  why. A job that had only the repository default gets read access and the same comment.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from secposture.facts import calls, workflows
from secposture.facts.token_needs import Needs, is_write_all, job_needs, write_scopes
from secposture.facts.workflow_expressions import Resolvers, resolvers
from secposture.facts.workflows import Job, Workflow
from secposture.fix.generators import Workspace
from secposture.fix.workflow_files import Change, apply_changes, data_job, jobs, wrap_comment
from secposture.fix.yaml_edit import (
    TextEdit,
    YamlEditError,
    compose_document,
    delete_entry,
    insert_entry,
    mapping_entry,
    replace_scalar,
    replace_value,
)
from secposture.model import Outcome
from secposture.probes.interface import load_probe

CONTROL = "workflow-permissions"
# Only the workflows this probe finds fault with are changed: asked through probes.interface.
PROBE = "workflow-jobs-least-privilege"
CONTROLS = (CONTROL,)
REVIEW = "secposture: review"
READ_ONLY = {"contents": "read"}
# Scopes with no `read` level: a write to them is dropped rather than lowered.
_WRITE_ONLY = frozenset({"id-token"})


# A write lowered in a called workflow makes the same write unneeded in its caller: the plan is
# made again on what it has planned, until nothing more changes (calls nest at most 4 deep).
_ROUNDS = 5


def generate(ws: Workspace, targets: frozenset[str]) -> None:
    reviews = 0
    for _ in range(_ROUNDS):
        changed, reviewed = _round(ws)
        reviews += reviewed
        if not changed:
            break
    if reviews:
        ws.note(
            CONTROL,
            f"workflow-permissions: {reviews} job(s) carry a `# {REVIEW}` comment: their token's "
            "needs could not be known (a step secposture does not know, or the token handed to "
            "a script); check each one before merging",
        )


def _round(ws: Workspace) -> tuple[bool, int]:
    """One pass over the workflows the probe finds fault with: (anything changed, review
    comments added)."""
    facts = ws.facts()
    failing = {
        f.location.path
        for f in load_probe(PROBE).run(facts)
        if f.probe == PROBE and f.outcome is Outcome.NEGATIVE and f.location is not None
    }
    needs_of = job_needs(facts)
    asks_of = callee_asks(resolvers(facts))
    changed, reviews = False, 0
    for workflow in facts.get(workflows.collect):
        if workflow.path not in failing or calls.in_other_repository(workflow.path):
            continue
        usable, text = ws.existing_text(workflow.path, CONTROL)
        if not usable or text is None:
            continue
        try:
            planned = _plan(text, workflow, needs_of, asks_of)
        except YamlEditError as exc:
            ws.skip(CONTROL, f"{workflow.path} {exc}: its permissions were not changed")
            continue
        edited, made, refused = apply_changes(text, planned)
        for change, why in refused:
            ws.skip(CONTROL, f"{workflow.path}: {change.what}: {why}; not changed")
        if made and edited != text:
            ws.write(workflow.path, edited, CONTROL, "; ".join(c.what for c in made))
            reviews += sum(REVIEW in c.what for c in made)
            changed = True
    return changed, reviews


def _plan(text: str, workflow: Workflow, needs_of: Any, asks_of: Any) -> list[Change]:
    root = compose_document(text)
    top = workflow.permissions
    reusable = workflow.triggers == frozenset({"workflow_call"})
    top_writes = write_scopes(top)
    if top is None:
        new_top: Any = None if reusable else dict(READ_ONLY)
    elif is_write_all(top):
        new_top = dict(READ_ONLY)
    elif top_writes:
        new_top = _reads(top)
    else:
        new_top = top  # read-only already
    changes: list[Change] = []
    if new_top is not top and new_top is not None:
        changes.append(_set_top(text, root, top, new_top))
    by_id = {job.id: job for job in workflow.jobs}
    for job_id, key, node in jobs(root):
        job = by_id.get(job_id)
        if job is None:
            continue
        change = _job_change(
            text, key, node, job, top, new_top, reusable, needs_of(job), asks_of(job)
        )
        if change is not None:
            changes.append(change)
    return changes


def _job_change(
    text: str,
    key: Any,
    node: Any,
    job: Job,
    top: Any,
    new_top: Any,
    reusable: bool,
    needs: Needs,
    asks: Mapping[str, str] | str | None = None,
) -> Change | None:
    proven = set(needs.proven)
    unknown = needs.open
    name = f"job `{job.id}`"
    reviewed = REVIEW in text[int(key.start_mark.index) : int(node.end_mark.index)]
    own = job.permissions
    why: str | None = None
    if own is not None:
        if is_write_all(own):
            if unknown is not None:
                if reviewed:
                    return None
                why = f"write-all is more than a job needs, but {_short(unknown)}: list here the scopes it needs"
                return _comment_only(
                    text, node, job.id, why, f"{name}: left at write-all ({REVIEW})"
                )
            narrowed = _merge(READ_ONLY, proven)
            return _set_job(
                text,
                key,
                node,
                job.id,
                own,
                narrowed,
                f"{name}: write-all narrowed to {_describe(narrowed)}",
            )
        if isinstance(own, Mapping):
            unneeded = [s for s in write_scopes(own) if needs.may_need(s) is None]
            if not unneeded:
                return None
            lowered = _lowered(own, unneeded)
            return _set_job(
                text,
                key,
                node,
                job.id,
                own,
                lowered,
                f"{name}: unused write to {', '.join(unneeded)} lowered",
            )
        return None
    if reusable and top is None:
        return None  # its jobs run with the token their caller grants
    if new_top is top:
        return None  # what it inherits did not change
    if isinstance(asks, str):
        unknown = unknown or f"the workflow it calls asks for `{asks}`"
    if is_write_all(top) and unknown is not None:
        if reviewed:
            return None
        why = f"it had write-all from the workflow, and {_short(unknown)}: list here the scopes it needs"
        return _set_job(
            text, key, node, job.id, None, "write-all", f"{name}: keeps write-all ({REVIEW})", why
        )
    if top is None or is_write_all(top):
        grants = proven
    else:
        had = set(write_scopes(top))
        grants = had if unknown is not None else had & proven
    target = _merge(new_top, grants)
    if isinstance(asks, Mapping):
        # A called workflow's jobs get no more than the call grants: what they ask for, the
        # call must grant (reads too), or GitHub refuses to run them.
        target = _raised(target, asks)
    block = bool(grants) or target != _merge(new_top, set())
    what = f"{name}: {_describe(target)}" if block else ""
    if grants and top is not None and not is_write_all(top):
        what += " (moved from the workflow)"
    if unknown is not None and not reviewed:
        if top is None:
            why = f"this job's token now only reads, and {_short(unknown)}: add here any write it needs"
        else:
            why = (
                f"these writes were the workflow's, and {_short(unknown)}: keep only those it needs"
            )
        what = (what or f"{name}: reads only") + f" ({REVIEW})"
    if not block:
        return _comment_only(text, node, job.id, why, what) if why else None
    return _set_job(text, key, node, job.id, None, target, what, why)


# -- edits ---------------------------------------------------------------------------------------


def _block(value: Any) -> list[str]:
    if isinstance(value, str):
        return []
    return [f"  {scope}: {level}" for scope, level in _ordered(value).items()]


def _entry_lines(value: Any, review: str | None) -> list[str]:
    lines = wrap_comment(f"{REVIEW}: {review}") if review else []
    if isinstance(value, str):
        return [*lines, f"permissions: {value}"]
    if not value:
        return [*lines, "permissions: {}"]
    return [*lines, "permissions:", *_block(value)]


def _set_top(text: str, root: Any, old: Any, new: Mapping[str, str]) -> Change:
    def expect(data: Any) -> None:
        data["permissions"] = dict(new)

    what = f"the workflow's token: {_describe(new)}"
    entry = mapping_entry(root, "permissions")
    if entry is None:
        edit = insert_entry(text, root, _entry_lines(new, None), before=("jobs",))
        return Change(what, [edit], expect)
    return Change(what, _replace(text, entry, old, new), expect)


def _set_job(
    text: str,
    key: Any,
    node: Any,
    job_id: str,
    old: Any,
    new: Any,
    what: str,
    review: str | None = None,
) -> Change:
    def expect(data: Any) -> None:
        data_job(data, job_id)["permissions"] = new if isinstance(new, str) else dict(new)

    entry = mapping_entry(node, "permissions")
    if entry is None:
        lines = _entry_lines(new, review)
        return Change(what, [insert_entry(text, node, lines, before=("steps", "uses"))], expect)
    edits = _replace(text, entry, old, new)
    if review:
        edits.append(_comment_above(text, entry[0], review))
    return Change(what, edits, expect)


def _comment_only(text: str, node: Any, job_id: str, review: str | None, what: str) -> Change:
    lines = wrap_comment(f"{REVIEW}: {review}")
    edit = insert_entry(text, node, lines, before=("steps", "uses"))
    return Change(what, [edit], lambda data: None)


def _comment_above(text: str, key: Any, review: str) -> TextEdit:
    start = text.rfind("\n", 0, int(key.start_mark.index)) + 1
    pad = " " * int(key.start_mark.column)
    nl = "\r\n" if "\r\n" in text else "\n"
    lines = wrap_comment(f"{REVIEW}: {review}")
    return TextEdit(start, start, "".join(pad + line + nl for line in lines))


def _replace(text: str, entry: tuple[Any, Any], old: Any, new: Any) -> list[TextEdit]:
    """Edits from the old permissions to the new: scope by scope in a block mapping (its
    comments stay), else the whole value."""
    from ruamel.yaml.nodes import MappingNode

    key, value = entry
    if isinstance(new, str):
        if isinstance(value, MappingNode) and not value.flow_style:
            return _to_scalar(text, key, value, new)
        return [replace_scalar(text, value, new)]
    if (
        not isinstance(value, MappingNode)
        or value.flow_style
        or not isinstance(old, Mapping)
        or not new
    ):
        return replace_value(text, key, value, _block(new)) if new else _to_empty(text, key, value)
    edits: list[TextEdit] = []
    present: set[str] = set()
    for scope_key, level in value.value:
        scope = str(scope_key.value)
        present.add(scope)
        if scope not in new:
            edits.append(delete_entry(text, scope_key, level))
        elif str(level.value) != new[scope]:
            edits.append(replace_scalar(text, level, new[scope]))
    added = [f"{s}: {v}" for s, v in _ordered(new).items() if s not in present]
    if added:
        edits.append(insert_entry(text, value, added))
    return edits


def _to_scalar(text: str, key: Any, value: Any, new: str) -> list[TextEdit]:
    start = int(key.end_mark.index)
    colon = text.find(":", start)
    end = int(value.end_mark.index)
    if end > 0 and text[end - 1] == "\n":
        end -= 1
        if end > 0 and text[end - 1] == "\r":
            end -= 1
    return [TextEdit(colon + 1, end, f" {new}")]


def _to_empty(text: str, key: Any, value: Any) -> list[TextEdit]:
    from ruamel.yaml.nodes import MappingNode

    if isinstance(value, MappingNode) and not value.flow_style:
        return _to_scalar(text, key, value, "{}")
    return [replace_scalar(text, value, "{}")]


# -- permissions as data -------------------------------------------------------------------------


def _reads(value: Mapping[str, Any]) -> dict[str, str]:
    """The same grants with every write lowered to read (dropped where there is no read)."""
    return _lowered(value, write_scopes(value))


def _lowered(value: Mapping[str, Any], scopes: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for scope, level in value.items():
        name = str(scope)
        if name in scopes:
            if name not in _WRITE_ONLY:
                out[name] = "read"
        else:
            out[name] = str(level)
    return out


def _merge(base: Any, writes: set[str]) -> dict[str, str]:
    """A job's own block: the workflow's grants with the job's writes. A job's block replaces
    the workflow's whole, so a scope it leaves out is `none`: the `none`s are not repeated."""
    out = dict(base) if isinstance(base, Mapping) else dict(READ_ONLY)
    out = {scope: level for scope, level in out.items() if str(level).strip() != "none"}
    for scope in writes:
        out[scope] = "write"
    return out


_LEVELS = {"none": 0, "read": 1, "write": 2}


def _raised(grants: Mapping[str, str], asks: Mapping[str, str]) -> dict[str, str]:
    """`grants` raised to at least what `asks` asks for, scope by scope."""
    out = dict(grants)
    for scope, level in asks.items():
        if _LEVELS.get(level, 0) > _LEVELS.get(out.get(scope, "none"), 0):
            out[scope] = level
    return out


def callee_asks(resolve: Resolvers) -> Callable[[Job], Mapping[str, str] | str | None]:
    """What the jobs of the workflow a call job runs ask for (`permissions`, theirs or their
    workflow's), at the highest level any asks; a string (`write-all`, `read-all`) as it is;
    None for a job that calls nothing, or a workflow that could not be read."""

    def asks(job: Job) -> Mapping[str, str] | str | None:
        callee = resolve.workflow(job) if job.uses is not None else None
        if callee is None:
            return None
        found: dict[str, str] = {}
        for inner in callee.jobs:
            asked = inner.permissions if inner.permissions is not None else callee.permissions
            if asked is None:
                continue
            if not isinstance(asked, Mapping):
                return str(asked).strip()
            found = _raised(found, {str(k): str(v).strip() for k, v in asked.items()})
        return found

    return asks


def _ordered(value: Mapping[str, str]) -> dict[str, str]:
    """contents first (the one every job reads), then the rest by name."""
    return {k: value[k] for k in sorted(value, key=lambda s: (s != "contents", s))}


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return value
    return ", ".join(f"{s}: {v}" for s, v in _ordered(value).items()) or "no permissions"


def _short(why: str) -> str:
    """The probe's reason without its `file:line` (the comment is in the job, and lines move):
    "a step uses foo/bar, whose needs are not in the table"."""
    found = re.match(r"\S+:\d+ (.*)", why, re.DOTALL)
    return f"a step {found.group(1)}" if found else why
