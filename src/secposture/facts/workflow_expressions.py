"""GitHub Actions expressions (`${{ ... }}`): finding them in text, parsing them, which contexts
can flow into their value, and whether a context is one an outsider controls. Shared by the
workflow-security probes.

A context is an identifier at the start of an expression or after an operator, a parenthesis or a
comma, followed by its `.name` / `['name']` / `[0]` / `.*` parts: `steps.create-github-tag.outputs`
reads `steps`, never `github` (identifiers may contain `-`).

A value flows out of an expression only where the expression can return it. Comparisons, `!`,
`contains()`, `startsWith()`, `endsWith()` and the status functions return booleans; `a && b`
returns `b`, or `a` when `a` is falsy (false, 0, '', null, NaN: nothing that can inject); `a || b`
returns either. So `contains(github.event.issue.title, 'x')` cannot inject, and
`github.event.issue.title || 'x'` can.

Scanning and parsing are linear in the text and bounded in depth: workflow files are hostile input.
An expression the parser does not accept is read conservatively: every context it mentions flows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from secposture import catalogue
from secposture.facts import workflows
from secposture.facts.interface import Facts
from secposture.facts.workflows import Job, LocalAction, Step, Workflow

_OPEN, _CLOSE = "${{", "}}"
_MAX_EXPRESSION = 4096  # a longer "expression" is not one GitHub would accept
_MAX_NESTING = 48  # parentheses, brackets, calls and `!` inside one expression

Path = tuple[str, ...]  # a context path, lower-cased, indexes as `*`

# One token at a time from a position: each alternative starts with a distinct character class,
# and the string body `(?:[^']|'')*` cannot match the same text two ways, so there is nothing to
# backtrack over but the one closing quote.
_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')"
    r"|(?P<num>0[xX][0-9a-fA-F]+|[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<ident>[A-Za-z_][A-Za-z0-9_-]*)"
    r"|(?P<op>==|!=|<=|>=|&&|\|\||[<>!()\[\],.*]))"
)
_LITERAL_WORDS = frozenset({"true", "false", "null", "nan", "infinity"})
# Functions whose result is a boolean or a hash: nothing of their arguments reaches the value.
_OPAQUE_FUNCTIONS = frozenset(
    {"contains", "startswith", "endswith", "success", "always", "failure", "cancelled", "hashfiles"}
)


@dataclass(frozen=True)
class Expression:
    text: str  # the whole `${{ ... }}`
    start: int  # offset in the scanned text


@dataclass(frozen=True)
class TokenNeed:
    """A write scope of the GITHUB_TOKEN that a well-known action or command needs."""

    scopes: tuple[str, ...]
    uses: str = ""  # `owner/repo[/path]` of an action (lower-case), or
    run: re.Pattern[str] | None = None  # a command in `run:`
    with_: tuple[tuple[str, str], ...] = ()  # inputs the action must be given (name, value)
    why: str = ""


@dataclass(frozen=True)
class Config:
    privileged_triggers: frozenset[str]
    checkout_actions: tuple[str, ...]
    checkout_ref_inputs: tuple[str, ...]
    untrusted_refs: tuple[Path, ...]
    untrusted_ref_literals: tuple[str, ...]
    checkout_commands: tuple[re.Pattern[str], ...]
    always_untrusted_commands: tuple[re.Pattern[str], ...]
    untrusted_contexts: tuple[Path, ...]
    script_actions: tuple[str, ...]
    script_inputs: tuple[str, ...]
    token_needs: tuple[TokenNeed, ...] = ()
    token_free_actions: tuple[str, ...] = ()  # actions known to need no write scope
    token_taking_actions: tuple[str, ...] = ()  # actions that use the job's token by default


def _paths(items: Iterable[str]) -> tuple[Path, ...]:
    return tuple(tuple(item.lower().split(".")) for item in items)


def _token_needs(raw: Iterable[Mapping[str, Any]]) -> tuple[TokenNeed, ...]:
    return tuple(
        TokenNeed(
            scopes=tuple(str(s) for s in item["scopes"]),
            uses=str(item.get("uses", "")).lower(),
            run=re.compile(str(item["run"])) if item.get("run") else None,
            with_=tuple((str(k).lower(), str(v)) for k, v in item.get("with", {}).items()),
            why=str(item.get("why", "")),
        )
        for item in raw
    )


@cache
def config() -> Config:
    raw = catalogue.load("workflow_security")
    return Config(
        privileged_triggers=frozenset(raw["privileged_triggers"]),
        checkout_actions=tuple(a.lower() for a in raw["checkout_actions"]),
        checkout_ref_inputs=tuple(raw["checkout_ref_inputs"]),
        untrusted_refs=_paths(raw["untrusted_refs"]),
        untrusted_ref_literals=tuple(raw["untrusted_ref_literals"]),
        checkout_commands=tuple(re.compile(p) for p in raw["checkout_commands"]),
        always_untrusted_commands=tuple(re.compile(p) for p in raw["always_untrusted_commands"]),
        untrusted_contexts=_paths(raw["untrusted_contexts"]),
        script_actions=tuple(a.lower() for a in raw["script_actions"]),
        script_inputs=tuple(raw["script_inputs"]),
        token_needs=_token_needs(raw.get("token_needs", ())),
        token_free_actions=tuple(a.lower() for a in raw.get("token_free_actions", ())),
        token_taking_actions=tuple(a.lower() for a in raw.get("token_taking_actions", ())),
    )


# --- finding expressions ------------------------------------------------------------------------


def _close_of(text: str, start: int) -> int:
    """Offset just past the `}}` that closes the expression opened at start, skipping `}}` inside
    string literals; -1 when it is never closed."""
    pos = start + len(_OPEN)
    in_string = False
    end = len(text)
    while pos < end:
        if in_string:
            quote = text.find("'", pos)
            if quote < 0:
                return -1
            in_string, pos = False, quote + 1  # `''` reopens at once: an escaped quote
            continue
        quote = text.find("'", pos)
        close = text.find(_CLOSE, pos)
        if close < 0:
            return -1
        if 0 <= quote < close:
            in_string, pos = True, quote + 1
            continue
        return close + len(_CLOSE)
    return -1


def expressions(text: str) -> Iterator[Expression]:
    """Every `${{ ... }}` in text, in order; an unclosed one ends the search."""
    pos = 0
    while True:
        start = text.find(_OPEN, pos)
        if start < 0:
            return
        end = _close_of(text, start)
        if end < 0:
            return
        if end - start <= _MAX_EXPRESSION:
            yield Expression(text[start:end], start)
        pos = end


# --- parsing ------------------------------------------------------------------------------------

# Nodes are tuples: ("lit",) ("ctx", parts, refs) ("call", name, args) ("value", inner, refs)
# ("bool", items) ("and", items) ("or", items). `refs` holds the nodes of computed indexes, which
# are read but do not become the value. n-ary `and`/`or`/`bool` keep long chains flat.
Node = tuple[Any, ...]


class _Unparsable(Exception):
    pass


def _tokens(body: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos, end = 0, len(body)
    while pos < end:
        match = _TOKEN.match(body, pos)
        if match is None or match.end() == pos:
            if body[pos].isspace():
                break  # trailing blanks
            out.append(("err", body[pos]))
            pos += 1
            continue
        kind = match.lastgroup or "err"
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.at = 0
        self.depth = 0

    def _peek(self, value: str | None = None) -> bool:
        if self.at >= len(self.tokens):
            return False
        kind, text = self.tokens[self.at]
        return value is None or (kind == "op" and text == value)

    def _take(self, value: str) -> None:
        if not self._peek(value):
            raise _Unparsable
        self.at += 1

    def _nest(self) -> None:
        self.depth += 1
        if self.depth > _MAX_NESTING:
            raise _Unparsable

    def parse(self) -> Node:
        node = self._or()
        if self.at != len(self.tokens):
            raise _Unparsable
        return node

    def _chain(self, tag: str, op: str, operand: Any) -> Node:
        items = [operand()]
        while self._peek(op):
            self.at += 1
            items.append(operand())
        return items[0] if len(items) == 1 else (tag, tuple(items))

    def _or(self) -> Node:
        return self._chain("or", "||", self._and)

    def _and(self) -> Node:
        return self._chain("and", "&&", self._equality)

    def _equality(self) -> Node:
        items = [self._comparison()]
        while self._peek("==") or self._peek("!="):
            self.at += 1
            items.append(self._comparison())
        return items[0] if len(items) == 1 else ("bool", tuple(items))

    def _comparison(self) -> Node:
        items = [self._unary()]
        while any(self._peek(op) for op in ("<", "<=", ">", ">=")):
            self.at += 1
            items.append(self._unary())
        return items[0] if len(items) == 1 else ("bool", tuple(items))

    def _unary(self) -> Node:
        if self._peek("!"):
            self.at += 1
            self._nest()
            node = ("bool", (self._unary(),))
            self.depth -= 1
            return node
        return self._postfix(self._primary())

    def _primary(self) -> Node:
        if self.at >= len(self.tokens):
            raise _Unparsable
        kind, text = self.tokens[self.at]
        self.at += 1
        if kind in ("str", "num"):
            return ("lit",)
        if kind == "ident":
            lowered = text.lower()
            if self._peek("("):
                return ("call", lowered, self._arguments())
            if lowered in _LITERAL_WORDS:
                return ("lit",)
            return ("ctx", (lowered,), ())
        if kind == "op" and text == "(":
            self._nest()
            node = self._or()
            self._take(")")
            self.depth -= 1
            return node
        raise _Unparsable

    def _arguments(self) -> tuple[Node, ...]:
        self._take("(")
        self._nest()
        args: list[Node] = []
        if not self._peek(")"):
            args.append(self._or())
            while self._peek(","):
                self.at += 1
                args.append(self._or())
        self._take(")")
        self.depth -= 1
        return tuple(args)

    def _postfix(self, node: Node) -> Node:
        while True:
            if self._peek("."):
                self.at += 1
                if self._peek("*"):
                    self.at += 1
                    part = "*"
                elif self._peek() and self.tokens[self.at][0] == "ident":
                    part = self.tokens[self.at][1].lower()
                    self.at += 1
                else:
                    raise _Unparsable
                node = self._extend(node, part, None)
            elif self._peek("["):
                self.at += 1
                self._nest()
                if self._peek("*"):
                    self.at += 1
                    part, index = "*", None
                else:
                    start = self.at
                    index = self._or()
                    kind, text = self.tokens[start]
                    literal = index == ("lit",) and self.at == start + 1
                    part = (
                        text[1:-1].replace("''", "'").lower() if literal and kind == "str" else "*"
                    )
                    index = None if literal else index
                self._take("]")
                self.depth -= 1
                node = self._extend(node, part, index)
            else:
                return node

    @staticmethod
    def _extend(node: Node, part: str, index: Node | None) -> Node:
        refs = () if index is None else (index,)
        if node[0] == "ctx":
            return ("ctx", (*node[1], part), node[2] + refs)
        # A member of a function's result (`fromJSON(x).y`): the value comes from the call.
        return ("value", node, refs)


def _fallback_references(tokens: list[tuple[str, str]]) -> list[Path]:
    """Contexts in a token stream the parser refused: identifiers not after `.` nor before `(`."""
    out: list[Path] = []
    count = len(tokens)
    i = 0
    while i < count:
        kind, text = tokens[i]
        after_dot = i > 0 and tokens[i - 1] == ("op", ".")
        is_call = i + 1 < count and tokens[i + 1] == ("op", "(")
        if kind != "ident" or after_dot or is_call or text.lower() in _LITERAL_WORDS:
            i += 1
            continue
        parts = [text.lower()]
        i += 1
        while i < count:
            if tokens[i] == ("op", ".") and i + 1 < count and tokens[i + 1][0] in ("ident", "op"):
                nxt = tokens[i + 1]
                if nxt[0] == "op" and nxt[1] != "*":
                    break
                parts.append(nxt[1].lower())
                i += 2
            elif tokens[i] == ("op", "[") and i + 2 < count and tokens[i + 2] == ("op", "]"):
                inner = tokens[i + 1]
                parts.append(inner[1][1:-1].lower() if inner[0] == "str" else "*")
                i += 3
            else:
                break
        out.append(tuple(parts))
    return out


def _walk(node: Node, flows_only: bool) -> list[Path]:
    """Context paths of a node: all it reads, or only those that can become its value. Iterative:
    a hostile expression must not exhaust the stack."""
    out: list[Path] = []
    stack: list[tuple[Node, bool]] = [(node, True)]
    while stack:
        current, flowing = stack.pop()
        tag = current[0]
        if tag == "ctx":
            if flowing or not flows_only:
                out.append(current[1])
            stack.extend((ref, False) for ref in current[2])
        elif tag == "value":
            stack.append((current[1], flowing))
            stack.extend((ref, False) for ref in current[2])
        elif tag == "call":
            name, args = current[1], current[2]
            if name in _OPAQUE_FUNCTIONS:
                stack.extend((arg, False) for arg in args)
            elif name == "case":  # case(pred1, value1, ..., default): only values are returned
                values = set(range(1, len(args), 2)) | {len(args) - 1}
                stack.extend((arg, flowing and i in values) for i, arg in enumerate(args))
            else:  # format, join, toJSON, fromJSON and anything unknown: the arguments flow
                stack.extend((arg, flowing) for arg in args)
        elif tag == "bool":
            stack.extend((item, False) for item in current[1])
        elif tag == "and":
            items = current[1]
            stack.extend((item, False) for item in items[:-1])
            stack.append((items[-1], flowing))
        elif tag == "or":
            stack.extend((item, flowing) for item in current[1])
    return out


def _body(expression: str) -> str:
    text = expression.strip()
    if text.startswith(_OPEN) and text.endswith(_CLOSE):
        text = text[len(_OPEN) : -len(_CLOSE)]
    return text


@lru_cache(maxsize=8192)
def _analyse(body: str) -> tuple[tuple[Path, ...], tuple[Path, ...]]:
    """(every context the expression reads, the contexts that can become its value)."""
    tokens = _tokens(body)
    try:
        node = _Parser(tokens).parse()
    except _Unparsable:
        found = tuple(_fallback_references(tokens))
        return found, found
    return tuple(_walk(node, flows_only=False)), tuple(_walk(node, flows_only=True))


def context_paths(expression: str) -> list[Path]:
    """Every context path an expression reads (any context: github, env, inputs, steps, ...),
    lower-cased, indexes as `*`."""
    return list(_analyse(_body(expression))[0])


def dataflow_paths(expression: str) -> list[Path]:
    """The context paths whose value can become the expression's value."""
    return list(_analyse(_body(expression))[1])


def _segments_match(path: Path, pattern: Path) -> bool:
    # Equal, an ancestor (an object holding the field) or a descendant: all carry the value.
    return all(a == b or "*" in (a, b) for a, b in zip(path, pattern, strict=False))


def matches_any(path: Path, patterns: Iterable[Path]) -> bool:
    return path[0] == "github" and any(_segments_match(path, p) for p in patterns)


def untrusted_in(text: str, patterns: Iterable[Path]) -> list[tuple[Expression, str]]:
    """Expressions in text whose value can carry an untrusted path, with the path (dotted)."""
    patterns = tuple(patterns)
    found = []
    for expr in expressions(text):
        for path in dataflow_paths(expr.text):
            if matches_any(path, patterns):
                found.append((expr, ".".join(path)))
                break
    return found


def _names(expression: str, root: str) -> list[str]:
    return [p[1] for p in dataflow_paths(expression) if p[0] == root and len(p) > 1]


def env_names(expression: str) -> list[str]:
    """The `env.NAME` variables whose value can become the expression's value."""
    return _names(expression, "env")


def input_names(expression: str) -> list[str]:
    """The `inputs.NAME` inputs whose value can become the expression's value."""
    return _names(expression, "inputs")


# --- taint through `with:` -> `inputs.*` and `env:` ---------------------------------------------


@dataclass(frozen=True)
class Taint:
    """An attacker-controlled value that reached an input or variable: which context, and the
    hops it took (`file:line (what)`), first to last."""

    context: str
    chain: tuple[str, ...]

    def via(self, hop: str) -> Taint:
        return Taint(self.context, (*self.chain, hop))

    def described(self) -> str:
        return " -> ".join((self.context, *self.chain))


def tainted_values(
    text: str, patterns: Iterable[Path], inputs: Mapping[str, Taint], env: Mapping[str, Taint]
) -> list[tuple[Expression, Taint]]:
    """Expressions in text whose value can be attacker-controlled: an untrusted context itself, or
    an `inputs.*` / `env.*` that carries one. One (the first) taint per expression."""
    patterns = tuple(patterns)
    found = []
    for expr in expressions(text):
        for path in dataflow_paths(expr.text):
            taint: Taint | None = None
            if matches_any(path, patterns):
                taint = Taint(".".join(path), ())
            elif len(path) > 1 and path[0] == "inputs":
                taint = inputs.get(path[1])
            elif len(path) > 1 and path[0] == "env":
                taint = env.get(path[1])
            if taint is not None:
                found.append((expr, taint))
                break
    return found


# The line at or below a line of a file whose text contains a needle: (path, line, needle) -> line.
Locate = Callable[[str, int | None, str], int | None]


def tainted_map(
    values: Mapping[str, str],
    patterns: Iterable[Path],
    inputs: Mapping[str, Taint],
    env: Mapping[str, Taint],
    hop: str,
    at: tuple[str, int | None, Locate] | None = None,
) -> dict[str, Taint]:
    """Which names of a `with:` or `env:` mapping receive an attacker-controlled value (keys
    lower-cased, as `inputs.*` and `env.*` read them), each with `hop` (`file:line with:`) added
    to its chain; with `at` (file, the mapping's owner's line, a locator) the hop names the line
    of the entry itself: `file:line with: `name``."""
    out: dict[str, Taint] = {}
    for name, value in values.items():
        hits = tainted_values(value, patterns, inputs, env)
        if not hits:
            continue
        label = f"{hop} `{name}`"
        if at is not None:
            path, line, locate = at
            label = f"{path}:{locate(path, line, f'{name}:')} {hop} `{name}`"
        out[name.lower()] = hits[0][1].via(label)
    return out


_NON_TEXT_INPUTS = frozenset({"boolean", "number"})


def tainted_call_inputs(
    caller: Job,
    callee: Workflow,
    patterns: Iterable[Path],
    caller_inputs: Mapping[str, Taint] | None = None,
    caller_env: Mapping[str, Taint] | None = None,
    hop: str | None = None,
    locate: Locate | None = None,
) -> dict[str, Taint]:
    """The `inputs.*` of a called reusable workflow that carry attacker-controlled values, from
    the caller job's `with:` (a `facts.workflows.Job` with `uses:`) and the callee's declared
    `on.workflow_call.inputs` (a parsed `facts.workflows.Workflow`, local or fetched from another
    repository). Inputs declared `boolean` or `number` cannot carry text; an input the callee does
    not declare is refused by GitHub and so ignored. `caller_inputs` is the caller's own tainted
    inputs when the caller is itself a called workflow; `hop` names the caller's `with:` in the
    chain (default: the caller job's file and line; with `locate`, the line of the `with:` entry)."""
    where = hop if hop is not None else f"{caller.path}:{caller.line} with:"
    at = None
    if hop is None and locate is not None:
        where, at = "with:", (caller.path, caller.line, locate)
    declared = callee.call_inputs
    passed = {
        name: value
        for name, value in caller.with_.items()
        if name.lower() in declared and declared[name.lower()] not in _NON_TEXT_INPUTS
    }
    return tainted_map(passed, patterns, caller_inputs or {}, caller_env or {}, where, at)


# --- small helpers ------------------------------------------------------------------------------


def action_name(uses: str) -> str:
    """`owner/repo` (lower-case) of a `uses:` reference, without path and ref."""
    ref = uses.split("@", 1)[0]
    return "/".join(ref.split("/")[:2]).lower()


def action_path(uses: str) -> str:
    """`owner/repo[/path]` (lower-case) of a `uses:` reference, without the ref."""
    return uses.split("@", 1)[0].strip().rstrip("/").lower()


_SEARCH_LINES = 5000  # how far below a step its text may be (a long `run:` block)


@lru_cache(maxsize=16)
def _lines(text: str) -> list[str]:
    # Cached: several findings in one file search the same text (str hashes are cached too).
    return text.splitlines()


def line_within(facts: Facts, path: str, start_line: int | None, needle: str) -> int | None:
    """The first line at or after start_line whose text contains needle (the first line of it)."""
    if start_line is None:
        return None
    text = facts.read(path)
    if text is None:
        return start_line
    first = needle.splitlines()[0] if needle.strip() else needle
    lines = _lines(text)
    for index in range(start_line - 1, min(len(lines), start_line - 1 + _SEARCH_LINES)):
        if first in lines[index]:
            return index + 1
    return start_line


# --- following calls: reusable workflows and composite actions ----------------------------------

_MAX_CALL_DEPTH = 4  # GitHub nests reusable workflows at most 4 levels deep
# Steps followed from one workflow: calls fan out (100 jobs each calling a workflow of 100 jobs...),
# and a hostile repository must not make that a hang.
MAX_WALKED_STEPS = 20_000


class WalkLimit(Exception):
    """A workflow's calls reach more steps than MAX_WALKED_STEPS: what it runs was not all read."""


# The workflow a call job (`jobs.X.uses`) runs, or None where it could not be read; the composite
# action a step (`steps[*].uses`) runs, likewise.
ResolveWorkflow = Callable[[Job], Workflow | None]
ResolveAction = Callable[[str], LocalAction | None]


@dataclass(frozen=True)
class Resolvers:
    workflow: ResolveWorkflow
    action: ResolveAction
    locate: Locate | None = None  # lines of `with:` and `env:` entries, for the chains


def resolvers(facts: Facts) -> Resolvers:
    """How the workflow probes find what a `uses:` runs: the repository's own reusable
    workflows (`./.github/workflows/f.yml`) and composite actions (`./path`), and those of other
    repositories as the scan can read them (facts/calls.py, ADR 0014), which every workflow
    probe then follows. A `./` workflow call in another repository's file is that repository's."""
    from secposture.facts import calls

    found = facts.get(workflows.collect)
    by_path = {w.path: w for w in found}
    actions = facts.get(workflows.collect_local_actions)

    def workflow(job: Job) -> Workflow | None:
        uses = job.uses or ""
        if uses.startswith("./") and not calls.in_other_repository(job.path):
            return by_path.get(uses[2:].split("@", 1)[0])
        return calls.resolve_workflow(facts, job)

    def action(uses: str) -> LocalAction | None:
        if uses.startswith("./"):
            return actions.get(uses[2:].rstrip("/"))
        return calls.resolve_action(facts, uses)

    def locate(path: str, line: int | None, needle: str) -> int | None:
        return line_within(facts, path, line, needle)

    return Resolvers(workflow, action, locate)


@dataclass(frozen=True)
class StepInContext:
    """A step with where it runs and the attacker-controlled values it can read."""

    step: Step
    where: str  # "job `x`", "composite action P used by job `x`", "job `y` of W called by ..."
    inputs: Mapping[str, Taint]  # `inputs.*` that carry untrusted values
    env: Mapping[str, Taint]  # `env.*` likewise (workflow, job and step `env:`)
    called: bool  # inside a reusable workflow reached through a call from the root workflow


def _hop(
    kind: str, path: str, line: int | None, resolve: Resolvers
) -> tuple[str, tuple[str, int | None, Locate] | None]:
    """How tainted_map names a hop: at the entry's own line when lines can be found."""
    if resolve.locate is None:
        return f"{path}:{line} {kind}", None
    return kind, (path, line or 1, resolve.locate)


def _layer(
    base: Mapping[str, Taint],
    values: Mapping[str, str],
    patterns: tuple[Path, ...],
    inputs: Mapping[str, Taint],
    owner: tuple[str, int | None, Resolvers],
) -> Mapping[str, Taint]:
    """`env:` over the env it overrides: a name set again loses (or takes) its taint."""
    if not values:
        return base  # most jobs and steps set no `env:`: share the one they inherit, unchanged
    names = {n.lower() for n in values}
    out = {k: v for k, v in base.items() if k not in names}
    hop, at = _hop("env:", *owner)
    out.update(tainted_map(values, patterns, inputs, base, hop, at))
    return out


def walk_steps(
    workflow: Workflow,
    resolve: Resolvers,
    patterns: Iterable[Path],
    inputs: Mapping[str, Taint] | None = None,
    depth: int = 0,
    seen: frozenset[str] = frozenset(),
) -> Iterator[StepInContext]:
    """Every step the workflow runs, followed into the reusable workflows its jobs call and the
    composite actions its steps use (to a depth of 4, never around a cycle), with the untrusted
    values (matching `patterns`) that reach each step through `with:` -> `inputs.*` and `env:`."""
    budget = [MAX_WALKED_STEPS]
    lenses = (tuple(patterns),)
    walked = _walk_workflow(workflow, resolve, lenses, (inputs or {},), depth, seen, budget)
    for contexts in walked:
        yield contexts.under(0)


# One taint map per set of untrusted values tracked (walk_steps_through's lenses), in order.
Lenses = tuple[tuple[Path, ...], ...]
Taints = tuple[Mapping[str, Taint], ...]


@dataclass(frozen=True, slots=True)
class StepInContexts:
    """A step with where it runs and, for each set of untrusted values tracked, the `inputs.*`
    and `env.*` that carry one: several StepInContexts in one."""

    step: Step
    where: str
    inputs: Taints
    env: Taints
    called: bool

    def under(self, lens: int) -> StepInContext:
        """The step as walk_steps gives it, for the lens-th set of untrusted values."""
        return StepInContext(self.step, self.where, self.inputs[lens], self.env[lens], self.called)


def walk_steps_through(
    workflow: Workflow, resolve: Resolvers, lenses: Sequence[Iterable[Path]]
) -> Iterator[StepInContexts]:
    """walk_steps for several sets of untrusted values in one walk: each step once, with what
    reaches it of each set (which steps are reached does not depend on the values tracked)."""
    budget = [MAX_WALKED_STEPS]
    patterns = tuple(tuple(lens) for lens in lenses)
    none: Taints = tuple({} for _ in patterns)
    yield from _walk_workflow(workflow, resolve, patterns, none, 0, frozenset(), budget)


def _layers(
    base: Taints,
    values: Mapping[str, str],
    lenses: Lenses,
    inputs: Taints,
    owner: tuple[str, int | None, Resolvers],
) -> Taints:
    """_layer for each lens; the inherited maps themselves where nothing is set (most jobs and
    steps), so that a walk keeps one copy of them."""
    if not values:
        return base
    return tuple(
        _layer(b, values, p, i, owner) for b, p, i in zip(base, lenses, inputs, strict=True)
    )


def _walk_workflow(
    workflow: Workflow,
    resolve: Resolvers,
    lenses: Lenses,
    inputs: Taints,
    depth: int,
    seen: frozenset[str],
    budget: list[int],
) -> Iterator[StepInContexts]:
    seen = seen | {workflow.path}
    empty: Taints = tuple({} for _ in lenses)
    top = _layers(empty, workflow.env, lenses, inputs, (workflow.path, None, resolve))
    for job in workflow.jobs:
        budget[0] -= 1
        if budget[0] < 0:
            raise WalkLimit(f"its calls reach more than {MAX_WALKED_STEPS:,} jobs and steps")
        env = _layers(top, job.env, lenses, inputs, (job.path, job.line, resolve))
        if job.uses is not None:
            callee = resolve.workflow(job)
            if callee is None or depth + 1 >= _MAX_CALL_DEPTH or callee.path in seen:
                continue
            passed = tuple(
                tainted_call_inputs(job, callee, p, i, e, locate=resolve.locate)
                for p, i, e in zip(lenses, inputs, env, strict=True)
            )
            walked = _walk_workflow(callee, resolve, lenses, passed, depth + 1, seen, budget)
            for inner in walked:
                where = f"{inner.where} of {callee.path}, called by {job.path}:{job.line}"
                yield StepInContexts(inner.step, where, inner.inputs, inner.env, True)
            continue
        where = f"job `{job.id}`"
        yield from _steps(job.steps, where, resolve, lenses, inputs, env, depth, seen, budget)


def _steps(
    steps: list[Step],
    where: str,
    resolve: Resolvers,
    lenses: Lenses,
    inputs: Taints,
    env: Taints,
    depth: int,
    seen: frozenset[str],
    budget: list[int],
) -> Iterator[StepInContexts]:
    for step in steps:
        budget[0] -= 1
        if budget[0] < 0:
            raise WalkLimit(f"its calls reach more than {MAX_WALKED_STEPS:,} jobs and steps")
        step_env = _layers(env, step.env, lenses, inputs, (step.path, step.line, resolve))
        yield StepInContexts(step, where, inputs, step_env, False)
        if step.uses is None or step.uses.startswith("docker://"):
            continue
        action = resolve.action(step.uses)
        if action is None or depth + 1 >= _MAX_CALL_DEPTH or action.path in seen:
            continue
        hop, at = _hop("with:", step.path, step.line, resolve)
        passed = tuple(
            tainted_map(step.with_, p, i, e, hop, at)
            for p, i, e in zip(lenses, inputs, step_env, strict=True)
        )
        inner_where = f"composite action {action.path} used by {where}"
        yield from _steps(
            action.steps,
            inner_where,
            resolve,
            lenses,
            passed,
            step_env,
            depth + 1,
            seen | {action.path},
            budget,
        )
