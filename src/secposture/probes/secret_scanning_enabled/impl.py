from __future__ import annotations

from secposture.facts.interface import Facts
from secposture.model import Finding
from secposture.probes.interface import probe_id
from secposture.probes.settings import not_observed, observation_finding

PROBE = probe_id(__name__)
DECIDED_BY = "the repository settings security_and_analysis.secret_scanning and secret_scanning_push_protection"


def run(facts: Facts) -> list[Finding]:
    unknown = not_observed(facts, PROBE, DECIDED_BY)
    if unknown is not None:
        return [unknown]
    settings = facts.snapshot.settings
    return [
        observation_finding(PROBE, "secret scanning", settings.secret_scanning, DECIDED_BY),
        observation_finding(
            PROBE, "push protection", settings.secret_scanning_push_protection, DECIDED_BY
        ),
    ]
