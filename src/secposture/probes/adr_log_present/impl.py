from __future__ import annotations

from secposture import catalogue
from secposture.facts import adrs
from secposture.facts.interface import Facts
from secposture.model import Finding, Location, Outcome
from secposture.probes.interface import finding, probe_id

PROBE = probe_id(__name__)
_FOLDERS_NAMED = 6


def looked_in() -> str:
    folders = catalogue.load("adr")["folders"]
    shown = ", ".join(f"{f}/" for f in folders[:_FOLDERS_NAMED])
    return f"{adrs.ADR_DIR_FILE}, {shown} and {len(folders) - _FOLDERS_NAMED} other usual folders"


def run(facts: Facts) -> list[Finding]:
    log = facts.get(adrs.collect)
    note = f" ({log.adr_dir_note})" if log.adr_dir_note else ""
    if log.adrs:
        counts: dict[str, int] = {}
        for adr in log.adrs:
            folder = next((f for f in log.folders if adr.path.startswith(f + "/")), "")
            counts[folder] = counts.get(folder, 0) + 1
        where = ", ".join(f"{f}/ ({n} ADR{'s' if n != 1 else ''})" for f, n in counts.items())
        return [
            finding(
                PROBE,
                Outcome.POSITIVE,
                f"ADR log in {where}{note}",
                Location(log.adrs[0].path, 1),
                adrs=str(len(log.adrs)),
            )
        ]
    if log.folders:
        return [
            finding(
                PROBE,
                Outcome.NEGATIVE,
                f"{folder}/ holds no ADRs: name each record NNNN-title.md (3 or more digits) or "
                f"give it MADR front matter (status, date){note}",
                Location(folder),
            )
            for folder in log.folders
        ]
    return [finding(PROBE, Outcome.NEGATIVE, f"no ADR log: looked for {looked_in()}{note}")]
