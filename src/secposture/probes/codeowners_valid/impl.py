from __future__ import annotations

from secposture.facts import codeowners
from secposture.facts.interface import Facts
from secposture.model import Finding, Location, Outcome
from secposture.probes.interface import finding, probe_id
from secposture.text import plural

PROBE = probe_id(__name__)
_MAX_REPORTED = 5


def run(facts: Facts) -> list[Finding]:
    found = facts.get(codeowners.collect)
    if found is None:
        return [finding(PROBE, Outcome.NOT_APPLICABLE, "no CODEOWNERS file to check")]
    if found.problem is not None:
        return [
            finding(
                PROBE,
                Outcome.NEGATIVE,
                f"{found.path} cannot be used: {found.problem.message}",
                Location(found.path, found.problem.line),
            )
        ]
    if found.errors:
        return _errors(found)
    if not found.rules:
        return [
            finding(
                PROBE,
                Outcome.NEGATIVE,
                f"{found.path} has no rules: add a line such as `* @org/team`",
                Location(found.path),
            )
        ]
    owned = sum(1 for r in found.rules if r.owners)
    return [
        finding(
            PROBE,
            Outcome.POSITIVE,
            f"{found.path} parses: {plural(len(found.rules), 'rule')}, {owned} with owners",
            Location(found.path, found.rules[0].line),
        )
    ]


def _errors(found: codeowners.Codeowners) -> list[Finding]:
    out = [
        finding(
            PROBE,
            Outcome.NEGATIVE,
            f"{found.path}:{e.line}: {e.message}",
            Location(found.path, e.line),
        )
        for e in found.errors[:_MAX_REPORTED]
    ]
    if len(found.errors) > _MAX_REPORTED:
        more = len(found.errors) - _MAX_REPORTED
        out.append(
            finding(
                PROBE,
                Outcome.NEGATIVE,
                f"{found.path}: {more} more invalid lines (GitHub skips invalid lines)",
                Location(found.path),
            )
        )
    return out
