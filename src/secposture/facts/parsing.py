"""Parsers for hostile input: every failure becomes a Problem naming the file and line, never a crash."""

from __future__ import annotations

import json
import re
import tomllib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from secposture.facts.interface import Facts

_FRONT_MATTER_MAX_LINES = 200
# No real configuration nests flow collections this deep; ruamel takes seconds (then recurses out)
# on a few KB of `[[[[`, so such text is refused before parsing.
_MAX_FLOW_DEPTH = 100
_FLOW_BRACKETS = re.compile(r"[\[\]{}]")


def _flow_depth_exceeds(text: str, limit: int) -> bool:
    if text.count("[") + text.count("{") <= limit:
        return False  # cheap common case: too few brackets to nest that deep
    depth = 0
    for m in _FLOW_BRACKETS.finditer(text):
        depth += 1 if m.group() in "[{" else -1
        if depth > limit:
            return True
    return False


def _yaml() -> Any:
    # Imported on first use: a scan that reads no YAML does not pay for ruamel.
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt", pure=True)
    yaml.allow_duplicate_keys = False
    return yaml


_YAML: Any = None


def parse_yaml(text: str) -> Any:
    """Parse YAML with line information (ruamel round-trip nodes). Raises ValueError with a reason."""
    global _YAML
    if _flow_depth_exceeds(text, _MAX_FLOW_DEPTH):
        raise ValueError(f"flow collections nested deeper than {_MAX_FLOW_DEPTH} levels")
    if _YAML is None:
        _YAML = _yaml()
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    try:
        return _YAML.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f" (line {mark.line + 1})" if mark is not None else ""
        raise ValueError(f"{exc.problem or exc.context or 'invalid YAML'}{line}") from None
    except (YAMLError, RecursionError, ValueError, TypeError, AttributeError) as exc:
        # ruamel raises a few plain errors on odd input (tags, merge keys): all are "invalid".
        raise ValueError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None


def load_yaml(facts: Facts, path: str) -> Any | None:
    """The parsed YAML document of `path`, or None with a Problem recorded."""
    text = facts.read(path)
    if text is None:
        return None
    try:
        return parse_yaml(text)
    except ValueError as exc:
        facts.problem(path, f"is not valid YAML: {exc}")
        return None


def load_toml(facts: Facts, path: str) -> dict[str, Any] | None:
    text = facts.read(path)
    if text is None:
        return None
    try:
        return tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        facts.problem(path, f"is not valid TOML: {exc}")
        return None


def load_json(facts: Facts, path: str) -> Any | None:
    text = facts.read(path)
    if text is None:
        return None
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        line = getattr(exc, "lineno", None)
        facts.problem(path, f"is not valid JSON: {getattr(exc, 'msg', exc)}", line)
        return None


def line_of(node: Any, key: str | int | None = None) -> int | None:
    """1-based line of a ruamel node, or of one of its keys/items; None where unknown."""
    lc = getattr(node, "lc", None)
    if lc is None:
        return None
    try:
        if key is None:
            return int(lc.line) + 1
        if isinstance(key, int):
            return int(lc.item(key)[0]) + 1
        return int(lc.key(key)[0]) + 1
    except (KeyError, IndexError, TypeError, AttributeError):
        return None


def front_matter(text: str) -> tuple[dict[str, Any] | None, int]:
    """YAML front matter between leading `---` lines: (mapping or None, line count of the block)."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return None, 0
    for i in range(1, min(len(lines), _FRONT_MATTER_MAX_LINES)):
        if lines[i].strip() in ("---", "..."):
            try:
                data = parse_yaml("\n".join(lines[1:i]))
            except ValueError:
                return None, i + 1
            return (dict(data) if isinstance(data, dict) else None), i + 1
    return None, 0
