from __future__ import annotations

from secposture.facts.interface import Facts
from secposture.model import Finding, Location, Outcome
from secposture.probes.interface import finding, probe_id
from secposture.probes.register_records import duty_verdict, not_connected_reason, register_dated

PROBE = probe_id(__name__)
CONTROL = "ithc"


def run(facts: Facts) -> list[Finding]:
    # ITHCs are not repository artefacts: only the register can decide this control.
    reason = not_connected_reason(facts)
    if reason is not None or facts.records is None:
        return [
            finding(
                PROBE,
                Outcome.UNKNOWN,
                f"{reason}: decided by a register record of an ITHC or pen test for the product "
                "that owns this repository (`secposture ithc record`)",
            )
        ]
    months = facts.policy.interval_months(CONTROL)
    found = []
    for product in facts.records.products:
        verdict = duty_verdict(
            "ITHC or pen test",
            product.product,
            register_dated(product.assurance),
            register_dated(product.major_change),
            months,
            facts.today,
        )
        record = product.assurance.record if product.assurance else None
        where = Location(record=f"register {record}") if record else None
        outcome = Outcome.POSITIVE if verdict.ok else Outcome.NEGATIVE
        found.append(finding(PROBE, outcome, verdict.message, where))
    return found
