from __future__ import annotations

from secposture.facts.interface import Facts
from secposture.facts.security_policy import FOLDERS, PLACES
from secposture.model import Finding, Location, Outcome
from secposture.probes.interface import finding, probe_id

PROBE = probe_id(__name__)


def run(facts: Facts) -> list[Finding]:
    by_lower: dict[str, str] = {}
    for tracked in facts.index.in_folders(lambda folder: folder.lower() in FOLDERS):
        if tracked.lower() in PLACES:
            by_lower.setdefault(tracked.lower(), tracked)  # of names differing in case, the first
    for place in PLACES:
        path = by_lower.get(place)
        if path is None:
            continue
        text = facts.read(path)
        if text is None:
            problem = facts.problem_for(path)
            return [
                finding(
                    PROBE,
                    Outcome.NEGATIVE,
                    f"{path} {problem.message if problem else 'cannot be read'}",
                    Location(path),
                )
            ]
        if not text.strip():
            return [finding(PROBE, Outcome.NEGATIVE, f"{path} is empty", Location(path))]
        return [finding(PROBE, Outcome.POSITIVE, f"security policy in {path}", Location(path, 1))]
    return [finding(PROBE, Outcome.NEGATIVE, "no SECURITY.md in the root, .github/ or docs/")]
