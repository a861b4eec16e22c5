"""actions-pinned: every `uses:` of another repository's action or reusable workflow pinned to the
full commit SHA of the tag it names, the tag kept beside it (`@<sha> # v4.2.2`), in the
repository's workflows and its own composite actions (docs/adr/0016-fix-edits-workflows.md).

The SHA comes from GitHub when fix has a token (one batched query a run), else from the pin table
shipped with secposture (data/action_pins.toml); a tag neither knows is left as it is, with a
note: a pin is never guessed. Local actions (`./path`) run this repository's own commit and are
left alone, as are `docker://` images (a digest is not a tag's SHA: the note says to pin them by
hand).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from secposture.facts import calls, workflows
from secposture.facts.interface import Facts
from secposture.fix.action_pins import FULL_SHA, Pin, PinSource, TablePins
from secposture.fix.generators import Workspace
from secposture.fix.workflow_files import Change, OwnFile, apply_changes, jobs, own_files, steps
from secposture.fix.yaml_edit import (
    TextEdit,
    YamlEditError,
    compose_document,
    line_end,
    mapping_entry,
)

CONTROL = "actions-pinned"
CONTROLS = (CONTROL,)
_SHOWN = 8  # references named in one note


@dataclass(frozen=True)
class Use:
    """A `uses:` scalar of another repository: where it is and what it names."""

    node: Any
    value: str
    repo: str  # owner/name
    ref: str
    where: tuple[str | int, ...]  # where in the document, for the data check


def generate(ws: Workspace, targets: frozenset[str]) -> None:
    source: PinSource = ws.options.pins or TablePins()
    found: dict[str, tuple[str, list[Use]]] = {}
    docker: list[str] = []
    for own in own_files(ws):
        usable, text = ws.existing_text(own.path, CONTROL)
        if not usable or text is None:
            continue
        try:
            root = compose_document(text)
        except YamlEditError:
            continue  # the scan has already said the file cannot be analysed
        uses: list[Use] = []
        for where, node in _uses_nodes(root, own):
            value = str(node.value).strip()
            if value.startswith("docker://"):
                if "@sha256:" not in value:
                    docker.append(f"{own.path}: {value[:120]}")
                continue
            use = _parse(node, value, where)
            if use is not None:
                uses.append(use)
        if uses:
            found[own.path] = (text, uses)
    source.prepare((u.repo, u.ref) for _, uses in found.values() for u in uses)
    left: list[str] = []
    moving: list[str] = []
    for path, (text, uses) in found.items():
        changes: list[Change] = []
        seen: set[int] = set()
        for use in uses:
            if id(use.node) in seen:
                continue  # an anchored `uses:` met again through an alias
            seen.add(id(use.node))
            pin = source.pin(use.repo, use.ref)
            if isinstance(pin, str):
                left.append(f"{path}: {use.value[:120]} ({pin})")
                continue
            try:
                changes.append(_change(text, use, pin))
            except YamlEditError as exc:
                left.append(f"{path}: {use.value[:120]} ({exc})")
                continue
            if pin.moving:
                moving.append(f"{use.repo}@{use.ref}")
        edited, made, refused = apply_changes(text, changes)
        left.extend(f"{path}: {change.what} ({why})" for change, why in refused)
        if made:
            ws.write(path, edited, CONTROL, _summary(made))
    _notes(ws, left, moving, docker, source)


def _uses_nodes(root: Any, own: OwnFile) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    """Every `uses:` scalar of a workflow (calls and steps) or of a composite action's steps."""
    from ruamel.yaml.nodes import ScalarNode

    containers: list[tuple[tuple[str | int, ...], Any]]
    if own.kind == "action":
        runs = mapping_entry(root, "runs")
        containers = [(("runs",), runs[1])] if runs is not None else []
    else:
        containers = [(("jobs", job_id), node) for job_id, _, node in jobs(root)]
    for where, container in containers:
        entry = mapping_entry(container, "uses")
        if entry is not None and isinstance(entry[1], ScalarNode):
            yield (*where, "uses"), entry[1]
        for index, step in steps(container):
            entry = mapping_entry(step, "uses")
            if entry is not None and isinstance(entry[1], ScalarNode):
                yield (*where, "steps", index, "uses"), entry[1]


def _parse(node: Any, value: str, where: tuple[str | int, ...]) -> Use | None:
    """The reference when it names another repository at a ref that is not a full SHA."""
    if value.startswith(("./", "../")) or value == "." or "@" not in value:
        return None
    target, _, ref = value.rpartition("@")
    parts = target.split("/")
    if len(parts) < 2 or not parts[0] or not parts[1] or FULL_SHA.fullmatch(ref):
        return None
    return Use(node, value, f"{parts[0]}/{parts[1]}", ref, where)


def _change(text: str, use: Use, pin: Pin) -> Change:
    """The ref replaced by the SHA and the tag written in a comment after the value (or, where
    the value is not the last thing on its line, at the end of the line; failing that, no
    comment)."""
    node = use.node
    start, end = int(node.start_mark.index), int(node.end_mark.index)
    # An anchored or tagged value's marks start at its `&name` or `!tag`.
    properties = re.match(r"(?:[&!][^\s]*\s+)*", text[start:end])
    start += properties.end() if properties else 0
    raw = text[start:end]
    quoted = node.style in ('"', "'")
    inner = raw[1:-1] if quoted and len(raw) >= 2 else raw
    if node.style not in (None, '"', "'") or inner.strip() != use.value:
        raise YamlEditError("is not written as one plain or quoted value: pin it by hand")
    offset = start + (1 if quoted else 0) + (len(inner) - len(inner.lstrip()))
    at = offset + use.value.rindex("@") + 1
    ref_edit = TextEdit(at, at + len(use.ref), pin.sha)
    pinned = use.value[: use.value.rindex("@") + 1] + pin.sha
    comment = f" # {use.ref}"
    eol = line_end(text, end)
    rest = text[end:eol]
    options: list[list[TextEdit]] = []
    if not rest.strip() or rest.lstrip().startswith("#"):
        options.append([ref_edit, TextEdit(end, end, comment)])
    elif "#" not in rest:
        options.append([ref_edit, TextEdit(eol, eol, comment)])
    options.append([ref_edit])
    old = use.value

    def expect(data: Any) -> None:
        _replace_uses(data, old, pinned)

    what = f"{use.value} -> {pinned[: len(pinned) - 40]}{pin.sha[:12]}… ({use.ref})"
    changes = [Change(what, edits, expect) for edits in options]
    first, *rest_changes = changes
    first.fallbacks = rest_changes
    return first


def _replace_uses(data: Any, old: str, new: str) -> None:
    """Every `uses:` whose value is `old` becomes `new` (an anchored value changes everywhere
    its aliases are, as the text does)."""
    for container in _containers(data):
        if isinstance(container.get("uses"), str) and container["uses"].strip() == old:
            container["uses"] = new
        for step in container.get("steps") or []:
            uses = step.get("uses") if isinstance(step, dict) else None
            if isinstance(uses, str) and uses.strip() == old:
                step["uses"] = new


def _containers(data: Any) -> Iterator[dict[str, Any]]:
    if not isinstance(data, dict):
        return
    runs = data.get("runs")
    if isinstance(runs, dict):
        yield runs
    found = data.get("jobs")
    if isinstance(found, dict):
        for job in found.values():
            if isinstance(job, dict):
                yield job


def _summary(made: list[Change]) -> str:
    shown = "; ".join(c.what for c in made[:_SHOWN])
    more = f"; and {len(made) - _SHOWN} more" if len(made) > _SHOWN else ""
    return f"pinned {len(made)} reference(s) to commit SHAs: {shown}{more}"


def _notes(
    ws: Workspace, left: list[str], moving: list[str], docker: list[str], source: PinSource
) -> None:
    if left:
        shown = "; ".join(left[:_SHOWN]) + (
            f"; and {len(left) - _SHOWN} more" if len(left) > _SHOWN else ""
        )
        ws.note(CONTROL, f"actions-pinned: {len(left)} reference(s) left as they are: {shown}")
    if moving:
        names = ", ".join(sorted(set(moving))[:_SHOWN])
        ws.note(
            CONTROL,
            f"actions-pinned: {names}: pinned offline to the commit each tag named when "
            "secposture's pin table was recorded (data/action_pins.toml), which may be an older "
            "release than the tag names today; Dependabot moves the pins forward (run fix with a "
            "GitHub token to pin what the tags name now)",
        )
    if docker:
        shown = "; ".join(docker[:_SHOWN])
        ws.note(
            CONTROL,
            f"actions-pinned: docker:// images are not pinned by fix: pin each by its "
            f"`@sha256:` digest by hand ({shown})",
        )
    failure = getattr(source, "failure", "")
    if failure:
        ws.note(CONTROL, f"actions-pinned: {failure}; secposture's pin table was used instead")


def wanted_refs(facts: Facts) -> list[tuple[str, str]]:
    """(repository, ref) of every `uses:` in the repository's own workflows and composite
    actions that would be pinned: what to ask GitHub for, before planning (fix/estate.py)."""
    found: list[str | None] = []
    for workflow in facts.get(workflows.collect):
        if calls.in_other_repository(workflow.path):
            continue
        for job in workflow.jobs:
            found.append(job.uses)
            found.extend(step.uses for step in job.steps)
    for action in facts.get(workflows.collect_local_actions).values():
        found.extend(step.uses for step in action.steps)
    out: list[tuple[str, str]] = []
    for value in found:
        if value is None or value.startswith("docker://"):
            continue
        use = _parse(None, value.strip(), ())
        if use is not None:
            out.append((use.repo, use.ref))
    return out
