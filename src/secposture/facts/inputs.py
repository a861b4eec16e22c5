"""What a called workflow or composite action makes of its caller's `with:` values.

`substitute` writes the caller's value where the callee reads `inputs.NAME`, so that a scan sees
what runs: `scan_type: image` turns `if: inputs.scan_type == 'image'` into `'image' == 'image'`,
and `${{ inputs.image }}` in a `run:` into the image the caller named. A caller's value that is
itself an expression (`${{ github.event.issue.title }}`) is written in as that expression, so an
untrusted value stays visibly untrusted inside the callee.

`definitely_false` evaluates an `if:` condition only as far as it is made of literals: any
context, function or step output is unknown, and a condition that is not certainly false is
taken to run (as GitHub may run it). Both are linear in the text and bounded: conditions are
hostile input.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

_OPEN, _CLOSE = "${{", "}}"
_MAX_EXPRESSION = 4096
_MAX_TOKENS = 2000
_MAX_NESTING = 50
_INPUT = re.compile(
    r"(?<![\w.])inputs(?:\.([A-Za-z_][A-Za-z0-9_-]{0,99})|\[\s*'([^'\]]{1,100})'\s*\])",
    re.IGNORECASE,
)
_WHOLE = re.compile(r"\s*\$\{\{\s*(.*?)\s*\}\}\s*", re.DOTALL)
_TOKEN = re.compile(
    r"\s*(?:('(?:[^']|'')*')"  # 1 string
    r"|(-?(?:0x[0-9a-fA-F]+|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?))"  # 2 number
    r"|(==|!=|<=|>=|&&|\|\||[<>!()\[\],.*])"  # 3 operator
    r"|([A-Za-z_][A-Za-z0-9_-]*))"  # 4 name
)


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()


def lower_keys(values: Mapping[str, str]) -> dict[str, str]:
    """Input names are case-insensitive in GitHub Actions."""
    return {k.lower(): v for k, v in values.items()}


def _as_expression(value: str) -> str | None:
    """The caller's value as an expression operand: a literal, or its own expression."""
    whole = _WHOLE.fullmatch(value)
    if whole is not None and _OPEN not in whole.group(1):
        return f"({whole.group(1)})"
    if _OPEN in value:
        return None  # text mixed with expressions: not one operand
    return "'" + value.replace("'", "''") + "'"


def _in_expression(inner: str, inputs: Mapping[str, str]) -> str:
    def swap(match: re.Match[str]) -> str:
        name = (match.group(1) or match.group(2) or "").lower()
        if name not in inputs:
            return match.group(0)
        operand = _as_expression(inputs[name])
        return operand if operand is not None else match.group(0)

    return _INPUT.sub(swap, inner)


def substitute(text: str, inputs: Mapping[str, str]) -> str:
    """`text` (a `run:`, a `with:` value) with the inputs it reads replaced by their values.
    `inputs`: lower-case names."""
    if not inputs or _OPEN not in text or "inputs" not in text.lower():
        return text
    out: list[str] = []
    pos = 0
    while True:
        start = text.find(_OPEN, pos)
        end = text.find(_CLOSE, start + len(_OPEN)) if start >= 0 else -1
        if start < 0 or end < 0:
            out.append(text[pos:])
            return "".join(out)
        end += len(_CLOSE)
        out.append(text[pos:start])
        inner = text[start + len(_OPEN) : end - len(_CLOSE)]
        if end - start > _MAX_EXPRESSION:
            out.append(text[start:end])
        else:
            whole = _INPUT.fullmatch(inner.strip())
            name = (whole.group(1) or whole.group(2) or "").lower() if whole else ""
            if whole is not None and name in inputs:
                out.append(inputs[name])  # the whole expression is the input: its value
            else:
                out.append(_OPEN + _in_expression(inner, inputs) + _CLOSE)
        pos = end


def substitute_condition(condition: str, inputs: Mapping[str, str]) -> str:
    """An `if:` (written with or without `${{ }}`) with its inputs replaced."""
    whole = _WHOLE.fullmatch(condition)
    inner = whole.group(1) if whole is not None and _OPEN not in whole.group(1) else None
    if inner is None:
        return (
            substitute(condition, inputs)
            if _OPEN in condition
            else _in_expression(condition, inputs)
        )
    return "${{ " + _in_expression(inner, inputs) + " }}"


# --- evaluating conditions -------------------------------------------------------------------


def definitely_false(condition: str | None) -> bool:
    """True only when the condition is made of literals and is false: the step never runs."""
    if condition is None:
        return False
    text = condition.strip()
    whole = _WHOLE.fullmatch(text)
    if whole is not None and _OPEN not in whole.group(1):
        text = whole.group(1)
    elif _OPEN in text:
        return False  # text around an expression is a non-empty string: true
    if not text or len(text) > _MAX_EXPRESSION:
        return False
    tokens = _tokens(text)
    if tokens is None:
        return False
    parser = _Parser(tokens)
    try:
        value = parser.expression()
    except _GiveUp:
        return False
    if parser.pos != len(tokens) or value is UNKNOWN:
        return False
    return not _truthy(value)


class _GiveUp(Exception):
    pass


def _tokens(text: str) -> list[tuple[str, str]] | None:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            return None
        if match.group(1) is not None:
            out.append(("str", match.group(1)[1:-1].replace("''", "'")))
        elif match.group(2) is not None:
            out.append(("num", match.group(2)))
        elif match.group(3) is not None:
            out.append(("op", match.group(3)))
        else:
            out.append(("name", match.group(4)))
        pos = match.end()
        if len(out) > _MAX_TOKENS:
            return None
    return out


class _Parser:
    """Precedence as GitHub's: `||` < `&&` < `== !=` < `< <= > >=` < `!` < operands."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.depth = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, op: str) -> bool:
        token = self.peek()
        if token is not None and token == ("op", op):
            self.pos += 1
            return True
        return False

    def expression(self) -> Any:
        self.depth += 1
        if self.depth > _MAX_NESTING:
            raise _GiveUp
        value = self.conjunction()
        while self.take("||"):
            right = self.conjunction()
            value = _or(value, right)
        self.depth -= 1
        return value

    def conjunction(self) -> Any:
        value = self.equality()
        while self.take("&&"):
            right = self.equality()
            value = _and(value, right)
        return value

    def equality(self) -> Any:
        value = self.comparison()
        while True:
            if self.take("=="):
                value = _equal(value, self.comparison())
            elif self.take("!="):
                same = _equal(value, self.comparison())
                value = UNKNOWN if same is UNKNOWN else not same
            else:
                return value

    def comparison(self) -> Any:
        value = self.unary()
        while True:
            token = self.peek()
            if token is None or token[0] != "op" or token[1] not in ("<", "<=", ">", ">="):
                return value
            self.pos += 1
            value = _compare(token[1], value, self.unary())

    def unary(self) -> Any:
        if self.take("!"):
            value = self.unary()
            return UNKNOWN if value is UNKNOWN else not _truthy(value)
        return self.operand()

    def operand(self) -> Any:
        token = self.peek()
        if token is None:
            raise _GiveUp
        self.pos += 1
        kind, text = token
        if kind == "op" and text == "(":
            value = self.expression()
            if not self.take(")"):
                raise _GiveUp
            return self.accessors(value)
        if kind == "str":
            return text
        if kind == "num":
            try:
                return (
                    float(int(text, 16)) if text.lower().startswith(("0x", "-0x")) else float(text)
                )
            except ValueError:
                return math.nan
        if kind == "name":
            lowered = text.lower()
            if lowered in ("true", "false"):
                return lowered == "true"
            if lowered == "null":
                return None
            # A function call: its arguments are parsed, its value unknown.
            if self.take("(") and not self.take(")"):
                self.expression()
                while self.take(","):
                    self.expression()
                if not self.take(")"):
                    raise _GiveUp
            return self.accessors(UNKNOWN)
        raise _GiveUp

    def accessors(self, value: Any) -> Any:
        """`.name`, `.*` and `[index]` after an operand: a context or object read, unknown."""
        while True:
            if self.take("."):
                token = self.peek()
                if token is None or (token != ("op", "*") and token[0] != "name"):
                    raise _GiveUp
                self.pos += 1
                value = UNKNOWN
            elif self.take("["):
                self.expression()
                if not self.take("]"):
                    raise _GiveUp
                value = UNKNOWN
            else:
                return value


def _truthy(value: Any) -> bool:
    if value is None or value is False or value == "":
        return False
    if isinstance(value, float):
        return not (value == 0 or math.isnan(value))
    return True


def _and(left: Any, right: Any) -> Any:
    if left is not UNKNOWN and not _truthy(left):
        return left
    if left is UNKNOWN:
        return right if right is not UNKNOWN and not _truthy(right) else UNKNOWN
    return right


def _or(left: Any, right: Any) -> Any:
    if left is not UNKNOWN and _truthy(left):
        return left
    if left is UNKNOWN:
        return right if right is not UNKNOWN and _truthy(right) else UNKNOWN
    return right


def _number(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, float):
        return value
    text = str(value).strip()
    if text == "":
        return 0.0
    try:
        return float(int(text, 16)) if text.lower().startswith("0x") else float(text)
    except ValueError:
        return math.nan


def _equal(left: Any, right: Any) -> Any:
    if left is UNKNOWN or right is UNKNOWN:
        return UNKNOWN
    if isinstance(left, str) and isinstance(right, str):
        return left.lower() == right.lower()  # GitHub compares strings ignoring case
    if type(left) is type(right):
        return left == right
    return _number(left) == _number(right)


def _compare(op: str, left: Any, right: Any) -> Any:
    if left is UNKNOWN or right is UNKNOWN:
        return UNKNOWN
    if isinstance(left, str) and isinstance(right, str):
        a: Any
        b: Any
        a, b = left.lower(), right.lower()
    else:
        a, b = _number(left), _number(right)
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    return bool(a >= b)
