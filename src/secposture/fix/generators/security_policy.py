"""SECURITY.md: how to report a vulnerability privately, and what happens next."""

from __future__ import annotations

from secposture.facts.security_policy import PLACES
from secposture.fix import recipes
from secposture.fix.generators import Workspace
from secposture.fix.generators.files import create_or_replace, render

CONTROL = "security-policy"
CONTROLS = (CONTROL,)


def generate(ws: Workspace, targets: frozenset[str]) -> None:
    by_lower = {p.lower(): p for p in ws.facts().all_paths if p.lower() in PLACES}
    existing = next((by_lower[p] for p in PLACES if p in by_lower), None)
    text = render("SECURITY.md")
    create_or_replace(
        ws,
        CONTROL,
        str(recipes.files()["security_policy"]),
        text,
        "a security policy saying how to report a vulnerability privately",
        existing=existing,
        why_exists="but is empty or unreadable",
    )
