"""One Dependabot alert read through REST (`GET /repos/{owner}/{repo}/dependabot/alerts/{n}`),
as the fields of a security issue (`secposture issue raise --from-alert OWNER/REPO#N`).

The alert is GitHub's answer, so untrusted: texts are cut to one line, ids checked by their
syntax, and the CVSS vector is checked later by the register like any typed one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from secposture.errors import SecpostureError
from secposture.sources.alerts import (
    ALERTS_ACCESS,
    CVE_ID,
    GHSA_ID,
    clean_text,
    normal_ghsa,
    parse_time,
)
from secposture.sources.github.transport import GitHubClient

_REFERENCE = re.compile(r"([A-Za-z0-9][A-Za-z0-9-]{0,38})/([A-Za-z0-9._-]{1,100})#([0-9]{1,9})")
_SEVERITIES = {"critical", "high", "medium", "low"}


@dataclass(frozen=True)
class AlertReference:
    owner: str
    name: str
    number: int

    @property
    def repository(self) -> str:
        return f"{self.owner}/{self.name}"

    def __str__(self) -> str:
        return f"{self.repository}#{self.number}"


def parse_reference(text: str) -> AlertReference:
    """OWNER/REPO#N, or an error saying what is expected."""
    match = _REFERENCE.fullmatch(text.strip())
    if match is None or int(match[3]) <= 0 or match[2] in (".", ".."):
        raise SecpostureError(
            f"--from-alert {clean_text(text, 60)!r} is not OWNER/REPO#N (e.g. acme/payments-api#12)"
        )
    return AlertReference(match[1], match[2], int(match[3]))


@dataclass(frozen=True)
class AlertIssue:
    """What an alert says towards a security issue; the team adds the rest."""

    reference: AlertReference
    url: str  # the alert's page on GitHub
    state: str
    ghsa: str
    cves: tuple[str, ...]
    package: str
    ecosystem: str
    manifest: str
    severity: str  # "" when GitHub gave none usable
    cvss_vector: str  # "" when the advisory has none
    summary: str
    created: str  # ISO date, "" when unusable

    @property
    def environment(self) -> str:
        folder = self.manifest.rpartition("/")[0] or "the repository root"
        return (
            f"{self.reference.repository}: {self.ecosystem} dependencies in {folder} "
            f"(manifest {self.manifest})"
        )

    @property
    def description(self) -> str:
        ids = ", ".join(x for x in (self.ghsa, *self.cves) if x) or "no advisory id"
        opened = f", open since {self.created}" if self.created else ""
        return (
            f"Dependabot alert {self.reference} ({ids}{opened}): {self.summary or 'no summary'} "
            f"in {self.package} ({self.ecosystem}, {self.manifest}). {self.url}"
        )


def read_alert(client: GitHubClient, reference: AlertReference) -> AlertIssue:
    """The alert, or an error naming what is missing (the permission, the alert)."""
    path = (
        f"/repos/{quote(reference.owner, safe='')}/{quote(reference.name, safe='')}"
        f"/dependabot/alerts/{reference.number}"
    )
    response = client.rest_get(path, allow=(403, 404))
    if response.status == 403:
        raise SecpostureError(f"cannot read Dependabot alert {reference}: needs {ALERTS_ACCESS}")
    if response.status == 404 or not isinstance(response.json, Mapping):
        raise SecpostureError(
            f"Dependabot alert {reference} not found, or alerts are off for the repository, or "
            "the repository is not visible to this token"
        )
    return alert_issue(reference, response.json)


def alert_issue(reference: AlertReference, body: Mapping[str, Any]) -> AlertIssue:
    advisory = _mapping(body.get("security_advisory"))
    vulnerability = _mapping(body.get("security_vulnerability"))
    dependency = _mapping(body.get("dependency"))
    package = _mapping(vulnerability.get("package")) or _mapping(dependency.get("package"))
    ghsa_text = advisory.get("ghsa_id")
    ghsa = (
        normal_ghsa(ghsa_text)
        if isinstance(ghsa_text, str) and GHSA_ID.fullmatch(ghsa_text)
        else ""
    )
    cves: list[str] = []
    candidates = [advisory.get("cve_id")]
    identifiers = advisory.get("identifiers")
    if isinstance(identifiers, list):
        candidates += [_mapping(i).get("value") for i in identifiers[:20]]
    for value in candidates:
        if isinstance(value, str) and CVE_ID.fullmatch(value) and value.upper() not in cves:
            cves.append(value.upper())
    severity = str(advisory.get("severity") or vulnerability.get("severity") or "").lower()
    created = parse_time(body.get("created_at"))
    url = body.get("html_url")
    return AlertIssue(
        reference=reference,
        url=clean_text(url, 300) if isinstance(url, str) and url.startswith("https://") else "",
        state=clean_text(body.get("state"), 20),
        ghsa=ghsa,
        cves=tuple(cves),
        package=clean_text(package.get("name")) or "(package not named)",
        ecosystem=clean_text(package.get("ecosystem"), 40) or "(ecosystem not named)",
        manifest=clean_text(dependency.get("manifest_path"), 300) or "(manifest not named)",
        severity=severity if severity in _SEVERITIES else "",
        cvss_vector=_vector(advisory),
        summary=clean_text(advisory.get("summary"), 300),
        created=created.date().isoformat() if created else "",
    )


def _vector(advisory: Mapping[str, Any]) -> str:
    """The advisory's CVSS vector: v3 (what most advisories score), else v4."""
    severities = _mapping(advisory.get("cvss_severities"))
    for candidate in (
        _mapping(advisory.get("cvss")).get("vector_string"),
        _mapping(severities.get("cvss_v3")).get("vector_string"),
        _mapping(severities.get("cvss_v4")).get("vector_string"),
    ):
        text = clean_text(candidate, 300)
        if text.upper().startswith("CVSS:"):
            return text
    return ""


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
