"""Git hooks that Node tooling installs, besides the pre-commit framework: husky (`.husky/
pre-commit`, or husky 4's `husky.hooks` in package.json), simple-git-hooks, and the npm
`pre-commit` package (`"pre-commit": ["lint"]` runs those npm scripts). The commands they run
on commit, with their indirection expanded (`npx lint-staged` -> each glob's commands).

A package.json block whose hook manager is not a dependency installs nothing and is left out: a
`lint-staged` block alone runs only when something calls lint-staged.
"""

from __future__ import annotations

from typing import Any

from secposture.facts.interface import Facts
from secposture.facts.parsing import load_json
from secposture.facts.scripts import Command, Expander

HUSKY_HOOK = ".husky/pre-commit"
_DEPENDENCY_KEYS = ("dependencies", "devDependencies", "optionalDependencies")


def collect(facts: Facts) -> list[Command]:
    """The commands the repository's Node-installed git hooks run on commit."""
    expander = Expander(facts)
    out: list[Command] = []
    if facts.exists(HUSKY_HOOK):
        text = facts.read(HUSKY_HOOK)
        if text is not None:
            out.extend(expander.expand(text, HUSKY_HOOK, 1))
    doc = load_json(facts, "package.json") if facts.exists("package.json") else None
    if not isinstance(doc, dict):
        return out
    text = facts.read("package.json") or ""
    deps = _dependencies(doc)
    husky = doc.get("husky")
    hooks = husky.get("hooks") if isinstance(husky, dict) else None
    if "husky" in deps and isinstance(hooks, dict) and isinstance(hooks.get("pre-commit"), str):
        line = _line(text, '"pre-commit"', text.find('"husky"'))
        out.extend(expander.expand(hooks["pre-commit"], "package.json", line))
    simple = doc.get("simple-git-hooks")
    if "simple-git-hooks" in deps and isinstance(simple, dict):
        command = simple.get("pre-commit")
        if isinstance(command, str):
            line = _line(text, '"pre-commit"', text.find('"simple-git-hooks"'))
            out.extend(expander.expand(command, "package.json", line))
    names = doc.get("pre-commit")
    if "pre-commit" in deps and isinstance(names, str | list):
        line = _line(text, '"pre-commit"')
        for name in [names] if isinstance(names, str) else names[:50]:
            if isinstance(name, str) and name.strip():
                out.extend(expander.expand(f"npm run {name.strip()}", "package.json", line))
    return out


def _dependencies(doc: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for key in _DEPENDENCY_KEYS:
        table = doc.get(key)
        if isinstance(table, dict):
            found.update(str(name) for name in table)
    return found


def _line(text: str, needle: str, after: int = 0) -> int | None:
    index = text.find(needle, max(after, 0))
    return text.count("\n", 0, index) + 1 if index >= 0 else None
