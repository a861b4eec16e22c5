""".vscode/extensions.json: recommend an analyser's editor extension for each language the IDE
does not analyse yet (VS Code offers to install recommended extensions when the folder opens).

An existing file (JSON with comments, as VS Code allows) is edited as text: the new ids are
inserted at the start of `recommendations` (or a `recommendations` member is added), so comments
and layout survive; the result must read back as the old data plus the new ids. A new file that
the repository's .gitignore excludes (a git-ignored `.vscode/`) gets the usual exception there
(fix/generators/git_add.py), so that `git add -A` takes it.
"""

from __future__ import annotations

import json
from typing import Any

from secposture.facts import tools
from secposture.facts.ide import parse_jsonc
from secposture.fix import recipes
from secposture.fix.generators import Workspace
from secposture.fix.generators.coverage import uncovered
from secposture.fix.generators.git_add import make_addable

STATIC = "static-analysis"
CONTROLS = (STATIC,)
KEY = "recommendations"


class JsonEditError(ValueError):
    pass


def _wanted(ws: Workspace) -> tuple[list[str], list[str]]:
    """Extension ids to recommend, and the languages they cover."""
    ids: dict[str, None] = {}
    covered: list[str] = []
    for language in uncovered(ws.facts(), tools.IDE):
        recipe = recipes.language(language)
        if recipe is None or not recipe.extensions:
            ws.skip(STATIC, f"no editor extension is known for {language}: recommend one by hand")
            continue
        ids.update(dict.fromkeys(recipe.extensions))
        covered.append(language)
    return list(ids), covered


def generate(ws: Workspace, targets: frozenset[str]) -> None:
    path = str(recipes.files()["vscode_extensions"])
    ids, languages = _wanted(ws)
    if not ids:
        return
    usable, text = ws.existing_text(path, STATIC)
    if not usable:
        return
    if text is None:
        new = json.dumps({KEY: ids}, indent=2) + "\n"
    else:
        try:
            new = add_recommendations(text, ids)
        except JsonEditError as exc:
            ws.skip(STATIC, f"{path} {exc}: recommend {', '.join(ids)} by hand")
            return
        if new == text:
            return
    ws.write(
        path,
        new,
        STATIC,
        f"recommended {', '.join(ids)} (the editor analyses {', '.join(languages)})",
    )
    make_addable(ws, path, STATIC)


# --- editing JSON with comments as text ----------------------------------------------------------


def _skip_string(text: str, i: int) -> int:
    """The index after the string literal starting at `i`."""
    i += 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == '"':
            return i + 1
        i += 1
    raise JsonEditError("has an unterminated string")


def _skip_space(text: str, i: int) -> int:
    """Past whitespace and comments."""
    while i < len(text):
        if text[i] in " \t\r\n":
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise JsonEditError("has an unterminated comment")
            i = end + 2
        else:
            return i
    return i


def _top_level_key(text: str, key: str) -> tuple[int, int]:
    """(index of the top-level object's `{`, index after `"key":` or -1 when absent)."""
    start = _skip_space(text, 0)
    if start >= len(text) or text[start] != "{":
        raise JsonEditError("is not a JSON object")
    depth = 0
    i = start
    expect_key = False
    while i < len(text):
        i = _skip_space(text, i)
        if i >= len(text):
            break
        ch = text[i]
        if ch == '"':
            end = _skip_string(text, i)
            if depth == 1 and expect_key:
                after = _skip_space(text, end)
                if json.loads(text[i:end]) == key and after < len(text) and text[after] == ":":
                    return start, after + 1
            expect_key = False
            i = end
            continue
        if ch in "{[":
            depth += 1
            expect_key = ch == "{" and depth == 1
        elif ch in "}]":
            depth -= 1
            if depth == 0:
                return start, -1
        elif ch == "," and depth == 1:
            expect_key = True
        i += 1
    raise JsonEditError("is not a complete JSON object")


def _line_indent(text: str, index: int) -> str:
    start = text.rfind("\n", 0, index) + 1
    line = text[start:index]
    return line[: len(line) - len(line.lstrip(" \t"))]


def add_recommendations(text: str, ids: list[str]) -> str:
    """`text` (JSON with comments) with `ids` added at the start of `recommendations`; ids it
    already recommends are not repeated. Raises JsonEditError when it cannot be done safely."""
    try:
        before = parse_jsonc(text)
    except ValueError as exc:
        raise JsonEditError(f"is not valid JSON ({exc})") from None
    if not isinstance(before, dict):
        raise JsonEditError("is not a JSON object")
    current = before.get(KEY, [])
    if not isinstance(current, list):
        raise JsonEditError(f"has a `{KEY}` that is not a list")
    have = {str(x).lower() for x in current if isinstance(x, str)}
    new_ids = [i for i in ids if i.lower() not in have]
    if not new_ids:
        return text
    nl = "\r\n" if "\r\n" in text else "\n"
    brace, value_at = _top_level_key(text, KEY)
    if value_at < 0:
        edited = _add_member(text, brace, new_ids, nl, has_members=bool(before))
    else:
        edited = _prepend_items(text, value_at, new_ids, nl, empty=not current)
    expected: dict[str, Any] = dict(before)
    expected[KEY] = new_ids + list(current)
    try:
        after = parse_jsonc(edited)
    except ValueError as exc:
        raise JsonEditError(f"could not be edited safely ({exc})") from None
    if after != expected:
        raise JsonEditError("could not be edited without changing what it already says")
    return edited


def _add_member(text: str, brace: int, ids: list[str], nl: str, *, has_members: bool) -> str:
    indent = _line_indent(text, brace) + "  "
    member = f"{nl}{indent}{json.dumps(KEY)}: {json.dumps(ids)}"
    return text[: brace + 1] + member + ("," if has_members else nl) + text[brace + 1 :]


def _prepend_items(text: str, value_at: int, ids: list[str], nl: str, *, empty: bool) -> str:
    bracket = _skip_space(text, value_at)
    if bracket >= len(text) or text[bracket] != "[":
        raise JsonEditError(f"has a `{KEY}` that is not a list")
    first = _skip_space(text, bracket + 1)  # the first item (or the closing bracket)
    key_indent = _line_indent(text, value_at)
    if empty:
        inner = key_indent + "  "
        items = ("," + nl).join(inner + json.dumps(i) for i in ids)
        return text[: bracket + 1] + nl + items + nl + key_indent + text[bracket + 1 :].lstrip(" ")
    same_line = "\n" not in text[bracket:first]
    if same_line:
        added = "".join(f"{json.dumps(i)}, " for i in ids)
        return text[: bracket + 1] + added + text[bracket + 1 :].lstrip(" ")
    inner = _line_indent(text, first) or key_indent + "  "
    added = "".join(f"{nl}{inner}{json.dumps(i)}," for i in ids)
    return text[: bracket + 1] + added + text[bracket + 1 :]
