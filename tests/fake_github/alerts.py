"""Dependabot alerts of the fake's repositories: GraphQL `Repository.vulnerabilityAlerts` and REST
`GET /repos/{owner}/{repo}/dependabot/alerts/{alert_number}` (validated against the full
OpenAPI description like every other operation).

Who may read them: write, maintain and admin access (GitHub shows alerts to those roles), and
GitHub App installations granted `vulnerability_alerts`. Anyone else gets GitHub's FORBIDDEN
error on the field (GraphQL) or 403 (REST). A repository with alerts switched off has none.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .auth import Principal
    from .model import FakeRepo

ALERT_READERS = frozenset({"write", "maintain", "admin"})
STATES = ("OPEN", "DISMISSED", "FIXED", "AUTO_DISMISSED")
ALERT_OPERATIONS: tuple[tuple[str, str, frozenset[str]], ...] = (
    ("GET", "/repos/{owner}/{repo}/dependabot/alerts/{alert_number}", frozenset()),
)
# GitHub answers null for a nullable enum (an open alert's dismissed_reason), which OpenAPI 3.0
# validators refuse unless null is listed in the enum: these operations' schemas list it.
NULLABLE_ENUM_OPERATIONS = frozenset(f"{m} {t}" for m, t, _ in ALERT_OPERATIONS)
_PACKAGES = {
    "PIP": ["django", "requests", "jinja2", "urllib3", "cryptography"],
    "NPM": ["lodash", "express", "axios", "minimist", "semver"],
    "MAVEN": ["org.apache.logging.log4j:log4j-core", "com.fasterxml.jackson.core:jackson-databind"],
    "GO": ["golang.org/x/net", "github.com/gin-gonic/gin"],
    "RUBYGEMS": ["rails", "nokogiri"],
}
_MANIFESTS = {
    "PIP": "requirements.txt",
    "NPM": "package-lock.json",
    "MAVEN": "pom.xml",
    "GO": "go.sum",
    "RUBYGEMS": "Gemfile.lock",
}
_VECTORS = {
    "CRITICAL": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    "HIGH": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N",
    "MODERATE": "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:L/A:N",
    "LOW": "CVSS:3.1/AV:L/AC:H/PR:L/UI:R/S:U/C:L/I:N/A:N",
}
_SCORES = {"CRITICAL": 9.8, "HIGH": 7.5, "MODERATE": 4.2, "LOW": 2.5}
_GHSA_ALPHABET = "23456789cfghjmpqrvwx"


@dataclass
class FakeAlert:
    """One Dependabot alert. `severity` is GraphQL's SecurityAdvisorySeverity (CRITICAL, HIGH,
    MODERATE, LOW); `raw` replaces fields of the GraphQL node as given, for hostile answers."""

    number: int
    created_at: datetime
    severity: str = "HIGH"
    package: str = "django"
    ecosystem: str = "PIP"
    manifest: str = "requirements.txt"
    ghsa: str = "GHSA-2222-3333-4444"
    cve: str | None = "CVE-2024-12345"
    state: str = "OPEN"
    fix_pr: int | None = None  # the number of Dependabot's pull request
    raw: dict[str, Any] = field(default_factory=dict)


def may_read(principal: Principal) -> bool:
    return principal.access in ALERT_READERS and not principal.no_alerts


def ghsa_id(rng: random.Random) -> str:
    return "GHSA-" + "-".join("".join(rng.choices(_GHSA_ALPHABET, k=4)) for _ in range(3))


def generate_alerts(repo: FakeRepo, now: datetime, rng: random.Random) -> list[FakeAlert]:
    """A realistic spread: most repositories have a few alerts, some none, a few many (more than
    one page); open, fixed and dismissed; some past their deadline, some with a fix PR."""
    count = rng.choices([0, 1, 3, 8, 90], weights=[40, 25, 20, 12, 3])[0]
    alerts = []
    for number in range(1, count + 1):
        ecosystem = rng.choice(list(_PACKAGES))
        severity = rng.choice(["CRITICAL", "HIGH", "MODERATE", "LOW"])
        year = rng.randint(2019, 2026)
        alerts.append(
            FakeAlert(
                number=number,
                created_at=now - timedelta(days=rng.randint(0, 200), hours=rng.randint(0, 23)),
                severity=severity,
                package=rng.choice(_PACKAGES[ecosystem]),
                ecosystem=ecosystem,
                manifest=_MANIFESTS[ecosystem],
                ghsa=ghsa_id(rng),
                cve=f"CVE-{year}-{rng.randint(1000, 99999)}" if rng.random() < 0.8 else None,
                state=rng.choices(STATES, weights=[70, 10, 15, 5])[0],
                fix_pr=rng.randint(1, 500) if rng.random() < 0.3 else None,
            )
        )
    return alerts


def graphql_node(repo: FakeRepo, alert: FakeAlert, web: str) -> dict[str, Any]:
    identifiers = [{"type": "GHSA", "value": alert.ghsa}]
    if alert.cve:
        identifiers.append({"type": "CVE", "value": alert.cve})
    advisory = {
        "ghsaId": alert.ghsa,
        "severity": alert.severity,
        "identifiers": identifiers,
        "cvss": {
            "vectorString": _VECTORS.get(alert.severity),
            "score": _SCORES.get(alert.severity, 0.0),
        },
        "summary": f"A vulnerability in {alert.package}",
    }
    pull = (
        {"url": f"{web}/pull/{alert.fix_pr}", "state": "OPEN", "number": alert.fix_pr}
        if alert.fix_pr
        else None
    )
    node: dict[str, Any] = {
        "__typename": "RepositoryVulnerabilityAlert",
        "number": alert.number,
        "state": alert.state,
        "createdAt": alert.created_at.isoformat().replace("+00:00", "Z"),
        "vulnerableManifestPath": alert.manifest,
        "vulnerableManifestFilename": alert.manifest.rpartition("/")[2],
        "securityVulnerability": {
            "severity": alert.severity,
            "package": {"name": alert.package, "ecosystem": alert.ecosystem},
        },
        "securityAdvisory": advisory,
        "dependabotUpdate": {"pullRequest": pull, "error": None},
    }
    node.update(alert.raw)
    return node


def open_alerts(repo: FakeRepo, states: list[str] | None) -> list[FakeAlert]:
    if not repo.vulnerability_alerts:
        return []
    return [a for a in repo.alerts if states is None or a.state in states]


def rest_json(api: str, repo: FakeRepo, alert: FakeAlert) -> dict[str, Any]:
    """The REST `dependabot-alert` object (validated against the OpenAPI description)."""
    severity = {"MODERATE": "medium"}.get(alert.severity, alert.severity.lower())
    package = {"ecosystem": alert.ecosystem.lower(), "name": alert.package}
    vulnerability = {
        "package": package,
        "severity": severity,
        "vulnerable_version_range": "< 9.9.9",
        "first_patched_version": {"identifier": "9.9.9"},
    }
    identifiers = [{"type": "GHSA", "value": alert.ghsa}]
    if alert.cve:
        identifiers.append({"type": "CVE", "value": alert.cve})
    created = alert.created_at.isoformat().replace("+00:00", "Z")
    dismissed = alert.state in ("DISMISSED", "AUTO_DISMISSED")
    return {
        "number": alert.number,
        "state": {"AUTO_DISMISSED": "auto_dismissed"}.get(alert.state, alert.state.lower()),
        "dependency": {
            "package": package,
            "manifest_path": alert.manifest,
            "scope": "runtime",
            "relationship": "direct",
        },
        "security_advisory": {
            "ghsa_id": alert.ghsa,
            "cve_id": alert.cve,
            "summary": f"A vulnerability in {alert.package}",
            "description": f"A vulnerability in {alert.package}.",
            "vulnerabilities": [vulnerability],
            "severity": severity,
            "cvss": {
                "vector_string": _VECTORS.get(alert.severity),
                "score": _SCORES.get(alert.severity, 0.0),
            },
            "cwes": [],
            "identifiers": identifiers,
            "references": [],
            "published_at": created,
            "updated_at": created,
            "withdrawn_at": None,
        },
        "security_vulnerability": vulnerability,
        "url": f"{api}/repos/{repo.full_name}/dependabot/alerts/{alert.number}",
        "html_url": f"https://github.com/{repo.full_name}/security/dependabot/{alert.number}",
        "created_at": created,
        "updated_at": created,
        "dismissed_at": created if dismissed else None,
        "dismissed_by": None,
        "dismissed_reason": "tolerable_risk" if dismissed else None,
        "dismissed_comment": None,
        "fixed_at": created if alert.state == "FIXED" else None,
    }


_patched: dict[int, dict[str, Any]] = {}


def nullable_enums(components: dict[str, Any]) -> dict[str, Any]:
    """`components` with None added to every nullable enum (copied once per document)."""
    key = id(components)
    if key not in _patched:
        _patched[key] = _with_null(components)
    return _patched[key]


def _with_null(value: Any) -> Any:
    if isinstance(value, dict):
        out = {k: _with_null(v) for k, v in value.items()}
        if out.get("nullable") is True and isinstance(out.get("enum"), list):
            out["enum"] = [*out["enum"], None]
        return out
    if isinstance(value, list):
        return [_with_null(v) for v in value]
    return value
