"""An issue form that asks, at refinement, which OWASP Top 10 risks a change touches.

Written only where the repository has no issue templates: the team's own templates are theirs to
change (the skip says what to add). The form carries the `generated_by` marker, so ticket-security
stays partial until a person has tailored the questions to the product and deleted the line: a
question the tool wrote is not yet how the team refines its tickets (ADR 0015).
"""

from __future__ import annotations

import json

from secposture import refine
from secposture.facts import templates
from secposture.fix import recipes
from secposture.fix.generators import Workspace
from secposture.fix.generators.files import render

CONTROL = "ticket-security"
CONTROLS = (CONTROL,)
EDITION = refine.EDITIONS[0]  # the current edition
_NAMED = 3


def _owasp_options() -> str:
    """The checkbox options: one per category of the current edition, quoted for YAML."""
    return "\n".join(
        f"        - label: {json.dumps(f'{c.id} {c.title}')}" for c in refine.categories((EDITION,))
    )


def generate(ws: Workspace, targets: frozenset[str]) -> None:
    found = ws.facts().get(templates.collect)
    asking = [m for m in (templates.security_question(t) for t in found.issue) if m is not None]
    if any(m.owasp is not None and m.template.generated is None for m in asking):
        return
    ours = next((t for t in found.issue if t.generated is not None), None)
    if ours is not None:
        ws.skip(
            CONTROL,
            f"{ours.path} is the issue template secposture fix generated: tailor its questions to "
            f"the product, then remove its generated_by line (line {ours.generated})",
        )
        return
    if found.issue:
        names = ", ".join(t.path for t in found.issue[:_NAMED])
        more = f" and {len(found.issue) - _NAMED} more" if len(found.issue) > _NAMED else ""
        ws.skip(
            CONTROL,
            f"the team's issue templates ({names}{more}) are left as they are: add to the one "
            "used for new work a required question such as 'Which OWASP Top 10 risks does this "
            "change touch, and how does it handle them?'",
        )
        return
    path = str(recipes.files()["issue_template"])
    text = render(
        "issue-form-change.yml",
        edition=refine.edition_name(EDITION),
        owasp_options=_owasp_options(),
    )
    ws.write(
        path,
        text,
        CONTROL,
        "an issue form for new work that asks, at refinement, which OWASP Top 10 risks the "
        "change touches and how it handles them",
    )
    ws.note(
        CONTROL,
        f"ticket-security: {path} asks the OWASP Top 10 questions, but secposture wrote them, so "
        "the control is partial until a person adopts the form: tailor the questions to the "
        "product and remove the generated_by line",
    )
