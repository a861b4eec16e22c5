from __future__ import annotations

from secposture.facts import adrs
from secposture.facts.interface import Facts
from secposture.model import Finding, Location, Outcome
from secposture.probes.interface import finding, probe_id

PROBE = probe_id(__name__)
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
    """ADRs on security that record no decision in force (proposed, sign-posts), named (those
    fix generated are named on their own, first)."""
    shown = [
        a for a in log.adrs if a.reasons and a.not_a_decision is not None and a.generated is None
    ]
    if not shown:
        return ""
    named = "; ".join(f"{a.path}: {a.not_a_decision}" for a in shown[:_NAMED])
    more = f"; and {len(shown) - _NAMED} more" if len(shown) > _NAMED else ""
    return f" (not counted, though on security: {named}{more})"


def _only_generated(log: adrs.AdrLog, ours: adrs.Adr, folders: str) -> Finding:
    """The only ADR on security is one fix generated: the team's next step, in order."""
    template = next(
        (t for t in log.templates if t.rpartition("/")[0] == ours.path.rpartition("/")[0]),
        log.templates[0] if log.templates else None,
    )
    shape = f" ({template} gives the shape)" if template else ""
    return finding(
        PROBE,
        Outcome.NEGATIVE,
        f"no ADR in {folders} records a security decision of the team: record one the team "
        f"has made in an ADR of its own, tagged `security`, status Accepted{shape}; {ours.path} "
        f"{ours.not_the_teams}{_not_counted(log)}",
        Location(ours.path, ours.generated),
        adr=ours.path,
        generated=ours.path,
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
    ours = next((a for a in log.adrs if a.reasons and a.generated is not None), None)
    if ours is not None:
        return [_only_generated(log, ours, folders)]
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
