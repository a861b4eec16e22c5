from __future__ import annotations

from secposture.facts import codeowners
from secposture.facts.interface import Facts
from secposture.model import Finding, Location, Outcome
from secposture.probes.interface import finding, probe_id

PROBE = probe_id(__name__)


def run(facts: Facts) -> list[Finding]:
    found = facts.get(codeowners.collect)
    if found is None:
        return [
            finding(PROBE, Outcome.NEGATIVE, "no CODEOWNERS file in .github/, the root or docs/")
        ]
    message = f"CODEOWNERS file {found.path}"
    if found.ignored:
        # GitHub reads only the first; the others mislead whoever edits them.
        message += f" (GitHub ignores {', '.join(found.ignored)})"
    return [finding(PROBE, Outcome.POSITIVE, message, Location(found.path))]
