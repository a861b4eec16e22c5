from __future__ import annotations

from secposture.facts import adrs
from secposture.facts.interface import Facts
from secposture.model import Finding, Location, Outcome
from secposture.probes.interface import finding

PROBE = "security-adr-recorded"


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
            "decision: none is tagged `security`, and no title or Decision section uses a security "
            "keyword (authentication, encryption, secrets, access control, ...)",
            Location(log.folders[0]) if log.folders else None,
        )
    ]
