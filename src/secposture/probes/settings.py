"""Shared by the settings probes: a setting observed through the API, or `unknown` saying what decides it."""

from __future__ import annotations

from secposture.facts.interface import Facts
from secposture.model import Finding, Location, Outcome
from secposture.probes.interface import finding
from secposture.sources.interface import Observation


def not_observed(facts: Facts, probe: str, decided_by: str) -> Finding | None:
    """`unknown` when the snapshot saw no settings at all (a checkout, no token), else None."""
    settings = facts.snapshot.settings
    if settings.observed:
        return None
    return finding(
        probe, Outcome.UNKNOWN, f"not observable: {settings.reason}; decided by {decided_by}"
    )


def observation_finding(
    probe: str, label: str, observation: Observation | None, decided_by: str
) -> Finding:
    """One on/off setting as a finding: on is positive, off negative, invisible unknown."""
    if observation is None:
        return finding(
            probe, Outcome.UNKNOWN, f"{label}: not reported by the API; decided by {decided_by}"
        )
    where = Location(api_field=observation.api_field)
    if observation.enabled is None:
        needs = observation.needs or "more access to the repository"
        return finding(
            probe, Outcome.UNKNOWN, f"{label}: not visible to this token (needs {needs})", where
        )
    if observation.enabled:
        return finding(probe, Outcome.POSITIVE, f"{label} is on", where)
    return finding(probe, Outcome.NEGATIVE, f"{label} is off", where)
