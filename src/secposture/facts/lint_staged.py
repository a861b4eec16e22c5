"""lint-staged's configuration: for each glob, the commands it runs on the staged files the glob
matches (package.json `lint-staged`, `.lintstagedrc*`, `lint-staged.config.*`).

Read as data, never run: a JavaScript config is searched for `'glob': ['command', ...]` pairs of
string literals, and whatever it computes is not seen. Each command keeps its glob as a file
filter (file_filters.from_globs), so `"*.js": ["eslint"]` lints JavaScript, not TypeScript.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from secposture.facts import file_filters
from secposture.facts.interface import Facts
from secposture.facts.parsing import line_of, load_json, load_yaml

DATA_FILES = (".lintstagedrc", ".lintstagedrc.json", ".lintstagedrc.yaml", ".lintstagedrc.yml")
SCRIPT_FILES = (
    ".lintstagedrc.js", ".lintstagedrc.mjs", ".lintstagedrc.cjs",
    "lint-staged.config.js", "lint-staged.config.mjs", "lint-staged.config.cjs",
)  # fmt: skip
MAX_ENTRIES = 100
MAX_COMMANDS = 20
# `'*.{ts,js}': ['eslint --fix', 'prettier --write']` or `"*.css": "stylelint"` in a JS config.
_PAIR = re.compile(
    r"""(['"`])([^'"`\n]{1,200})\1\s*:\s*(\[[^\]]{0,4000}\]|(['"`])[^'"`\n]{1,1000}\4)"""
)
_STRING = re.compile(r"""(['"`])([^'"`\n]{1,1000})\1""")


@dataclass(frozen=True)
class Entry:
    glob: str
    command: str
    line: int | None
    file_filter: file_filters.FileFilter


@dataclass(frozen=True)
class LintStaged:
    path: str
    entries: tuple[Entry, ...]


def config_for(facts: Facts, cwd: str = "") -> LintStaged | None:
    """The lint-staged config lint-staged finds from `cwd` (a repository folder): the folder's
    own config files or package.json key, then the repository's top."""
    folders = [cwd.strip("/"), ""] if cwd.strip("/") else [""]
    for folder in folders:
        found = _in_folder(facts, folder)
        if found is not None:
            return found
    return None


def _in_folder(facts: Facts, folder: str) -> LintStaged | None:
    prefix = f"{folder}/" if folder else ""
    for name in DATA_FILES:
        path = prefix + name
        if facts.exists(path):
            doc = load_yaml(facts, path)  # JSON is YAML too
            return _from_mapping(path, folder, doc, facts.read(path) or "")
    for name in SCRIPT_FILES:
        path = prefix + name
        if facts.exists(path):
            return _from_script(path, folder, facts.read(path) or "")
    package = prefix + "package.json"
    if facts.exists(package):
        text = facts.read(package) or ""
        if '"lint-staged"' in text:
            doc = load_json(facts, package)
            block = doc.get("lint-staged") if isinstance(doc, dict) else None
            if isinstance(block, dict):
                return _from_mapping(package, folder, block, text, text.find('"lint-staged"'))
    return None


def _from_mapping(path: str, folder: str, doc: Any, text: str, after: int = 0) -> LintStaged:
    entries: list[Entry] = []
    if isinstance(doc, dict):
        for glob, value in list(doc.items())[:MAX_ENTRIES]:
            commands = value if isinstance(value, list) else [value]
            line = line_of(doc, glob) or _text_line(text, f'"{glob}"', after)
            for command in commands[:MAX_COMMANDS]:
                if isinstance(command, str) and command.strip():
                    entries.append(_entry(path, folder, str(glob), command, line))
    return LintStaged(path, tuple(entries))


def _from_script(path: str, folder: str, text: str) -> LintStaged:
    entries: list[Entry] = []
    for match in _PAIR.finditer(text[:200_000]):
        glob, value = match.group(2), match.group(3)
        line = text.count("\n", 0, match.start()) + 1
        commands = (
            [m.group(2) for m in _STRING.finditer(value)]
            if value.startswith("[")
            else [value[1:-1]]
        )
        for command in commands[:MAX_COMMANDS]:
            entries.append(_entry(path, folder, glob, command, line))
        if len(entries) >= MAX_ENTRIES * MAX_COMMANDS:
            break
    return LintStaged(path, tuple(entries))


def _entry(path: str, folder: str, glob: str, command: str, line: int | None) -> Entry:
    where = f"{path}:{line}" if line else path
    flt = file_filters.from_globs([glob], base=folder, origin=where)
    return Entry(glob, command.strip(), line, flt)


def _text_line(text: str, needle: str, after: int = 0) -> int | None:
    index = text.find(needle, max(after, 0))
    return text.count("\n", 0, index) + 1 if index >= 0 else None
