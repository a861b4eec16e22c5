from __future__ import annotations

from secposture.facts.interface import Facts
from secposture.model import Finding, Outcome
from secposture.probes.interface import probe_id
from secposture.probes.settings import not_observed, observation_finding

PROBE = probe_id(__name__)
DECIDED_BY = "the repository setting security_and_analysis.dependabot_security_updates"


def run(facts: Facts) -> list[Finding]:
    unknown = not_observed(facts, PROBE, DECIDED_BY)
    if unknown is not None:
        return [unknown]
    settings = facts.snapshot.settings
    found = observation_finding(
        PROBE, "Dependabot security updates", settings.dependabot_security_updates, DECIDED_BY
    )
    alerts = settings.vulnerability_alerts
    if found.outcome is Outcome.NEGATIVE and alerts is not None and alerts.enabled is False:
        # Security updates need alerts first: say so, since enabling one alone is refused.
        found = observation_finding(
            PROBE,
            "Dependabot security updates (and the vulnerability alerts they need)",
            settings.dependabot_security_updates,
            DECIDED_BY,
        )
    return [found]
