"""Parsers for hostile input: every failure becomes a Problem naming the file and line, never a crash."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable
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


# A document with more distinct nodes than this is refused (aliases are shared, not expanded).
_MAX_YAML_NODES = 200_000
_MERGE_TAG = "tag:yaml.org,2002:merge"


def _yaml() -> tuple[Any, Any]:
    """(libyaml loader class or None, pure-Python loader). Imported on first use: a scan that
    reads no YAML does not pay for ruamel.

    The libyaml composer (ruamel.yaml.clib) is ten times faster than ruamel's round-trip parser,
    and a loader class built once is faster again than `YAML.compose`, which builds one per call.
    The composed nodes are turned into dicts and lists that keep their lines (_Builder).
    """
    from ruamel.yaml import YAML

    pure = YAML(typ="safe", pure=True)
    try:
        from ruamel.yaml.constructor import SafeConstructor
        from ruamel.yaml.cyaml import CParser  # type: ignore[attr-defined]
        from ruamel.yaml.resolver import Resolver
    except ImportError:
        return None, pure

    class FastLoader(CParser, SafeConstructor, Resolver):  # type: ignore[misc]
        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            self._parser = self._composer = self
            SafeConstructor.__init__(self, loader=self)
            Resolver.__init__(self, self)

    return FastLoader, pure


_YAML: tuple[Any, Any] | None = None


def _compose(text: str, loaders: tuple[Any, Any]) -> tuple[Any, Any]:
    """The document's root node and a constructor for its scalars.

    libyaml is stricter than the YAML 1.2 spec in a few corners (`{image: a:b}` in flow
    context); what it rejects is tried again with the pure-Python parser, which decides.
    """
    from ruamel.yaml.error import MarkedYAMLError

    fast, pure = loaders
    if fast is not None:
        loader = fast(text)
        try:
            return loader.get_single_node(), loader
        except MarkedYAMLError:
            pass
        finally:
            loader.dispose()
    try:
        return pure.compose(text), pure.constructor
    finally:
        pure.constructor.constructed_objects.clear()


class YamlMap(dict[Any, Any]):
    """A YAML mapping as a dict, with the 0-based lines of itself and of each key."""

    __slots__ = ("key_lines", "line")

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.key_lines: dict[Any, int] = {}


class YamlList(list[Any]):
    """A YAML sequence as a list, with the 0-based lines of itself and of each item."""

    __slots__ = ("item_lines", "line")

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.item_lines: list[int] = []


class _Builder:
    """Plain containers that remember lines (YamlMap/YamlList) from composed YAML nodes: lighter
    than ruamel's round-trip types, whose comment machinery a scanner never uses.

    Aliases are built once and shared, so a "billion laughs" document costs its size, not its
    expansion; a recursive alias and an oversized document are refused.
    """

    def __init__(self, constructor: Any) -> None:
        from ruamel.yaml.nodes import MappingNode, SequenceNode

        self.constructor = constructor
        self.mapping_node, self.sequence_node = MappingNode, SequenceNode
        self.built: dict[int, Any] = {}
        self.in_progress: set[int] = set()

    def build(self, node: Any) -> Any:
        key = id(node)
        if key in self.built:
            return self.built[key]
        if key in self.in_progress:
            raise ValueError(f"recursive alias (line {node.start_mark.line + 1})")
        if len(self.built) > _MAX_YAML_NODES:
            raise ValueError(f"more than {_MAX_YAML_NODES:,} nodes")
        self.in_progress.add(key)
        if isinstance(node, self.mapping_node):
            value: Any = self._mapping(node)
        elif isinstance(node, self.sequence_node):
            value = YamlList(node.start_mark.line)
            for item in node.value:
                value.append(self.build(item))
                value.item_lines.append(item.start_mark.line)
        else:
            value = self._scalar(node)
        self.in_progress.discard(key)
        self.built[key] = value
        return value

    def _mapping(self, node: Any) -> Any:
        out = YamlMap(node.start_mark.line)
        merged: list[Any] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merged.append(self.build(value_node))
                continue
            key = self.build(key_node)
            if not isinstance(key, str | int | float | bool | None):
                key = str(key)  # a mapping used as a key: kept, as text, rather than crashing
            if key in out:
                raise ValueError(f"duplicate key {key!r} (line {key_node.start_mark.line + 1})")
            out[key] = self.build(value_node)
            out.key_lines[key] = key_node.start_mark.line
        # `<<: *defaults` (GitLab CI, compose files): explicit keys win over merged ones.
        for source in merged:
            for item in source if isinstance(source, list) else [source]:
                if isinstance(item, dict):
                    for k, v in item.items():
                        if k not in out:
                            out[k] = v
        return out

    def _scalar(self, node: Any) -> Any:
        tag = node.tag or ""
        if tag.startswith("tag:yaml.org,2002:") and not tag.endswith((":str", ":binary")):
            return self.constructor.construct_object(node)
        return str(node.value)  # strings, and custom tags such as GitLab's !reference


def parse_yaml(text: str) -> Any:
    """Parse YAML into containers with line information. Raises ValueError with a reason."""
    global _YAML
    if _flow_depth_exceeds(text, _MAX_FLOW_DEPTH):
        raise ValueError(f"flow collections nested deeper than {_MAX_FLOW_DEPTH} levels")
    if _YAML is None:
        _YAML = _yaml()
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    try:
        node, constructor = _compose(text, _YAML)
        if node is None:
            return None
        return _Builder(constructor).build(node)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f" (line {mark.line + 1})" if mark is not None else ""
        raise ValueError(f"{exc.problem or exc.context or 'invalid YAML'}{line}") from None
    except (YAMLError, RecursionError, ValueError, TypeError, AttributeError, OverflowError) as exc:
        # The loader raises a few plain errors on odd input (dates, numbers): all are "invalid".
        raise ValueError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None


def load_parsed(facts: Facts, path: str, parse: Callable[[str], Any], kind: str) -> Any | None:
    """`parse` applied to the text of `path`, or None with a Problem recorded ("is not valid
    {kind}: ...") where the file cannot be read or `parse` raises ValueError."""
    text = facts.read(path)
    if text is None:
        return None
    try:
        return parse(text)
    except ValueError as exc:
        facts.problem(path, f"is not valid {kind}: {exc}")
        return None


def load_yaml(facts: Facts, path: str) -> Any | None:
    """The parsed YAML document of `path`, or None with a Problem recorded."""
    return load_parsed(facts, path, parse_yaml, "YAML")


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
    """1-based line of a parsed YAML container, or of one of its keys/items; None where unknown."""
    if not isinstance(node, YamlMap | YamlList):
        return None
    if key is None:
        return node.line + 1
    try:
        if isinstance(node, YamlList):
            return node.item_lines[key] + 1 if isinstance(key, int) else None
        return node.key_lines[key] + 1
    except (KeyError, IndexError, TypeError):
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
