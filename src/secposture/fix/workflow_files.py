"""The workflow files a repository owns, and how the workflow generators change them.

The generators (fix/generators/workflow_pins.py, workflow_permissions.py, workflow_injection.py)
each turn what they want into `Change`s: text edits on the file as planned so far, with the data
change each must make. `apply_changes` makes them all at once when the result reads back as
exactly the intended data; otherwise each is tried alone, and those that still cannot be made
(an alias, a merge key, a flow mapping in the way) are returned with why, for a note. A change
is never guessed at: the file keeps its bytes where nothing is changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from secposture.facts import calls, workflows
from secposture.fix.generators import Workspace
from secposture.fix.yaml_edit import TextEdit, YamlEditError, apply_checked, mapping_entry

Expect = Callable[[Any], None]  # changes a plain copy of the document in place


@dataclass
class Change:
    what: str  # for people: "actions/checkout@v4 pinned to 11bd719 (v4)"
    edits: list[TextEdit]
    expect: Expect
    # Other ways to make the same change, tried in order when this one cannot be made (a pin
    # without its version comment, where the comment cannot go).
    fallbacks: list[Change] = field(default_factory=list)


@dataclass(frozen=True)
class OwnFile:
    path: str
    kind: str  # "workflow" (.github/workflows/*.yml) or "action" (a local composite action)


def own_files(ws: Workspace) -> list[OwnFile]:
    """The workflows and local composite actions of this repository that parsed (those of other
    repositories that the scan read are not ours to change)."""
    facts = ws.facts()
    out = [
        OwnFile(w.path, "workflow")
        for w in facts.get(workflows.collect)
        if not calls.in_other_repository(w.path)
    ]
    actions = facts.get(workflows.collect_local_actions)
    for folder in sorted(actions):
        action = actions[folder]
        if action.problem is None and not calls.in_other_repository(action.path):
            out.append(OwnFile(action.path, "action"))
    return out


def apply_changes(
    text: str, changes: list[Change]
) -> tuple[str, list[Change], list[tuple[Change, str]]]:
    """(the text with every change that can be made, those made, those refused with why)."""
    if not changes:
        return text, [], []
    try:
        return _apply(text, changes), list(changes), []
    except YamlEditError:
        pass
    made: list[Change] = []
    refused: list[tuple[Change, str]] = []
    current = text
    for change in changes:
        chosen, why = None, ""
        for option in [change, *change.fallbacks]:
            try:
                current = _apply(text, [*made, option])
            except YamlEditError as exc:
                why = why or str(exc)
                continue
            chosen = option
            break
        if chosen is None:
            refused.append((change, why))
        else:
            made.append(chosen)
    return current, made, refused


def _apply(text: str, changes: list[Change]) -> str:
    edits = [edit for change in changes for edit in change.edits]

    def expect(data: Any) -> None:
        for change in changes:
            change.expect(data)

    return apply_checked(text, edits, expect)


def jobs(root: Any) -> Iterator[tuple[str, Any, Any]]:
    """(job id, key node, job mapping node) of each job written in a workflow."""
    entry = mapping_entry(root, "jobs")
    if entry is None or not _is_mapping(entry[1]):
        return
    for key, value in entry[1].value:
        if isinstance(getattr(key, "value", None), str) and _is_mapping(value):
            yield key.value, key, value


def steps(job: Any) -> Iterator[tuple[int, Any]]:
    """(index, step mapping node) of each step of a job or of an action's `runs`."""
    entry = mapping_entry(job, "steps")
    if entry is None or not _is_sequence(entry[1]):
        return
    for index, item in enumerate(entry[1].value):
        if _is_mapping(item):
            yield index, item


def data_job(data: Any, job_id: str) -> Any:
    """The plain data of job `job_id` (keys compared as text: `123:` is the job "123")."""
    found = data.get("jobs") if isinstance(data, dict) else None
    if not isinstance(found, dict):
        raise KeyError(job_id)
    for key, value in found.items():
        if str(key) == job_id:
            return value
    raise KeyError(job_id)


def _is_mapping(node: Any) -> bool:
    from ruamel.yaml.nodes import MappingNode

    return isinstance(node, MappingNode)


def _is_sequence(node: Any) -> bool:
    from ruamel.yaml.nodes import SequenceNode

    return isinstance(node, SequenceNode)


def wrap_comment(text: str, width: int = 96) -> list[str]:
    """`# ...` comment lines of at most `width` characters (a long word is kept whole)."""
    lines: list[str] = []
    current: list[str] = []
    for word in text.split():
        if current and len("# " + " ".join([*current, word])) > width:
            lines.append("# " + " ".join(current))
            current = []
        current.append(word)
    if current:
        lines.append("# " + " ".join(current))
    return lines
