"""What the repository sets up for editors: VS Code extension recommendations and settings (also in
dev containers and .code-workspace files) and JetBrains .idea/ files.

VS Code's files are JSON with comments and trailing commas, which `parse_jsonc` accepts. Tool
configuration files (ruff.toml, .eslintrc, `[tool.mypy]`) also count for the IDE, because editor
integrations read them; they are matched against the catalogue in facts/tools.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from secposture.facts.interface import Facts
from secposture.facts.parsing import load_parsed

EXTENSION_FILES = (".vscode/extensions.json",)
SETTINGS_FILES = (".vscode/settings.json",)
DEVCONTAINER_GLOBS = (
    ".devcontainer.json",
    ".devcontainer/devcontainer.json",
    ".devcontainer/*/devcontainer.json",
)
WORKSPACE_GLOB = "*.code-workspace"
IDEA_GLOBS = (".idea/*.xml", ".idea/*/*.xml")
MAX_IDEA_FILES = 40
MAX_SETTINGS = 2000
MAX_DEPTH = 20


@dataclass(frozen=True)
class Extension:
    id: str  # lower case: VS Code extension ids are case-insensitive
    path: str
    line: int | None


@dataclass(frozen=True)
class Setting:
    key: str  # a VS Code setting key; language blocks (`[python]`) are flattened away
    value: str  # JSON value as text: true, false, a string, items joined by commas
    path: str
    line: int | None


@dataclass
class IdeFacts:
    extensions: list[Extension] = field(default_factory=list)
    settings: list[Setting] = field(default_factory=list)
    idea_files: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # editor files read


def strip_jsonc(text: str) -> str:
    """JSON with `//` and `/* */` comments and trailing commas made plain JSON (lines kept)."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            end = i + 1
            while end < n and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            out.append(text[i : end + 1])
            i = end + 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            block = text[i : n if end < 0 else end + 2]
            out.append("\n" * block.count("\n"))
            i = n if end < 0 else end + 2
        else:
            out.append(ch)
            i += 1
    return _drop_trailing_commas("".join(out))


def _drop_trailing_commas(text: str) -> str:
    out: list[str] = []
    in_string = False
    i = 0
    while i < len(text):
        ch = text[i]
        if in_string:
            out.append(ch)
            if ch == "\\" and i + 1 < len(text):
                out.append(text[i + 1])
                i += 1
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
            out.append(ch)
        elif ch == ",":
            j = i + 1
            while j < len(text) and text[j] in " \t\r\n":
                j += 1
            if j >= len(text) or text[j] not in "]}":
                out.append(ch)
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def parse_jsonc(text: str) -> Any:
    """Parse VS Code's JSON with comments; raises ValueError with a reason and line."""
    try:
        return json.loads(strip_jsonc(text))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{exc.msg} (line {exc.lineno})") from None
    except RecursionError:
        raise ValueError("nested too deeply") from None


def load_jsonc(facts: Facts, path: str) -> Any | None:
    return load_parsed(facts, path, parse_jsonc, "JSON (comments allowed)")


def _line(text: str, needle: str) -> int | None:
    index = text.find(needle)
    return text.count("\n", 0, index) + 1 if index >= 0 else None


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_value_text(v) for v in value if not isinstance(v, dict | list))
    return "" if value is None else str(value)


def flatten_settings(node: Any, prefix: str = "", depth: int = 0) -> list[tuple[str, str]]:
    """(key, value text) pairs; `{"[python]": {...}}` blocks add their keys without the prefix."""
    if not isinstance(node, dict) or depth > MAX_DEPTH:
        return []
    out: list[tuple[str, str]] = []
    for raw_key, value in node.items():
        key = str(raw_key)
        full = prefix if key.startswith("[") else (f"{prefix}.{key}" if prefix else key)
        if isinstance(value, dict):
            out.extend(flatten_settings(value, full, depth + 1))
        else:
            out.append((full, _value_text(value)))
        if len(out) > MAX_SETTINGS:
            break
    return out


def extension_id(raw: str) -> str | None:
    """The extension a list entry installs: `publisher.name@1.2.3` pins a version of it (dev
    containers); `-publisher.name` asks for it NOT to be installed (dev container features), so
    it recommends nothing."""
    value = raw.strip()
    if not value or value.startswith("-"):
        return None
    value = value.partition("@")[0].strip().lower()
    return value or None


def _add_extensions(ide: IdeFacts, path: str, text: str, ids: Any) -> None:
    if not isinstance(ids, list):
        return
    for ext in ids[:MAX_SETTINGS]:
        if isinstance(ext, str):
            found = extension_id(ext)
            if found is not None:
                ide.extensions.append(Extension(found, path, _line(text, f'"{ext}"')))


def _add_settings(ide: IdeFacts, path: str, text: str, node: Any) -> None:
    for key, value in flatten_settings(node):
        leaf = key.rpartition(".")[2]
        ide.settings.append(
            Setting(key, value, path, _line(text, f'"{leaf}"') or _line(text, f'"{key}"'))
        )


def _get(node: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def collect(facts: Facts) -> IdeFacts:
    ide = IdeFacts()
    for path in facts.matching(*EXTENSION_FILES, among=facts.all_paths):
        doc = load_jsonc(facts, path)
        ide.files.append(path)
        _add_extensions(ide, path, facts.read(path) or "", _get(doc, "recommendations"))
    for path in facts.matching(*SETTINGS_FILES, among=facts.all_paths):
        doc = load_jsonc(facts, path)
        ide.files.append(path)
        _add_settings(ide, path, facts.read(path) or "", doc)
    for path in facts.matching(*DEVCONTAINER_GLOBS, among=facts.all_paths):
        if path.count("/") > 2:
            continue
        doc = load_jsonc(facts, path)
        text = facts.read(path) or ""
        ide.files.append(path)
        _add_extensions(ide, path, text, _get(doc, "customizations", "vscode", "extensions"))
        _add_extensions(ide, path, text, _get(doc, "extensions"))  # the pre-2022 form
        _add_settings(ide, path, text, _get(doc, "customizations", "vscode", "settings"))
    # VS Code opens a workspace file at the root only: the root's files are the candidates.
    for path in facts.matching(WORKSPACE_GLOB, among=facts.index.folders.get("", [])):
        doc = load_jsonc(facts, path)
        text = facts.read(path) or ""
        ide.files.append(path)
        _add_extensions(ide, path, text, _get(doc, "extensions", "recommendations"))
        _add_settings(ide, path, text, _get(doc, "settings"))
    ide.idea_files = sorted(facts.matching(*IDEA_GLOBS, among=facts.all_paths))[:MAX_IDEA_FILES]
    return ide
