from __future__ import annotations

from secposture.facts.interface import Facts
from secposture.model import Finding
from secposture.probes.settings import settings_finding

PROBE = "dependabot-security-updates-enabled"
SETTING = "dependabot_security_updates"
DECIDED_BY = "the repository setting security_and_analysis.dependabot_security_updates"


def run(facts: Facts) -> list[Finding]:
    return [settings_finding(facts, PROBE, SETTING, DECIDED_BY)]
