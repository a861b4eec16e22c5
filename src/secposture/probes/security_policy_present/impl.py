from __future__ import annotations

from secposture.facts.interface import Facts
from secposture.model import Finding, Location, Outcome
from secposture.probes.interface import finding, probe_id

PROBE = probe_id(__name__)
# GitHub shows the first of these it finds; names are matched case-insensitively, as GitHub does.
PLACES = ("security.md", ".github/security.md", "docs/security.md", "security.rst", "security.txt")
_FOLDERS = frozenset(p.rpartition("/")[0] for p in PLACES)


def run(facts: Facts) -> list[Finding]:
    by_lower: dict[str, str] = {}
    for tracked in facts.index.in_folders(lambda folder: folder.lower() in _FOLDERS):
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
