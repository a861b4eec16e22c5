from __future__ import annotations

from secposture.facts.interface import Facts
from secposture.model import Finding
from secposture.probes.settings import settings_finding

PROBE = "secret-scanning-enabled"
SETTING = "secret_scanning_enabled"
DECIDED_BY = "the repository settings security_and_analysis.secret_scanning and secret_scanning_push_protection"


def run(facts: Facts) -> list[Finding]:
    return [settings_finding(facts, PROBE, SETTING, DECIDED_BY)]
