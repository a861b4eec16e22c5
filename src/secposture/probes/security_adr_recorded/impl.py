from __future__ import annotations

from secposture.facts import adrs
from secposture.facts.interface import Facts
from secposture.model import Finding, Location, Outcome
from secposture.probes.interface import finding

PROBE = "security-adr-recorded"
_NAMED = 3


def _positive(adr: adrs.Adr) -> Finding:
    line = next((r.line for r in adr.reasons if r.line), adr.title_line or 1)
    why = "; ".join(r.text for r in adr.reasons)
    return finding(
        PROBE,
        Outcome.POSITIVE,
        f'{adr.path} ("{adr.title[:120]}") records a security decision: {why}',
        Location(adr.path, line),
        adr=adr.path,
    )


def _not_counted(log: adrs.AdrLog) -> str:
    """ADRs on security that record no decision in force (proposed, sign-posts), named."""
    shown = [a for a in log.adrs if a.reasons and a.not_a_decision is not None]
    if not shown:
        return ""
    named = "; ".join(f"{a.path}: {a.not_a_decision}" for a in shown[:_NAMED])
    more = f"; and {len(shown) - _NAMED} more" if len(shown) > _NAMED else ""
    return f" (not counted, though on security: {named}{more})"


def run(facts: Facts) -> list[Finding]:
    log = facts.get(adrs.collect)
    if not log.adrs:
        return [
            finding(
                PROBE, Outcome.NEGATIVE, "no ADR log, so no security decision is recorded as an ADR"
            )
        ]
    security = [a for a in log.adrs if a.security]
    if security:
        return [_positive(a) for a in security]
    folders = ", ".join(f"{f}/" for f in log.folders)
    count = len(log.adrs)
    return [
        finding(
            PROBE,
            Outcome.NEGATIVE,
            f"none of the {count} ADR{'s' if count != 1 else ''} in {folders} records a security "
            "decision: none is tagged `security`, and no title or Decision section is about "
            "security (authentication, encryption, secrets, access control, ...); a word said in "
            f"passing elsewhere does not count{_not_counted(log)}",
            Location(log.folders[0]) if log.folders else None,
        )
    ]
