"""CODEOWNERS: a stub that names one owner for everything, to be narrowed by the team."""

from __future__ import annotations

from secposture.facts import codeowners as codeowners_facts
from secposture.fix import recipes
from secposture.fix.generators import Workspace
from secposture.fix.generators.files import create_or_replace, render

CONTROL = "codeowners"
CONTROLS = (CONTROL,)


def generate(ws: Workspace, targets: frozenset[str]) -> None:
    found = ws.facts().get(codeowners_facts.collect)
    owner = ws.options.codeowner or str(recipes.files()["codeowners_placeholder"])
    placeholder = ws.options.codeowner is None
    what = "a CODEOWNERS stub making " + owner + " the owner of every path"
    if placeholder:
        what += f" (replace {owner} with the owning team, or pass --codeowner)"
    why = ""
    if found is not None:
        if found.problem is not None:
            why = found.problem.message
        elif found.errors:
            why = f"line {found.errors[0].line}: {found.errors[0].message}"
        else:
            why = "but has no rules"
    create_or_replace(
        ws,
        CONTROL,
        str(recipes.files()["codeowners"]),
        render("CODEOWNERS", owner=owner),
        what,
        existing=found.path if found is not None else None,
        why_exists=why,
    )
