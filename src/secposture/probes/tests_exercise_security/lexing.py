"""Test source as the security-tests probe reads it: comments, imports and relative paths blanked.

Evidence that tests exercise security must come from what the tests do (their names and their
assertions), never from a comment (`# 403`), an import (`from werkzeug.exceptions import
Forbidden`) or a relative path (`'../../support/e2e'`). One regex pass per file finds the
comments and string literals of its language family; the result keeps every line where it was, so
line numbers still point into the file:

- `code`: comments, import statements and relative-path strings blanked; other strings kept (test
  names, header names and escaped HTML are strings);
- `bare`: `code` with every string's content blanked too (status codes and identifiers only).

The patterns are linear on hostile text: an unterminated comment or string runs to the end of the
text (or of its line) in one match, never retried from each position.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from functools import cache

# Language families by file suffix: how comments, strings and imports are written.
_FAMILY = {
    ".py": "python",
    ".rb": "ruby",
    ".feature": "gherkin",
    ".go": "go",
    ".rs": "rust",
    ".php": "php",
    ".scala": "scala",
}
_C_FAMILY = "c"  # JavaScript, TypeScript, Java, Kotlin, Scala, Groovy, C#: the default

_STRINGS_C = r"""(?P<s>\"\"\"[\s\S]*?(?:\"\"\"|\Z)|"(?:[^"\\\n]|\\.)*"?|'(?:[^'\\\n]|\\.)*'?|`(?:[^`\\]|\\[\s\S])*`?)"""
_STRINGS_PY = r"""(?P<s>\"\"\"[\s\S]*?(?:\"\"\"|\Z)|'''[\s\S]*?(?:'''|\Z)|"(?:[^"\\\n]|\\.)*"?|'(?:[^'\\\n]|\\.)*'?)"""
_STRINGS_RB = r"""(?P<s>"(?:[^"\\]|\\[\s\S])*"?|'(?:[^'\\\n]|\\.)*'?)"""
_STRINGS_GHERKIN = r"""(?P<s>"(?:[^"\\\n]|\\.)*"?)"""
_STRINGS_RUST = r"""(?P<s>"(?:[^"\\]|\\[\s\S])*"?)"""  # no '...': lifetimes ('a) are not strings
_LINE_C = r"(?P<c>//[^\n]*|/\*[\s\S]*?(?:\*/|\Z))"
_LINE_HASH = r"(?P<c>#[^\n]*)"

_TOKENS = {
    _C_FAMILY: _LINE_C + "|" + _STRINGS_C,
    "scala": _LINE_C + "|" + _STRINGS_C,
    "go": _LINE_C + "|" + _STRINGS_C,
    "rust": _LINE_C + "|" + _STRINGS_RUST,
    "php": r"(?P<c>//[^\n]*|#(?!\[)[^\n]*|/\*[\s\S]*?(?:\*/|\Z))|" + _STRINGS_C,
    "python": _LINE_HASH + "|" + _STRINGS_PY,
    "ruby": r"(?P<c>^=begin\b[\s\S]*?(?:^=end\b[^\n]*|\Z)|#[^\n]*)|" + _STRINGS_RB,
    "gherkin": _LINE_HASH + "|" + _STRINGS_GHERKIN,
}

# Statements that only bring in other code: blanked (their continuation lines too, while a
# bracket they open is open).
_IMPORT = {
    _C_FAMILY: r"^[ \t]*(?:import\b|export\s+(?:\*|\{[^}\n]*\})\s*from\b|package\b|using\b(?![ \t]*\()"
    r"|(?:const|let|var)\s+[\w{}\s,:$]{1,200}=\s*(?:await\s+)?(?:require|import)\s*\(\s*[\"'`][^\"'`\n]*[\"'`]\s*\)\s*;?[ \t]*$"
    r"|(?:require|import)\s*\(\s*[\"'`][^\"'`\n]*[\"'`]\s*\)\s*;?[ \t]*$)",
    "scala": r"^[ \t]*(?:import\b|package\b)",
    "go": r"^[ \t]*(?:import\b|package\b)",
    "rust": r"^[ \t]*(?:pub\s+)?(?:use\b|mod\s+\w+\s*;|extern\s+crate\b)",
    "php": r"^[ \t]*(?:use\b|namespace\b|(?:require|include)(?:_once)?\b)",
    "python": r"^[ \t]*(?:import\b|from\s+[\w.]+\s+import\b)",
    "ruby": r"^[ \t]*(?:require(?:_relative)?\b|load\b)",
    "gherkin": r"(?!)",
}

_RELATIVE = re.compile(r"""[\"'`](?:\.{1,2}/)""")
_OPEN = str.maketrans("", "", "([{")
_CLOSE = str.maketrans("", "", ")]}")


@dataclass(frozen=True)
class Source:
    """A test file's text as the probe reads it; both texts have the file's lines, in place."""

    family: str
    code: str
    bare: str
    imports: tuple[str, ...]  # the module paths its import statements name, as written


def family(path: str) -> str:
    return _FAMILY.get(path[path.rfind(".") :].lower(), _C_FAMILY)


@cache
def _token_regex(name: str) -> re.Pattern[str]:
    return re.compile(_TOKENS[name], re.MULTILINE)


@cache
def _import_regex(name: str) -> re.Pattern[str]:
    return re.compile(_IMPORT[name])


def _newlines(text: str) -> str:
    return "\n" * text.count("\n")


def depth_change(line: str) -> int:
    """Brackets opened less brackets closed on a line (of bare code: strings already blanked)."""
    return (len(line) - len(line.translate(_OPEN))) - (len(line) - len(line.translate(_CLOSE)))


def read(path: str, text: str) -> Source:
    """Comments blanked in `code`; comments and string contents blanked in `bare`; then import
    statements blanked in both."""
    name = family(path)
    full: list[str] = []  # comments blanked, every string kept: where imports are read
    code: list[str] = []
    bare: list[str] = []
    at = 0
    for match in _token_regex(name).finditer(text):
        start, end = match.span()
        if start > at:
            piece = text[at:start]
            full.append(piece)
            code.append(piece)
            bare.append(piece)
        token = match.group()
        if match.lastgroup == "c":
            blank = _newlines(token)
            full.append(blank)
            code.append(blank)
            bare.append(blank)
        else:
            # A string: its quotes and line breaks stay in `bare`; a relative path, in `code` too.
            emptied = token[:1] * 2 + _newlines(token)
            full.append(token)
            code.append(emptied if _RELATIVE.match(token) else token)
            bare.append(emptied)
        at = end
    if at < len(text):
        rest = text[at:]
        full.append(rest)
        code.append(rest)
        bare.append(rest)
    return _without_imports(name, "".join(full), "".join(code), "".join(bare))


def _without_imports(name: str, full: str, code: str, bare: str) -> Source:
    """Import statements blanked: lines that start one, and its continuation lines while a bracket
    it opened is open (`from x import (\\n Forbidden,\\n)`, Go's `import (...)` block)."""
    is_import = _import_regex(name).match
    full_lines = full.split("\n")
    code_lines = code.split("\n")
    bare_lines = bare.split("\n")
    imports = [m.group(1) for m in _REQUIRE.finditer(full, 0, _IMPORTS_READ)]
    depth = 0
    for i, line in enumerate(full_lines):
        if depth <= 0 and not is_import(line):
            continue
        depth = max(depth, 0) + depth_change(bare_lines[i])
        imports.extend(_module_paths(line, name == "python"))
        code_lines[i] = bare_lines[i] = ""
    return Source(name, "\n".join(code_lines), "\n".join(bare_lines), tuple(imports))


# `require('...')` anywhere (`var request = require('supertest')\n  , app = require('../app')`),
# `require_relative '...'`, `import('...')`: looked for in the first part of a file.
_REQUIRE = re.compile(
    r"""\b(?:require(?:_relative)?|import)[ \t]*\(?[ \t]*["'`]([^"'`\n]{1,300})["'`]"""
)
_IMPORTS_READ = 20_000
_QUOTED_MODULE = re.compile(r"""[\"'`]([^\"'`\n]{1,300})[\"'`]""")
_PYTHON_MODULE = re.compile(r"^\s*(?:from\s+([\w.]{1,300})\s+import|import\s+([\w.]{1,300}))")


def _module_paths(line: str, python_file: bool) -> list[str]:
    found = [m.group(1) for m in _QUOTED_MODULE.finditer(line)]
    python = _PYTHON_MODULE.match(line) if python_file else None
    if python:
        found.append(python.group(1) or python.group(2))
    return found


def resolve(test_path: str, module: str) -> str | None:
    """The repository path a module names from a test file, when it is a path: relative
    (`../../examples/auth`) or a dotted Python module (`examples.auth`); None otherwise."""
    if module.startswith(("./", "../")):
        folder = test_path.rpartition("/")[0]
        joined = posixpath.normpath(posixpath.join(folder, module))
        return None if joined.startswith("..") or joined == "." else joined
    if re.fullmatch(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+", module):
        return module.replace(".", "/")
    return None
