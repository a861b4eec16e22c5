"""An ADR log with a proposal to record security decisions, and a template for them.

In the folder the repository already uses for ADRs (else docs/adr/): the next ADR number, in the
log's own numbering (`0007-...md`, `adr-012-...md`), proposes recording security decisions as
ADRs, tagged `security`; `template.md` beside it gives the shape of one. Both carry the
`generated_by` marker: neither is a decision of the team, so security-adrs still fails until the
team records one (or accepts the proposal and deletes the marker, ADR 0015).
"""

from __future__ import annotations

import re

from secposture.facts import adrs
from secposture.fix import recipes
from secposture.fix.generators import Workspace
from secposture.fix.generators.files import render

CONTROL = "security-adrs"
CONTROLS = (CONTROL,)
SLUG = "record-security-decisions"
_NUMBER = re.compile(r"^((?:adr[-_ ]?)?)(\d{3,})([-_ .])", re.IGNORECASE)
_SAFE_FOLDER = re.compile(r"[A-Za-z0-9_./-]{1,200}")


def _numbering(log: adrs.AdrLog, folder: str) -> tuple[str, int, int, str]:
    """(prefix, next number, digits, separator) for a new ADR in `folder`."""
    prefix, width, sep, highest = "", 4, "-", 0
    for adr in log.adrs:
        if adr.path.rpartition("/")[0] != folder:
            continue
        match = _NUMBER.match(adr.path.rpartition("/")[2])
        if match is None:
            continue
        number = int(match.group(2))
        if number >= highest:
            prefix, width, sep, highest = (
                match.group(1),
                len(match.group(2)),
                match.group(3),
                number,
            )
    return prefix, highest + 1, width, "-" if sep in (" ", ".") else sep


def generate(ws: Workspace, targets: frozenset[str]) -> None:
    log = ws.facts().get(adrs.collect)
    if any(a.security for a in log.adrs):
        return
    ours = next((a for a in log.adrs if a.reasons and a.generated is not None), None)
    if ours is not None:
        ws.skip(
            CONTROL,
            f"{ours.path} {ours.not_the_teams}; record a security decision the team has made in "
            "an ADR of its own (tagged security, status Accepted)",
        )
        return
    pending = next((a for a in log.adrs if a.reasons and a.not_a_decision), None)
    if pending is not None:
        # A proposed security ADR is what the team has to accept: a second one would not help.
        ws.skip(CONTROL, f"{pending.path} is on security but {pending.not_a_decision}: accept it")
        return
    folder = log.folders[0] if log.folders else str(recipes.files()["adr_folder"])
    if not _SAFE_FOLDER.fullmatch(folder) or ".." in folder.split("/"):
        ws.skip(CONTROL, f"the ADR folder {folder!r} has an unusual name: add the ADR by hand")
        return
    prefix, number, width, sep = _numbering(log, folder)
    name = f"{prefix}{number:0{width}d}{sep}{SLUG}.md"
    path = f"{folder}/{name}"
    template = f"{folder}/{recipes.files()['adr_template']}"
    if ws.exists(path):
        ws.skip(CONTROL, f"{path} exists but is not read as an ADR: check its name and title")
        return
    text = render(
        "adr-0001.md",
        number=str(number),
        today=ws.today.isoformat(),
        template=template.rpartition("/")[2],
    )
    where = "a new ADR log in " + folder + "/" if not log.adrs else f"the ADR log in {folder}/"
    # Generated, it is a proposal of the tool's: a decision exists once the team makes one.
    ws.note(
        CONTROL,
        f"security-adrs: {path} is a proposal written by secposture fix, not a decision, so the "
        "control still fails: record a security decision the team has made as the next ADR "
        f"({template} gives the shape: tag it security, status Accepted); once the team agrees "
        f"with {name}, set its status to Accepted and remove the generated_by line",
    )
    ws.write(
        path,
        text,
        CONTROL,
        f"ADR {number}, the decision to record security decisions as ADRs "
        f"(tagged security), in {where}",
    )
    if not ws.exists(template):
        ws.write(
            template,
            render("adr-template.md"),
            CONTROL,
            "a template for security decisions (threats considered, "
            "options, decision, residual risk)",
        )
