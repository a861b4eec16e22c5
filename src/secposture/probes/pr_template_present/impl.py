from __future__ import annotations

from secposture.facts import templates
from secposture.facts.interface import Facts
from secposture.model import Finding, Location, Outcome
from secposture.probes.interface import finding, probe_id

PROBE = probe_id(__name__)
NONE_FOUND = (
    "no pull request template: looked for pull_request_template.md in the root, .github/ and "
    "docs/, and for .github/PULL_REQUEST_TEMPLATE/*.md"
)


def run(facts: Facts) -> list[Finding]:
    found = facts.get(templates.collect).pr
    if not found:
        return [finding(PROBE, Outcome.NEGATIVE, NONE_FOUND)]
    names = ", ".join(t.path for t in found)
    return [
        finding(PROBE, Outcome.POSITIVE, f"pull request template: {names}", Location(found[0].path))
    ]
