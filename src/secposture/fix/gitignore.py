"""Re-including one generated file that the repository's .gitignore excludes (a git-ignored
`.vscode/` would make `git add -A` skip .vscode/extensions.json, and the scan would never see it).

Git decides: `git check-ignore` (through the project's one git runner, sources/local.py) names the
rule that excludes the file, the rule's .gitignore is edited as text (every other line kept), and
git is asked again with the edited text laid over the work tree, until nothing excludes the file.
A file cannot be re-included while a folder above it is excluded, so a rule that excludes the
folder (`.vscode/`) becomes one that excludes what is in it (`.vscode/*`), followed by the usual
exception (`!.vscode/extensions.json`); a broader rule (`.*`, `*`) is kept and the folder is
re-included under it. A rule of .git/info/exclude or of a global excludes file is not the
repository's to change: the answer then says so, and what to run instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from secposture.paths import folder_glob_regex
from secposture.sources.interface import IgnoreRule, Snapshot

MAX_EDITS = 4  # rules edited for one path before giving up (each edit must move git's answer)


@dataclass(frozen=True)
class Reinclusion:
    texts: dict[str, str]  # .gitignore path -> its new text
    changes: tuple[str, ...]  # for people: "`.vscode/` became `**/.vscode/*` ..."


@dataclass(frozen=True)
class CannotReinclude:
    reason: str


def matches(pattern: str, path: str, *, is_dir: bool) -> bool:
    """Whether a (non-negated) gitignore pattern matches `path`, relative to the pattern's file."""
    dir_only = pattern.endswith("/")
    body = pattern.rstrip("/")
    if not body or (dir_only and not is_dir):
        return False
    if "/" in body:  # anchored to the .gitignore's folder
        return folder_glob_regex(body.lstrip("/"), double_star=True).fullmatch(path) is not None
    return folder_glob_regex(body, double_star=True).fullmatch(path.rpartition("/")[2]) is not None


def _folder_rule(pattern: str, folder: str) -> bool:
    """A rule written for exactly this folder (`.vscode`, `.vscode/`, `/.vscode/`, `**/.vscode`)."""
    body = pattern.rstrip("/")
    return body in (folder, "/" + folder, "**/" + folder) and not any(c in folder for c in "*?[\\")


def _contents_rule(pattern: str) -> str:
    """The rule that excludes what is in the folder rather than the folder itself, matching at the
    same places: an unanchored `.vscode/` matches at any depth, so it becomes `**/.vscode/*`."""
    body = pattern.rstrip("/")
    if "/" not in body:
        body = "**/" + body
    return body + "/*"


def _escaped(path: str) -> str:
    return re.sub(r"([*?\[\\!# ])", r"\\\1", path)


def _rule_of(line: str) -> str | None:
    """The pattern a .gitignore line holds (None: blank or a comment), negations with their `!`."""
    stripped = line.rstrip("\r\n")
    # Trailing spaces are not part of a pattern unless escaped with a backslash.
    while stripped.endswith(" ") and not stripped.endswith("\\ "):
        stripped = stripped[:-1]
    if not stripped or stripped.startswith("#"):
        return None
    return stripped


def _folder_edit(lines: list[str], levels: list[str], file_rule: str, nl: str) -> tuple[str, str]:
    """`lines` (of a .gitignore whose rules exclude `levels[0]`, a folder above the file; the
    rest are the folders between it and the file) with the file re-included.

    The usual form where it says the same: each rule written for the file's own folder becomes one
    for what is in it, the exception after the last. Where the folder is excluded by a broader
    rule too, or a negation follows (it would start to work once the folder is no longer
    excluded), or the file is deeper down, the rules stay and a block at the end brings back each
    folder on the way with only the file."""
    folder = levels[0]
    rules = [(i, _rule_of(line)) for i, line in enumerate(lines)]
    excluding = [
        (i, rule)
        for i, rule in rules
        if rule is not None and not rule.startswith("!") and matches(rule, folder, is_dir=True)
    ]
    plain = len(levels) == 1 and all(_folder_rule(rule, folder) for _, rule in excluding)
    first = excluding[0][0] if excluding else len(lines)
    negation_after = any(r is not None and r.startswith("!") for i, r in rules if i > first)
    if excluding and plain and not negation_after:
        changed: list[str] = []
        for index, rule in excluding:
            contents = _contents_rule(rule)
            lines[index] = contents + nl
            changed.append(f"`{rule}` became `{contents}`")
        last = excluding[-1][0]
        lines.insert(last + 1, file_rule + nl)
        return "".join(lines), f"{'; '.join(changed)}; `{file_rule}` follows"
    block = [r for level in levels for r in (f"!/{_escaped(level)}/", f"/{_escaped(level)}/*")]
    block.append(file_rule)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += nl
    lines.extend(line + nl for line in block)
    return "".join(lines), f"`{', '.join(block)}` added at the end"


def edit(text: str, rule: IgnoreRule, path: str) -> tuple[str, str] | None:
    """The .gitignore `text` with `path` (a repository path) re-included after `rule` (git's
    answer for this file), and what was changed; None when the rule is not where git said."""
    lines = text.splitlines(keepends=True)
    if not 1 <= rule.line <= len(lines):
        return None
    raw = lines[rule.line - 1]
    if _rule_of(raw) != rule.pattern:
        return None
    nl = "\r\n" if raw.endswith("\r\n") else "\n"
    folder = rule.source.rpartition("/")[0]
    rel = path[len(folder) + 1 :] if folder else path
    parents = rel.split("/")[:-1]
    file_rule = "!" + (_escaped(rel) if "/" in rel else "/" + _escaped(rel))
    for depth in range(1, len(parents) + 1):
        parent = "/".join(parents[:depth])
        if matches(rule.pattern, parent, is_dir=True):
            levels = ["/".join(parents[:d]) for d in range(depth, len(parents) + 1)]
            edited, said = _folder_edit(lines, levels, file_rule, nl)
            return edited, f"{rule.source}: {said}"
    # The rule excludes the file itself: the exception goes right after it.
    if not raw.endswith("\n"):
        lines[rule.line - 1] = raw + nl
    lines.insert(rule.line, file_rule + nl)
    return "".join(lines), f"{rule.source}: `{file_rule}` follows `{rule.pattern}`"


def reinclude(
    snapshot: Snapshot,
    path: str,
    read: Callable[[str], str | None],
    planned: Mapping[str, str] | None = None,
) -> Reinclusion | CannotReinclude | None:
    """What makes `git add` take `path`: None when nothing excludes it, the .gitignore edits, or
    why they cannot be made. `read` gives the text of a tracked .gitignore (None: not tracked or
    not readable); `planned`, .gitignore texts already planned (laid over the work tree). Raises
    OSError when git cannot be asked."""
    texts: dict[str, str] = dict(planned or {})
    changed: set[str] = set()
    changes: list[str] = []
    for _ in range(MAX_EDITS + 1):
        rule = snapshot.ignored_by(path, texts or None)
        if rule is None:
            mine = {p: t for p, t in texts.items() if p in changed}
            return Reinclusion(mine, tuple(changes)) if mine else None
        if not rule.in_work_tree:
            where = (
                ".git/info/exclude"
                if rule.source.replace("\\", "/").endswith("/info/exclude")
                else f"the excludes file {rule.source} (core.excludesFile)"
            )
            return CannotReinclude(
                f"{path} is ignored by {where}, line {rule.line}, outside the repository's "
                f".gitignore files, which fix does not edit: add it with `git add -f {path}`"
            )
        current = texts.get(rule.source)
        if current is None:
            current = read(rule.source)
        if current is None:
            return CannotReinclude(
                f"{path} is ignored by {rule.source}, line {rule.line}, which is not tracked by git "
                f"or cannot be read: add an exception for it there, or `git add -f {path}`"
            )
        edited = edit(current, rule, path)
        if edited is None or edited[0] == current or len(changes) >= MAX_EDITS:
            return CannotReinclude(
                f"{path} is ignored by {rule.source}, line {rule.line} (`{rule.pattern[:80]}`), "
                f"and an exception there did not re-include it: add one by hand, or "
                f"`git add -f {path}`"
            )
        texts[rule.source] = edited[0]
        changed.add(rule.source)
        changes.append(edited[1])
    return None  # not reached: the loop returns
