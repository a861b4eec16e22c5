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

# The limits of a YAML document that the scanner analyses (docs/adr/0010-parse-budgets.md), checked
# on the parser's events as they come, so that a hostile file costs about its size before it is
# refused. Nesting: libyaml's composer recurses in C and kills the process a few thousand levels
# down (60 KB of `- - - ...`), and readers of the data recurse too; no configuration nests so deep.
_MAX_DEPTH = 100
_MAX_YAML_NODES = 200_000  # distinct nodes
# Expansion: an aliased node is built once and shared, but a reader walking the data (str() of a
# `run:`, a copy, a comparison) visits it once per alias. Each alias adds the size of what it names
# (its source characters and the expansion of the aliases inside it); the total may reach this
# allowance plus twice the file's size: room for `<<: *defaults` in every job of a large GitLab CI
# file, while a reader's work stays linear in the file's size ("billion laughs" is exponential).
_EXPANSION_ALLOWANCE = 1_000_000
# What libyaml rejects is parsed again by ruamel's pure-Python parser, some 20 times slower (about
# 2 s for 256 KiB of flow items): only for files up to this size, so the retry stays under 0.5 s.
_PURE_PARSER_MAX_CHARS = 64 * 1024
_MERGE_TAG = "tag:yaml.org,2002:merge"
# TOML and JSON: their parsers recurse into nested arrays and tables, up to Python's limit.
_TOO_DEEP = "exceeds the scanner's limits for {kind}: nested too deeply for the parser"


class YamlError(ValueError):
    """Why a YAML text cannot be used, and the 1-based line where the parser found it."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(f"{reason} (line {line})" if line is not None else reason)
        self.reason = reason
        self.line = line


class YamlLimitError(YamlError):
    """A document beyond the limits above: perhaps valid YAML, but not analysed."""


@dataclass(frozen=True)
class _Ruamel:
    """What parsing YAML needs from ruamel, imported once (on first use: a scan that reads no
    YAML does not pay for ruamel)."""

    fast: Any  # the libyaml loader class, or None without ruamel.yaml.clib
    resolve_plain: Callable[[str], Any] | None  # a plain scalar's tag, when `fast` is set
    scalar_node: Any
    str_tag: Any  # the tag resolvers give plain and quoted strings (one shared object)
    marked_error: type[Exception]
    error: type[Exception]
    # Event classes, told apart by identity: each event is exactly one of them.
    scalar_event: type
    alias_event: type
    sequence_start: type
    mapping_start: type
    stream_end: type


def _ruamel() -> _Ruamel:
    """libyaml's parser (ruamel.yaml.clib) is ten times faster than ruamel's pure-Python one, and
    a loader class built once is faster again than `YAML.parse`, which builds one per call. The
    parser's events are built into dicts and lists that keep their lines (_Builder)."""
    from ruamel.yaml import events
    from ruamel.yaml.error import MarkedYAMLError, YAMLError
    from ruamel.yaml.nodes import ScalarNode
    from ruamel.yaml.resolver import BaseResolver

    fast, resolve_plain = _fast_loader()
    return _Ruamel(
        fast=fast,
        resolve_plain=resolve_plain,
        scalar_node=ScalarNode,
        str_tag=BaseResolver.DEFAULT_SCALAR_TAG,
        marked_error=MarkedYAMLError,
        error=YAMLError,
        scalar_event=events.ScalarEvent,
        alias_event=events.AliasEvent,
        sequence_start=events.SequenceStartEvent,
        mapping_start=events.MappingStartEvent,
        stream_end=events.StreamEndEvent,
    )


def _fast_loader() -> tuple[Any, Callable[[str], Any] | None]:
    """(The libyaml loader class, the tag of a plain scalar), or Nones without ruamel.yaml.clib."""
    try:
        from ruamel.yaml.constructor import SafeConstructor
        from ruamel.yaml.cyaml import CParser  # type: ignore[attr-defined]
        from ruamel.yaml.resolver import Resolver
        from ruamel.yaml.tag import Tag
    except ImportError:
        return None, None

    # Resolver.resolve for plain scalars, with the candidates for each first character listed
    # once: the general method builds the list (and a Tag) on every call. The same resolvers in
    # the same order give the same tags.
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
        """libyaml's parser, of which only the events are used (its composer recurses without a
        limit), and ruamel's constructor for the scalars that are not strings."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            self._parser = self._composer = self
            SafeConstructor.__init__(self, loader=self)
            Resolver.__init__(self, self)

    return FastLoader, resolve_plain


_YAML: _Ruamel | None = None


def _loaded() -> _Ruamel:
    global _YAML
    if _YAML is None:
        _YAML = _ruamel()
    return _YAML


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


_NO_KEY: Any = object()  # a mapping waits for its next key
_MERGE: Any = object()  # the `<<` key of a merge


class _Open:
    """A collection whose items are still coming; a mapping's key waiting for its value."""

    __slots__ = ("anchor", "container", "expansion", "key", "key_line", "merged", "start")

    def __init__(self, container: Any, anchor: str | None, start: int, expansion: int) -> None:
        self.container = container
        self.anchor = anchor
        self.start = start  # the source index where it starts
        self.expansion = expansion  # the document's alias expansion so far
        self.key: Any = _NO_KEY
        self.key_line = 0
        self.merged: list[Any] | None = None


class _Builder:
    """Plain containers that remember lines (YamlMap/YamlList), built from the parser's events
    with a stack rather than recursion: lighter than ruamel's round-trip types, whose comment
    machinery a scanner never uses, and held to the limits above as the events come.

    An alias is built once and shared; what it would cost a reader is counted. A recursive alias,
    a duplicate key, too deep a nesting, too many nodes or too large an expansion is refused.
    """

    def __init__(
        self, ruamel: _Ruamel, constructor: Any, resolve: Callable[[str, Any], Any], size: int
    ) -> None:
        self.ruamel = ruamel
        self.constructor = constructor
        self.resolve = resolve  # (value, implicit) -> tag, for a scalar without an explicit tag
        self.expansion_limit = _EXPANSION_ALLOWANCE + 2 * size

    def document(self, next_event: Callable[[], Any]) -> Any:
        """The stream's single document (None when there is none)."""
        next_event()  # the stream's start
        if next_event().__class__ is self.ruamel.stream_end:
            return None
        root = self._node(next_event)  # the document's start was the event before
        if root is _MERGE:
            raise YamlError("a merge key `<<` is not a document", 1)
        next_event()  # the document's end
        event = next_event()
        if event.__class__ is not self.ruamel.stream_end:
            raise YamlError(
                "expected a single document in the stream, but found another document",
                event.start_mark.line + 1,
            )
        return root

    def _node(self, next_event: Callable[[], Any]) -> Any:
        """The next node, with everything in it. One loop over the events, its branches in the
        order of how often they come: this is the scan's hottest code for YAML."""
        r = self.ruamel
        scalar_event, alias_event = r.scalar_event, r.alias_event
        sequence_start, mapping_start = r.sequence_start, r.mapping_start
        str_tag, resolve, scalar = r.str_tag, self.resolve, self._scalar
        anchors: dict[str, tuple[Any, int] | None] = {}  # None while its node is being built
        stack: list[_Open] = []
        expansion = nodes = 0
        while True:
            event = next_event()
            kind = event.__class__
            if kind is scalar_event:
                nodes += 1
                line = event.start_mark.line
                value = event.value
                tag = event.tag
                if tag is None or tag == "!":
                    tag = resolve(value, event.implicit)
                    if tag is not str_tag:
                        value = scalar(tag, event)
                elif not tag.endswith((":str", ":binary")):
                    value = scalar(tag, event)  # strings, and custom tags such as !reference
                if event.anchor is not None:
                    own = event.end_mark.index - event.start_mark.index + 1
                    anchors[event.anchor] = (value, own)
                if nodes > _MAX_YAML_NODES:
                    raise YamlLimitError(f"more than {_MAX_YAML_NODES:,} nodes", line + 1)
            elif kind is alias_event:
                line = event.start_mark.line
                name = event.anchor
                if name not in anchors:
                    raise YamlError(f"found undefined alias {name!r}", line + 1)
                named = anchors[name]
                if named is None:
                    raise YamlError("recursive alias", line + 1)
                value, own = named
                expansion += own
                if expansion > self.expansion_limit:
                    raise YamlLimitError(
                        f"aliases expand it beyond {self.expansion_limit:,} characters "
                        '(a "billion laughs"?)',
                        line + 1,
                    )
            elif kind is sequence_start or kind is mapping_start:
                nodes += 1
                mark = event.start_mark
                if len(stack) >= _MAX_DEPTH:
                    raise YamlLimitError(
                        f"collections nested deeper than {_MAX_DEPTH} levels", mark.line + 1
                    )
                if nodes > _MAX_YAML_NODES:
                    raise YamlLimitError(f"more than {_MAX_YAML_NODES:,} nodes", mark.line + 1)
                container = YamlMap(mark.line) if kind is mapping_start else YamlList(mark.line)
                if event.anchor is not None:
                    anchors[event.anchor] = None
                stack.append(_Open(container, event.anchor, mark.index, expansion))
                continue
            else:  # the end of the innermost sequence or mapping
                done = stack.pop()
                value = done.container
                line = value.line
                if done.merged is not None:
                    _merge(value, done.merged)
                if done.anchor is not None:
                    own = event.end_mark.index - done.start + 1 + expansion - done.expansion
                    anchors[done.anchor] = (value, own)
            if not stack:
                return value
            into = stack[-1]
            container = into.container
            if container.__class__ is YamlList:
                if value is _MERGE:
                    raise YamlError("a merge key `<<` where a list item belongs", line + 1)
                container.append(value)
                container.item_lines.append(line)
            elif into.key is _NO_KEY:
                if value is not _MERGE:
                    if value.__class__ is not str and not isinstance(
                        value, str | int | float | bool | None
                    ):
                        value = str(value)  # a mapping used as a key: kept, as text
                    if value in container:
                        raise YamlError(f"duplicate key {value!r}", line + 1)
                into.key = value
                into.key_line = line
            else:
                key = into.key
                into.key = _NO_KEY
                if value is _MERGE:
                    raise YamlError("a merge key `<<` where a value belongs", line + 1)
                if key is _MERGE:
                    if into.merged is None:
                        into.merged = []
                    into.merged.append(value)
                else:
                    container[key] = value
                    container.key_lines[key] = into.key_line

    def _scalar(self, tag: Any, event: Any) -> Any:
        """A scalar that is not a plain string: constructed by ruamel for YAML's own tags."""
        if str(tag) == _MERGE_TAG:
            return _MERGE
        return _construct(self.ruamel, self.constructor, tag, event.value, event.start_mark)


def _construct(ruamel: _Ruamel, constructor: Any, tag: Any, value: str, mark: Any) -> Any:
    text = str(tag)
    if text.startswith("tag:yaml.org,2002:") and not text.endswith((":str", ":binary")):
        return constructor.construct_object(ruamel.scalar_node(tag, value, mark, mark))
    return str(value)  # strings, and custom tags such as GitLab's !reference


def _merge(mapping: YamlMap, merged: list[Any]) -> None:
    """`<<: *defaults` (GitLab CI, compose files): keys written in the mapping win."""
    for source in merged:
        for item in source if isinstance(source, list) else [source]:
            if isinstance(item, dict):
                for k, v in item.items():
                    if k not in mapping:
                        mapping[k] = v


def _fast_resolve(ruamel: _Ruamel) -> Callable[[str, Any], Any]:
    resolve_plain, str_tag = ruamel.resolve_plain, ruamel.str_tag
    if resolve_plain is None:  # set whenever the libyaml loader is
        raise RuntimeError("the libyaml loader has no plain-scalar resolver")

    def resolve(value: str, implicit: Any) -> Any:
        return resolve_plain(value) if implicit[0] else str_tag  # quoted: a string

    return resolve


def _build(text: str, ruamel: _Ruamel) -> Any:
    """The document built from libyaml's events. libyaml is stricter than the YAML 1.2 spec in
    a few corners (`{image: a:b}` in flow context): what it rejects in a file of a realistic size
    is parsed again by ruamel's pure-Python parser, which decides."""
    if ruamel.fast is not None:
        loader = ruamel.fast(text)
        try:
            return _Builder(ruamel, loader, _fast_resolve(ruamel), len(text)).document(
                loader.get_event
            )
        except ruamel.marked_error:
            if len(text) > _PURE_PARSER_MAX_CHARS:
                raise
        finally:
            loader.dispose()
    from ruamel.yaml import YAML
    from ruamel.yaml.nodes import ScalarNode

    pure = YAML(typ="safe", pure=True)  # one per call: rare, and a loader is not thread-safe
    events = pure.parse(text)

    def resolve(value: str, implicit: Any) -> Any:
        return pure.resolver.resolve(ScalarNode, value, implicit)

    try:
        return _Builder(ruamel, pure.constructor, resolve, len(text)).document(events.__next__)
    finally:
        events.close()


def parse_yaml(text: str) -> Any:
    """Parse YAML into containers with line information. Raises YamlError (a ValueError) with a
    reason and line; YamlLimitError when the document is beyond what the scanner analyses."""
    ruamel = _loaded()
    try:
        return _build(text, ruamel)
    except YamlError:
        raise
    except ruamel.marked_error as exc:
        mark = exc.problem_mark or exc.context_mark  # type: ignore[attr-defined]
        problem = exc.problem or exc.context or "invalid YAML"  # type: ignore[attr-defined]
        raise YamlError(problem, mark.line + 1 if mark is not None else None) from None
    except (
        ruamel.error,
        RecursionError,
        ValueError,
        TypeError,
        AttributeError,
        OverflowError,
    ) as exc:
        # The loader raises a few plain errors on odd input (dates, numbers): all are "invalid".
        raise YamlError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None


def compose_yaml(text: str) -> Any:
    """The node tree (ruamel's, with marks) of a document within the limits of parse_yaml, for
    editing in place (fix). Raises YamlError."""
    parse_yaml(text)  # the limits, checked on the events before the recursive composer runs
    from ruamel.yaml import YAML

    ruamel = _loaded()
    loader = YAML(typ="safe", pure=True)
    loader.max_depth = _MAX_DEPTH + 1
    try:
        return loader.compose(text)
    except (ruamel.error, RecursionError, ValueError, TypeError, AttributeError) as exc:
        raise YamlError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None


def load_parsed(facts: Facts, path: str, parse: Callable[[str], Any], kind: str) -> Any | None:
    """`parse` applied to the text of `path`, or None with a Problem recorded ("is not valid
    {kind}: ...", or "exceeds the scanner's limits for {kind}: ...") where the
    file cannot be read or `parse` raises ValueError."""
    text = facts.read(path)
    if text is None:
        return None
    try:
        return parse(text)
    except YamlLimitError as exc:
        facts.problem(path, f"exceeds the scanner's limits for {kind}: {exc.reason}", exc.line)
    except YamlError as exc:
        facts.problem(path, f"is not valid {kind}: {exc.reason}", exc.line)
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
    except RecursionError:  # tomllib recurses into nested arrays and inline tables
        facts.problem(path, _TOO_DEEP.format(kind="TOML"))
    except ValueError as exc:  # TOMLDecodeError, and an integer of more than 4,300 digits
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
    except RecursionError:
        facts.problem(path, _TOO_DEEP.format(kind="JSON"))
    except json.JSONDecodeError as exc:
        facts.problem(path, f"is not valid JSON: {exc.msg}", exc.lineno)
    except ValueError as exc:  # an integer of more than 4,300 digits
        facts.problem(path, f"is not valid JSON: {exc}")
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
        return _construct(ruamel, constructor, tag, text, None)
    finally:
        constructor.constructed_objects.clear()


_constructors = threading.local()
