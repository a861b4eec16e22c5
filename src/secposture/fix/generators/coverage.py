"""Which languages lack a static analyser at a stage (pre-commit, CI, IDE), as the scan sees it."""

from __future__ import annotations

from secposture.facts import languages, tools
from secposture.facts.interface import Facts

STATIC_ANALYSIS = "static-analysis"


def uncovered(facts: Facts, stage: str) -> list[str]:
    """Languages present (catalogue order) that no static analyser covers at `stage`."""
    present = languages.analysed(facts)
    if not present:
        return []
    uses = [u for u in tools.uses_by_stage(facts)[stage] if u.has_purpose(STATIC_ANALYSIS)]
    return [name for name in present if not any(u.covers(name) for u in uses)]
