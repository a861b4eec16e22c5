"""A threat-model folder: the agenda of the first session, and `last_reviewed_on` front matter
for the date of each session.

The review itself cannot be generated: the front matter says the model is not reviewed yet, so
the threat-model control passes once the team has held the session and set the date, not
because a file appeared.
"""

from __future__ import annotations

from secposture.facts import threat_models
from secposture.fix import recipes
from secposture.fix.generators import Workspace
from secposture.fix.generators.files import render
from secposture.probes.threat_model_reviewed.impl import CONTROL, interval_months

CONTROLS = (CONTROL,)


def generate(ws: Workspace, targets: frozenset[str]) -> None:
    facts = ws.facts()
    models = facts.get(threat_models.collect)
    if models.artefacts:
        ws.skip(
            CONTROL,
            f"a threat model exists ({models.artefacts[0].path}): what is missing is a review; "
            "hold a threat-modelling session, then set its date in `last_reviewed_on` (or record "
            "it with `secposture threat-model record`)",
        )
        return
    path = str(recipes.files()["threat_model"])
    months = str(interval_months(facts))
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
        f"threat-model: hold the first session, then set its date as `last_reviewed_on` in "
        f"{path}; until then the scan can only date the threat model by its last commit",
    )
