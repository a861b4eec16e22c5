"""YAML written and edited without losing what people wrote.

Editing never re-serialises a document: the document is composed (ruamel, nodes with their marks)
to find where a block sequence ends, and the new items are inserted there as text, in the
indentation the sequence already uses. Every byte of the original stays where it was, so comments,
order, quoting and blank lines survive by construction. The result is parsed again and must equal
the original data with the items appended; anything else (a flow sequence with items, an alias or
anchor, a second document, text that is not YAML) is refused with YamlEditError, never guessed at.

`dump` writes new YAML (block style, two-space indentation) from plain data, with optional comments
beside scalars (`uses: owner/repo@<sha>  # v1.2.3`).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from secposture.facts.parsing import compose_yaml, parse_yaml

INDENT = 2
_FLOW_WIDTH = 100  # a list of scalars longer than this is written one item per line
# A string is written without quotes only when it reads back as the same string.
_PLAIN = re.compile(r"[A-Za-z0-9_./$(~-][^\x00-\x1f\x7f]*")
_FLOW_PLAIN = re.compile(r"[A-Za-z0-9_./$(~-][^\x00-\x1f\x7f\",\[\]{}]*")


_YAML11_BOOLEANS = frozenset(["y", "n", "yes", "no", "on", "off", "true", "false"])
# Keys written plain although YAML 1.1 reads them as booleans: GitHub reads a workflow's `on:`.
_PLAIN_KEYS = frozenset({"on"})


class YamlEditError(ValueError):
    """The document cannot be edited safely; the message says why, for a person."""


@dataclass(frozen=True)
class Commented:
    """A scalar written with a comment after it on the same line."""

    value: str | int | bool
    comment: str


# --- writing -------------------------------------------------------------------------------------


def scalar(value: Any, *, flow: bool = False) -> str:
    """One scalar as YAML: plain when it reads back as itself, else double-quoted (JSON string
    syntax is valid YAML). `flow`: inside `[...]`, where commas and brackets end a scalar."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if value is None:
        return "null"
    text = str(value)
    pattern = _FLOW_PLAIN if flow else _PLAIN
    if text.lower() in _YAML11_BOOLEANS:
        return json.dumps(text)  # YAML 1.1 readers (PyYAML, so pre-commit) take these as booleans
    if pattern.fullmatch(text) and _reads_back(text, flow):
        return text
    return json.dumps(text, ensure_ascii=False)


@lru_cache(maxsize=4096)
def _reads_back(text: str, flow: bool) -> bool:
    """Whether `text` written plain parses as the same string (not a number, a boolean, a
    comment, an indicator)."""
    probe = f"k: [{text}]" if flow else f"k: {text}"
    try:
        parsed = parse_yaml(probe)
    except ValueError:
        return False
    value = parsed.get("k") if isinstance(parsed, dict) else None
    if flow:
        return isinstance(value, list) and value == [text]
    return isinstance(value, str) and value == text


def _flow_list(values: Sequence[Any]) -> str:
    return "[" + ", ".join(scalar(v, flow=True) for v in values) + "]"


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool | Commented) or value is None


def _inline(value: Any) -> str:
    if isinstance(value, Commented):
        return f"{scalar(value.value)}  # {value.comment}"
    return scalar(value)


def _mapping_lines(data: Mapping[str, Any], col: int, seq_offset: int) -> list[str]:
    lines: list[str] = []
    pad = " " * col
    for key, value in data.items():
        head = f"{pad}{key if key in _PLAIN_KEYS else scalar(key)}:"
        if _is_scalar(value):
            lines.append(f"{head} {_inline(value)}")
        elif isinstance(value, Mapping):
            if not value:
                lines.append(f"{head} {{}}")
            else:
                lines.append(head)
                lines.extend(_mapping_lines(value, col + INDENT, seq_offset))
        elif isinstance(value, Sequence):
            flow = all(_is_scalar(v) and not isinstance(v, Commented) for v in value)
            if flow and len(head) + len(_flow_list(value)) < _FLOW_WIDTH:
                lines.append(f"{head} {_flow_list(value)}")
            else:
                lines.append(head)
                lines.extend(sequence_lines(value, col + seq_offset, seq_offset))
        else:
            raise TypeError(f"cannot write {type(value).__name__} as YAML")
    return lines


def sequence_lines(items: Sequence[Any], dash_col: int, seq_offset: int = INDENT) -> list[str]:
    """Block sequence items with their dash at `dash_col` (nested sequences indented by
    `seq_offset` under their key, the document's own style)."""
    lines: list[str] = []
    pad = " " * dash_col
    for item in items:
        if _is_scalar(item):
            lines.append(f"{pad}- {_inline(item)}")
        elif isinstance(item, Mapping) and item:
            inner = _mapping_lines(item, dash_col + 2, seq_offset)
            lines.append(f"{pad}- {inner[0][dash_col + 2 :]}")
            lines.extend(inner[1:])
        elif isinstance(item, Sequence) and all(_is_scalar(v) for v in item):
            lines.append(f"{pad}- {_flow_list(item)}")
        else:
            raise TypeError(f"cannot write {type(item).__name__} as a YAML sequence item")
    return lines


def dump(data: Mapping[str, Any], header: Sequence[str] = ()) -> str:
    """A new YAML document: `header` lines as comments, then the mapping in block style. It is
    read back and must equal `data` (a mistake here must never reach a repository)."""
    lines = [f"# {h}" if h else "#" for h in header]
    lines.extend(_mapping_lines(data, 0, INDENT))
    text = "\n".join(lines) + "\n"
    if _plain(parse_yaml(text)) != _plain(data):
        raise YamlEditError("generated YAML does not read back as written")
    return text


# --- editing -------------------------------------------------------------------------------------


def _compose(text: str) -> Any:
    try:
        return compose_yaml(text)
    except ValueError as exc:
        raise YamlEditError(f"cannot be read as one YAML document: {exc}") from None


def _child(node: Any, step: str | int) -> Any:
    """The value node under a mapping key or at a sequence index, refusing aliases: an edit there
    would change every place that refers to it."""
    from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

    if isinstance(step, str) and isinstance(node, MappingNode):
        for key, value in node.value:
            if isinstance(key, ScalarNode) and key.value == step:
                if value.start_mark.index < key.end_mark.index:
                    raise YamlEditError(f"`{step}` is an alias of another node: not edited")
                return value
        raise YamlEditError(f"has no `{step}` key")
    if isinstance(step, int) and isinstance(node, SequenceNode) and 0 <= step < len(node.value):
        return node.value[step]
    raise YamlEditError(f"has no item {step!r} where one was expected")


def _content_end(node: Any, floor: int) -> int:
    """The index where the last character of a node's content ends (aliases elsewhere, whose
    marks lie before `floor`, are not followed)."""
    from ruamel.yaml.nodes import MappingNode, SequenceNode

    if node.start_mark.index < floor:
        return floor
    if isinstance(node, MappingNode):
        children = [n for pair in node.value for n in pair]
    elif isinstance(node, SequenceNode) and not node.flow_style:
        children = list(node.value)
    else:
        return int(node.end_mark.index)
    end = int(node.start_mark.index)
    for child in children:
        end = max(end, _content_end(child, floor))
    return end


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def _dash_column(text: str, item: Any) -> int:
    """The column of the `-` that introduces a block sequence item."""
    start = _line_start(text, item.start_mark.index)
    before = text[start : item.start_mark.index]
    stripped = before.rstrip(" ")
    if not stripped.endswith("-") or stripped[:-1].strip(" "):
        raise YamlEditError("uses a sequence layout that cannot be extended safely")
    return len(stripped) - 1


def _key_column(node: Any, step: str | int) -> int | None:
    """The column of the mapping key `step` in `node` (None for a sequence index)."""
    from ruamel.yaml.nodes import MappingNode, ScalarNode

    if isinstance(step, str) and isinstance(node, MappingNode):
        for key, _ in node.value:
            if isinstance(key, ScalarNode) and key.value == step:
                return int(key.start_mark.column)
    return None


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _follow(data: Any, path: Sequence[str | int]) -> Any:
    for step in path:
        data = data[step]
    return data


def _insert_block(text: str, seq: Any, new_lines: list[str], comment: str | None) -> str:
    nl = _newline(text)
    if not seq.value:
        raise YamlEditError("has an empty block sequence")  # the parser gives flow `[]` or null
    last = seq.value[-1]
    dash_col = _dash_column(text, seq.value[0])
    if _dash_column(text, last) != dash_col:
        raise YamlEditError("has sequence items at different indentations")
    end = _content_end(last, int(last.start_mark.index))
    if end > 0 and text[end - 1] == "\n":
        at = end  # a block scalar ends at the start of the line after its content
    else:
        newline_at = text.find("\n", end)
        if newline_at < 0:
            text += nl
            newline_at = len(text) - 1
        at = newline_at + 1
    block = [" " * dash_col + f"# {comment}"] if comment else []
    block.extend(" " * dash_col + line[dash_col:] for line in new_lines)
    return text[:at] + nl.join(block) + nl + text[at:]


def _replace_empty_flow(
    text: str, seq: Any, new_lines: list[str], comment: str | None, owner_col: int
) -> str:
    """`key: []` becomes `key:` followed by the items in block style; a comment after the `[]`
    stays on the key's line."""
    nl = _newline(text)
    start, end = int(seq.start_mark.index), int(seq.end_mark.index)
    if text[start:end].strip() != "[]":
        raise YamlEditError("uses a flow sequence (`[...]`) with items: add to it by hand")
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    trailing = text[end:line_end].rstrip("\r")
    if trailing.strip() and not trailing.strip().startswith("#"):
        raise YamlEditError("has more on the line after `[]`: add to it by hand")
    keep = "  " + trailing.strip() if trailing.strip() else ""
    indent = " " * (owner_col + INDENT)
    block = ([f"# {comment}"] if comment else []) + new_lines
    # Lines were rendered at column 0: each is shifted to the sequence's new indentation.
    inserted = nl.join(indent + line for line in block)
    rest = text[line_end:] if line_end < len(text) else nl
    return text[:start].rstrip(" ") + keep + nl + inserted + rest


def append_to_sequence(
    text: str,
    path: Sequence[str | int],
    items: Sequence[Any],
    *,
    comment: str | None = None,
) -> str:
    """`text` with `items` appended to the sequence at `path` (keys and indexes from the root);
    raises YamlEditError when that cannot be done without disturbing the document."""
    from ruamel.yaml.nodes import SequenceNode

    if not items:
        return text
    try:
        before = parse_yaml(text)
    except ValueError as exc:
        raise YamlEditError(f"is not valid YAML: {exc}") from None
    root = _compose(text)
    if root is None:
        raise YamlEditError("is empty")
    node = root
    owner_col: int | None = None  # the column of the key that holds the sequence
    for step in path:
        owner_col = _key_column(node, step)
        node = _child(node, step)
    if not isinstance(node, SequenceNode):
        raise YamlEditError(f"`{'.'.join(str(p) for p in path)}` is not a list")
    if node.anchor is not None:
        raise YamlEditError(f"`{'.'.join(str(p) for p in path)}` has an anchor: not edited")
    if node.flow_style:
        lines = sequence_lines(items, 0, INDENT)
        edited = _replace_empty_flow(text, node, lines, comment, owner_col or 0)
    else:
        dash_col = _dash_column(text, node.value[0]) if node.value else 0
        offset = dash_col - owner_col if owner_col is not None else INDENT
        lines = sequence_lines(items, dash_col, offset if offset >= 0 else INDENT)
        edited = _insert_block(text, node, lines, comment)
    _verify(before, edited, path, items)
    return edited


def insert_after(
    text: str,
    path: Sequence[str | int],
    index: int,
    items: Sequence[Any],
    *,
    comment: str | None = None,
) -> str:
    """`text` with `items` inserted after item `index` of the block sequence at `path` (a step
    after the step it follows), in the sequence's own indentation; the same guarantees as
    `append_to_sequence`."""
    from ruamel.yaml.nodes import SequenceNode

    if not items:
        return text
    try:
        before = parse_yaml(text)
    except ValueError as exc:
        raise YamlEditError(f"is not valid YAML: {exc}") from None
    root = _compose(text)
    if root is None:
        raise YamlEditError("is empty")
    node = root
    owner_col: int | None = None
    for step in path:
        owner_col = _key_column(node, step)
        node = _child(node, step)
    where = ".".join(str(p) for p in path)
    if not isinstance(node, SequenceNode) or node.flow_style or not node.value:
        raise YamlEditError(f"`{where}` is not a block list")
    if node.anchor is not None:
        raise YamlEditError(f"`{where}` has an anchor: not edited")
    if not 0 <= index < len(node.value):
        raise YamlEditError(f"`{where}` has no item {index}")
    dash_col = _dash_column(text, node.value[0])
    if any(_dash_column(text, item) != dash_col for item in node.value):
        raise YamlEditError("has sequence items at different indentations")
    offset = dash_col - owner_col if owner_col is not None else INDENT
    lines = sequence_lines(items, dash_col, offset if offset >= 0 else INDENT)
    item = node.value[index]
    nl = _newline(text)
    end = _content_end(item, int(item.start_mark.index))
    if end > 0 and text[end - 1] == "\n":
        at = end
    else:
        newline_at = text.find("\n", end)
        if newline_at < 0:
            text += nl
            newline_at = len(text) - 1
        at = newline_at + 1
    block = [" " * dash_col + f"# {comment}"] if comment else []
    block.extend(lines)
    edited = text[:at] + nl.join(block) + nl + text[at:]
    try:
        after = parse_yaml(edited)
    except ValueError as exc:
        raise YamlEditError(f"could not be edited safely ({exc})") from None
    expected = copy.deepcopy(_plain(before))
    target = _follow(expected, path)
    target[index + 1 : index + 1] = _plain(list(items))
    if _plain(after) != expected:
        raise YamlEditError("could not be edited without changing what it already says")
    return edited


def _verify(before: Any, edited: str, path: Sequence[str | int], items: Sequence[Any]) -> None:
    """The edited text must read back as the original data with the items appended."""
    try:
        after = parse_yaml(edited)
    except ValueError as exc:
        raise YamlEditError(f"could not be edited safely ({exc})") from None
    expected = copy.deepcopy(_plain(before))
    _follow(expected, path).extend(_plain(list(items)))
    if _plain(after) != expected:
        raise YamlEditError("could not be edited without changing what it already says")


def _plain(value: Any) -> Any:
    """Parsed YAML (or our own item data) as plain dicts, lists and scalars, for comparison."""
    if isinstance(value, Commented):
        return value.value
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


# --- editing in place: text edits checked against the data (workflow hardening) ---------------
#
# The workflow generators (fix/generators/workflow_*.py) change values inside existing files:
# a `uses:` ref, a `permissions:` block, a step's `env:` and `run:`. Each change is a TextEdit on
# the original text, found from the composed node tree; the edits are applied together and the
# result must parse to the original data with exactly the intended changes (`expect`), or it is
# refused. Nothing is re-serialised, so comments, quoting, blank lines and CRLF survive.


@dataclass(frozen=True)
class TextEdit:
    """text[start:end] replaced by `text` (start == end: an insertion)."""

    start: int
    end: int
    text: str


def compose_document(text: str) -> Any:
    """The node tree (ruamel's, with marks) of a single YAML document, for finding what to edit;
    YamlEditError when it is not one document within the scanner's limits, or is empty."""
    root = _compose(text)
    if root is None:
        raise YamlEditError("is empty")
    return root


def node_at(root: Any, path: Sequence[str | int]) -> Any:
    """The node at `path` (mapping keys and sequence indexes) under `root`; YamlEditError when
    there is none, or the way passes through an alias (an edit there would change every place
    that refers to it)."""
    node = root
    for step in path:
        node = _child(node, step)
    return node


def mapping_entry(node: Any, key: str) -> tuple[Any, Any] | None:
    """(key node, value node) of `key` in a mapping node; None when it is not a mapping or has
    no such key."""
    from ruamel.yaml.nodes import MappingNode, ScalarNode

    if not isinstance(node, MappingNode):
        return None
    for key_node, value in node.value:
        if isinstance(key_node, ScalarNode) and key_node.value == key:
            return key_node, value
    return None


def is_alias(key_node: Any, value: Any) -> bool:
    """Whether a mapping value is an alias (`key: *name`): its node was written elsewhere."""
    return bool(value.start_mark.index < key_node.end_mark.index)


def newline_of(text: str) -> str:
    """The line ending a document uses (CRLF files stay CRLF)."""
    return _newline(text)


def line_end(text: str, index: int) -> int:
    """The index of the line break ending the line that holds `index` (len(text) at the end);
    for CRLF, the index of the `\\r`."""
    at = text.find("\n", index)
    if at < 0:
        return len(text)
    return at - 1 if at > 0 and text[at - 1] == "\r" else at


def _line_after(text: str, node: Any) -> int:
    """The index where the line after a node's content starts (the text's end when none)."""
    end = _content_end(node, int(node.start_mark.index))
    if end > 0 and text[end - 1] == "\n":
        return end  # a block scalar ends at the start of the line after its content
    newline_at = text.find("\n", end)
    return len(text) if newline_at < 0 else newline_at + 1


def _own_line(text: str, index: int) -> bool:
    """Whether only spaces come before `index` on its line."""
    return not text[_line_start(text, index) : index].strip(" ")


def insert_entry(
    text: str, mapping: Any, lines: Sequence[str], *, before: Sequence[str] = ()
) -> TextEdit:
    """An edit adding `lines` (one or more entries, and comment lines, rendered at column 0) to a
    block mapping, indented as its keys are: above the first of the `before` keys it has that
    starts its own line (with the comments just above that key kept with it), else after its
    last entry."""
    from ruamel.yaml.nodes import MappingNode

    if not isinstance(mapping, MappingNode) or not mapping.value:
        raise YamlEditError("is not a mapping that entries can be added to")
    if mapping.flow_style:
        raise YamlEditError("is written in flow style (`{...}`): change it by hand")
    nl = _newline(text)
    column = int(mapping.value[0][0].start_mark.column)
    if any(int(k.start_mark.column) != column for k, _ in mapping.value):
        raise YamlEditError("has keys at different indentations")
    pad = " " * column
    block = [pad + line if line else "" for line in lines]
    anchors = [
        key
        for key, _ in mapping.value
        if key.value in before and _own_line(text, key.start_mark.index)
    ]
    if anchors:
        first = min(anchors, key=lambda k: int(k.start_mark.index))
        at = _line_start(text, int(first.start_mark.index))
        while at > 0:  # comments just above the key stay with it
            previous = _line_start(text, at - 1)
            if not text[previous:at].strip().startswith("#"):
                break
            at = previous
        gap = column == 0 and at > 0 and not text[_line_start(text, at - 1) : at].strip()
        return TextEdit(at, at, nl.join(block) + nl + (nl if gap else ""))
    at = _line_after(text, mapping.value[-1][1])
    prefix = "" if at == 0 or text[at - 1] == "\n" else nl
    return TextEdit(at, at, prefix + nl.join(block) + nl)


def apply_edits(text: str, edits: Sequence[TextEdit]) -> str:
    """`text` with the edits made (they must not overlap; insertions at one place keep their
    order)."""
    ordered = sorted(enumerate(edits), key=lambda item: (item[1].start, item[1].end, item[0]))
    out: list[str] = []
    at = 0
    for _, edit in ordered:
        if edit.start < at or edit.end < edit.start or edit.end > len(text):
            raise YamlEditError("could not be edited: two changes overlap")
        out.append(text[at : edit.start])
        out.append(edit.text)
        at = edit.end
    out.append(text[at:])
    return "".join(out)


def plain_data(text: str) -> Any:
    """The document as plain dicts, lists and scalars; YamlEditError when it is not valid YAML."""
    try:
        return _plain(parse_yaml(text))
    except ValueError as exc:
        raise YamlEditError(f"is not valid YAML: {exc}") from None


def apply_checked(text: str, edits: Sequence[TextEdit], expect: Callable[[Any], None]) -> str:
    """The edits made, checked: the result must parse to the original data changed by `expect`
    (which edits a plain copy in place), and to nothing else; YamlEditError otherwise."""
    expected = copy.deepcopy(plain_data(text))
    expect(expected)
    edited = apply_edits(text, edits)
    try:
        after = plain_data(edited)
    except YamlEditError as exc:
        raise YamlEditError(f"could not be edited safely ({exc})") from None
    if after != expected:
        raise YamlEditError("could not be edited without changing what it already says")
    return edited


def replace_value(text: str, key: Any, value: Any, lines: Sequence[str]) -> list[TextEdit]:
    """Edits making a mapping entry hold the block `lines` (rendered at column 0; indented two
    spaces under the key) instead of its value. A block value is replaced line for line; a
    value on the key's line (a scalar, `{...}`) is removed from it, keeping any comment there."""
    from ruamel.yaml.nodes import MappingNode, SequenceNode

    nl = _newline(text)
    pad = " " * (int(key.start_mark.column) + INDENT)
    block = nl.join(pad + line for line in lines) + nl
    if is_alias(key, value):
        raise YamlEditError(f"`{key.value}` is an alias of another node: not edited")
    if isinstance(value, MappingNode | SequenceNode) and not value.flow_style:
        start = _line_start(text, int(value.start_mark.index))
        if start <= int(key.start_mark.index):
            raise YamlEditError(f"`{key.value}` starts on its key's line: change it by hand")
        return [TextEdit(start, _line_after(text, value), block)]
    start, end = int(value.start_mark.index), int(value.end_mark.index)
    if text.find("\n", int(key.start_mark.index), end) >= 0:
        raise YamlEditError(f"`{key.value}` spans several lines: change it by hand")
    while start > 0 and text[start - 1] == " ":
        start -= 1
    after = text.find("\n", end)
    if after < 0:
        return [TextEdit(start, end, ""), TextEdit(len(text), len(text), nl + block)]
    return [TextEdit(start, end, ""), TextEdit(after + 1, after + 1, block)]


def replace_scalar(text: str, node: Any, new: str) -> TextEdit:
    """An edit writing `new` (plain) over a scalar node on one line."""
    from ruamel.yaml.nodes import ScalarNode

    start, end = int(node.start_mark.index), int(node.end_mark.index)
    if not isinstance(node, ScalarNode) or "\n" in text[start:end]:
        raise YamlEditError("is not a one-line value: change it by hand")
    return TextEdit(start, end, new)


def delete_entry(text: str, key: Any, value: Any) -> TextEdit:
    """An edit removing a `key: value` entry that has its line to itself (and its comment)."""
    start = _line_start(text, int(key.start_mark.index))
    if text[start : int(key.start_mark.index)].strip(" "):
        raise YamlEditError(f"`{key.value}` shares its line: change it by hand")
    if text.find("\n", int(key.start_mark.index), int(value.end_mark.index)) >= 0:
        raise YamlEditError(f"`{key.value}` spans several lines: change it by hand")
    after = text.find("\n", int(value.end_mark.index))
    return TextEdit(start, len(text) if after < 0 else after + 1, "")
