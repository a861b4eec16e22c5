from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from secposture import catalogue
from secposture.facts.interface import Facts
from secposture.model import Finding, Location, Outcome
from secposture.probes.interface import finding, probe_id
from secposture.probes.settings import not_observed
from secposture.sources.alerts import VulnerabilityAlert, patch_deadline

PROBE = probe_id(__name__)
DECIDED_BY = "the repository's open Dependabot alerts (GitHub GraphQL vulnerabilityAlerts)"
API_FIELD = "vulnerabilityAlerts"
# Findings listed per repository: a repository with thousands of overdue alerts gets the worst
# MAX_LISTED and one more finding counting the rest, so a report stays readable.
MAX_LISTED = 100


def run(facts: Facts) -> list[Finding]:
    unknown = not_observed(facts, PROBE, DECIDED_BY)
    if unknown is not None:
        return [unknown]
    settings = facts.snapshot.settings
    switch = settings.vulnerability_alerts
    if switch is not None and switch.enabled is False:
        return [
            finding(
                PROBE,
                Outcome.NOT_APPLICABLE,
                "Dependabot alerts are off for this repository, so there are none to patch "
                "(dependabot-security-updates reports the setting)",
                Location(api_field="hasVulnerabilityAlertsEnabled"),
            )
        ]
    listed = settings.open_alerts
    where = Location(api_field=API_FIELD)
    if listed is None:
        return [finding(PROBE, Outcome.UNKNOWN, f"not read; decided by {DECIDED_BY}", where)]
    if not listed.readable:
        why = (
            f"this token cannot read Dependabot alerts (needs {listed.needs})"
            if listed.needs
            else f"the alerts could not be read whole: {listed.cut}"
        )
        return [finding(PROBE, Outcome.UNKNOWN, why, where)]
    return _verdicts(facts, listed.alerts, dict(catalogue.patch_days()))


def _verdicts(
    facts: Facts, alerts: tuple[VulnerabilityAlert, ...], schedule: Mapping[str, int]
) -> list[Finding]:
    today = facts.today
    repository = facts.snapshot.target.repository or facts.snapshot.target.name
    exemptions: dict[str, list[tuple[date, str]]] = {}
    if facts.records is not None:
        for exemption in facts.records.advisories:
            exemptions.setdefault(exemption.ghsa, []).append((exemption.until, exemption.origin))
    overdue: list[tuple[int, Finding]] = []
    others: list[Finding] = []
    next_due: date | None = None
    for alert in alerts:
        deadline = patch_deadline(alert, schedule)
        ref = alert.reference(repository)
        if deadline is None:
            others.append(
                finding(
                    PROBE,
                    Outcome.UNKNOWN,
                    f"Dependabot alert {ref} ({alert.package}): GitHub's answer is not usable "
                    f"({alert.problem or 'no patch-by date'}), so its deadline is unknown",
                    _alert_location(alert),
                    **_values(alert, repository),
                )
            )
            continue
        if deadline >= today:
            next_due = deadline if next_due is None else min(next_due, deadline)
            continue
        days = (today - deadline).days
        waiver = _exemption(exemptions.get(alert.ghsa, []), today) if alert.ghsa else None
        values = _values(alert, repository, deadline, days, today)
        if waiver is not None:
            until, origin = waiver
            others.append(
                finding(
                    PROBE,
                    Outcome.POSITIVE,
                    f"Dependabot alert {ref} ({alert.ghsa}, {alert.package}) is {days} days past "
                    f"its patch-by date but waived by {origin} until {until.isoformat()}",
                    _alert_location(alert),
                    **values,
                )
            )
            continue
        lapsed = _lapsed(exemptions.get(alert.ghsa, []), today) if alert.ghsa else ""
        overdue.append((days, _overdue(alert, ref, deadline, days, today, lapsed, values)))
    overdue.sort(key=lambda item: -item[0])
    found = [f for _, f in overdue[:MAX_LISTED]]
    if len(overdue) > MAX_LISTED:
        found.append(
            finding(
                PROBE,
                Outcome.NEGATIVE,
                f"and {len(overdue) - MAX_LISTED:,} more open Dependabot alerts past their "
                "patch-by dates (the most overdue are listed)",
                Location(api_field=API_FIELD),
            )
        )
    found.extend(others[:MAX_LISTED])
    if not overdue:
        count = len(alerts)
        said = f"{count:,} open Dependabot {'alert' if count == 1 else 'alerts'}"
        upcoming = f"; the next patch-by date is {next_due.isoformat()}" if next_due else ""
        found.insert(
            0,
            finding(
                PROBE,
                Outcome.POSITIVE,
                f"{said}, none past its patch-by date{upcoming}",
                Location(api_field=API_FIELD),
            ),
        )
    return found


def _overdue(
    alert: VulnerabilityAlert,
    ref: str,
    deadline: date,
    days: int,
    today: date,
    lapsed: str,
    values: dict[str, str],
) -> Finding:
    created = alert.created.date() if alert.created else today
    ids = ", ".join(x for x in (alert.ghsa, *alert.cves) if x) or "no advisory id"
    fix = (
        f"; Dependabot opened a fix: {alert.fix_pr}"
        + (f" ({alert.fix_pr_state})" if alert.fix_pr_state else "")
        if alert.fix_pr
        else "; no Dependabot fix pull request"
    )
    return finding(
        PROBE,
        Outcome.NEGATIVE,
        f"Dependabot alert {ref}: {alert.severity} {ids} in {alert.package} ({alert.ecosystem}, "
        f"{alert.manifest}), open {(today - created).days} days, patch by "
        f"{deadline.isoformat()}: {days} {'day' if days == 1 else 'days'} overdue{fix}{lapsed}",
        _alert_location(alert),
        **values,
    )


def _values(
    alert: VulnerabilityAlert,
    repository: str,
    deadline: date | None = None,
    days: int | None = None,
    today: date | None = None,
) -> dict[str, str]:
    """The alert as plain values: recorded with the scan, they are what `due` lists."""
    values = {
        "repository": repository,
        "alert": str(alert.number) if alert.number is not None else "",
        "ghsa": alert.ghsa,
        "cve": ", ".join(alert.cves),
        "package": alert.package,
        "ecosystem": alert.ecosystem,
        "manifest": alert.manifest,
        "severity": alert.severity,
        "created": alert.created.date().isoformat() if alert.created else "",
        "fix_pr": alert.fix_pr,
    }
    if deadline is not None:
        values["patch_by"] = deadline.isoformat()
    if days is not None:
        values["days_overdue"] = str(days)
    if today is not None and alert.created is not None:
        values["age_days"] = str((today - alert.created.date()).days)
    return {k: v for k, v in values.items() if v}


def _alert_location(alert: VulnerabilityAlert) -> Location:
    field = f"vulnerabilityAlerts[{alert.number}]" if alert.number is not None else API_FIELD
    return Location(api_field=field)


def _exemption(found: list[tuple[date, str]], today: date) -> tuple[date, str] | None:
    current = [item for item in found if item[0] >= today]
    return max(current) if current else None


def _lapsed(found: list[tuple[date, str]], today: date) -> str:
    if not found:
        return ""
    until, origin = max(found)
    return f"; {origin} exempted it until {until.isoformat()}, which has passed"
