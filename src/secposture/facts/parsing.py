"""Parsers for hostile input: every failure becomes a Problem naming the file and line, never a crash."""

from __future__ import annotations

import json
import re
import threading
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class _Ruamel:
    """What parsing YAML needs from ruamel, imported once (on first use: a scan that reads no
    YAML does not pay for ruamel)."""

    fast: Any  # the libyaml loader class, or None without ruamel.yaml.clib
    resolve_plain: Callable[[str], Any] | None  # the tag the libyaml loader gives a plain scalar
    pure: Any  # ruamel's pure-Python safe loader
    mapping_node: Any
    sequence_node: Any
    scalar_node: Any
    str_tag: Any  # the tag resolvers give plain and quoted strings (one shared object)
    marked_error: type[Exception]
    error: type[Exception]


def _ruamel() -> _Ruamel:
    """The libyaml composer (ruamel.yaml.clib) is ten times faster than ruamel's round-trip
    parser, and a loader class built once is faster again than `YAML.compose`, which builds one
    per call. The composed nodes are turned into dicts and lists that keep their lines
    (_Builder)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError
    from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode
    from ruamel.yaml.resolver import BaseResolver

    fast, resolve_plain = _fast_loader()
    return _Ruamel(
        fast=fast,
        resolve_plain=resolve_plain,
        pure=YAML(typ="safe", pure=True),
        mapping_node=MappingNode,
        sequence_node=SequenceNode,
        scalar_node=ScalarNode,
        str_tag=BaseResolver.DEFAULT_SCALAR_TAG,
        marked_error=MarkedYAMLError,
        error=YAMLError,
    )


def _fast_loader() -> tuple[Any, Callable[[str], Any] | None]:
    """(The libyaml loader class, the tag of a plain scalar), or Nones without ruamel.yaml.clib."""
    try:
        from ruamel.yaml.constructor import SafeConstructor
        from ruamel.yaml.cyaml import CParser  # type: ignore[attr-defined]
        from ruamel.yaml.nodes import ScalarNode
        from ruamel.yaml.resolver import Resolver
        from ruamel.yaml.tag import Tag
    except ImportError:
        return None, None

    # Resolver.resolve for plain scalars, with the candidates for each first character listed
    # once: the composer calls it for every node, and the general method builds the list (and a
    # Tag) on every call. The same resolvers in the same order give the same tags.
    # ruamel's regexes are lazy wrappers whose every attribute access runs Python code: each
    # one's `match` is taken once (compiling it), the same method the wrapper passes calls to.
    implicit = Resolver.yaml_implicit_resolvers
    anywhere = [(tag, regexp.match) for tag, regexp in implicit.get(None, [])]
    by_first = {
        first: [(tag, regexp.match) for tag, regexp in found] + anywhere
        for first, found in implicit.items()
    }
    tags = {tag: Tag(suffix=tag) for found in by_first.values() for tag, _ in found}
    str_tag = Resolver.DEFAULT_SCALAR_TAG

    def resolve_plain(value: str) -> Any:
        for tag, match in by_first.get(value[:1], anywhere):
            if match(value):
                return tags[tag]
        return str_tag

    class FastLoader(CParser, SafeConstructor, Resolver):  # type: ignore[misc]
        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            self._parser = self._composer = self
            SafeConstructor.__init__(self, loader=self)
            Resolver.__init__(self, self)

        def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
            if kind is not ScalarNode or not implicit[0] or self.yaml_path_resolvers:
                return Resolver.resolve(self, kind, value, implicit)
            return resolve_plain(value)

    return FastLoader, resolve_plain


_YAML: _Ruamel | None = None


def _loaded() -> _Ruamel:
    global _YAML
    if _YAML is None:
        _YAML = _ruamel()
    return _YAML


def _compose(text: str, ruamel: _Ruamel) -> tuple[Any, Any]:
    """The document's root node and a constructor for its scalars.

    libyaml is stricter than the YAML 1.2 spec in a few corners (`{image: a:b}` in flow
    context); what it rejects is tried again with the pure-Python parser, which decides.
    """
    if ruamel.fast is not None:
        loader = ruamel.fast(text)
        try:
            return loader.get_single_node(), loader
        except ruamel.marked_error:
            pass
        finally:
            loader.dispose()
    pure = ruamel.pure
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

    def __init__(self, constructor: Any, ruamel: _Ruamel) -> None:
        self.constructor = constructor
        self.mapping_node, self.sequence_node = ruamel.mapping_node, ruamel.sequence_node
        self.scalar_node = ruamel.scalar_node
        # Most scalars have the string tag: telling it by identity saves turning every tag
        # into text.
        self.str_tag = ruamel.str_tag
        self.built: dict[int, Any] = {}
        self.in_progress: set[int] = set()

    def build(self, node: Any) -> Any:
        key = id(node)
        if key in self.built:
            return self.built[key]
        if node.__class__ is self.scalar_node:  # most nodes; a scalar cannot contain an alias
            if len(self.built) > _MAX_YAML_NODES:
                raise ValueError(f"more than {_MAX_YAML_NODES:,} nodes")
            value: Any = str(node.value) if node.ctag is self.str_tag else self._scalar(node)
            self.built[key] = value
            return value
        if key in self.in_progress:
            raise ValueError(f"recursive alias (line {node.start_mark.line + 1})")
        if len(self.built) > _MAX_YAML_NODES:
            raise ValueError(f"more than {_MAX_YAML_NODES:,} nodes")
        self.in_progress.add(key)
        if isinstance(node, self.mapping_node):
            value = self._mapping(node)
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
            if key_node.ctag is not self.str_tag and key_node.tag == _MERGE_TAG:
                merged.append(self.build(value_node))
                continue
            key = self.build(key_node)
            if key.__class__ is not str and not isinstance(key, str | int | float | bool | None):
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
    if _flow_depth_exceeds(text, _MAX_FLOW_DEPTH):
        raise ValueError(f"flow collections nested deeper than {_MAX_FLOW_DEPTH} levels")
    ruamel = _loaded()
    try:
        node, constructor = _compose(text, ruamel)
        if node is None:
            return None
        return _Builder(constructor, ruamel).build(node)
    except ruamel.marked_error as exc:
        mark = exc.problem_mark or exc.context_mark  # type: ignore[attr-defined]
        line = f" (line {mark.line + 1})" if mark is not None else ""
        problem = exc.problem or exc.context or "invalid YAML"  # type: ignore[attr-defined]
        raise ValueError(f"{problem}{line}") from None
    except (
        ruamel.error,
        RecursionError,
        ValueError,
        TypeError,
        AttributeError,
        OverflowError,
    ) as exc:
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
    """The parsed TOML of `path`, or None with a Problem recorded. Parsed once per scan (several
    collectors read pyproject.toml): callers must not change it."""
    key = ("toml", path)
    if key not in facts.parsed:
        facts.parsed[key] = _load_toml(facts, path)
    result: dict[str, Any] | None = facts.parsed[key]
    return result


def _load_toml(facts: Facts, path: str) -> dict[str, Any] | None:
    text = facts.read(path)
    if text is None:
        return None
    try:
        return tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        facts.problem(path, f"is not valid TOML: {exc}")
        return None


def load_json(facts: Facts, path: str) -> Any | None:
    """The parsed JSON of `path`, or None with a Problem recorded. Parsed once per scan (several
    collectors read package.json): callers must not change it."""
    key = ("json", path)
    if key not in facts.parsed:
        facts.parsed[key] = _load_json(facts, path)
    return facts.parsed[key]


def _load_json(facts: Facts, path: str) -> Any | None:
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
            data = _flat_yaml(lines[1:i])
            if data is None:
                try:
                    data = parse_yaml("\n".join(lines[1:i]))
                except ValueError:
                    return None, i + 1
            return (dict(data) if isinstance(data, dict) else None), i + 1
    return None, 0


# Front matter is mostly `key: word` and `key: [word, word]` lines (MADR status and tags, review
# dates). Such a block is read here without the YAML parser, whose set-up costs more than the
# block; it gives what the parser gives: the same keys, values (resolved and constructed by
# ruamel) and lines. Anything else is left to the parser.
_WORD = r"[A-Za-z0-9_][A-Za-z0-9_.-]*"
_FLAT_LINE = re.compile(
    rf"([A-Za-z_][A-Za-z0-9_-]*): +(?:({_WORD})|\[ *((?:{_WORD} *, *)*{_WORD})? *\]) *"
)


def _flat_yaml(block: list[str]) -> YamlMap | None:
    """The mapping a block of flat `key: value` lines is, or None when it is not only that."""
    ruamel = _loaded()
    resolve = ruamel.resolve_plain
    if resolve is None or not block:
        return None
    out = YamlMap(0)
    try:
        for number, line in enumerate(block):
            match = _FLAT_LINE.fullmatch(line)
            if match is None:
                return None
            key, word, words = match.groups()
            if key in out or resolve(key) is not ruamel.str_tag:
                return None  # a repeated key, or one that reads as a bool: the parser decides
            if word is not None:
                value: Any = _plain_scalar(ruamel, resolve(word), word)
            else:
                value = YamlList(number)
                for raw in words.split(",") if words else []:
                    item = raw.strip()
                    value.append(_plain_scalar(ruamel, resolve(item), item))
                    value.item_lines.append(number)
            out[key] = value
            out.key_lines[key] = number
    except Exception:  # a value its type cannot construct (2025-13-45): the parser explains
        return None
    return out


def _plain_scalar(ruamel: _Ruamel, tag: Any, text: str) -> Any:
    """A plain scalar's value from its resolved tag, as _Builder gives it: constructed by a
    libyaml loader (whose YAML version decides some numbers), one kept per thread."""
    if tag is ruamel.str_tag:
        return text
    constructor = getattr(_constructors, "loader", None)
    if constructor is None:
        constructor = _constructors.loader = ruamel.fast("")
    try:
        return _Builder(constructor, ruamel)._scalar(ruamel.scalar_node(tag, text, None, None))
    finally:
        constructor.constructed_objects.clear()


_constructors = threading.local()
