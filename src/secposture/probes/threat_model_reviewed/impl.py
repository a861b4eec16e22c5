from __future__ import annotations

from secposture.dates import add_months
from secposture.facts import threat_models
from secposture.facts.interface import Facts
from secposture.model import Finding, Location, Outcome
from secposture.probes.interface import finding
from secposture.probes.register_records import (
    Dated,
    duty_verdict,
    not_connected_reason,
    register_dated,
)

PROBE = "threat-model-reviewed"
CONTROL = "threat-model"
DEFAULT_INTERVAL_MONTHS = 6
_NAMED = 3


def interval_months(facts: Facts) -> int:
    control = facts.policy.controls.get(CONTROL)
    months = control.interval_months if control is not None else None
    return months if months else DEFAULT_INTERVAL_MONTHS


def _artefact_list(models: threat_models.ThreatModels) -> str:
    shown = [f"{a.path} ({a.kind})" for a in models.artefacts[:_NAMED]]
    more = len(models.artefacts) - _NAMED
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _notes(models: threat_models.ThreatModels) -> str:
    notes = [f"{a.path}: {a.note}" for a in models.artefacts if a.note]
    return f" (not used: {'; '.join(notes[:_NAMED])})" if notes else ""


def run(facts: Facts) -> list[Finding]:
    if not_connected_reason(facts) is None:
        return _with_register(facts)
    models = facts.get(threat_models.collect)
    if not models.artefacts:
        return [
            finding(
                PROBE,
                Outcome.NEGATIVE,
                f"no threat model found: looked in {threat_models.looked_in()} and for pytm "
                "(tm.py, threat_model.py), Threagile (threagile.yaml), Threat Dragon "
                "(*.threatdragon.json) and Open Threat Model (*.otm.json/yaml) files; a register "
                "record of a threat-modelling session also counts (`secposture threat-model "
                "record`)",
            )
        ]
    review = threat_models.latest_review(facts, models)
    if review is None:
        return [
            finding(
                PROBE,
                Outcome.UNKNOWN,
                f"threat model found ({_artefact_list(models)}) but no review date can be known: it "
                "records none and there is no git history to date it; add `last_reviewed_on: "
                f"YYYY-MM-DD` front matter, or scan a git checkout{_notes(models)}",
                Location(models.artefacts[0].path),
            )
        ]
    months = interval_months(facts)
    due = add_months(review.day, months)
    where = Location(review.path, review.line)
    said = f"threat model last reviewed on {review.day.isoformat()} ({review.source})"
    values = {"reviewed": review.day.isoformat(), "due": due.isoformat(), "source": review.source}
    if due >= facts.today:
        return [
            finding(
                PROBE,
                Outcome.POSITIVE,
                f"{said}; next review due by {due.isoformat()} (every {months} months)"
                f"{_notes(models)}",
                where,
                **values,
            )
        ]
    return [
        finding(
            PROBE,
            Outcome.NEGATIVE,
            f"{said}; review overdue since {due.isoformat()} (every {months} months)"
            f"{_notes(models)}",
            where,
            **values,
        )
    ]


def _with_register(facts: Facts) -> list[Finding]:
    """Per product owning the repository: the later of its register record and the repository's
    own artefact is the last review; a major change recorded after it makes a review due."""
    records = facts.records
    if records is None:
        return []
    models = facts.get(threat_models.collect)
    review = threat_models.latest_review(facts, models) if models.artefacts else None
    months = interval_months(facts)
    found = []
    for product in records.products:
        registered = register_dated(product.threat_model)
        artefact = (
            Dated(review.day, f"({review.source}, {review.path})") if review is not None else None
        )
        candidates = [d for d in (registered, artefact) if d is not None]
        last = max(candidates, key=lambda d: d.day) if candidates else None
        verdict = duty_verdict(
            "threat-model review",
            product.product,
            last,
            register_dated(product.major_change),
            months,
            facts.today,
        )
        if last is not None and last is artefact and review is not None:
            where = Location(review.path, review.line)
        elif product.threat_model is not None:
            where = Location(record=f"register {product.threat_model.record}")
        else:
            where = None
        outcome = Outcome.POSITIVE if verdict.ok else Outcome.NEGATIVE
        found.append(finding(PROBE, outcome, verdict.message, where))
    return found
