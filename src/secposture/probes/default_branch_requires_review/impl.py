from __future__ import annotations

from secposture.facts.interface import Facts
from secposture.model import Finding
from secposture.probes.settings import settings_finding

PROBE = "default-branch-requires-review"
SETTING = "default_branch_requires_review"
DECIDED_BY = "branch protection or rulesets on the default branch (reading classic protection needs admin access)"


def run(facts: Facts) -> list[Finding]:
    return [settings_finding(facts, PROBE, SETTING, DECIDED_BY)]
