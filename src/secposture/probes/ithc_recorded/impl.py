from __future__ import annotations

from secposture.facts.interface import Facts
from secposture.model import Finding, Outcome
from secposture.probes.interface import finding

PROBE = "ithc-recorded"


def run(facts: Facts) -> list[Finding]:
    # ITHCs are not repository artefacts: only the register can decide this control.
    return [
        finding(
            PROBE,
            Outcome.UNKNOWN,
            "no register is connected: decided by a register record of an ITHC or pen test "
            "for the product that owns this repository (secposture register, with "
            "`secposture ithc record`)",
        )
    ]
