"""A pull request template with a security checklist that asks about the OWASP Top 10."""

from __future__ import annotations

from secposture.facts import templates
from secposture.fix import recipes
from secposture.fix.generators import Workspace
from secposture.fix.generators.files import create_or_replace, render

CONTROL = "pr-template-security"
CONTROLS = (CONTROL,)


def generate(ws: Workspace, targets: frozenset[str]) -> None:
    found = ws.facts().get(templates.collect).pr
    if any(templates.security_checklist_item(t) is not None for t in found):
        return
    create_or_replace(
        ws,
        CONTROL,
        str(recipes.files()["pr_template"]),
        render("pull_request_template.md"),
        "a pull request template with a security checklist (OWASP Top 10, injection, "
        "authorisation, secrets, dependencies, tests, ADRs)",
        existing=found[0].path if found else None,
        why_exists="but has no security checklist item; add one such as `- [ ] I have "
        "considered which OWASP Top 10 risks this change touches`",
    )
