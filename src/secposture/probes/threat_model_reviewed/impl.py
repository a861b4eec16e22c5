from __future__ import annotations

import shlex

from secposture.dates import add_months
from secposture.facts import threat_models
from secposture.facts.interface import Facts
from secposture.model import Finding, Location, Outcome
from secposture.probes.interface import finding, probe_id
from secposture.probes.register_records import (
    Dated,
    duty_verdict,
    not_connected_reason,
    register_dated,
)

PROBE = probe_id(__name__)
CONTROL = "threat-model"
README = "docs/threat-model/README.md"
_NAMED = 3


def _artefact_list(models: threat_models.ThreatModels) -> str:
    shown = [f"{a.path} ({a.kind})" for a in models.artefacts[:_NAMED]]
    more = len(models.artefacts) - _NAMED
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _notes(models: threat_models.ThreatModels) -> str:
    notes = [f"{a.path}: {a.note}" for a in models.artefacts if a.note]
    return f" (not used: {'; '.join(notes[:_NAMED])})" if notes else ""


def _where_to_date(models: threat_models.ThreatModels) -> str:
    """Where the date of a session is written for these artefacts."""
    # The template fix wrote says to write it there; else a README, the folder's front page.
    documents = sorted(
        (a for a in models.artefacts if a.dated_in_front_matter),
        key=lambda a: (
            a.generated is None,
            not a.path.rpartition("/")[2].lower().startswith("readme"),
            a.path,
        ),
    )
    if documents:
        document = documents[0]
        return f"`last_reviewed_on: YYYY-MM-DD` front matter in {document.path}"
    threagile = next((a for a in models.artefacts if a.kind == threat_models.THREAGILE), None)
    if threagile is not None:
        return f"`date: YYYY-MM-DD` in {threagile.path}"
    return f"`last_reviewed_on: YYYY-MM-DD` front matter in a new {README}"


def _record_command(product: str | None) -> str:
    named = f" --product {shlex.quote(product)}" if product is not None else ""
    return f"`secposture threat-model record{named}`"


def _undated(models: threat_models.ThreatModels, product: str | None = None) -> Finding:
    """No recorded review: a template of fix's is no session at all (fail); a threat model a
    person wrote but did not date is half the practice (partial). A commit never dates it."""
    whose = f"product {product}: " if product is not None else ""
    record = _record_command(product)
    if models.only_templates:
        template = models.artefacts[0]
        return finding(
            PROBE,
            Outcome.NEGATIVE,
            f"{whose}template present, no session recorded: {template.path} is the agenda "
            "secposture fix generated, not a threat model; hold the threat-modelling session, "
            f"then set `last_reviewed_on: YYYY-MM-DD` in {template.path} to its date, or record "
            f"it in the register ({record}){_notes(models)}",
            Location(template.path, template.generated or template.line),
            generated=template.path,
        )
    return finding(
        PROBE,
        Outcome.PARTIAL,
        f"{whose}threat model found ({_artefact_list(models)}) but no review date is recorded: "
        f"write the date of the last threat-modelling session as {_where_to_date(models)}, or "
        f"record the session in the register ({record}); a commit is not a review"
        f"{_notes(models)}",
        Location(models.artefacts[0].path),
    )


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
    review = threat_models.latest_review(models)
    if review is None:
        return [_undated(models)]
    months = facts.policy.interval_months(CONTROL)
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
    review = threat_models.latest_review(models)
    months = facts.policy.interval_months(CONTROL)
    found = []
    for product in records.products:
        registered = register_dated(product.threat_model)
        if registered is None and review is None and models.artefacts:
            found.append(_undated(models, product.product))
            continue
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
