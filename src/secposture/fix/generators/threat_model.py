"""A threat-model folder: the agenda of the first session, and `last_reviewed_on` front matter
for the date of each session.

The review itself cannot be generated: the front matter says the model is not reviewed yet and
carries the `generated_by` marker, so the threat-model control fails ("template present, no
session recorded") until the team has held the session and set its date, or recorded it in the
register; a commit of the file is no review (ADR 0015).
"""

from __future__ import annotations

from secposture.facts import threat_models
from secposture.fix import recipes
from secposture.fix.generators import Workspace
from secposture.fix.generators.files import render

CONTROL = "threat-model"
CONTROLS = (CONTROL,)


def generate(ws: Workspace, targets: frozenset[str]) -> None:
    facts = ws.facts()
    models = facts.get(threat_models.collect)
    if models.artefacts:
        ws.skip(CONTROL, _what_is_missing(models))
        return
    path = str(recipes.files()["threat_model"])
    months = str(facts.policy.interval_months(CONTROL))
    text = render("threat-model.md", repository=ws.base.target.name, interval=months)
    ws.write(
        path,
        text,
        CONTROL,
        "the threat-model folder, with the agenda of the first session and "
        "`last_reviewed_on` front matter to set once it is held (the control passes then)",
    )
    ws.note(
        CONTROL,
        f"threat-model: hold the first session, then set its date as `last_reviewed_on: "
        f"YYYY-MM-DD` in {path} (or record it: `secposture threat-model record`); until then the "
        "control fails: the template records no session, and committing it is no review",
    )


def _what_is_missing(models: threat_models.ThreatModels) -> str:
    """Why nothing is generated where a threat model exists: what a person has to do instead."""
    first = models.artefacts[0].path
    record = "or record it with `secposture threat-model record`"
    if models.only_templates:
        return (
            f"{first} is the template secposture fix generated: hold the session, then set "
            f"`last_reviewed_on: YYYY-MM-DD` in it to the session's date ({record})"
        )
    if threat_models.latest_review(models) is None:
        return (
            f"a threat model exists ({first}) but records no review date: write the date of the "
            f"last session as `last_reviewed_on: YYYY-MM-DD` front matter ({record})"
        )
    return (
        f"a threat model exists ({first}): what is missing is a review; hold a "
        f"threat-modelling session, then set its date in `last_reviewed_on` ({record})"
    )
