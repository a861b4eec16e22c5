"""Shared by the settings probes: a setting read from the snapshot, or `unknown` saying what decides it."""

from __future__ import annotations

from secposture.facts.interface import Facts
from secposture.model import Finding, Location, Outcome
from secposture.probes.interface import finding


def settings_finding(facts: Facts, probe: str, setting: str, decided_by: str) -> Finding:
    settings = facts.snapshot.settings
    values = settings.values or {}
    if not settings.observed or setting not in values:
        return finding(
            probe, Outcome.UNKNOWN, f"not observable: {settings.reason}; decided by {decided_by}"
        )
    value = values[setting]
    where = Location(api_field=setting)
    if value is True:
        return finding(probe, Outcome.POSITIVE, f"{setting} is on", where)
    if value is None:
        return finding(probe, Outcome.UNKNOWN, f"{setting} is not visible to this token", where)
    return finding(probe, Outcome.NEGATIVE, f"{setting} is off", where)
